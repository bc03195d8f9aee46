"""Delivering announcements: release, quiet hours, progress and the report.

The engine runs inside the outbox sender's loop (:attr:`OutboxSender.before_claim`),
so the process that sends also releases; the CLI and the chat only write rows.
Each round, before the sender claims a batch:

1. **Quiet hours.** When they begin, the unsent rows of non-urgent announcements
   become ``held`` (not open, so they hold up no one's other messages); when they
   end, held rows are ``pending`` again (or cancelled for someone who stopped or
   blocked the bot meanwhile). Non-urgent announcements are not released at night.
2. **Release.** A due announcement (``scheduled``, ``send_at`` passed) is claimed
   by one worker with a conditional update under a lease (``queuing``); its
   recipients are written to the outbox in batches, each batch in one transaction
   with the lease renewed, with the idempotent key ``ann:<id>:<platform>:<chat>``.
   A worker killed half-way leaves the lease to run out; the next one writes the
   batches again and the keys make the rows written already a no-op. Then
   ``sending``.
3. **Follow** (:mod:`bot.broadcast.report`). A ``sending`` announcement whose rows
   are all finished is ``done``: its counts are kept with it and the verbinder gets
   the report. Meanwhile the progress message is edited in place (``Reply.edit_of``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast.audience import Audience
from bot.broadcast.quiet import QuietHours
from bot.broadcast.render import announcement_reply
from bot.broadcast.report import HELD, Reporter
from bot.core.clock import Clock
from bot.core.messages import Reply
from bot.core.texts import Texts
from bot.outbox.queue import Outbox, Outgoing
from bot.storage.models import Announcement, OutboxMessage, User
from bot.storage.repositories.announcements import (
    QUEUING,
    SCHEDULED,
    SENDING,
    AnnouncementRepo,
    Attachment,
    Recipient,
)

if TYPE_CHECKING:
    from bot.core.context import Services

log = logging.getLogger(__name__)

KIND, KIND_URGENT = "announcement", "announcement_urgent"
QUIET_REASON = "quiet hours"


@dataclass(frozen=True)
class _Release:
    """What the engine needs of one announcement to write its rows."""

    id: int
    audience: Audience
    topic: str
    text: str
    attachment: Attachment | None
    urgent: bool
    report_to: tuple[str, str] | None
    created_by: int | None


@dataclass
class BroadcastEngine:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    texts: Texts
    clock: Clock
    default_language: str = "nl"
    quiet: QuietHours | None = None
    lease: timedelta = timedelta(minutes=2)
    batch: int = 1000
    interval: float = 1.0  # seconds between looks at the announcements table
    _looked: float = field(default=float("-inf"), repr=False)
    _was_quiet: bool | None = field(default=None, repr=False)
    reporter: Reporter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.reporter = Reporter(
            self.sessions, self.outbox, self.texts, self.default_language, self.quiet
        )

    async def tick(self) -> None:
        """One round: quiet hours, release, follow. At most every ``interval``
        seconds, but at once when the quiet hours begin or end."""
        now = self.clock.now()
        quiet = self.is_quiet(now)
        turned = quiet != self._was_quiet
        if not turned and time.monotonic() - self._looked < self.interval:
            return
        self._was_quiet, self._looked = quiet, time.monotonic()
        if quiet:
            await self.hold(now)
        else:
            await self.resume(now)
        while await self.release_one(now, quiet):
            pass
        await self.reporter.follow(now)

    def is_quiet(self, now: datetime) -> bool:
        return self.quiet is not None and self.quiet.contains(now)

    # -- quiet hours ---------------------------------------------------------------------

    async def hold(self, now: datetime) -> int:
        """Unsent rows of non-urgent announcements wait (status ``held``)."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.kind == KIND,
                    or_(
                        OutboxMessage.status == "pending",
                        and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
                    ),
                )
                .values(status=HELD, last_error=QUIET_REASON, claim_token=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
        held = int(getattr(result, "rowcount", 0) or 0)
        if held:
            log.info("quiet hours: %d announcement messages held until morning", held)
        return held

    async def resume(self, now: datetime) -> int:
        """Held rows go out again; not to someone who stopped or blocked the bot since."""
        gone = select(User.id).where(or_(User.messages_enabled.is_(False), User.active.is_(False)))
        async with self.sessions() as session, session.begin():
            # Mostly there are none: one index probe, not the people scan below, each round.
            waiting = await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.status == HELD).limit(1)
            )
            if waiting is None:
                return 0
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == HELD, OutboxMessage.user_id.in_(gone))
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == HELD)
                .values(status="pending", next_attempt_at=now, last_error=None)
                .execution_options(synchronize_session=False)
            )
        resumed = int(getattr(result, "rowcount", 0) or 0)
        if resumed:
            log.info("quiet hours over: %d announcement messages go out", resumed)
        return resumed

    # -- release -------------------------------------------------------------------------

    def _releasable(self, now: datetime, quiet: bool) -> ColumnElement[bool]:
        due = and_(Announcement.status == SCHEDULED, Announcement.send_at <= now)
        stale = and_(Announcement.status == QUEUING, Announcement.lease_until < now)
        either = or_(due, stale)
        return and_(either, Announcement.urgent.is_(True)) if quiet else either

    async def release_one(self, now: datetime, quiet: bool = False) -> bool:
        """Claim one due announcement and write its rows; False when none is due."""
        condition = self._releasable(now, quiet)
        lease_until = now + self.lease
        async with self.sessions() as session, session.begin():
            found = await session.scalar(
                select(Announcement.id)
                .where(condition)
                .order_by(Announcement.send_at, Announcement.id)
                .limit(1)
            )
            if found is None:
                return False
            claimed = await session.execute(
                update(Announcement)
                .where(Announcement.id == found, condition)
                .values(status=QUEUING, lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return True  # another worker took it a moment ago: look again
            row = await session.get(Announcement, found)
            assert row is not None
            release = _Release(
                id=row.id,
                audience=Audience.stored(row.audience),
                topic=row.topic,
                text=row.text,
                attachment=Attachment.from_json(row.attachment),
                urgent=row.urgent,
                report_to=(row.report_platform, row.report_chat_id)
                if row.report_platform and row.report_chat_id
                else None,
                created_by=row.created_by,
            )
        await self._write_rows(release, lease_until, now)
        return True

    async def _write_rows(self, release: _Release, lease_until: datetime, now: datetime) -> None:
        async with self.sessions() as session:
            preview = await AnnouncementRepo(session).preview(release.audience, release.topic)
        replies: dict[tuple[str, bool], Reply] = {}
        for people in (True, False):
            after = 0
            while True:
                renewed = await self._write_batch(release, people, after, lease_until, replies)
                if renewed is None:
                    log.info("announcement %d: stopped while queuing", release.id)
                    return
                lease_until, after, count = renewed
                if count < self.batch:
                    break
        async with self.sessions() as session, session.begin():
            total = await session.scalar(
                select(func.count()).where(OutboxMessage.announcement_id == release.id)
            )
            done = await session.execute(
                update(Announcement)
                .where(*self._mine(release.id, lease_until))
                .values(
                    status=SENDING,
                    queued_at=now,
                    lease_until=None,
                    recipients=int(total or 0),
                    left_out=json.dumps(preview.left_out),
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 0) == 1 and release.report_to is not None:
                text = await self.reporter.say(
                    session,
                    release.created_by,
                    "announce.progress",
                    id=release.id,
                    total=int(total or 0),
                )
                await self.reporter.tell(
                    session, release.report_to, f"ann:{release.id}:progress", text
                )
        log.info("announcement %d: %d recipients queued", release.id, int(total or 0))
        self.outbox.wake()

    @staticmethod
    def _mine(announcement_id: int, lease_until: datetime) -> Sequence[ColumnElement[bool]]:
        return (
            Announcement.id == announcement_id,
            Announcement.status == QUEUING,
            Announcement.lease_until == lease_until,
        )

    async def _write_batch(
        self,
        release: _Release,
        people: bool,
        after: int,
        lease_until: datetime,
        replies: dict[tuple[str, bool], Reply],
    ) -> tuple[datetime, int, int] | None:
        """One batch of rows with the lease renewed, in one transaction; None when the
        announcement is no longer ours (cancelled, or taken over after our lease)."""
        renewed = self.clock.now() + self.lease
        async with self.sessions() as session, session.begin():
            kept = await session.execute(
                update(Announcement)
                .where(*self._mine(release.id, lease_until))
                .values(lease_until=renewed)
                .execution_options(synchronize_session=False)
            )
            if getattr(kept, "rowcount", 0) != 1:
                return None
            repo = AnnouncementRepo(session)
            read = repo.people_batch if people else repo.group_batch
            found, last = await read(release.audience, release.topic, after, self.batch)
            items = [self._outgoing(release, r, replies) for r in found]
            await self.outbox.enqueue(items, session=session)
        return renewed, last, len(found)

    def _outgoing(
        self, release: _Release, to: Recipient, replies: dict[tuple[str, bool], Reply]
    ) -> Outgoing:
        language = to.language if to.language in self.texts.languages else self.default_language
        private = to.user_id is not None
        reply = replies.get((language, private))
        if reply is None:
            reply = replies[(language, private)] = announcement_reply(
                self.texts,
                language,
                release.id,
                release.text,
                release.attachment,
                release.topic,
                unsubscribe=private,
            )
        return Outgoing(
            key=f"ann:{release.id}:{to.platform}:{to.chat_id}",
            platform=to.platform,
            chat_id=to.chat_id,
            reply=reply,
            user_id=to.user_id,
            kind=KIND_URGENT if release.urgent else KIND,
            announcement_id=release.id,
        )


def engine_for(services: Services, batch: int = 1000) -> BroadcastEngine:
    """The engine over a running app's services and settings."""
    settings = services.settings
    return BroadcastEngine(
        sessions=services.sessions,
        outbox=services.outbox,
        texts=services.texts,
        clock=services.clock,
        default_language=settings.default_language,
        quiet=QuietHours.parse(settings.quiet_hours, settings.zone),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        batch=batch,
        interval=settings.outbox_poll_interval,
    )
