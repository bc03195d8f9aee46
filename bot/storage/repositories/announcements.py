"""Announcements: stored, previewed, listed, changed, cancelled, and their recipients.

An announcement's text is not health data and is kept in plain (for /berichten);
it never goes to the log. Recipients are read in batches by id, so an audience of
50,000 takes the memory of one batch. The counts of a sent announcement come from
its outbox rows; when it is done they are kept with it (``left_out``'s ``final``),
since the outbox's finished rows are pruned after a month.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast.audience import Audience
from bot.people import vocab
from bot.storage.models import Announcement, AuditLog, GroupLink, OutboxMessage, User

SCHEDULED, QUEUING, SENDING, DONE, CANCELLED = (
    "scheduled",
    "queuing",
    "sending",
    "done",
    "cancelled",
)
OPEN_STATUSES = (SCHEDULED, QUEUING, SENDING)
LEFT_OUT = ("stopped", "blocked", "unsubscribed")
# Outbox statuses of an announcement's rows (bot.outbox.queue), as the counts read them.
_SENT, _FAILED, _HELD, _WAITING = "sent", "failed", "held", ("pending", "sending")
# Delivery errors that mean the recipient blocked the bot or is gone (see telegram_send).
_BLOCKED_WORDS = ("forbidden", "blocked", "chat not found", "deactivated", "kicked")
BATCH = 1000


@dataclass(frozen=True)
class Attachment:
    kind: str  # "image" | "document" | "link"
    path: str | None = None
    name: str | None = None
    url: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_json(cls, raw: str | None) -> Attachment | None:
        if not raw:
            return None
        data = json.loads(raw)
        return cls(
            kind=data["kind"], path=data.get("path"), name=data.get("name"), url=data.get("url")
        )


@dataclass(frozen=True)
class Preview:
    per_platform: dict[str, int]  # who will get it (a linked group counts as one)
    left_out: dict[str, int]  # "stopped", "blocked", "unsubscribed" -> how many

    @property
    def total(self) -> int:
        return sum(self.per_platform.values())


@dataclass(frozen=True)
class Counts:
    delivered: int = 0
    failed: int = 0
    blocked: int = 0
    held: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.failed + self.blocked + self.held + self.pending


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    audience: str
    topic: str
    text: str
    attachment: Attachment | None
    urgent: bool
    status: str
    send_at: datetime
    created_at: datetime
    created_by: int | None
    recipients: int
    counts: Counts


@dataclass(frozen=True, slots=True)
class Recipient:
    """One chat to deliver to: a person's private chat, or a linked group (no user)."""

    platform: str
    chat_id: str
    language: str | None
    user_id: int | None = None


def _loose(column: SQLColumnExpression[Any]) -> ColumnElement[str]:
    """Lower case without spaces, hyphens, underscores: as Audience compares values."""
    for sign in (" ", "-", "_"):
        column = func.replace(column, sign, "")
    return func.lower(column)


def _plain(value: str) -> str:
    return "".join(c for c in value.casefold() if c not in " -_")


def _listed(column: SQLColumnExpression[str], code: str) -> ColumnElement[bool]:
    """A comma-separated column (``roles``, ``topics_off``) holds ``code``."""
    return (literal(",") + func.coalesce(column, "") + literal(",")).contains(f",{code},")


def matches(audience: Audience) -> ColumnElement[bool]:
    """The people an audience names, before anyone is left out (None: only groups)."""
    if not audience.people:
        return false()
    parts: list[ColumnElement[bool]] = []
    if audience.roles and vocab.INWONER not in audience.roles:  # everyone is an inwoner
        parts.append(or_(*(_listed(User.roles, r) for r in sorted(audience.roles))))
    if audience.gemeenten:
        parts.append(_loose(User.gemeente).in_(sorted(_plain(g) for g in audience.gemeenten)))
    if audience.organisations:
        wanted = sorted(_plain(o) for o in audience.organisations)
        parts.append(_loose(User.organisation).in_(wanted))
    if audience.topics:
        parts.append(or_(*(~_listed(User.topics_off, t) for t in sorted(audience.topics))))
    return and_(true(), *parts)


def _reason(topic: str) -> ColumnElement[str]:
    """Why a matching person is left out, or "" when they get it."""
    return case(
        (User.messages_enabled.is_(False), "stopped"),
        (User.active.is_(False), "blocked"),
        (_listed(User.topics_off, topic), "unsubscribed"),
        else_="",
    )


def receives(topic: str) -> ColumnElement[bool]:
    """Who takes messages of ``topic``: not stopped, not blocked, the topic not off."""
    return and_(
        User.messages_enabled.is_(True),
        User.active.is_(True),
        ~_listed(User.topics_off, topic),
    )


def is_blocked(error: str | None) -> bool:
    lowered = (error or "").lower()
    return any(word in lowered for word in _BLOCKED_WORDS)


class AnnouncementRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- for the composer and the CLI ----------------------------------------------------

    async def preview(self, audience: Audience, topic: str) -> Preview:
        """How many will get it per platform, and how many are left out and why."""
        per_platform: dict[str, int] = {}
        left_out = dict.fromkeys(LEFT_OUT, 0)
        reason = _reason(topic)
        rows = await self.session.execute(
            select(User.platform, reason, func.count())
            .where(matches(audience), User.private_chat_id.is_not(None))
            .group_by(User.platform, reason)
        )
        for platform, why, count in rows:
            if why:
                left_out[why] += int(count)
            else:
                per_platform[platform] = per_platform.get(platform, 0) + int(count)
        if audience.groups:
            groups = await self.session.execute(
                select(GroupLink.platform, func.count())
                .where(GroupLink.active.is_(True))
                .group_by(GroupLink.platform)
            )
            for platform, count in groups:
                per_platform[platform] = per_platform.get(platform, 0) + int(count)
        return Preview(per_platform, left_out)

    async def create(
        self,
        *,
        created_by: int | None,
        audience: Audience,
        topic: str,
        text: str,
        attachment: Attachment | None,
        urgent: bool,
        send_at: datetime,
        report_to: tuple[str, str] | None,
        now: datetime,
    ) -> int:
        """Store a scheduled announcement (``created_by`` None: from the CLI)."""
        row = Announcement(
            created_by=created_by,
            created_at=now,
            audience=audience.text(),
            topic=topic,
            urgent=urgent,
            text=text,
            attachment=attachment.to_json() if attachment else None,
            status=SCHEDULED,
            send_at=send_at,
            recipients=0,
            report_platform=report_to[0] if report_to else None,
            report_chat_id=report_to[1] if report_to else None,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add(
            AuditLog(at=now, actor_user_id=created_by, action="announcement", detail=f"{row.id}")
        )
        return row.id

    async def get(self, announcement_id: int) -> AnnouncementView | None:
        row = await self.session.get(Announcement, announcement_id)
        return None if row is None else await self._view(row)

    async def recent(self, limit: int = 10) -> list[AnnouncementView]:
        rows = await self.session.execute(
            select(Announcement).order_by(Announcement.id.desc()).limit(limit)
        )
        return [await self._view(row) for row in rows.scalars()]

    async def change(
        self, announcement_id: int, *, text: str | None = None, send_at: datetime | None = None
    ) -> bool:
        """Change the text or the time, only while it is still scheduled."""
        values: dict[str, Any] = {}
        if text is not None:
            values["text"] = text
        if send_at is not None:
            values["send_at"] = send_at
        if not values:
            return False
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.status == SCHEDULED)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def cancel(self, announcement_id: int, now: datetime) -> bool:
        """Scheduled: it will not go out. Queuing or sending: what is not sent yet is
        cancelled. Done or cancelled already: False."""
        result = await self.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.status.in_(OPEN_STATUSES))
            .values(status=CANCELLED, finished_at=now, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.announcement_id == announcement_id,
                OutboxMessage.status.in_(["pending", _HELD]),
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        self.session.add(
            AuditLog(at=now, action="announcement cancelled", detail=f"{announcement_id}")
        )
        return True

    async def unsubscribe(self, user_id: int, announcement_id: int) -> str | None:
        """Turn the announcement's topic off for this person; the topic, or None for an
        unknown announcement."""
        topic = await self.session.scalar(
            select(Announcement.topic).where(Announcement.id == announcement_id)
        )
        user = await self.session.get(User, user_id)
        if topic is None or user is None:
            return None
        user.topics_off = vocab.join(user.topics_off_set | {topic}, vocab.TOPICS)
        return topic

    # -- for the delivery engine ---------------------------------------------------------

    async def recipients(
        self, audience: Audience, topic: str, batch: int = BATCH
    ) -> AsyncIterator[list[Recipient]]:
        """The chats an announcement goes to, ``batch`` at a time: the people by id,
        then the linked groups."""
        for read in (self.people_batch, self.group_batch):
            after = 0
            while True:
                found, after = await read(audience, topic, after, batch)
                if found:
                    yield found
                if len(found) < batch:
                    break

    async def people_batch(
        self, audience: Audience, topic: str, after: int, batch: int = BATCH
    ) -> tuple[list[Recipient], int]:
        """Up to ``batch`` people who get it, with ids above ``after``; and the last id."""
        rows = (
            await self.session.execute(
                select(User.id, User.platform, User.private_chat_id, User.language)
                .where(
                    matches(audience),
                    receives(topic),
                    User.private_chat_id.is_not(None),
                    User.id > after,
                )
                .order_by(User.id)
                .limit(batch)
            )
        ).all()
        found = [Recipient(r[1], str(r[2]), r[3], r[0]) for r in rows]
        return found, (rows[-1][0] if rows else after)

    async def group_batch(
        self, audience: Audience, topic: str, after: int, batch: int = BATCH
    ) -> tuple[list[Recipient], int]:
        """Up to ``batch`` linked groups (when the audience has them) with ids above
        ``after``; and the last id."""
        if not audience.groups:
            return [], after
        rows = (
            await self.session.execute(
                select(GroupLink.id, GroupLink.platform, GroupLink.chat_id)
                .where(GroupLink.active.is_(True), GroupLink.id > after)
                .order_by(GroupLink.id)
                .limit(batch)
            )
        ).all()
        found = [Recipient(r[1], r[2], None) for r in rows]
        return found, (rows[-1][0] if rows else after)

    async def counts(self, announcement_id: int) -> Counts:
        """Delivered, failed, blocked (the platform said so), held (quiet hours),
        pending, from the announcement's outbox rows."""
        rows = await self.session.execute(
            select(OutboxMessage.status, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.announcement_id == announcement_id)
            .group_by(OutboxMessage.status, OutboxMessage.last_error)
        )
        tally = dict.fromkeys(("delivered", "failed", "blocked", "held", "pending"), 0)
        for status, error, count in rows:
            if status == _SENT:
                tally["delivered"] += count
            elif status == _FAILED:
                tally["blocked" if is_blocked(error) else "failed"] += count
            elif status == _HELD:
                tally["held"] += count
            elif status in _WAITING:
                tally["pending"] += count
        return Counts(**tally)

    async def open_attachments(self) -> set[Path]:
        """The files that announcements not yet sent still need (not to be cleaned)."""
        rows = await self.session.scalars(
            select(Announcement.attachment).where(
                Announcement.status.in_(OPEN_STATUSES), Announcement.attachment.is_not(None)
            )
        )
        found = (Attachment.from_json(raw) for raw in rows)
        return {Path(a.path) for a in found if a is not None and a.path}

    async def failures(self, announcement_id: int) -> dict[str, int]:
        """Failed deliveries (not blocked ones) by their error, most frequent first."""
        rows = await self.session.execute(
            select(OutboxMessage.last_error, func.count())
            .where(
                OutboxMessage.announcement_id == announcement_id,
                OutboxMessage.status == _FAILED,
            )
            .group_by(OutboxMessage.last_error)
        )
        found = {(e or "?"): int(n) for e, n in rows if not is_blocked(e)}
        return dict(sorted(found.items(), key=lambda item: -item[1]))

    async def _view(self, row: Announcement) -> AnnouncementView:
        stored = json.loads(row.left_out) if row.left_out else {}
        final = stored.get("final")
        counts = Counts(**final) if final else await self.counts(row.id)
        return AnnouncementView(
            id=row.id,
            audience=row.audience,
            topic=row.topic,
            text=row.text,
            attachment=Attachment.from_json(row.attachment),
            urgent=row.urgent,
            status=row.status,
            send_at=row.send_at,
            created_at=row.created_at,
            created_by=row.created_by,
            recipients=row.recipients,
            counts=counts,
        )
