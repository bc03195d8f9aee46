"""What differs between the two databases in the SQL we write ourselves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite alike)."""
    return pg_insert if is_postgresql(session) else sqlite_insert


def is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def person_turn(platform: str, platform_user_id: str) -> Any:
    """PostgreSQL: the transaction-scoped advisory lock on one person. Two messages
    of one person, on one worker or two, take turns: the second waits until the first
    is committed, and its next statement sees what the first wrote. SQLite needs none:
    its transactions take turns anyway."""
    return func.pg_advisory_xact_lock(func.hashtextextended(f"{platform}:{platform_user_id}", 0))
