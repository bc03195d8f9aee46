"""Deduplication: which platform updates have been handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.dialect import is_postgresql, person_turn, upsert
from bot.storage.models import ProcessedEvent


class EventRepo:
    """Which platform updates have been handled (deduplication)."""

    def __init__(self, session: AsyncSession, turns: set[tuple[str, str]] | None = None) -> None:
        self.session = session
        # The people (platform, id) whose turn this unit of work holds (with UserRepo).
        self.turns: set[tuple[str, str]] = set() if turns is None else turns

    async def first_time(
        self, platform: str, event_id: str, now: datetime, *, person: str | None = None
    ) -> bool:
        """Record the event; False if it was recorded before.

        One INSERT ... ON CONFLICT DO NOTHING RETURNING: no savepoint, no ORM
        flush (this runs for every platform update). With ``person`` (their platform
        user id) a new event also takes that person's turn on PostgreSQL
        (:func:`bot.storage.dialect.person_turn`) in the same statement.
        """
        stmt = (
            upsert(self.session)(ProcessedEvent)
            .values(platform=platform, event_id=event_id, at=now)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(ProcessedEvent.id)
        )
        turn = person if is_postgresql(self.session) else None
        if turn is not None:
            stmt = stmt.returning(person_turn(platform, turn))
        fresh = (await self.session.execute(stmt)).first() is not None
        if fresh and turn is not None:
            self.turns.add((platform, turn))
        return fresh

    async def prune(self, older_than: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.at < older_than)
        )
        return int(getattr(result, "rowcount", 0) or 0)
