"""Answers to agenda events (RSVPs): yes, maybe or no, with a waitlist when full.

A yes takes a seat while the event has one (or has no capacity); otherwise it waits,
``waitlist_position`` set. When someone with a seat says maybe or no, the first on
the waitlist gets the seat. The event's row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's transactions take the write lock up front) before the seats are
counted, so two people at once cannot both get the last seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AgendaEvent, AgendaFeedToken, AgendaRsvp, User

YES, MAYBE, NO = "yes", "maybe", "no"
ANSWERS = (YES, MAYBE, NO)


@dataclass(frozen=True, slots=True)
class Answered:
    """What an answer did: the answer kept, the place on the waitlist (1 is next; None:
    not waiting) and the people promoted from the waitlist to a seat."""

    answer: str
    waiting: int | None = None
    promoted: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Rsvp:
    event_id: int
    answer: str
    waiting: int | None  # place on the waitlist, None: not waiting
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Attendee:
    """One answer to an event as its organisers see it (personal data)."""

    name: str | None  # the person's display name; None: none known
    answer: str
    waiting: int | None  # place on the waitlist (1 is next), None: not waiting
    answered_at: datetime


class RsvpRepo:
    """The RSVPs of the agenda's events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _mine(self, event_id: int, user_id: int) -> AgendaRsvp | None:
        return (
            await self.session.execute(
                select(AgendaRsvp).where(
                    AgendaRsvp.event_id == event_id, AgendaRsvp.user_id == user_id
                )
            )
        ).scalar_one_or_none()

    async def _waiting_before(self, event_id: int, position: int) -> int:
        """The place on the waitlist of the one at ``position`` (1 is next)."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(AgendaRsvp)
            .where(
                AgendaRsvp.event_id == event_id,
                AgendaRsvp.waitlist_position.is_not(None),
                AgendaRsvp.waitlist_position <= position,
            )
        )
        return int(count or 0)

    async def answer(self, event_id: int, user_id: int, answer: str, now: datetime) -> Answered:
        """Store the person's answer; a yes waits when the event is full, and a seat
        given up goes to the first on the waitlist."""
        if answer not in ANSWERS:
            raise ValueError(f"unknown answer {answer!r}")
        capacity = await self.session.scalar(
            select(AgendaEvent.capacity).where(AgendaEvent.id == event_id).with_for_update()
        )
        row = await self._mine(event_id, user_id)
        if row is None:
            row = AgendaRsvp(event_id=event_id, user_id=user_id, answer=NO, answered_at=now)
            self.session.add(row)
        had_seat = row.id is not None and row.answer == YES and row.waitlist_position is None
        if answer == YES and row.answer == YES:  # the same again: nothing changes
            waiting = row.waitlist_position
            place = None if waiting is None else await self._waiting_before(event_id, waiting)
            return Answered(YES, place)
        row.answer, row.answered_at, row.waitlist_position = answer, now, None
        if answer == YES and capacity is not None:
            await self.session.flush()
            if await self._seats_taken(event_id) > capacity:
                row.waitlist_position = await self._next_position(event_id)
                await self.session.flush()
                place = await self._waiting_before(event_id, row.waitlist_position)
                return Answered(YES, place)
        await self.session.flush()
        promoted = await self._promote(event_id, capacity) if had_seat else ()
        return Answered(answer, None, promoted)

    async def fill_seats(self, event_id: int) -> tuple[int, ...]:
        """Give seats that are free (the capacity was raised, or is gone) to the first on
        the waitlist, the event's row locked as for an answer; their user ids."""
        capacity = await self.session.scalar(
            select(AgendaEvent.capacity).where(AgendaEvent.id == event_id).with_for_update()
        )
        if capacity is None:  # no limit (any more): everyone waiting gets a seat
            capacity = await self._seats_taken(event_id) + await self._waiting(event_id)
        return await self._promote(event_id, capacity)

    async def _waiting(self, event_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(AgendaRsvp)
            .where(AgendaRsvp.event_id == event_id, AgendaRsvp.waitlist_position.is_not(None))
        )
        return int(count or 0)

    async def _seats_taken(self, event_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(AgendaRsvp)
            .where(
                AgendaRsvp.event_id == event_id,
                AgendaRsvp.answer == YES,
                AgendaRsvp.waitlist_position.is_(None),
            )
        )
        return int(count or 0)

    async def _next_position(self, event_id: int) -> int:
        last = await self.session.scalar(
            select(func.max(AgendaRsvp.waitlist_position)).where(AgendaRsvp.event_id == event_id)
        )
        return int(last or 0) + 1

    async def _promote(self, event_id: int, capacity: int | None) -> tuple[int, ...]:
        """Give free seats to the first on the waitlist; their user ids."""
        if capacity is None:
            return ()
        free = capacity - await self._seats_taken(event_id)
        if free <= 0:
            return ()
        rows = (
            await self.session.execute(
                select(AgendaRsvp)
                .where(AgendaRsvp.event_id == event_id, AgendaRsvp.waitlist_position.is_not(None))
                .order_by(AgendaRsvp.waitlist_position)
                .limit(free)
            )
        ).scalars()
        promoted = []
        for row in rows:
            row.waitlist_position = None
            promoted.append(row.user_id)
        await self.session.flush()
        return tuple(promoted)

    async def of(self, user_id: int) -> dict[int, Rsvp]:
        """The person's answers, by event id."""
        rows = (
            await self.session.execute(select(AgendaRsvp).where(AgendaRsvp.user_id == user_id))
        ).scalars()
        found = {}
        for row in list(rows):
            waiting = row.waitlist_position
            place = None if waiting is None else await self._waiting_before(row.event_id, waiting)
            found[row.event_id] = Rsvp(row.event_id, row.answer, place, row.answered_at)
        return found

    async def mute(self, event_id: int, user_id: int, muted: bool) -> bool:
        """Reminders for one event off (or on again); False when the person has not
        answered it (reminders only go to those who said yes or maybe)."""
        row = await self._mine(event_id, user_id)
        if row is None:
            return False
        row.muted = muted
        await self.session.flush()
        return True

    async def attendees(self, event_id: int) -> list[Attendee]:
        """Everyone's answer to one event, for its organisers: yes (seats first, then
        the waitlist in order), maybe, no; within each by when they answered."""
        rows = (
            await self.session.execute(
                select(AgendaRsvp, User.display_name)
                .join(User, User.id == AgendaRsvp.user_id)
                .where(AgendaRsvp.event_id == event_id)
            )
        ).all()
        waiting = sorted(
            (r.waitlist_position, r.id) for r, _ in rows if r.waitlist_position is not None
        )
        place = {row_id: n for n, (_, row_id) in enumerate(waiting, start=1)}
        found = [
            Attendee(name or None, row.answer, place.get(row.id), row.answered_at)
            for row, name in rows
        ]
        order = {YES: 0, MAYBE: 1, NO: 2}
        return sorted(
            found,
            key=lambda a: (order.get(a.answer, 3), a.waiting or 0, a.answered_at),
        )

    async def export(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """The person's answers and feed tokens (only when made and revoked): for
        /mijngegevens."""
        answers = (
            await self.session.execute(
                select(AgendaRsvp, AgendaEvent.uid, AgendaEvent.title)
                .join(AgendaEvent, AgendaEvent.id == AgendaRsvp.event_id)
                .where(AgendaRsvp.user_id == user_id)
                .order_by(AgendaRsvp.id)
            )
        ).all()
        tokens = (
            await self.session.execute(
                select(AgendaFeedToken)
                .where(AgendaFeedToken.user_id == user_id)
                .order_by(AgendaFeedToken.id)
            )
        ).scalars()
        return {
            "agenda_rsvps": [
                {
                    "event": uid,
                    "title": title,
                    "answer": row.answer,
                    "waitlist_position": row.waitlist_position,
                    "answered_at": row.answered_at.isoformat(),
                    "reminders_muted": row.muted,
                }
                for row, uid, title in answers
            ],
            "agenda_feed_tokens": [
                {
                    "created_at": t.created_at.isoformat(),
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in tokens
            ],
        }
