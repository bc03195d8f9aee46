"""The express path (issue 18, PostgreSQL): a plain question from someone known,
outside a conversation, is answered in two statements without a transaction
(bot.storage.express); anything else, and a person whose turn moved in between, goes
through the unit of work as before."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.context import Seen, Written
from bot.outbox.queue import PENDING, SENDING, Outgoing
from bot.settings import Settings
from bot.storage import express as express_module
from bot.storage.express import _Link
from bot.storage.models import (
    AuditLog,
    OutboxMessage,
    ProcessedEvent,
    UnansweredQuestion,
    User,
)
from bot.storage.repositories.events import EventRepo
from tests.helpers.conversation import Person
from tests.helpers.databases import PostgresDatabase
from tests.helpers.express import (
    anna_made_meanwhile,
    ask_language,
    assert_theirs_kept,
    before_the_write,
    her_language_asked_meanwhile,
)

QUESTION = "Wat is positieve gezondheid?"
PATIENCE = 30  # a bound on waiting, so a lock that is never let go fails the test


@pytest.fixture
async def pg_app(start_pg_app: Callable[..., Awaitable[App]]) -> App:
    """The bot on PostgreSQL, the outbox sender driven by the test."""
    return await start_pg_app(sender=False)


def _person(app: App, **kwargs: Any) -> Person:
    """Someone on a channel whose replies are held in the outbox (as on Telegram)."""
    return Person(app, with_event_ids=True, durable_replies=True, **kwargs)


@pytest.fixture
def statements(pg_app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """What reaches the database: statements by their first word, and BEGINs (those
    in autocommit send nothing and are not counted); the express path's, which go to
    the driver directly, as well."""
    seen: Counter[str] = Counter()
    assert pg_app.engine is not None
    engine = pg_app.engine.sync_engine

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen[sql.lstrip().split(None, 1)[0].upper()] += 1

    fetch = _Link._fetch

    async def counted(link: _Link, name: str, params: dict[str, Any]) -> Any:
        sql = link.store.compiled(name, link.connection.dialect).sql
        seen[sql.lstrip().split(None, 1)[0].upper()] += 1
        return await fetch(link, name, params)

    monkeypatch.setattr(_Link, "_fetch", counted)

    def begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            seen["BEGIN"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    yield seen
    event.remove(engine, "before_cursor_execute", statement)
    event.remove(engine, "begin", begin)


async def _one(app: App, query: Any) -> Any:
    assert app.services is not None
    async with app.services.sessions() as session:
        return (await session.execute(query)).scalar_one()


async def test_a_plain_question_from_someone_known_takes_two_statements(
    pg_app: App, statements: Counter[str]
) -> None:
    anna = _person(pg_app)
    first = await anna.send(QUESTION)  # first contact: created on the express path too
    turn = await _one(pg_app, select(User.turn))
    statements.clear()
    again = await anna.send(QUESTION)
    assert statements == Counter({"SELECT": 1, "WITH": 1})  # no BEGIN, no COMMIT
    assert [r.text for r in again] == [r.text for r in first]
    assert again[0].outbox_id is not None
    # Held for the channel, behind her first answer that no channel settled here.
    row = await _one(pg_app, select(OutboxMessage).where(OutboxMessage.id == again[0].outbox_id))
    assert (row.status, row.kind) == (PENDING, "reply") and again[0].queued
    assert await _one(pg_app, select(func.count()).select_from(ProcessedEvent)) == 2
    assert await _one(pg_app, select(User.turn)) == turn + 1


async def test_a_first_contact_with_a_plain_question_takes_two_statements(
    pg_app: App, statements: Counter[str]
) -> None:
    """Someone new asks a plain question: their row (as identify would make it: the
    language their app says, BOT_ADMINS a verbinder), its audit record, the dedupe
    record and the held reply, in the same two statements."""
    ben = _person(pg_app, user_id="ben", display_name="Ben", language_code="en-GB")
    replies = await ben.send(QUESTION)
    assert statements == Counter({"SELECT": 1, "WITH": 1})
    assert len(replies) == 1 and replies[0].outbox_id is not None
    assert pg_app.services is not None
    async with pg_app.services.sessions() as session:
        user = (await session.execute(select(User))).scalar_one()
        audit = (await session.execute(select(AuditLog))).scalar_one()
        row = await session.get(OutboxMessage, replies[0].outbox_id)
    assert (user.platform_user_id, user.display_name, user.language) == ("ben", "Ben", "en")
    assert (user.private_chat_id, user.roles, user.active, user.turn) == ("ben", "", True, 0)
    assert (audit.action, audit.actor_user_id, audit.detail) == ("user.created", user.id, "console")
    assert row is not None and row.user_id == user.id
    # The second message finds her as the first left her, on the express path.
    statements.clear()
    await ben.send(QUESTION)
    assert statements == Counter({"SELECT": 1, "WITH": 1})
    assert await _one(pg_app, select(func.count()).select_from(User)) == 1


async def test_someone_new_made_meanwhile_goes_the_usual_way(
    pg_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the read (nobody) and the write, another worker created the same person:
    nothing of the write lands, and the unit of work answers with theirs."""
    before_the_write(monkeypatch, _Link, anna_made_meanwhile(pg_app))
    replies = await _person(pg_app).send(QUESTION)
    assert len(replies) == 1
    await assert_theirs_kept(pg_app)


async def test_the_reply_is_held_for_the_channel_when_nothing_waits(pg_app: App) -> None:
    anna = _person(pg_app)
    await anna.send(QUESTION)
    assert pg_app.services is not None
    async with pg_app.services.sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(status="sent"))  # out now
    again = await anna.send(QUESTION)
    row = await _one(pg_app, select(OutboxMessage).where(OutboxMessage.id == again[0].outbox_id))
    assert row.status == SENDING and row.lease_until is not None and not again[0].queued


async def test_an_update_delivered_to_a_second_worker_is_answered_once(
    pg_app: App,
    make_settings: Callable[..., Settings],
    postgres_db: PostgresDatabase,
    clock: FrozenClock,
) -> None:
    anna = _person(pg_app)
    await anna.send(QUESTION)
    other = App(make_settings(database_url=postgres_db.url), clock=clock)
    await other.start(scheduler=False, sender=False)
    try:
        once = _person(pg_app)
        base = once._base()
        incoming = _incoming(base, QUESTION)
        assert len(await pg_app.handle(incoming)) == 1
        assert await other.handle(incoming) == []  # the dedupe record was written
    finally:
        await other.stop()
    assert await _one(pg_app, select(func.count()).select_from(OutboxMessage)) == 2


def _incoming(base: dict[str, object], text: str) -> Any:
    from bot.core.messages import Incoming

    return Incoming.from_text(
        str(base.pop("platform")), str(base.pop("user_id")), str(base.pop("chat_id")), text, **base
    )


async def test_a_person_in_a_conversation_goes_the_usual_way(
    pg_app: App, statements: Counter[str]
) -> None:
    anna = _person(pg_app)
    await anna.send("/taal")
    statements.clear()
    await anna.send("engels")  # the language conversation's answer, not a question
    assert statements["BEGIN"] == 1
    assert await _one(pg_app, select(User.language)) == "en"


async def test_a_question_that_needs_the_database_is_handled_once_in_a_unit_of_work(
    pg_app: App, statements: Counter[str]
) -> None:
    anna = _person(pg_app)
    await anna.send(QUESTION)
    statements.clear()
    await anna.send("wie heeft de tour de france vorig jaar gewonnen")
    assert "info@alliantiepg.nl" in anna.text
    assert statements["BEGIN"] == 1
    assert await _one(pg_app, select(func.count()).select_from(UnansweredQuestion)) == 1
    assert await _one(pg_app, select(func.count()).select_from(OutboxMessage)) == 2


async def test_a_turn_taken_in_between_sends_the_message_the_usual_way(
    pg_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another message of hers was handled between the read and the write (here: /taal,
    which asks which language): nothing of the express write lands, and the unit of
    work answers as she is now (her text answers the language question), once."""
    anna = _person(pg_app)
    anna_first = await anna.send(QUESTION)
    before_the_write(monkeypatch, _Link, her_language_asked_meanwhile(pg_app))
    replies = await anna.send(QUESTION)
    # The conversation's reply (it reads the language question it finds), not the answer.
    assert len(replies) == 1 and replies[0].text != anna_first[0].text
    assert "Bron:" not in replies[0].text
    assert await _one(pg_app, select(func.count()).select_from(OutboxMessage)) == 2


async def test_the_write_waits_for_a_unit_of_work_holding_her_turn(
    pg_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two quick messages on two workers: the first is still in its unit of work (it
    holds her turn) when the second, a plain question, is answered. The second's
    write waits for the first to commit, then sees that her turn moved, and is
    handled as she is after the first (here: asked which language), not as she was."""
    anna = _person(pg_app)
    anna_first = await anna.send(QUESTION)
    assert pg_app.services is not None
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first_message() -> None:
        assert pg_app.services is not None
        async with pg_app.services.work.begin() as repos:
            await repos.events.first_time("console", "first", pg_app.clock.now(), person="anna")
            await ask_language(repos, pg_app)
            holding.set()
            await release.wait()

    write = _Link.write
    started = asyncio.Event()

    async def noted(
        link: _Link, seen: Seen, chat_id: str, event: tuple[str, str], reply: Outgoing
    ) -> Written:
        started.set()
        return await write(link, seen, chat_id, event, reply)

    monkeypatch.setattr(_Link, "write", noted)
    first = asyncio.create_task(first_message())
    await holding.wait()
    second = asyncio.create_task(anna.send(QUESTION))
    async with asyncio.timeout(PATIENCE):
        await started.wait()
    await asyncio.sleep(0.2)
    assert not second.done()  # waiting for her row, held by the first
    release.set()
    async with asyncio.timeout(PATIENCE):
        await first
        replies = await second
    # The conversation's reply (it reads the language question it finds), not the answer.
    assert len(replies) == 1 and replies[0].text != anna_first[0].text
    assert "Bron:" not in replies[0].text


async def test_every_unit_of_work_counts_her_turn(pg_app: App) -> None:
    anna = _person(pg_app)
    await anna.send("/start")
    before = await _one(pg_app, select(User.turn))
    await anna.send("/help")
    assert await _one(pg_app, select(User.turn)) == before + 1
    # Without an update id (the console) the turn is counted where it is taken.
    plain = Person(pg_app)
    await plain.send("/help")
    assert await _one(pg_app, select(User.turn)) == before + 2


async def test_her_turn_is_taken_before_she_has_a_row(pg_app: App) -> None:
    """EventRepo.first_time and the person's turn on someone new: the lock is taken
    although no row counts it yet."""
    assert pg_app.services is not None
    async with pg_app.services.work.begin() as repos:
        assert isinstance(repos.events, EventRepo)
        assert await repos.events.first_time("console", "x1", pg_app.clock.now(), person="nieuw")
        held = await repos.session.execute(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        )
        assert held.scalar_one() == 1


# -- the settle of sent replies, carried by the next express write ---------------------


@pytest.fixture
def deletes(pg_app: App) -> Iterator[list[str]]:
    """The DELETE statements sent through SQLAlchemy (the settle's own; the express
    statement goes to the driver and is not among them)."""
    seen: list[str] = []
    assert pg_app.engine is not None
    engine = pg_app.engine.sync_engine

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith("DELETE"):
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


async def _held_reply(app: App) -> int:
    """A reply of Anna's held for the channel, as if it went out: its row id."""
    anna = _person(app)
    await anna.send(QUESTION)
    replies = await anna.send(QUESTION)
    assert replies[0].outbox_id is not None
    return replies[0].outbox_id


async def _rows(app: App) -> set[int]:
    assert app.services is not None
    async with app.services.sessions() as session:
        return set((await session.execute(select(OutboxMessage.id))).scalars())


async def test_a_settle_rides_on_the_next_express_write(pg_app: App, deletes: list[str]) -> None:
    """While an express write is under way, a report of a sent reply waits for it and
    its row goes in that write's statement: no DELETE of its own, no round trip."""
    assert pg_app.services is not None
    outbox = pg_app.services.outbox
    sent = await _held_reply(pg_app)
    bob = _person(pg_app, user_id="bob")
    await bob.send(QUESTION)  # known from now on
    outbox.carrying(True)  # as when another express write is on its way
    try:
        settling = asyncio.create_task(outbox.settle(sent=[sent]))
        await asyncio.sleep(0.01)
        assert not settling.done()  # waiting for a write to carry it
        await bob.send(QUESTION)
        async with asyncio.timeout(PATIENCE):
            await settling
    finally:
        outbox.carrying(False)
    assert sent not in await _rows(pg_app)
    assert deletes == []


async def test_a_settle_nobody_carries_deletes_by_itself(pg_app: App, deletes: list[str]) -> None:
    """An express write under way that never writes (it went the usual way): after a
    moment the report deletes its row itself. With none under way, at once."""
    assert pg_app.services is not None
    outbox = pg_app.services.outbox
    first = await _held_reply(pg_app)
    outbox.carrying(True)
    try:
        async with asyncio.timeout(PATIENCE):
            await outbox.settle(sent=[first])
    finally:
        outbox.carrying(False)
    assert first not in await _rows(pg_app) and len(deletes) == 1
    second = await _held_reply(pg_app)
    await outbox.settle(sent=[second])
    assert second not in await _rows(pg_app) and len(deletes) == 2


async def test_a_carrying_write_that_fails_leaves_the_rows_to_the_report(
    pg_app: App, deletes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The express write that took the rows along met a closed connection: nothing of
    it landed, the rows are put back and the waiting report deletes them itself."""
    assert pg_app.services is not None
    outbox = pg_app.services.outbox
    sent = await _held_reply(pg_app)
    bob = _person(pg_app, user_id="bob")
    await bob.send(QUESTION)
    fetch = _Link._fetch

    async def closed_on_write(link: _Link, name: str, params: dict[str, Any]) -> Any:
        if name == "write":
            return express_module._GONE
        return await fetch(link, name, params)

    monkeypatch.setattr(_Link, "_fetch", closed_on_write)
    outbox.carrying(True)
    try:
        settling = asyncio.create_task(outbox.settle(sent=[sent]))
        await asyncio.sleep(0.01)
        replies = await bob.send(QUESTION)  # answered the usual way after all
        async with asyncio.timeout(PATIENCE):
            await settling
    finally:
        outbox.carrying(False)
    assert len(replies) == 1 and replies[0].outbox_id is not None
    assert sent not in await _rows(pg_app) and len(deletes) == 1


def test_a_statement_whose_defaults_sqlalchemy_would_compute_is_refused() -> None:
    """Column defaults that SQLAlchemy computes at execution would not reach the driver
    (a NULL in a NOT NULL column): the express path refuses such a statement when it
    compiles it, instead of writing it wrong."""
    from sqlalchemy.dialects import postgresql

    from bot.storage.express import _Compiled

    with pytest.raises(TypeError, match="topics_off"):
        _Compiled.of(
            pg_insert(User).values(platform="console", platform_user_id="x"),
            postgresql.asyncpg.dialect(),  # type: ignore[no-untyped-call]
        )
