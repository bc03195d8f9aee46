"""One scheduler leader among the workers on PostgreSQL (bot/scheduling/leader.py).

Every worker starts with RUN_SCHEDULER on; only the holder of the advisory lock runs
jobs, and when it dies another one takes over. SQLite is single-process (its own lock
in bot/scheduling/single.py), so these tests run on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from sqlalchemy import select, text

from bot.app import App
from bot.scheduling import jobs, leader
from bot.scheduling.leader import Leadership
from bot.scheduling.scheduler import Scheduler
from bot.settings import Settings, normalise_database_url
from bot.storage import db
from bot.storage.models import OutboxMessage, User
from tests.helpers.conversation import Person
from tests.helpers.workers import Worker, shared_settings, workers

SQLITE = (
    "leader election is PostgreSQL's advisory lock; SQLite is single-process "
    "(a second scheduler is refused by bot/scheduling/single.py, tested there)"
)
LEADS = "leads and runs the jobs"
STOPPED = "stopped leading"


def _postgres_only(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip(SQLITE)


@pytest.fixture
def quick_election(monkeypatch: pytest.MonkeyPatch) -> None:
    """Followers try, and leaders check, ten times a second instead of every few."""
    monkeypatch.setattr(leader, "RETRY_SECONDS", 0.1)
    monkeypatch.setattr(leader, "CHECK_SECONDS", 0.1)


async def _terminate(url: str, pid: int) -> None:
    """End a connection from the server's side, as when its worker's socket closes."""
    engine = db.create_engine(normalise_database_url(url))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await engine.dispose()


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


async def test_one_of_two_leads_and_the_other_takes_over(
    database_url: str, quick_election: None, caplog: pytest.LogCaptureFixture
) -> None:
    _postgres_only(database_url)
    caplog.set_level("INFO", logger=leader.__name__)
    calls: list[str] = []

    def campaign(name: str) -> Leadership:
        async def lead() -> None:
            calls.append(f"{name} leads")

        return Leadership(
            database_url,
            timeout=2,
            on_lead=lead,
            on_follow=lambda: calls.append(f"{name} follows"),
        )

    first, second = campaign("first"), campaign("second")
    try:
        await first.start()
        await second.start()
        assert (first.leading, second.leading) == (True, False)
        assert calls == ["first leads"]
        pid = await first.backend_pid()
        assert pid is not None

        await _terminate(database_url, pid)  # the leader's lock connection goes away
        await _until(lambda: second.leading and not first.leading)
        assert sorted(calls) == ["first follows", "first leads", "second leads"]
        assert calls.index("first follows") > calls.index("first leads")
        lines = [r.getMessage() for r in caplog.records if r.name == leader.__name__]
        assert sum(LEADS in line for line in lines) == 2
        assert sum(STOPPED in line for line in lines) == 1

        await second.stop()  # a leader that stops hands over at once
        await _until(lambda: first.leading)
        assert calls[-2:] == ["second follows", "first leads"]
    finally:
        await first.stop()
        await second.stop()


async def test_the_new_leaders_scheduler_resumes_and_keeps_housekeeping(
    database_url: str, quick_election: None
) -> None:
    """Two schedulers in one process: the follower is paused; when the leader's
    connection goes, it pauses at once and the other resumes, putting back the
    leader's cron (housekeeping) that had gone from the store."""
    _postgres_only(database_url)
    url = normalise_database_url(database_url)
    engine = db.create_engine(url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()

    def scheduler() -> Scheduler:
        return Scheduler(url, misfire_grace_seconds=60, timezone="Europe/Amsterdam", timeout=2)

    first, second = scheduler(), scheduler()
    try:
        for each in (first, second):
            await each.start()
            await each.leader_cron(jobs.HOUSEKEEPING_JOB, jobs.HOUSEKEEPING_FUNC, hour=4, minute=17)
        assert (first.leads, second.leads) == (True, False)
        assert (first._aps.state, second._aps.state) == (STATE_RUNNING, STATE_PAUSED)
        assert await second.remove(jobs.HOUSEKEEPING_JOB)  # a follower still edits the store

        assert first._leadership is not None
        pid = await first._leadership.backend_pid()
        assert pid is not None
        await _terminate(url, pid)
        await _until(lambda: second.leads and first._aps.state == STATE_PAUSED)
        assert second._aps.state == STATE_RUNNING
        async with asyncio.timeout(10):
            while not await second.list_jobs(jobs.HOUSEKEEPING_JOB):
                await asyncio.sleep(0.02)
    finally:
        await first.shutdown()
        await second.shutdown()


# -- two worker processes, and kill -9 ----------------------------------------------------

WORKER = """
import asyncio, json, logging, sys
from bot.app import App
from bot.scheduling import leader, scheduler
from bot.settings import Settings, normalise_database_url

leader.RETRY_SECONDS = leader.CHECK_SECONDS = 0.1
scheduler.RESCAN_SECONDS = 0.2
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")


async def main():
    app = App(Settings(_env_file=None, **json.loads(sys.argv[1])))
    await app.start(sender=False)
    print("WORKER READY", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
"""


def _workers(
    values: dict[str, str], count: int
) -> contextlib.AbstractAsyncContextManager[list[Worker]]:
    return workers(WORKER, [json.dumps({**values, "run_scheduler": True}, default=str)], count)


async def test_kill_9_the_leader_with_reminders_due_they_are_sent_once_by_the_new_leader(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    _postgres_only(database_url)
    # This test's own process only adds jobs: its scheduler is paused.
    settings = make_settings(database_url=database_url, run_scheduler=False)
    app = App(settings)
    await app.start(sender=False)
    try:
        names = ["anna", "bram", "cas"]
        for name in names:
            await Person(app, user_id=name, display_name=name.title()).send("/start")
        assert app.services is not None and app.services.reminder_jobs is not None
        async with app.services.sessions() as session:
            ids = list((await session.execute(select(User.id).order_by(User.id))).scalars())
        assert len(ids) == len(names)

        worker_values = shared_settings(settings)
        async with _workers(worker_values, 2) as workers:
            await _until(lambda: all(w.said("WORKER READY") for w in workers), 60)
            leaders = [w for w in workers if w.said(LEADS)]
            assert len(leaders) == 1, [w.lines[-5:] for w in workers]
            old = leaders[0]
            new = next(w for w in workers if w is not old)

            # Frozen first, so it cannot run what comes next; then the reminders are
            # due, and it is killed with them due.
            os.kill(old.process.pid, signal.SIGSTOP)
            now = datetime.now(UTC)
            for user_id in ids:
                await app.services.reminder_jobs.checkin_reminder(user_id, now, f"due:{user_id}")
            os.kill(old.process.pid, signal.SIGKILL)

            async with asyncio.timeout(30):  # the bound on taking over
                while True:
                    async with app.services.sessions() as session:
                        rows = list((await session.execute(select(OutboxMessage))).scalars())
                    if len(rows) >= len(ids) and new.said('Running job "remind') >= len(ids):
                        break
                    await asyncio.sleep(0.05)
            assert sorted(row.key for row in rows) == sorted(f"job:due:{i}" for i in ids)
            assert {row.user_id for row in rows} == set(ids)
            assert new.said(LEADS) == 1 and new.process.returncode is None
            assert new.said('Running job "remind') == len(ids)  # each ran once, here
            assert old.said('Running job "remind') == 0
            assert await app.scheduler.list_jobs("user:") == []  # type: ignore[union-attr]
    finally:
        await app.stop()
