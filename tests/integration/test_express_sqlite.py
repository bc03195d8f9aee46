"""The express path on SQLite (bot.storage.express_sqlite): a plain question outside a
conversation in one read and one write transaction, each one hand-over to the store's
own thread; anything else, a turn that moved, someone made meanwhile, or a write
SQLite refuses, goes through the unit of work as before."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.context import CHANGED, Seen, Written
from bot.outbox.queue import PENDING, SENDING
from bot.settings import Settings
from bot.storage import express_sqlite
from bot.storage.express_sqlite import SqliteExpressStore, _SqliteLink
from bot.storage.models import AuditLog, OutboxMessage, ProcessedEvent, User
from tests.helpers.conversation import Person
from tests.helpers.express import (
    anna_made_meanwhile,
    assert_theirs_kept,
    before_the_write,
    her_language_asked_meanwhile,
)
from tests.helpers.fakes import RecordingChannel

QUESTION = "Wat is positieve gezondheid?"


@pytest.fixture
async def app(
    make_settings: Any, tmp_path: Path, clock: FrozenClock, channel: RecordingChannel
) -> AsyncIterator[App]:
    settings: Settings = make_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    started = App(settings, clock=clock, channels={channel.name: channel})
    await started.start(scheduler=False, sender=False)
    yield started
    await started.stop()


def _person(app: App, **kwargs: Any) -> Person:
    """Someone on a channel whose replies are held in the outbox (as on Telegram)."""
    return Person(app, with_event_ids=True, durable_replies=True, **kwargs)


def _store(app: App) -> SqliteExpressStore:
    assert app.services is not None
    store = app.services.express
    assert isinstance(store, SqliteExpressStore)
    return store


@pytest.fixture
def units_of_work(app: App) -> Iterator[Counter[str]]:
    """Transactions the engine began (the unit of work's), and the express store's
    hand-overs to its thread."""
    seen: Counter[str] = Counter()
    assert app.engine is not None
    engine = app.engine.sync_engine

    def begin(_conn: Any) -> None:
        seen["unit of work"] += 1

    store = _store(app)
    run = store.run

    async def counted(work: Any) -> Any:
        seen["hand-over"] += 1
        return await run(work)

    store.run = counted  # type: ignore[method-assign]
    event.listen(engine, "begin", begin)
    yield seen
    event.remove(engine, "begin", begin)


async def _one(app: App, query: Any) -> Any:
    assert app.services is not None
    async with app.services.sessions() as session:
        return (await session.execute(query)).scalar_one()


async def test_sqlite_gets_the_express_store(app: App) -> None:
    assert isinstance(_store(app), SqliteExpressStore)


async def test_a_plain_question_from_someone_known_is_one_read_and_one_write(
    app: App, units_of_work: Counter[str]
) -> None:
    anna = _person(app)
    first = await anna.send(QUESTION)
    turn = await _one(app, select(User.turn))
    units_of_work.clear()
    again = await anna.send(QUESTION)
    assert units_of_work == Counter({"hand-over": 2})
    assert [r.text for r in again] == [r.text for r in first]
    row = await _one(app, select(OutboxMessage).where(OutboxMessage.id == again[0].outbox_id))
    assert (row.status, row.kind) == (PENDING, "reply") and again[0].queued
    assert await _one(app, select(func.count()).select_from(ProcessedEvent)) == 2
    assert await _one(app, select(User.turn)) == turn + 1
    # The person as the unit of work reads them back: times as times, in UTC.
    user = await _one(app, select(User))
    assert user.last_seen_at.tzinfo is not None and user.last_seen_at <= app.clock.now()


async def test_a_first_contact_makes_the_person_and_their_audit_record(
    app: App, units_of_work: Counter[str]
) -> None:
    ben = _person(app, user_id="ben", display_name="Ben", language_code="en-GB")
    replies = await ben.send(QUESTION)
    assert units_of_work == Counter({"hand-over": 2})
    assert len(replies) == 1 and replies[0].outbox_id is not None
    assert app.services is not None
    async with app.services.sessions() as session:
        user = (await session.execute(select(User))).scalar_one()
        audit = (await session.execute(select(AuditLog))).scalar_one()
        row = await session.get(OutboxMessage, replies[0].outbox_id)
    assert (user.platform_user_id, user.display_name, user.language) == ("ben", "Ben", "en")
    assert (user.private_chat_id, user.roles, user.active, user.turn) == ("ben", "", True, 0)
    assert user.created_at == app.clock.now()
    assert (audit.action, audit.actor_user_id, audit.detail) == ("user.created", user.id, "console")
    assert row is not None and row.user_id == user.id
    units_of_work.clear()
    await ben.send(QUESTION)  # found as the first message left him
    assert units_of_work == Counter({"hand-over": 2})
    assert await _one(app, select(func.count()).select_from(User)) == 1


async def test_the_reply_is_held_for_the_channel_when_nothing_waits(app: App) -> None:
    anna = _person(app)
    await anna.send(QUESTION)
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(status="sent"))
    again = await anna.send(QUESTION)
    row = await _one(app, select(OutboxMessage).where(OutboxMessage.id == again[0].outbox_id))
    assert row.status == SENDING and row.lease_until is not None and not again[0].queued


async def test_an_update_delivered_twice_is_answered_once(app: App) -> None:
    anna = _person(app)
    await anna.send(QUESTION)
    from bot.core.messages import Incoming

    incoming = Incoming.from_text(
        "console", "anna", "anna", QUESTION, event_id="twice", durable_replies=True
    )
    assert len(await app.handle(incoming)) == 1
    assert await app.handle(incoming) == []
    assert await _one(app, select(func.count()).select_from(OutboxMessage)) == 2


async def test_a_person_in_a_conversation_goes_the_usual_way(
    app: App, units_of_work: Counter[str]
) -> None:
    anna = _person(app)
    await anna.send("/taal")
    units_of_work.clear()
    await anna.send("engels")
    assert units_of_work["unit of work"] == 1
    assert await _one(app, select(User.language)) == "en"


async def test_a_turn_taken_in_between_sends_the_message_the_usual_way(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another message of hers was handled between the read and the write (/taal): the
    express write rolls back, and the unit of work answers as she is now, once."""
    anna = _person(app)
    anna_first = await anna.send(QUESTION)
    before_the_write(monkeypatch, _SqliteLink, her_language_asked_meanwhile(app))
    replies = await anna.send(QUESTION)
    assert len(replies) == 1 and replies[0].text != anna_first[0].text
    assert "Bron:" not in replies[0].text
    assert await _one(app, select(func.count()).select_from(OutboxMessage)) == 2


async def test_someone_new_made_meanwhile_goes_the_usual_way(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    before_the_write(monkeypatch, _SqliteLink, anna_made_meanwhile(app))
    replies = await _person(app).send(QUESTION)
    assert len(replies) == 1
    await assert_theirs_kept(app)


async def test_a_write_sqlite_refuses_leaves_nothing_and_goes_the_usual_way(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction fails half-way (here: after the dedupe record): it is rolled
    back, and the unit of work answers once."""
    anna = _person(app)
    await anna.send(QUESTION)
    steps = express_sqlite._steps

    def failing(run: Any, params: dict[str, Any], new: bool) -> Written:
        run("counted")
        run("recorded")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(express_sqlite, "_steps", failing)
    replies = await anna.send(QUESTION)
    monkeypatch.setattr(express_sqlite, "_steps", steps)
    assert len(replies) == 1 and replies[0].outbox_id is not None
    assert await _one(app, select(func.count()).select_from(ProcessedEvent)) == 2
    assert await _one(app, select(func.count()).select_from(OutboxMessage)) == 2


async def test_the_store_closes_its_connection_at_stop(app: App) -> None:
    store = _store(app)
    await _person(app).send(QUESTION)
    assert store._connection is not None
    await app.stop()
    assert store._connection is None


async def test_a_change_to_her_row_in_between_sends_the_message_the_usual_way(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another message of hers chose English between the read and the write. SQLite's
    units of work do not count her turn, so her row as read is what the write compares:
    nothing of it lands, and the unit of work answers (once)."""
    anna = _person(app)
    await anna.send(QUESTION)

    async def english(_seen: Seen) -> None:
        assert app.services is not None
        async with app.services.work.begin() as repos:
            user = await repos.users.find("console", "anna")
            user.language = "en"

    outcomes = before_the_write(monkeypatch, _SqliteLink, english)
    turn = await _one(app, select(User.turn))
    replies = await anna.send(QUESTION)
    assert outcomes == [Written(CHANGED)]
    assert len(replies) == 1 and replies[0].outbox_id is not None
    assert await _one(app, select(User.turn)) == turn  # the express write left nothing
    assert await _one(app, select(func.count()).select_from(OutboxMessage)) == 2
    assert await _one(app, select(func.count()).select_from(ProcessedEvent)) == 2


async def test_a_read_sqlite_refuses_goes_the_usual_way(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = _person(app)
    await anna.send(QUESTION)

    async def locked(self: SqliteExpressStore, work: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SqliteExpressStore, "run", locked)
    replies = await anna.send(QUESTION)
    assert len(replies) == 1 and replies[0].outbox_id is not None
    assert await _one(app, select(func.count()).select_from(OutboxMessage)) == 2
