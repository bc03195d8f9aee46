"""Personal calendar feed tokens (personal data): one active token per person.

Only a token's SHA-256 is stored (:func:`bot.people.tokens.token_hash`); the token
itself is shown once, in the link. Making a new one revokes the old; a revoked token
finds nobody. The rows go with the person (``ON DELETE CASCADE``, ``/vergeetmij``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AgendaFeedToken, User


class FeedTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace(self, user_id: int, token_hash: str, now: datetime) -> bool:
        """Store a new token for the person, revoking any active one. True: there
        was an active one (the old link stops working)."""
        had = await self.revoke(user_id, now)
        self.session.add(AgendaFeedToken(user_id=user_id, token_hash=token_hash, created_at=now))
        await self.session.flush()
        return had

    async def revoke(self, user_id: int, now: datetime) -> bool:
        """Revoke the person's active token; True when there was one."""
        result = await self.session.execute(
            update(AgendaFeedToken)
            .where(AgendaFeedToken.user_id == user_id, AgendaFeedToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def has_active(self, user_id: int) -> bool:
        found = await self.session.execute(
            select(AgendaFeedToken.id).where(
                AgendaFeedToken.user_id == user_id, AgendaFeedToken.revoked_at.is_(None)
            )
        )
        return found.first() is not None

    async def person(self, token_hash: str) -> User | None:
        """The person whose active token has this hash; None for unknown or revoked."""
        return (
            await self.session.execute(
                select(User)
                .join(AgendaFeedToken, AgendaFeedToken.user_id == User.id)
                .where(
                    AgendaFeedToken.token_hash == token_hash,
                    AgendaFeedToken.revoked_at.is_(None),
                )
            )
        ).scalar_one_or_none()
