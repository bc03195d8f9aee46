"""Cross-cutting behaviour: flood limit, error capture, an unavailable database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.context import Context
from bot.core.messages import Incoming, Reply
from bot.settings import Settings
from tests.helpers.conversation import Person


async def test_flood_limit_warns_once_then_recovers(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    app = App(make_settings(database_url=database_url, flood_limit_per_minute=5), clock=clock)
    await app.start(scheduler=False, sender=False)
    try:
        person = Person(app)
        for _ in range(5):
            await person.send("/help")
            assert "/taal" in person.text
        await person.send("/help")
        assert "Wacht even" in person.text
        assert await person.send("/help") == []
        other = Person(app, user_id="ander")
        await other.send("/help")  # the limit is per person
        assert "/taal" in other.text
        clock.advance(seconds=61)
        await person.send("/help")
        assert "/taal" in person.text
    finally:
        await app.stop()


async def test_a_failing_handler_gets_a_polite_reply_and_no_content_in_logs(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(msg: Incoming, ctx: Context) -> list[Reply]:
        raise RuntimeError("boom")

    assert app.services is not None and app.services.router is not None
    monkeypatch.setattr(app.services.router, "_text", broken)
    person = Person(app)
    with caplog.at_level(logging.DEBUG):
        await person.send("ik voel me somber vandaag")
    assert "er ging bij mij iets mis" in person.text
    assert "somber" not in caplog.text
    assert "handler failed" in caplog.text
    await person.send("/help")  # the next message is fine again
    assert "/taal" in person.text


async def test_database_down_gets_a_clear_reply(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    assert app.services is not None

    def down() -> object:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(app.services, "sessions", down)
    person = Person(app)
    await person.send("/start")
    assert "niet bij mijn gegevens" in person.text
    assert "niet verwerkt" in person.text


async def test_failed_message_leaves_no_half_written_state(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction per message: the language flow is not entered if the reply fails."""
    from handlers import language

    original = language.ask

    async def ask_then_fail(msg: Incoming, ctx: Context) -> list[Reply]:
        await original(msg, ctx)
        raise RuntimeError("after the state was written")

    assert app.services is not None and app.services.router is not None
    command = app.services.router.find("taal")
    assert command is not None
    monkeypatch.setitem(
        app.services.router._commands,
        "taal",
        type(command)(command.name, ask_then_fail, command.help_key),
    )
    person = Person(app)
    await person.send("/taal")
    await person.send("engels")
    assert "English" not in person.text  # not in the language flow
    assert (await _language(app)) == "nl"


async def _language(app: App, user_id: str = "anna") -> str:
    from sqlalchemy import select

    from bot.storage.models import User

    assert app.services is not None
    async with app.services.sessions() as session:
        user = await session.execute(select(User).where(User.platform_user_id == user_id))
        return user.scalar_one().language


async def _plain_question(app: App, event_id: str) -> tuple[list[Any], list[str], int]:
    """A plain question from someone the bot knows: the replies, the statements the
    engine saw (BEGIN aside), and those the express store sent past it."""
    assert app.engine is not None and app.services is not None
    await Person(app, user_id="vraagsteller").send("/help")  # known to the bot from now on
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's; PostgreSQL's is no statement
            seen.append(" ".join(statement.replace('"', "").split()))

    express = app.services.express
    before = 0 if express is None else express.statements
    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        replies = await app.handle(
            Incoming.from_text(
                "console",
                "vraagsteller",
                "vraagsteller",
                "Wat is positieve gezondheid?",
                is_private=True,
                event_id=event_id,
                durable_replies=True,
            )
        )
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    assert replies and replies[0].outbox_id is not None and not replies[0].queued
    return replies, seen, (0 if express is None else express.statements - before)


async def test_a_plain_question_takes_the_express_path(app: App) -> None:
    """Past the engine, on the store's own connection: on PostgreSQL the person, then
    the turn, dedupe and reply in one statement (tests/integration/test_express.py); on
    SQLite the person, then BEGIN, the turn, dedupe, the reply and COMMIT in one
    hand-over to the store's thread (tests/integration/test_express_sqlite.py).
    Statements, not time: the number is what a change could break."""
    _, seen, express = await _plain_question(app, "hot-path-1")
    assert seen == []
    assert express == (6 if app.settings.is_sqlite else 2)


async def test_without_the_express_path_a_plain_question_costs_three_statements(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit of work's hot path, as a question takes it when the express path does
    not apply: dedupe, the person with their conversation (one SELECT), and the reply
    held in the outbox (one INSERT that also asks whether earlier replies to the chat
    wait), in one transaction."""
    assert app.services is not None
    monkeypatch.setattr(app.services, "express", None)
    _, seen, _ = await _plain_question(app, "hot-path-2")
    # PostgreSQL counts the turn in the dedupe record's statement (a CTE); SQLite
    # counts it beside the dedupe INSERT, in the same statement's place.
    dedupe = "INSERT INTO processed_events" if app.settings.is_sqlite else "WITH recorded AS"
    assert [" ".join(s.split()[:3]) for s in seen] == [
        dedupe,
        "SELECT users.id, users.platform,",
        "INSERT INTO outbox",
    ], seen
    assert "LEFT OUTER JOIN conversation_state" in seen[1]


async def test_messages_in_quick_succession_cost_no_ping(app: App) -> None:
    """A pooled connection handed back a moment ago is used without a ping (on
    PostgreSQL a round trip per checkout, two per message with the settle); only one
    idle for a while is pinged first (bot/storage/ping.py; the faults are in
    tests/integration/test_pg_faults.py)."""
    assert app.engine is not None
    dialect = app.engine.sync_engine.dialect
    pings: list[object] = []
    original = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return bool(original(dbapi_connection))

    person = Person(app, user_id="snel", with_event_ids=True)
    await person.send("/help")
    dialect.do_ping = counted  # type: ignore[method-assign]
    try:
        for _ in range(5):
            await person.send("Wat is positieve gezondheid?")
    finally:
        del dialect.do_ping
    assert pings == []
