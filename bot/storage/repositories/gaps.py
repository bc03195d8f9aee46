"""Unanswered questions, for the content curators: text only, no user id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import UnansweredQuestion


class GapRepo:
    """Unanswered questions for the curators: text only, no user id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, question: str, normalized: str, language: str, now: datetime) -> None:
        self.session.add(
            UnansweredQuestion(
                question=question[:500],
                normalized=normalized[:500],
                language=language,
                asked_at=now,
            )
        )

    async def most_frequent(
        self, limit: int = 50, *, since: datetime | None = None
    ) -> list[tuple[str, int]]:
        """(an example wording, how often), most frequent first; no dates, no people.

        ``since``: only questions asked from then on (the retention period, also
        before housekeeping has run).
        """
        count = func.count(UnansweredQuestion.id)
        stmt = select(func.max(UnansweredQuestion.question), count)
        if since is not None:
            stmt = stmt.where(UnansweredQuestion.asked_at >= since)
        result = await self.session.execute(
            stmt.group_by(UnansweredQuestion.normalized)
            .order_by(count.desc(), func.max(UnansweredQuestion.asked_at).desc())
            .limit(limit)
        )
        return [(str(q), int(n)) for q, n in result.all()]

    async def prune(self, older_than: datetime) -> int:
        """Delete questions asked before ``older_than`` (UNANSWERED_RETENTION_DAYS)."""
        result = await self.session.execute(
            delete(UnansweredQuestion).where(UnansweredQuestion.asked_at < older_than)
        )
        return int(getattr(result, "rowcount", 0) or 0)
