"""The verbinder's side of an announcement: the progress message, ``done``, the report.

An announcement with a ``report_to`` chat gets a progress message when it is released
(written by the engine), edited in place (``Reply.edit_of``) at most every
:data:`PROGRESS_EVERY` while it is sent; when none of its rows is open it is ``done``:
its counts are kept with it (``left_out``'s ``final``: finished outbox rows are pruned
after a month), linked groups that refused it for good are unlinked, and the report
goes out. Everything the verbinder gets goes through the outbox.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast.quiet import QuietHours
from bot.core.messages import Reply
from bot.core.texts import Texts
from bot.outbox.queue import Outbox, Outgoing
from bot.storage.models import Announcement, GroupLink, OutboxMessage, User
from bot.storage.repositories.announcements import (
    DONE,
    SENDING,
    AnnouncementRepo,
    is_blocked,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY = timedelta(seconds=10)
HELD = "held"  # the outbox status of a row waiting out the quiet hours
_OPEN_ROWS = ("pending", "sending", HELD)


@dataclass
class Reporter:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    texts: Texts
    default_language: str = "nl"
    quiet: QuietHours | None = None
    _progress_at: dict[int, datetime] = field(default_factory=dict, repr=False)

    async def follow(self, now: datetime) -> None:
        """Finish what is delivered; keep the verbinders' progress messages current."""
        async with self.sessions() as session:
            sending = (
                (await session.execute(select(Announcement).where(Announcement.status == SENDING)))
                .scalars()
                .all()
            )
            open_rows = (
                dict(
                    (
                        await session.execute(
                            select(OutboxMessage.announcement_id, func.count())
                            .where(
                                OutboxMessage.announcement_id.in_([a.id for a in sending]),
                                OutboxMessage.status.in_(_OPEN_ROWS),
                            )
                            .group_by(OutboxMessage.announcement_id)
                        )
                    ).all()
                )
                if sending
                else {}
            )
        for row in sending:
            if not open_rows.get(row.id):
                await self.finish(row.id, now)
            elif row.report_platform and row.report_chat_id:
                await self.progress(row, now)

    async def finish(self, announcement_id: int, now: datetime) -> bool:
        """Mark it done, keep its counts, mark groups that refused it, send the report."""
        async with self.sessions() as session, session.begin():
            repo = AnnouncementRepo(session)
            row = await session.get(Announcement, announcement_id)
            if row is None or row.status != SENDING:
                return False
            counts = await repo.counts(announcement_id)
            stored = json.loads(row.left_out) if row.left_out else {}
            left_out = sum(int(v) for k, v in stored.items() if k != "final")
            stored["final"] = asdict(counts)
            done = await session.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.status == SENDING)
                .values(status=DONE, finished_at=now, left_out=json.dumps(stored))
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 0) != 1:
                return False
            await self._unlink_refusing_groups(session, announcement_id)
            if row.report_platform and row.report_chat_id:
                report = await self.say(
                    session,
                    row.created_by,
                    "announce.report",
                    id=announcement_id,
                    left_out=left_out,
                    **asdict(counts),
                )
                reasons = await repo.failures(announcement_id)
                if reasons:
                    listed = ", ".join(f"{why} ({n})" for why, n in list(reasons.items())[:3])
                    report += "\n" + await self.say(
                        session, row.created_by, "announce.report_reasons", reasons=listed
                    )
                target = (row.report_platform, row.report_chat_id)
                await self.tell(session, target, f"ann:{announcement_id}:report", report)
        self._progress_at.pop(announcement_id, None)
        log.info("announcement %d: done (%d delivered)", announcement_id, counts.delivered)
        self.outbox.wake()
        return True

    async def _unlink_refusing_groups(self, session: AsyncSession, announcement_id: int) -> None:
        """A linked group that refused for good (the bot was removed) is no audience."""
        failed = await session.execute(
            select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.last_error).where(
                OutboxMessage.announcement_id == announcement_id,
                OutboxMessage.user_id.is_(None),
                OutboxMessage.status == "failed",
            )
        )
        gone = [(p, c) for p, c, error in failed.all() if is_blocked(error)]
        if gone:
            await session.execute(
                update(GroupLink)
                .where(tuple_(GroupLink.platform, GroupLink.chat_id).in_(gone))
                .values(active=False)
                .execution_options(synchronize_session=False)
            )

    async def progress(self, row: Announcement, now: datetime) -> bool:
        """Edit the progress message (when it is out, and not more often than
        :data:`PROGRESS_EVERY`)."""
        last = self._progress_at.get(row.id)
        if last is not None and now - last < PROGRESS_EVERY:
            return False
        self._progress_at[row.id] = now
        async with self.sessions() as session, session.begin():
            message_id = await session.scalar(
                select(OutboxMessage.platform_message_id).where(
                    OutboxMessage.key == f"ann:{row.id}:progress"
                )
            )
            if message_id is None:  # not out yet: nothing to edit
                return False
            counts = await AnnouncementRepo(session).counts(row.id)
            done = counts.delivered + counts.failed + counts.blocked
            if counts.held:
                until = self.quiet.ends_after(now) if self.quiet else now
                local = until.astimezone(self.quiet.zone if self.quiet else until.tzinfo)
                text = await self.say(
                    session,
                    row.created_by,
                    "announce.held",
                    id=row.id,
                    held=counts.held,
                    until=local.strftime("%H:%M"),
                )
            else:
                text = await self.say(
                    session,
                    row.created_by,
                    "announce.progress_count",
                    id=row.id,
                    done=done,
                    total=row.recipients,
                )
            key = f"ann:{row.id}:progress:{done}:{counts.held}"
            target = (str(row.report_platform), str(row.report_chat_id))
            await self.tell(session, target, key, text, edit_of=message_id)
        return True

    async def say(
        self, session: AsyncSession, user_id: int | None, key: str, **params: object
    ) -> str:
        language = self.default_language
        if user_id is not None:
            found = await session.scalar(select(User.language).where(User.id == user_id))
            language = found or language
        return self.texts.get(language, key, **params)

    async def tell(
        self,
        session: AsyncSession,
        target: tuple[str, str],
        key: str,
        text: str,
        edit_of: str | None = None,
    ) -> None:
        """A message to the verbinder's chat, through the outbox (in this transaction)."""
        platform, chat_id = target
        user_id = await session.scalar(
            select(User.id)
            .where(User.platform == platform, User.private_chat_id == chat_id)
            .limit(1)
        )
        await self.outbox.enqueue(
            [
                Outgoing(
                    key=key,
                    platform=platform,
                    chat_id=chat_id,
                    reply=Reply(text=text, edit_of=edit_of),
                    user_id=user_id,
                    kind="announcement_report",
                )
            ],
            session=session,
        )
