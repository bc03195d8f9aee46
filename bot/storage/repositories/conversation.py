"""Conversation state per (person, chat), its data encrypted.

The stored shape (flow, step, the encrypted data, a version) is what older rows
hold too; :class:`bot.core.state.State` is how the core sees it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.state import State
from bot.crypto import Cipher, DecryptionError
from bot.storage.models import ConversationState

log = logging.getLogger(__name__)


class StateRepo:
    """Conversation state per (user, chat), with its data encrypted."""

    def __init__(
        self,
        session: AsyncSession,
        cipher: Cipher,
        rows: dict[tuple[int, str], ConversationState | None] | None = None,
    ) -> None:
        self.session = session
        self.cipher = cipher
        # Rows read earlier in this unit of work, also by UserRepo.get_or_create.
        self._rows: dict[tuple[int, str], ConversationState | None] = {} if rows is None else rows

    async def _row(self, user_id: int, chat_id: str) -> ConversationState | None:
        key = (user_id, chat_id)
        if key in self._rows:  # read earlier in this unit of work: no second query
            return self._rows[key]
        # FOR UPDATE (PostgreSQL; SQLite has one writer anyway): two messages of one
        # person handled at once take turns, so a double tap is seen as stale.
        result = await self.session.execute(
            select(ConversationState)
            .where(ConversationState.user_id == user_id, ConversationState.chat_id == chat_id)
            .with_for_update()
        )
        row = self._rows[key] = result.scalar_one_or_none()
        return row

    async def get(self, user_id: int, chat_id: str, now: datetime) -> State | None:
        """The conversation in progress, or None.

        A state that expired, or that no key in ``DATA_KEY`` can decrypt (its key
        was dropped), is deleted and the person starts afresh: an unreadable state
        must not block every message, ``/vergeetmij`` included.
        """
        row = await self._row(user_id, chat_id)
        if row is None:
            return None
        if row.expires_at is not None and row.expires_at <= now:
            await self._drop(row)
            return None
        try:
            data = self.cipher.decrypt(row.data) if row.data else {}
        except DecryptionError:
            log.warning(
                "conversation state %d of user %d cannot be decrypted with DATA_KEY; "
                "deleted, the conversation starts afresh",
                row.id,
                user_id,
            )
            await self._drop(row)
            return None
        return State(flow=row.flow, step=row.step, data=data, version=row.version)

    async def _drop(self, row: ConversationState) -> None:
        await self.session.delete(row)
        await self.session.flush()  # gone before a new state for this chat is added
        self._rows[(row.user_id, row.chat_id)] = None

    async def set(
        self,
        user_id: int,
        chat_id: str,
        state: State,
        now: datetime,
        ttl: timedelta | None = timedelta(days=30),
    ) -> State:
        row = await self._row(user_id, chat_id)
        payload = self.cipher.encrypt(state.data) if state.data else None
        expires = now + ttl if ttl is not None else None
        if row is None:
            row = ConversationState(
                user_id=user_id,
                chat_id=chat_id,
                flow=state.flow,
                step=state.step,
                data=payload,
                version=1,
                updated_at=now,
                expires_at=expires,
            )
            self.session.add(row)
            self._rows[(user_id, chat_id)] = row
        else:
            row.flow, row.step, row.data = state.flow, state.step, payload
            row.version += 1
            row.updated_at, row.expires_at = now, expires
        await self.session.flush()
        return State(flow=row.flow, step=row.step, data=state.data, version=row.version)

    async def clear(self, user_id: int, chat_id: str | None = None) -> None:
        stmt = delete(ConversationState).where(ConversationState.user_id == user_id)
        if chat_id is not None:
            stmt = stmt.where(ConversationState.chat_id == chat_id)
        await self.session.execute(stmt)
        for key in [k for k in self._rows if k[0] == user_id]:
            del self._rows[key]  # in place: UserRepo shares this dict
