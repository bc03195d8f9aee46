"""Held replies (durable replies) and the report after their send: ``Outbox.hold`` and
``Outbox.settle``, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from bot.app import App
from bot.core.messages import Reply
from bot.outbox.queue import PENDING, REPLY, SENDING, Outbox, Outgoing
from bot.storage.models import OutboxMessage


def _outbox(app: App) -> Outbox:
    assert app.services is not None
    return app.services.outbox


async def _statuses(app: App) -> dict[str, str]:
    async with _outbox(app).sessions() as session:
        rows = await session.execute(select(OutboxMessage.key, OutboxMessage.status))
        return {key: status for key, status in rows}


def _reply(key: str, chat: str, text: str = "antwoord") -> Outgoing:
    return Outgoing(key=key, platform="console", chat_id=chat, reply=Reply(text=text), kind=REPLY)


async def _hold(app: App, items: list[Outgoing]) -> tuple[list[int | None], bool]:
    outbox = _outbox(app)
    async with outbox._begin() as session:
        return await outbox.hold(session, items, timedelta(seconds=60))


async def test_hold_keeps_replies_for_the_channel_unless_the_chat_has_messages_waiting(
    app: App,
) -> None:
    ids, queued = await _hold(app, [_reply("r1", "a"), _reply("r2", "a")])
    assert not queued and None not in ids
    assert await _statuses(app) == {"r1": SENDING, "r2": SENDING}
    # Chat "a" has unsent rows now: a new reply to it queues behind them, in order.
    ids, queued = await _hold(app, [_reply("r3", "a")])
    assert queued
    # Another chat is not held up by chat "a".
    _, queued = await _hold(app, [_reply("r4", "b")])
    assert not queued
    # A redelivered update: its key is stored already, so no new row (id None).
    again, queued = await _hold(app, [_reply("r4", "b")])
    assert again == [None] and queued
    assert (await _statuses(app))["r3"] == PENDING


async def test_replies_to_two_chats_queue_when_either_has_messages_waiting(app: App) -> None:
    await _outbox(app).enqueue([_reply("earlier", "b")])
    ids, queued = await _hold(app, [_reply("to-a", "a"), _reply("to-b", "b")])
    assert queued and None not in ids
    statuses = await _statuses(app)
    assert statuses["to-a"] == PENDING and statuses["to-b"] == PENDING


async def test_replies_settled_at_once_share_deletes(app: App) -> None:
    """Settles reported while a DELETE runs go together in the next one (a group
    commit): fewer DELETEs than replies, and every row is gone."""
    assert app.engine is not None
    held = [(await _hold(app, [_reply(f"s{n}", f"c{n}")]))[0][0] for n in range(12)]
    deletes: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        await asyncio.gather(*(_outbox(app).settle(sent=[row]) for row in held if row))
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    assert await _statuses(app) == {}
    assert 1 <= len(deletes) < 12


async def test_a_failed_delete_leaves_its_rows_for_the_next_one(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = _outbox(app)
    first = (await _hold(app, [_reply("f1", "c1")]))[0][0]
    second = (await _hold(app, [_reply("f2", "c2")]))[0][0]
    assert first is not None and second is not None
    real = outbox.sessions

    def broken() -> object:
        raise ConnectionRefusedError("database down")

    monkeypatch.setattr(outbox, "sessions", broken)
    with pytest.raises(ConnectionRefusedError):
        await outbox.settle(sent=[first])
    monkeypatch.setattr(outbox, "sessions", real)
    await outbox.settle(sent=[second])  # takes the first one along
    assert await _statuses(app) == {}
