"""A database that hangs must not freeze the bot.

The issue: with a TCP proxy between the bot and PostgreSQL stopped (``kill -STOP``),
a crisis message was answered only when the database came back, ``/help`` got
nothing and ``/healthz`` timed out, because APScheduler's synchronous job store ran
on the event loop. :class:`TcpProxy` stalls the same way: it accepts connections
and moves no byte.

The assertions are about order, not speed (the machines are noisy): each answer
must arrive *while the database is still stalled or locked*. Waits are bounded
generously, and the proxy resumes by itself after ``SAFETY_RESUME`` seconds, so
code that blocks the event loop fails these tests instead of hanging them.
"""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import make_url

from bot.app import App
from bot.scheduling import scheduler as scheduler_module
from bot.settings import Settings
from bot.storage.db import is_unavailable
from bot.storage.models import OutboxMessage, User
from tests.helpers.conversation import Person
from tests.helpers.databases import PostgresDatabase
from tests.helpers.fakes import RecordingChannel
from tests.helpers.tcp_proxy import TcpProxy

SAFETY_RESUME = 45.0
REMIND = "bot.scheduling.jobs:remind"
CRISIS = "ik wil niet meer leven"


def _t(app: App, key: str) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key)


async def _health(app: App) -> tuple[int, dict[str, Any]]:
    assert app.http is not None
    url = f"http://127.0.0.1:{app.http.bound_port}/healthz"
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as client, client.get(url) as response:
        return response.status, await response.json()


async def _health_until(app: App, wanted: int) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            status, body = await _health(app)
            if status == wanted:
                return body
            await asyncio.sleep(0.1)


async def _user_id(app: App) -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        return (await session.execute(select(User.id))).scalar_one()


async def _wait_for_outbox(app: App, count: int) -> list[OutboxMessage]:
    assert app.services is not None
    async with asyncio.timeout(30):
        while True:
            async with app.services.sessions() as session:
                rows = list((await session.execute(select(OutboxMessage))).scalars())
            if len(rows) >= count:
                return rows
            await asyncio.sleep(0.05)


@pytest.fixture
def quick_rescans(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler looks at its store five times a second instead of once a minute."""
    monkeypatch.setattr(scheduler_module, "RESCAN_SECONDS", 0.2)


@pytest.mark.slow  # waits out a real stall
async def test_a_stalled_postgresql_leaves_the_bot_answering(
    make_settings: Callable[..., Settings],
    postgres_db: PostgresDatabase,
    channel: RecordingChannel,
    quick_rescans: None,
) -> None:
    postgres_db.truncate()
    server = make_url(postgres_db.url)
    with TcpProxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
        settings = make_settings(
            database_url=server.set(port=proxy.port).render_as_string(hide_password=False),
            db_timeout_seconds=1,
            http_port=0,
        )
        app = App(settings, channels={channel.name: channel})
        await app.start(http=True, sender=False)  # the scheduler runs: RUN_SCHEDULER
        try:
            assert app.scheduler is not None and app.scheduler.running
            person = Person(app)
            await person.send("/start")
            assert (await _health(app))[0] == 200

            proxy.stall(resume_after=SAFETY_RESUME)
            await asyncio.sleep(1)  # the scheduler's rescans now wait on the stalled database

            async with asyncio.timeout(30):
                crisis = await person.send(CRISIS)
            assert proxy.stalled, "the crisis reply waited for the database"
            assert [r.text for r in crisis] == [_t(app, "safety.crisis")]

            async with asyncio.timeout(30):
                help_ = await person.send("/help")
            assert proxy.stalled, "/help waited for the database instead of giving up"
            assert [r.text for r in help_] == [_t(app, "errors.database_down")]

            async with asyncio.timeout(30):
                with pytest.raises(Exception) as listing:
                    await app.scheduler.list_jobs("user:")
            assert proxy.stalled, "a scheduler call waited for the database"
            assert is_unavailable(listing.value)

            body = await _health_until(app, 503)
            assert proxy.stalled, "/healthz waited for the database"
            assert body["status"] == "unavailable" and body["database"] in ("down", "unknown")

            proxy.resume()
            assert (await _health_until(app, 200))["database"] == "ok"
            help_ = await person.send("/help")
            assert help_[0].text != _t(app, "errors.database_down")
            # The scheduler's thread came through: it runs a new job.
            user_id = await _user_id(app)
            await app.scheduler.once(
                f"user:{user_id}:back",
                REMIND,
                datetime.now(UTC) + timedelta(milliseconds=300),
                user_id=user_id,
                message_key="stop.resumed",
                key="back",
            )
            (row,) = await _wait_for_outbox(app, 1)
            assert row.key == "job:back"
        finally:
            proxy.resume()
            await app.stop()


@pytest.mark.slow  # waits out a real lock
async def test_a_locked_sqlite_leaves_the_bot_answering(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    channel: RecordingChannel,
    quick_rescans: None,
) -> None:
    """Another process holds SQLite's write lock (``BEGIN EXCLUSIVE``)."""
    path = tmp_path / "bot.db"
    settings = make_settings(database_url=f"sqlite:///{path}", db_timeout_seconds=1, http_port=0)
    app = App(settings, channels={channel.name: channel})
    await app.start(http=True, sender=False)
    try:
        person = Person(app)
        await person.send("/start")
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")
        try:
            async with asyncio.timeout(30):
                crisis = await person.send(CRISIS)
            assert [r.text for r in crisis] == [_t(app, "safety.crisis")]
            async with asyncio.timeout(30):
                help_ = await person.send("/help")
            assert [r.text for r in help_] == [_t(app, "errors.database_down")]
            assert (await _health_until(app, 503))["database"] in ("down", "unknown")
            assert other.in_transaction  # all of it while the lock was held
        finally:
            other.rollback()
            other.close()
        assert (await _health_until(app, 200))["database"] == "ok"
        help_ = await person.send("/help")
        assert help_[0].text != _t(app, "errors.database_down")
    finally:
        await app.stop()


async def test_the_job_store_never_runs_on_the_event_loop(
    make_settings: Callable[..., Settings],
    database_url: str,
    tmp_path: Path,
    channel: RecordingChannel,
    quick_rescans: None,
) -> None:
    """Every statement of the job store's (synchronous) engine runs in another thread:
    its rescans, the removals after /stop and the listing for /mijngegevens."""
    threads: set[int] = set()

    def record(conn: Any, *_: Any) -> None:
        if conn.engine.url.drivername in ("sqlite", "postgresql+psycopg"):  # not the async one
            threads.add(threading.get_ident())

    event.listen(Engine, "before_cursor_execute", record)
    settings = make_settings(database_url=database_url, export_dir=tmp_path / "exports")
    app = App(settings, channels={channel.name: channel})
    try:
        await app.start(sender=False)
        person = Person(app)
        await person.send("/start")
        await person.send("/mijngegevens")
        await person.send("/stop")
        await asyncio.sleep(1)  # a few rescans
    finally:
        await app.stop()
        event.remove(Engine, "before_cursor_execute", record)
    assert threads, "the job store was not used at all"
    assert threading.get_ident() not in threads  # the test runs on the event loop's thread


class _Planted:
    """Unpickling this opens (creates) a file: a stand-in for running any code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


async def test_a_job_planted_in_the_database_cannot_run_code(
    make_settings: Callable[..., Settings],
    database_url: str,
    tmp_path: Path,
    channel: RecordingChannel,
) -> None:
    """APScheduler pickles job state: write access to the jobs table must not mean
    code execution in the bot. A job whose state names a class outside the allow-list
    is refused (and dropped) when it is loaded."""
    marker = tmp_path / "planted-code-ran"
    app = App(make_settings(database_url=database_url), channels={channel.name: channel})
    await app.start(sender=False)
    try:
        assert app.services is not None and app.scheduler is not None
        state = pickle.dumps({"version": 1, "id": "planted", "func": _Planted(marker)})
        async with app.services.sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) "
                    "VALUES ('planted', :at, :state)"
                ),
                {"at": (datetime.now(UTC) + timedelta(days=30)).timestamp(), "state": state},
            )
        ids = await app.scheduler.job_ids()  # loads every stored job
        assert "planted" not in ids
        assert not marker.exists(), "unpickling the planted job ran its code"
    finally:
        await app.stop()
