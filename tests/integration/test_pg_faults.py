"""Database faults the bot must come through without a restart (issue 18): PostgreSQL
connections killed mid-run with ``pg_terminate_backend``, and a full disk under
SQLite.

A person is told "try again" (``errors.database_down``, or ``errors.internal``) at
most once per fault, and every other message is answered as usual; nothing that was
stored before is lost or corrupted."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.outbox.queue import Outgoing
from bot.settings import Settings
from bot.storage.models import OutboxMessage, User
from bot.storage.repositories.users import UserRepo
from tests.helpers.conversation import Person
from tests.helpers.databases import PostgresDatabase
from tests.helpers.fakes import RecordingChannel

# A bound on waiting, so a fault that hangs the bot fails the test instead of hanging
# it; no assertion is about speed.
PATIENCE = 30


def _t(app: App, key: str) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key)


def _polite(app: App, replies: list[Reply]) -> bool:
    """The reply is the polite "that did not work, try again"."""
    texts = {_t(app, "errors.database_down"), _t(app, "errors.internal")}
    return [r.text for r in replies if r.text] != [] and all(r.text in texts for r in replies)


async def _send(person: Person, text: str) -> list[Reply]:
    async with asyncio.timeout(PATIENCE):
        return await person.send(text)


# -- PostgreSQL: every connection of the bot killed -----------------------------------


def _kill_connections(url: str) -> int:
    """From an admin connection of its own: end every other backend on the database
    (the bot's pool). How many were ended."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


@pytest.fixture
async def pg_app(start_pg_app: Callable[..., Awaitable[App]]) -> App:
    """The bot on PostgreSQL with its outbox sender running on the same pool."""
    return await start_pg_app(sender=True)


async def test_killed_connections_between_messages_cost_no_try_again(
    pg_app: App,
    postgres_db: PostgresDatabase,
    channel: RecordingChannel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every pooled connection is dead, and the pool has several (four people wrote at
    once). Killed a moment after their last use, they are not pinged
    (bot/storage/ping.py): each message that meets one is handled once more on a
    fresh connection, so nobody is even told to try again."""
    caplog.set_level(logging.INFO, logger="bot.core.middleware")
    people = [Person(pg_app, user_id=f"p{n}", with_event_ids=True) for n in range(4)]
    await asyncio.gather(*(_send(person, "/start") for person in people))
    usual = [r.text for r in await _send(people[0], "/help")]
    assert not _polite(pg_app, people[0].last)

    assert _kill_connections(postgres_db.url) >= 2
    answers = list(await asyncio.gather(*(_send(person, "/help") for person in people)))
    answers += [await _send(person, "/help") for person in people]

    assert [replies for replies in answers if _polite(pg_app, replies)] == []
    assert all([r.text for r in replies] == usual for replies in answers)
    assert "handled again" in caplog.text  # the pool did not ping them: the retry did it

    # The outbox sender (on the same pool) delivers again.
    assert pg_app.services is not None
    reply = Reply(text="na de storing")
    await pg_app.services.outbox.enqueue(
        [Outgoing(key="after-kill", platform="console", chat_id="p0", reply=reply)]
    )
    pg_app.services.outbox.wake()
    async with asyncio.timeout(PATIENCE):
        while ("p0", reply) not in channel.sent:
            await asyncio.sleep(0.05)


async def test_killed_connections_under_the_express_path_cost_no_try_again(
    pg_app: App, postgres_db: PostgresDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """Plain questions from known people go the express path (two statements on the
    driver's connection, bot/storage/express.py). With every pooled connection
    killed, the one that meets a dead connection is dropped from the pool and the
    question is handled through the unit of work, which retries on a fresh one:
    each is answered as usual, once, and nobody is told to try again."""
    caplog.set_level(logging.INFO, logger="bot.storage.express")
    question = "Wat is positieve gezondheid?"
    people = [
        Person(pg_app, user_id=f"q{n}", with_event_ids=True, durable_replies=True) for n in range(4)
    ]
    usual = [r.text for r in await _send(people[0], question)]
    await asyncio.gather(*(_send(person, question) for person in people[1:]))
    assert pg_app.services is not None and pg_app.services.express is not None
    before = pg_app.services.express.statements

    assert _kill_connections(postgres_db.url) >= 2
    answers = list(await asyncio.gather(*(_send(person, question) for person in people)))
    answers += [await _send(person, question) for person in people]

    assert [replies for replies in answers if _polite(pg_app, replies)] == []
    assert all([r.text for r in replies] == usual for replies in answers)
    assert pg_app.services.express.statements > before  # the express path was taken
    assert "database connection was closed" in caplog.text  # and met a dead one
    async with pg_app.services.sessions() as session:
        held = await session.execute(select(func.count()).select_from(OutboxMessage))
        assert held.scalar_one() == 12  # one reply row per question, none twice


async def test_a_connection_idle_in_the_pool_is_pinged_before_use(
    pg_app: App,
    postgres_db: PostgresDatabase,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Killed while idle (a quiet night, a restart): the ping at checkout finds the
    connection dead and the pool replaces it before the message uses it."""
    from bot.storage import ping

    caplog.set_level(logging.INFO, logger="bot.core.middleware")
    person = Person(pg_app, with_event_ids=True)
    usual = [r.text for r in await _send(person, "/help")]
    monkeypatch.setattr(ping, "PING_AFTER_IDLE", 0.0)  # every connection counts as idle
    assert _kill_connections(postgres_db.url) >= 1
    answers = [await _send(person, "/help") for _ in range(3)]
    assert all([r.text for r in replies] == usual for replies in answers)
    assert "handled again" not in caplog.text


async def test_connections_killed_while_a_message_is_handled_cost_at_most_one_try_again(
    pg_app: App, postgres_db: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies inside a message's transaction: that message may get the
    polite reply, no more; the next ones are answered as usual."""
    person = Person(pg_app, with_event_ids=True)
    await _send(person, "/start")
    usual = [r.text for r in await _send(person, "/help")]

    inside, release = asyncio.Event(), asyncio.Event()
    original = UserRepo.get_or_create
    held = [True]

    async def hold(self: UserRepo, **kwargs: Any) -> Any:
        found = await original(self, **kwargs)
        if held.pop() if held else False:
            inside.set()
            await release.wait()
        return found

    monkeypatch.setattr(UserRepo, "get_or_create", hold)
    during = asyncio.ensure_future(_send(person, "/help"))
    try:
        async with asyncio.timeout(PATIENCE):
            await inside.wait()
        assert _kill_connections(postgres_db.url) >= 1
    finally:
        release.set()
    answers = [await during] + [await _send(person, "/help") for _ in range(4)]

    polite = [replies for replies in answers if _polite(pg_app, replies)]
    assert len(polite) <= 1, "the person was told to try again more than once"
    assert all([r.text for r in replies] == usual for replies in answers[1:])


# -- SQLite: the disk is full -------------------------------------------------------------


def _full_disk(app: App) -> Callable[[], None]:
    """From now on the bot's SQLite connections may not grow the file (``PRAGMA
    max_page_count`` at its current size: writes that need a new page fail with
    SQLITE_FULL, "database or disk is full"). Returns the undo."""
    assert app.engine is not None
    engine = app.engine.sync_engine

    def cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count={int(pages)}")
        cursor.close()

    event.listen(engine, "connect", cap)

    def undo() -> None:
        event.remove(engine, "connect", cap)

    return undo


async def _people(app: App) -> set[str]:
    assert app.services is not None
    async with app.services.sessions() as session:
        return set((await session.execute(select(User.platform_user_id))).scalars())


async def test_a_full_disk_under_sqlite_is_a_clear_error_and_corrupts_nothing(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    clock: FrozenClock,
    channel: RecordingChannel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "bot.db"
    app = App(
        make_settings(database_url=f"sqlite:///{path}"), clock=clock, channels={"console": channel}
    )
    await app.start(scheduler=False, sender=False)
    try:
        assert app.engine is not None
        anna = Person(app, with_event_ids=True)
        await _send(anna, "/start")
        help_ = [r.text for r in await _send(anna, "/help")]
        before = await _people(app)

        undo = _full_disk(app)
        await app.engine.dispose()  # the pooled connections reconnect with the cap
        full: list[Reply] | None = None
        for number in range(300):  # new people until a write needs a new page
            replies = await _send(Person(app, user_id=f"p{number}", with_event_ids=True), "/start")
            if _polite(app, replies):
                full = replies
                break
        assert full is not None, "the capped database never filled up"
        assert [r.text for r in full] == [_t(app, "errors.database_down")]
        logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert any("full" in r.getMessage() and str(path) in r.getMessage() for r in logged), [
            r.getMessage() for r in caplog.records
        ]

        # Space again: the bot answers without a restart, and what it had is intact.
        undo()
        await app.engine.dispose()
        assert [r.text for r in await _send(anna, "/help")] == help_
        assert before <= await _people(app)
    finally:
        await app.stop()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        names = {name for (name,) in check.execute("SELECT platform_user_id FROM users")}
    assert before <= names
