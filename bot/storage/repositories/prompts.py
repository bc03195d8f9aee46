"""Meeting prompts (issue 16): answers to prompts, the hosts' checklists and theme polls.

The answers are personal data: their text is encrypted at rest (``payload``, JSON
``{"text": ...}``), they are in /mijngegevens (:meth:`PromptRepo.export`) and gone with
/vergeetmij (the foreign keys cascade). A poll's options are the themes people
brought in, so they are encrypted too (``payload``, a JSON list of strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast.audience import Audience
from bot.crypto import Cipher
from bot.people.vocab import GANGMAKER, LEERATELIERS
from bot.storage.models import (
    AgendaChecklistItem,
    AgendaEvent,
    AgendaPoll,
    AgendaPromptAnswer,
    AgendaRsvp,
    AgendaVote,
    User,
)
from bot.storage.repositories.announcements import matches, receives

INBRENG = "inbreng"  # what a gangmaker brings in before a meeting
MEENEMEN = "meenemen"  # what someone takes home after an event
PROMPTS = (INBRENG, MEENEMEN)


@dataclass(frozen=True, slots=True)
class PromptAnswer:
    """One answer to a prompt as the hosts and verbinders see it (personal data)."""

    user_id: int
    name: str | None  # the person's display name; None: none known
    text: str
    share: bool  # the person agreed that the group sees it
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Poll:
    """A vote on themes for a meeting; options are numbered from 1 in buttons."""

    id: int
    event_id: int
    options: tuple[str, ...]
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone a message about a meeting goes to, through the outbox."""

    user_id: int
    platform: str
    chat_id: str
    language: str | None


def _reachable() -> ColumnElement[bool]:
    """Has a private chat, did not say /stop, did not block the bot, and did not turn
    agenda messages off (``/agenda stil``)."""
    return and_(
        User.private_chat_id.is_not(None),
        User.messages_enabled.is_(True),
        User.active.is_(True),
        User.agenda_muted.is_(False),
    )


class PromptRepo:
    """Prompt answers, checklist points, polls and votes."""

    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    # -- answers -------------------------------------------------------------------

    def _text(self, payload: bytes) -> str:
        data = self.cipher.decrypt(payload)
        return str(data.get("text", "")) if isinstance(data, dict) else ""

    async def add_answer(
        self, event_id: int, user_id: int, prompt: str, text: str, share: bool, now: datetime
    ) -> None:
        """Keep one more answer (pressing the prompt's button again adds another)."""
        if prompt not in PROMPTS:
            raise ValueError(f"unknown prompt {prompt!r}")
        self.session.add(
            AgendaPromptAnswer(
                event_id=event_id,
                user_id=user_id,
                prompt=prompt,
                payload=self.cipher.encrypt({"text": text}),
                share=share,
                created_at=now,
                updated_at=now,
            )
        )
        await self.session.flush()

    async def answers(self, event_id: int, prompt: str) -> list[PromptAnswer]:
        """The answers to one prompt of one event, oldest first, with the names."""
        rows = await self.session.execute(
            select(AgendaPromptAnswer, User.display_name)
            .join(User, User.id == AgendaPromptAnswer.user_id)
            .where(AgendaPromptAnswer.event_id == event_id, AgendaPromptAnswer.prompt == prompt)
            .order_by(AgendaPromptAnswer.created_at, AgendaPromptAnswer.id)
        )
        return [
            PromptAnswer(
                user_id=row.user_id,
                name=name,
                text=self._text(row.payload),
                share=row.share,
                created_at=row.created_at,
            )
            for row, name in rows
        ]

    async def answered(self, event_id: int, prompt: str) -> set[int]:
        """The people who answered this prompt of this event (for a reminder to the rest)."""
        rows = await self.session.scalars(
            select(AgendaPromptAnswer.user_id)
            .where(AgendaPromptAnswer.event_id == event_id, AgendaPromptAnswer.prompt == prompt)
            .distinct()
        )
        return set(rows)

    # -- the hosts' checklist ------------------------------------------------------

    async def _items(self, event_id: int) -> dict[str, AgendaChecklistItem]:
        rows = await self.session.scalars(
            select(AgendaChecklistItem).where(AgendaChecklistItem.event_id == event_id)
        )
        return {row.item: row for row in rows}

    async def ensure_items(self, event_id: int, items: Sequence[str]) -> None:
        """Make sure every point of ``items`` has a row (not done) for the event."""
        have = await self._items(event_id)
        for item in items:
            if item in have:
                continue
            try:
                async with self.session.begin_nested():
                    self.session.add(AgendaChecklistItem(event_id=event_id, item=item))
            except IntegrityError:  # another worker added it a moment ago
                pass

    async def items(self, event_id: int) -> list[str]:
        """The event's checklist points, in the order they were added."""
        rows = await self.session.scalars(
            select(AgendaChecklistItem.item)
            .where(AgendaChecklistItem.event_id == event_id)
            .order_by(AgendaChecklistItem.id)
        )
        return list(rows)

    async def open_items(self, event_id: int, items: Sequence[str]) -> list[str]:
        """The points of ``items`` not done yet, in the given order."""
        have = await self._items(event_id)
        return [item for item in items if item not in have or have[item].done_at is None]

    async def mark_done(self, event_id: int, item: str, user_id: int, now: datetime) -> bool:
        """Mark a point done; False when it was done already."""
        row = (await self._items(event_id)).get(item)
        if row is None:
            try:
                async with self.session.begin_nested():
                    self.session.add(
                        AgendaChecklistItem(
                            event_id=event_id, item=item, done_by=user_id, done_at=now
                        )
                    )
                return True
            except IntegrityError:  # added meanwhile
                row = (await self._items(event_id)).get(item)
                if row is None:
                    raise
        if row.done_at is not None:
            return False
        row.done_at = now
        row.done_by = user_id
        await self.session.flush()
        return True

    # -- polls ---------------------------------------------------------------------

    def _poll(self, row: AgendaPoll) -> Poll:
        data = self.cipher.decrypt(row.payload)
        options = tuple(str(o) for o in data) if isinstance(data, list) else ()
        return Poll(
            id=row.id,
            event_id=row.event_id,
            options=options,
            created_by=row.created_by,
            created_at=row.created_at,
            closed_at=row.closed_at,
        )

    async def create_poll(
        self, event_id: int, options: list[str], by: int | None, now: datetime
    ) -> int:
        row = AgendaPoll(
            event_id=event_id,
            payload=self.cipher.encrypt(list(options)),
            created_by=by,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def poll(self, poll_id: int) -> Poll | None:
        row = await self.session.get(AgendaPoll, poll_id)
        return None if row is None else self._poll(row)

    async def polls(self, event_id: int) -> list[Poll]:
        """The event's polls, oldest first."""
        rows = await self.session.scalars(
            select(AgendaPoll).where(AgendaPoll.event_id == event_id).order_by(AgendaPoll.id)
        )
        return [self._poll(row) for row in rows]

    async def vote(self, poll_id: int, user_id: int, option: int, now: datetime) -> int | None:
        """Vote for ``option`` (1, 2, ...); a second vote changes the first. The option
        voted for before, or None."""
        mine = (
            await self.session.execute(
                select(AgendaVote).where(
                    AgendaVote.poll_id == poll_id, AgendaVote.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        if mine is None:
            try:
                async with self.session.begin_nested():
                    self.session.add(
                        AgendaVote(poll_id=poll_id, user_id=user_id, option=option, voted_at=now)
                    )
                return None
            except IntegrityError:  # the same person pressed twice at once
                mine = (
                    await self.session.execute(
                        select(AgendaVote).where(
                            AgendaVote.poll_id == poll_id, AgendaVote.user_id == user_id
                        )
                    )
                ).scalar_one()
        before = mine.option
        mine.option = option
        mine.voted_at = now
        await self.session.flush()
        return before

    async def my_vote(self, poll_id: int, user_id: int) -> int | None:
        return await self.session.scalar(
            select(AgendaVote.option).where(
                AgendaVote.poll_id == poll_id, AgendaVote.user_id == user_id
            )
        )

    async def results(self, poll_id: int) -> list[tuple[str, int]]:
        """Every option with its number of votes, in the poll's order."""
        poll = await self.poll(poll_id)
        if poll is None:
            return []
        rows = await self.session.execute(
            select(AgendaVote.option, func.count())
            .where(AgendaVote.poll_id == poll_id)
            .group_by(AgendaVote.option)
        )
        counts = {int(option): int(n) for option, n in rows}
        return [(text, counts.get(n, 0)) for n, text in enumerate(poll.options, start=1)]

    async def close_poll(self, poll_id: int, now: datetime) -> bool:
        """Close the poll (no more votes); False when it was closed already or is gone."""
        row = await self.session.get(AgendaPoll, poll_id)
        if row is None or row.closed_at is not None:
            return False
        row.closed_at = now
        await self.session.flush()
        return True

    async def latest_poll(self, event_ids: Sequence[int]) -> Poll | None:
        """The newest poll of these events; None when there is none."""
        if not event_ids:
            return None
        row = await self.session.scalar(
            select(AgendaPoll)
            .where(AgendaPoll.event_id.in_(list(event_ids)))
            .order_by(AgendaPoll.created_at.desc(), AgendaPoll.id.desc())
            .limit(1)
        )
        return None if row is None else self._poll(row)

    # -- who gets what -------------------------------------------------------------

    async def _people(self, condition: ColumnElement[bool]) -> list[Recipient]:
        rows = await self.session.execute(
            select(User.id, User.platform, User.private_chat_id, User.language)
            .where(_reachable(), condition)
            .order_by(User.id)
        )
        return [Recipient(uid, platform, str(chat), lang) for uid, platform, chat, lang in rows]

    async def report_recipients(
        self, event_id: int, audience: str, leeratelier: bool
    ) -> list[Recipient]:
        """Who gets an event's report link: who said yes and had a seat, and for a
        leeratelier also everyone in its audience who did not turn off the topic
        "leerateliers"."""
        came = exists().where(
            AgendaRsvp.event_id == event_id,
            AgendaRsvp.user_id == User.id,
            AgendaRsvp.answer == "yes",
            AgendaRsvp.waitlist_position.is_(None),
        )
        if not leeratelier:
            return await self._people(came)
        interested = and_(matches(Audience.stored(audience)), receives(LEERATELIERS))
        return await self._people(or_(came, interested))

    async def gangmakers(self, audience: str) -> list[Recipient]:
        """The gangmakers in an event's audience (who get a theme poll)."""
        gangmaker = Audience(roles=frozenset({GANGMAKER}))
        return await self._people(and_(matches(gangmaker), matches(Audience.stored(audience))))

    async def hosts(self, organisations: Sequence[str]) -> list[Recipient]:
        """The people of an event's host organisations (who get a poll's result)."""
        if not organisations:
            return []
        return await self._people(matches(Audience(organisations=frozenset(organisations))))

    # -- personal data -------------------------------------------------------------

    async def export(self, user_id: int) -> dict[str, Any]:
        """The person's answers and votes, for /mijngegevens."""
        rows = await self.session.execute(
            select(AgendaPromptAnswer, AgendaEvent.title, AgendaEvent.start_local)
            .join(AgendaEvent, AgendaEvent.id == AgendaPromptAnswer.event_id)
            .where(AgendaPromptAnswer.user_id == user_id)
            .order_by(AgendaPromptAnswer.created_at, AgendaPromptAnswer.id)
        )
        answers = [
            {
                "event": title,
                "event_start": start.isoformat(),
                "prompt": row.prompt,
                "text": self._text(row.payload),
                "share": row.share,
                "created_at": row.created_at.isoformat(),
            }
            for row, title, start in rows
        ]
        votes_rows = await self.session.execute(
            select(AgendaVote, AgendaPoll, AgendaEvent.title)
            .join(AgendaPoll, AgendaPoll.id == AgendaVote.poll_id)
            .join(AgendaEvent, AgendaEvent.id == AgendaPoll.event_id)
            .where(AgendaVote.user_id == user_id)
            .order_by(AgendaVote.voted_at, AgendaVote.id)
        )
        votes = []
        for vote, poll_row, title in votes_rows:
            options = self._poll(poll_row).options
            chosen = options[vote.option - 1] if 0 < vote.option <= len(options) else None
            votes.append(
                {
                    "event": title,
                    "option": chosen,
                    "voted_at": vote.voted_at.isoformat(),
                }
            )
        return {"answers": answers, "votes": votes}
