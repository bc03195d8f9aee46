"""Agenda events written straight through the repository, for the agenda's tests."""

from __future__ import annotations

from bot.agenda.model import Event, EventData
from bot.app import App


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
