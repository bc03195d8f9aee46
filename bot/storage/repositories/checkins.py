"""Spinnenweb check-ins: time and mode in the clear, the rest in one encrypted payload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.spinnenweb.records import CheckinRecord
from bot.storage.models import Checkin


class CheckinRepo:
    """Spinnenweb check-ins; everything but time and mode is encrypted."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    def _record(self, row: Checkin) -> CheckinRecord:
        data = self.cipher.decrypt(row.payload)
        return CheckinRecord(
            id=row.id,
            taken_at=row.taken_at,
            mode=row.mode,
            scores={k: float(v) for k, v in data.get("scores", {}).items()},
            answers={k: int(v) for k, v in data.get("answers", {}).items()},
            marked=list(data.get("marked", [])),
            reflection=dict(data.get("reflection", {})),
        )

    async def add(self, user_id: int, record: CheckinRecord, now: datetime) -> CheckinRecord:
        row = Checkin(
            user_id=user_id,
            taken_at=record.taken_at,
            mode=record.mode,
            payload=self.cipher.encrypt(record.payload()),
            updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        record.id = row.id
        return record

    async def save_reflection(
        self, user_id: int, checkin_id: int, reflection: dict[str, str], now: datetime
    ) -> bool:
        row = await self.session.get(Checkin, checkin_id)
        if row is None or row.user_id != user_id:
            return False
        record = self._record(row)
        record.reflection = reflection
        row.payload = self.cipher.encrypt(record.payload())
        row.updated_at = now
        return True

    async def get(self, user_id: int, checkin_id: int) -> CheckinRecord | None:
        row = await self.session.get(Checkin, checkin_id)
        if row is None or row.user_id != user_id:
            return None
        return self._record(row)

    async def history(self, user_id: int) -> list[CheckinRecord]:
        """All of the person's check-ins, oldest first."""
        result = await self.session.execute(
            select(Checkin).where(Checkin.user_id == user_id).order_by(Checkin.taken_at, Checkin.id)
        )
        return [self._record(row) for row in result.scalars()]

    async def latest(self, user_id: int) -> CheckinRecord | None:
        result = await self.session.execute(
            select(Checkin)
            .where(Checkin.user_id == user_id)
            .order_by(Checkin.taken_at.desc(), Checkin.id.desc())
            .limit(1)
        )
        row = result.scalar_one_or_none()
        return None if row is None else self._record(row)

    async def count(self, user_id: int) -> int:
        result = await self.session.execute(
            select(func.count(Checkin.id)).where(Checkin.user_id == user_id)
        )
        return int(result.scalar_one())

    async def prune(self, older_than: datetime) -> int:
        """Delete check-ins taken before ``older_than`` (the retention period)."""
        result = await self.session.execute(delete(Checkin).where(Checkin.taken_at < older_than))
        return int(getattr(result, "rowcount", 0) or 0)
