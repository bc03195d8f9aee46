"""Host offers (``agenda_host_offers``): an organisation asked to host a meeting, and
its answer (``asked``, ``declined``; ``swapped``: swapped out in ``/agenda plan``), and
who to tell: the people of an organisation and the verbinders. Used by
:mod:`handlers.agenda_hosts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AgendaHostOffer, User

ASKED, DECLINED = "asked", "declined"
SWAPPED = "swapped"  # taken out by a verbinder before saving: never asked, not next in line


@dataclass(frozen=True, slots=True)
class HostOffer:
    id: int
    event_id: int
    organisation: str
    status: str
    asked_at: datetime
    answered_at: datetime | None = None


def _offer(row: AgendaHostOffer) -> HostOffer:
    return HostOffer(
        row.id, row.event_id, row.organisation, row.status, row.asked_at, row.answered_at
    )


class HostOfferRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ask(
        self, event_id: int, organisation: str, now: datetime, status: str = ASKED
    ) -> HostOffer | None:
        """A new offer (``status`` asked, or swapped); None when the organisation has
        one for this meeting already (it is not asked twice)."""
        found = await self.session.execute(
            select(AgendaHostOffer).where(
                AgendaHostOffer.event_id == event_id,
                AgendaHostOffer.organisation == organisation,
            )
        )
        if found.scalar_one_or_none() is not None:
            return None
        row = AgendaHostOffer(
            event_id=event_id, organisation=organisation, status=status, asked_at=now
        )
        self.session.add(row)
        await self.session.flush()
        return _offer(row)

    async def get(self, offer_id: int) -> HostOffer | None:
        row = await self.session.get(AgendaHostOffer, offer_id)
        return None if row is None else _offer(row)

    async def of_event(self, event_id: int) -> list[HostOffer]:
        """Every offer for a meeting, the oldest first."""
        rows = await self.session.execute(
            select(AgendaHostOffer)
            .where(AgendaHostOffer.event_id == event_id)
            .order_by(AgendaHostOffer.id)
        )
        return [_offer(row) for row in rows.scalars()]

    async def decline(self, offer_id: int, user_id: int, now: datetime) -> bool:
        """Mark an asked offer declined; False when it was not asked (any more): a
        second press, or another person of the organisation was first."""
        done = await self.session.execute(
            update(AgendaHostOffer)
            .where(AgendaHostOffer.id == offer_id, AgendaHostOffer.status == ASKED)
            .values(status=DECLINED, answered_at=now, answered_by=user_id)
        )
        return bool(getattr(done, "rowcount", 0))

    async def members(self, organisation: str) -> list[User]:
        """The people of an organisation who can be written to, by id."""
        rows = await self.session.execute(
            select(User).where(User.organisation == organisation).order_by(User.id)
        )
        return [u for u in rows.scalars() if _reachable(u)]

    async def verbinders(self) -> list[User]:
        """The verbinders who can be written to, by id."""
        rows = await self.session.execute(
            select(User).where(User.roles.contains("verbinder")).order_by(User.id)
        )
        return [u for u in rows.scalars() if "verbinder" in u.role_set and _reachable(u)]


def _reachable(user: User) -> bool:
    return bool(user.private_chat_id) and user.active and user.messages_enabled
