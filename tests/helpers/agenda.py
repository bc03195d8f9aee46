"""Agenda events written straight through the repository, for the agenda's tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.agenda.model import Event, EventData
from bot.app import App
from bot.outbox.queue import reply_from_json
from bot.storage.models import OutboxMessage


async def add(app: App, data: EventData) -> Event:
    """Save ``data`` (add, or update by uid) at the bot's clock; the event as stored."""
    assert app.services is not None
    async with app.services.work.begin() as db:
        event, _ = await db.agenda.save(data, app.services.clock.now())
        return event


async def cancel(app: App, uid: str) -> None:
    assert app.services is not None
    async with app.services.work.begin() as db:
        await db.agenda.cancel(uid, app.services.clock.now())


async def every_event(app: App) -> list[Event]:
    """Every event, past and cancelled ones too, by start."""
    assert app.services is not None
    async with app.services.work.begin() as db:
        return await db.agenda.all()


@dataclass(frozen=True)
class Sent:
    """An agenda message in the outbox, as its recipient will see it."""

    chat: str
    text: str
    buttons: dict[str, str]  # label → action


async def messages(app: App) -> list[Sent]:
    """Every agenda message queued (outbox kind ``agenda``), in order."""
    assert app.services is not None
    async with app.services.sessions() as session:
        found = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.payload)
                .where(OutboxMessage.kind == "agenda")
                .order_by(OutboxMessage.id)
            )
        ).all()
    sent = []
    for chat, payload in found:
        reply = reply_from_json(app.services.cipher.decrypt(payload))
        sent.append(Sent(chat, reply.text, {c.label: c.action for c in reply.choices}))
    return sent


async def to_whom(app: App, starting: str = "") -> list[str]:
    """The chats, sorted, of the agenda messages whose text starts with ``starting``."""
    return sorted(m.chat for m in await messages(app) if m.text.startswith(starting))
