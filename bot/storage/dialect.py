"""What differs between the two databases in the SQL we write ourselves."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite alike)."""
    return insert_for(is_postgresql(session))


def insert_for(postgresql: bool) -> Any:
    """:func:`upsert` for statements built once per database, before any session."""
    return pg_insert if postgresql else sqlite_insert


def table_of(entity: type[Any]) -> Table:
    """A mapped class's table, for Core statements that skip the ORM's machinery."""
    return cast(Table, entity.__table__)


def is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def turn_key(platform: str, platform_user_id: str) -> str:
    """The name of one person's turn (:func:`person_turn`)."""
    return f"{platform}:{platform_user_id}"


def person_turn(key: Any) -> Any:
    """PostgreSQL: the transaction-scoped advisory lock on one person, named by
    :func:`turn_key` (a string, or a bound parameter that will hold it). Two messages
    of one person, on one worker or two, take turns: the second waits until the first
    is committed, and its next statement sees what the first wrote. SQLite needs none:
    its transactions take turns anyway."""
    return func.pg_advisory_xact_lock(func.hashtextextended(key, 0))
