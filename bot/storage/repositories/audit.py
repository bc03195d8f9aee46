"""The audit log: actions, never message content or health data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditLog


class AuditRepo:
    """An append-only record of actions; never message content or health data."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, now: datetime, action: str, actor_user_id: int | None = None, detail: str = ""
    ) -> None:
        self.session.add(
            AuditLog(at=now, actor_user_id=actor_user_id, action=action, detail=detail)
        )

    async def list(self, limit: int = 100) -> list[AuditLog]:
        result = await self.session.execute(
            select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        )
        return list(result.scalars())
