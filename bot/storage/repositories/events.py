"""Deduplication: which platform updates have been handled."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.dialect import insert_for, is_postgresql, person_turn, table_of, turn_key
from bot.storage.models import ProcessedEvent
from bot.storage.repositories.users import count_turn


@functools.cache
def record(postgresql: bool, turn: bool) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on the table, built once per
    database: a statement made per update cost more CPU than its round trip (its
    construction and cache key), and the ORM's bulk-insert path more again.
    With ``turn`` (PostgreSQL) it also takes the person's turn, named by the ``turn_name``
    parameter (see :func:`bot.storage.dialect.person_turn`), and then counts it in
    their row (:func:`bot.storage.repositories.users.count_turn`)."""
    table = table_of(ProcessedEvent)
    insert = insert_for(postgresql)
    stmt = (
        insert(table)
        .values(
            # Named apart from any column: beside an UPDATE (``counted``), a parameter
            # named after a column of its table would become one of its SET values.
            platform=bindparam("ev_platform", type_=table.c.platform.type),
            event_id=bindparam("ev_event_id", type_=table.c.event_id.type),
            at=bindparam("ev_at", type_=table.c.at.type),
        )
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(table.c.id)
    )
    if not turn:
        return stmt
    recorded = stmt.returning(person_turn(bindparam("turn_name", type_=String()))).cte("recorded")
    return select(recorded.c.id).add_cte(count_turn(recorded.c.id))


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
        postgresql = is_postgresql(self.session)
        turn = person if postgresql else None
        params = {"ev_platform": platform, "ev_event_id": event_id, "ev_at": now}
        if turn is not None:
            params.update(turn_name=turn_key(platform, turn), of_platform=platform, of_person=turn)
        statement = record(postgresql, turn is not None)
        fresh = (await self.session.execute(statement, params)).first() is not None
        if fresh and turn is not None:
            self.turns.add((platform, turn))
        return fresh

    async def prune(self, older_than: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.at < older_than)
        )
        return int(getattr(result, "rowcount", 0) or 0)
