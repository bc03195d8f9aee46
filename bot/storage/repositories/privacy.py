"""Everything stored about one person: the export (/mijngegevens) and /vergeetmij."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher, DecryptionError
from bot.storage.models import AuditLog, Checkin, ConversationState, OutboxMessage, User
from bot.storage.repositories.checkins import CheckinRepo
from bot.storage.repositories.rsvp import RsvpRepo


class PersonalDataRepo:
    """Everything stored about one person: read for an export, deleted on request."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    async def export(self, user: User) -> dict[str, Any]:
        """All of it, decrypted, as plain JSON-ready data."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        checkins = await CheckinRepo(self.session, self.cipher).history(user.id)
        states = (
            await self.session.execute(
                select(ConversationState).where(ConversationState.user_id == user.id)
            )
        ).scalars()
        queued = (
            await self.session.execute(
                select(OutboxMessage).where(_messages_of(user)).order_by(OutboxMessage.id)
            )
        ).scalars()
        audit = (
            await self.session.execute(
                select(AuditLog).where(AuditLog.actor_user_id == user.id).order_by(AuditLog.id)
            )
        ).scalars()
        messages = []
        for row in queued:
            try:
                text = str(self.cipher.decrypt(row.payload).get("text", ""))
            except Exception:  # a row under a lost key: say so rather than fail the export
                text = "(cannot be decrypted)"
            messages.append(
                {
                    "kind": row.kind,
                    "status": row.status,
                    "created_at": when(row.created_at),
                    "sent_at": when(row.sent_at),
                    "text": text,
                }
            )
        return {
            "profile": {
                "platform": user.platform,
                "platform_user_id": user.platform_user_id,
                "private_chat_id": user.private_chat_id,
                "display_name": user.display_name,
                "language": user.language,
                "roles": sorted(user.role_set),
                "consent_at": when(user.consent_at),
                "consent_version": user.consent_version,
                "messages_enabled": user.messages_enabled,
                "active": user.active,
                "created_at": when(user.created_at),
                "last_seen_at": when(user.last_seen_at),
            },
            "checkins": [
                {
                    "taken_at": when(c.taken_at),
                    "mode": c.mode,
                    "scores": c.scores,
                    "answers": c.answers,
                    "talk_about": c.marked,
                    "reflection": c.reflection,
                }
                for c in checkins
            ],
            "conversations_in_progress": [
                {
                    "flow": s.flow,
                    "step": s.step,
                    "data": self._readable(s.data),
                    "updated_at": when(s.updated_at),
                }
                for s in states
            ],
            "messages_from_the_bot": messages,
            "actions": [{"at": when(a.at), "action": a.action} for a in audit],
            # agenda_rsvps, agenda_feed_tokens (both deleted with the user: ON DELETE CASCADE)
            **await RsvpRepo(self.session).export(user.id),
        }

    def _readable(self, payload: bytes | None) -> Any:
        """Decrypted data, or a note that no key can read it: an export never fails."""
        if not payload:
            return {}
        try:
            return self.cipher.decrypt(payload)
        except DecryptionError:
            return "(cannot be decrypted)"

    async def forget(self, user_id: int) -> None:
        """Delete the person and everything that points at them, for real."""
        user = await self.session.get(User, user_id)
        if user is not None:  # also the messages to their private chat without an id
            await self.session.execute(
                delete(OutboxMessage)
                .where(_messages_of(user))
                .execution_options(synchronize_session=False)
            )
        for model, column in (
            (OutboxMessage, OutboxMessage.user_id),
            (Checkin, Checkin.user_id),
            (ConversationState, ConversationState.user_id),
            (AuditLog, AuditLog.actor_user_id),
            (User, User.id),
        ):
            await self.session.execute(
                delete(model).where(column == user_id).execution_options(synchronize_session=False)
            )
        self.session.expunge_all()


def _messages_of(user: User) -> ColumnElement[bool]:
    """The outbox rows of a person: those that name them, and any sent to their
    private chat (the chat's id is theirs, even on a row made before they were known)."""
    chats = {c for c in (user.private_chat_id, user.platform_user_id) if c}
    return or_(
        OutboxMessage.user_id == user.id,
        and_(OutboxMessage.platform == user.platform, OutboxMessage.chat_id.in_(sorted(chats))),
    )
