"""Deduplication: which platform updates have been handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.dialect import upsert
from bot.storage.models import ProcessedEvent


class EventRepo:
    """Which platform updates have been handled (deduplication)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record the event; False if it was recorded before.

        One INSERT ... ON CONFLICT DO NOTHING RETURNING: no savepoint, no ORM
        flush (this runs for every platform update).
        """
        stmt = (
            upsert(self.session)(ProcessedEvent)
            .values(platform=platform, event_id=event_id, at=now)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(ProcessedEvent.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def prune(self, older_than: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.at < older_than)
        )
        return int(getattr(result, "rowcount", 0) or 0)
