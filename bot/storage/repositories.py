"""Repositories: the only code that writes SQL for users, state, audit and dedupe.

All work on one :class:`AsyncSession`, so one incoming message is one
transaction: if its handler fails, nothing it did is kept and a redelivery of
the same platform update is handled again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher, DecryptionError
from bot.storage.models import (
    AuditLog,
    Checkin,
    ConversationState,
    OutboxMessage,
    ProcessedEvent,
    UnansweredQuestion,
    User,
)


def upsert(session: AsyncSession) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite alike)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


log = logging.getLogger(__name__)

# Writing last_seen_at on every message would make every message a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def find(self, platform: str, platform_user_id: str) -> User | None:
        result = await self.session.execute(
            select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
        )
        return result.scalar_one_or_none()

    async def get_or_create(
        self,
        *,
        platform: str,
        platform_user_id: str,
        now: datetime,
        language: str,
        display_name: str | None = None,
        private_chat_id: str | None = None,
        admin: bool = False,
    ) -> tuple[User, bool]:
        """The user for a platform identity, creating it on first contact."""
        user = await self.find(platform, platform_user_id)
        created = False
        if user is None:
            user = User(
                platform=platform,
                platform_user_id=platform_user_id,
                display_name=display_name,
                language=language,
                private_chat_id=private_chat_id,
                roles="",
                messages_enabled=True,
                active=True,
                created_at=now,
                last_seen_at=now,
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(user)
            except IntegrityError:  # another worker created it a moment ago
                found = await self.find(platform, platform_user_id)
                if found is None:  # it was deleted again in between: let the message retry
                    raise
                user = found
            else:
                created = True
        if not created:
            if now - user.last_seen_at >= LAST_SEEN_RESOLUTION:
                user.last_seen_at = now
            if display_name and user.display_name != display_name:
                user.display_name = display_name
            if private_chat_id and user.private_chat_id != private_chat_id:
                user.private_chat_id = private_chat_id
            if not user.active:  # they wrote to us, so the platform lets us reach them again
                user.active = True
                user.blocked_at = None
        roles = set(user.role_set)
        if admin and "verbinder" not in roles:
            roles.add("verbinder")
        elif not admin and "verbinder" in roles:
            roles.discard("verbinder")  # BOT_ADMINS is the source of truth for verbinders
        joined = ",".join(sorted(roles))
        if joined != user.roles:
            user.roles = joined
        return user, created

    async def mark_inactive(self, user_id: int, now: datetime) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(active=False, blocked_at=now)
        )


@dataclass(slots=True)
class State:
    """A conversation in progress."""

    flow: str
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 1


class StateRepo:
    """Conversation state per (user, chat), with its data encrypted."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        self._rows: dict[tuple[int, str], ConversationState | None] = {}

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
        self._rows = {k: v for k, v in self._rows.items() if k[0] != user_id}


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


class EventRepo:
    """Which platform updates have been handled (deduplication)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record the event; False if it was recorded before.

        One INSERT ... ON CONFLICT DO NOTHING RETURNING: no savepoint, no ORM
        flush (this runs for every platform update).
        """
        stmt = (
            upsert(self.session)(ProcessedEvent)
            .values(platform=platform, event_id=event_id, at=now)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(ProcessedEvent.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def prune(self, older_than: datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.at < older_than)
        )
        return int(getattr(result, "rowcount", 0) or 0)


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


@dataclass(slots=True)
class CheckinRecord:
    """A check-in as the person sees it: decrypted, never logged."""

    id: int
    taken_at: datetime
    mode: str
    scores: dict[str, float]  # dimension id -> 0..10
    answers: dict[str, int] = field(default_factory=dict)  # question id -> 0..10
    marked: list[str] = field(default_factory=list)  # "hier wil ik over praten"
    reflection: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "scores": self.scores,
            "answers": self.answers,
            "marked": self.marked,
            "reflection": self.reflection,
        }


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


class Repos:
    """The repositories of one unit of work."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.users = UserRepo(session)
        self.state = StateRepo(session, cipher)
        self.audit = AuditRepo(session)
        self.events = EventRepo(session)
        self.gaps = GapRepo(session)
        self.checkins = CheckinRepo(session, cipher)
        self.personal = PersonalDataRepo(session, cipher)
