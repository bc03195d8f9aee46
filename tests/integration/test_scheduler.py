"""The persistent scheduler: jobs survive a restart and go out through the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.outbox.queue import Outbox
from bot.scheduling import jobs
from bot.settings import Settings
from bot.storage.models import OutboxMessage, User
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel
from tests.helpers.schedtime import shift_scheduler_time

REMIND = "bot.scheduling.jobs:remind"


async def _started(settings: Settings, channel: RecordingChannel) -> App:
    app = App(settings, channels={channel.name: channel})
    await app.start(sender=False)
    return app


async def _user_id(app: App, name: str = "anna") -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        user = await session.execute(select(User).where(User.platform_user_id == name))
        return user.scalar_one().id


async def _wait_for_outbox(outbox: Outbox, count: int) -> list[OutboxMessage]:
    async with asyncio.timeout(10):
        while True:
            async with outbox.sessions() as session:
                rows = list((await session.execute(select(OutboxMessage))).scalars())
            if len(rows) >= count:
                return rows
            await asyncio.sleep(0.02)


async def test_job_scheduled_before_restart_fires_after_it(
    settings: Settings, channel: RecordingChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _started(settings, channel)
    await Person(first).send("/taal en")
    user_id = await _user_id(first)
    run_at = datetime.now(UTC) + timedelta(hours=1)
    assert first.scheduler is not None
    await first.scheduler.once(
        f"user:{user_id}:nudge",
        REMIND,
        run_at,
        user_id=user_id,
        message_key="stop.resumed",
        key=f"nudge:{user_id}:1",
    )
    await first.stop()

    shift_scheduler_time(monkeypatch, timedelta(hours=2))  # the bot was down meanwhile
    second = await _started(settings, channel)
    try:
        assert second.services is not None and second.sender is None
        rows = await _wait_for_outbox(second.services.outbox, 1)
        assert rows[0].kind == "reminder" and rows[0].chat_id == "anna"
        from bot.outbox.sender import OutboxSender

        await OutboxSender(second.services.outbox, second.channels).drain()
        assert channel.texts_to("anna") == ["Welcome back. You will get messages from me again."]
        assert second.scheduler is not None
        assert f"user:{user_id}:nudge" not in await second.scheduler.job_ids()
    finally:
        await second.stop()


async def test_job_missed_beyond_grace_time_is_dropped(
    make_settings: object,
    database_url: str,
    channel: RecordingChannel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(database_url=database_url, misfire_grace_seconds=60)  # type: ignore[operator]
    first = await _started(settings, channel)
    await Person(first).send("/start")
    user_id = await _user_id(first)
    assert first.scheduler is not None
    await first.scheduler.once(
        "user:x:late",
        REMIND,
        datetime.now(UTC) + timedelta(minutes=1),
        user_id=user_id,
        message_key="stop.resumed",
        key="late",
    )
    await first.stop()

    shift_scheduler_time(monkeypatch, timedelta(hours=3))
    second = await _started(settings, channel)
    try:
        assert second.scheduler is not None and second.services is not None
        async with asyncio.timeout(10):
            while "user:x:late" in await second.scheduler.job_ids():
                await asyncio.sleep(0.02)
        async with second.services.sessions() as session:
            assert (await session.execute(select(OutboxMessage))).first() is None
    finally:
        await second.stop()


async def test_stop_removes_the_persons_jobs(settings: Settings, channel: RecordingChannel) -> None:
    app = await _started(settings, channel)
    try:
        person = Person(app)
        await person.send("/start")
        user_id = await _user_id(app)
        assert app.scheduler is not None
        later = datetime.now(UTC) + timedelta(days=14)
        await app.scheduler.once(
            f"user:{user_id}:checkin",
            REMIND,
            later,
            user_id=user_id,
            message_key="stop.resumed",
            key="c1",
        )
        await app.scheduler.once(
            "user:999:other", REMIND, later, user_id=999, message_key="stop.resumed", key="c2"
        )
        await person.send("/stop")
        assert set(await app.scheduler.job_ids()) == {jobs.HOUSEKEEPING_JOB, "user:999:other"}
    finally:
        await app.stop()


async def test_reminder_skips_people_who_stopped(
    settings: Settings, channel: RecordingChannel
) -> None:
    app = await _started(settings, channel)
    try:
        person = Person(app)
        await person.send("/stop")
        await jobs.remind(user_id=await _user_id(app), message_key="stop.resumed", key="x")
        assert app.services is not None
        async with app.services.sessions() as session:
            assert (await session.execute(select(OutboxMessage))).first() is None
    finally:
        await app.stop()


async def test_reminder_running_twice_sends_once(
    settings: Settings, channel: RecordingChannel
) -> None:
    app = await _started(settings, channel)
    try:
        await Person(app).send("/start")
        user_id = await _user_id(app)
        for _ in range(2):
            await jobs.remind(user_id=user_id, message_key="stop.resumed", key="once")
        assert app.services is not None
        rows = await _wait_for_outbox(app.services.outbox, 1)
        assert len(rows) == 1
    finally:
        await app.stop()


async def test_housekeeping_prunes_old_event_ids_and_finished_rows(
    settings: Settings, channel: RecordingChannel
) -> None:
    from bot.core.messages import Reply
    from bot.outbox.queue import Outgoing
    from bot.storage.models import ProcessedEvent

    app = await _started(settings, channel)
    try:
        assert app.services is not None
        assert jobs.HOUSEKEEPING_JOB in (await app.scheduler.job_ids() if app.scheduler else [])
        old = datetime.now(UTC) - timedelta(days=40)
        async with app.services.sessions() as session, session.begin():
            session.add(ProcessedEvent(platform="telegram", event_id="1", at=old))
        await app.services.outbox.enqueue(
            [
                Outgoing(
                    key="o", platform="console", chat_id="c", reply=Reply(text="x"), not_before=old
                )
            ]
        )
        async with app.services.sessions() as session, session.begin():
            row = (await session.execute(select(OutboxMessage))).scalar_one()
            row.status, row.created_at = "sent", old
        await jobs.housekeeping()
        async with app.services.sessions() as session:
            assert (await session.execute(select(ProcessedEvent))).first() is None
            assert (await session.execute(select(OutboxMessage))).first() is None
    finally:
        await app.stop()


async def test_a_worker_without_the_scheduler_adds_jobs_the_scheduler_runs(
    make_settings: object,
    database_url: str,
    channel: RecordingChannel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RUN_SCHEDULER=false: the worker's scheduler is paused but shares the job store,
    so a reminder chosen there is stored, never run there, and run by the scheduler."""
    from bot.scheduling import scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "RESCAN_SECONDS", 0.2)
    worker_settings = make_settings(database_url=database_url, run_scheduler=False)  # type: ignore[operator]
    worker = await _started(worker_settings, channel)
    try:
        await Person(worker).send("/start")
        user_id = await _user_id(worker)
        assert worker.scheduler is not None
        assert jobs.HOUSEKEEPING_JOB not in await worker.scheduler.job_ids()  # not its job
        await worker.scheduler.once(
            f"user:{user_id}:soon",
            REMIND,
            datetime.now(UTC) + timedelta(milliseconds=300),
            user_id=user_id,
            message_key="stop.resumed",
            key="soon",
        )
        await asyncio.sleep(0.8)
        assert f"user:{user_id}:soon" in await worker.scheduler.job_ids()  # due, but not run here
        runner = await _started(make_settings(database_url=database_url), channel)  # type: ignore[operator]
        try:
            assert runner.services is not None
            rows = await _wait_for_outbox(runner.services.outbox, 1)  # run when it started
            assert rows[0].kind == "reminder" and rows[0].user_id == user_id
            # A job added while the runner sleeps is found by its rescan, not by luck.
            await worker.scheduler.once(
                f"user:{user_id}:later",
                REMIND,
                datetime.now(UTC) + timedelta(milliseconds=300),
                user_id=user_id,
                message_key="stop.resumed",
                key="later",
            )
            rows = await _wait_for_outbox(runner.services.outbox, 2)
            assert {row.key for row in rows} == {"job:soon", "job:later"}
        finally:
            await runner.stop()
    finally:
        await worker.stop()


async def test_listing_jobs_while_a_transaction_on_the_loop_holds_the_write_lock(
    make_settings: Callable[..., Settings], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The scheduler's thread keeps APScheduler's job store lock while it waits for
    SQLite's write lock. When a transaction on the bot's loop holds that, a listing
    that blocked the loop on the job store lock would keep the transaction from ever
    finishing: both waited until the busy timeout, the thread gave up, and a job it
    had already run stayed in the store (the CI failure of 2026-12-03)."""
    settings = make_settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}", misfire_grace_seconds=60
    )
    app = App(settings, channels={"console": RecordingChannel()})
    await app.start(sender=False)
    try:
        assert app.scheduler is not None and app.services is not None
        sessions = app.services.sessions
        due = datetime.now(UTC) + timedelta(seconds=0.3)
        # A job that touches nothing: what matters is the scheduler's own write after it.
        await app.scheduler.once("soon", f"{__name__}:_nothing", due)
        holding = asyncio.Event()

        async def hold_the_write_lock() -> None:
            async with sessions() as session, session.begin():
                await session.execute(update(User).where(User.id == -1).values(turn=User.turn))
                holding.set()
                await asyncio.sleep(1.0)  # the job falls due and is run meanwhile

        writer = asyncio.create_task(hold_the_write_lock())
        await holding.wait()
        await asyncio.sleep(0.6)  # the scheduler's thread now waits for the lock
        with caplog.at_level(logging.WARNING, logger="bot.scheduling.scheduler"):
            await app.scheduler.job_ids()  # waits in the job store's pool, not on the loop
            await writer
            async with asyncio.timeout(10):
                while await app.scheduler.job_ids() != [jobs.HOUSEKEEPING_JOB]:
                    await asyncio.sleep(0.02)
        assert "job store failed" not in caplog.text
    finally:
        await app.stop()


async def _nothing() -> None:
    """A scheduled job that does nothing (test_listing_jobs_while_...)."""
