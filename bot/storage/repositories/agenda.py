"""The agenda's events: add or update by UID, list, get, cancel.

An event's UID is its identity for its whole life (it is the iCalendar UID that
calendars know it by), so saving the same event twice changes nothing, and saving it
with other data updates the row in place: SEQUENCE goes up with every real change,
and the status becomes ``changed`` when its times or place do. Cancelling keeps the
row and the UID, with status ``cancelled`` and SEQUENCE raised, so calendars that
have it are told.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.agenda.model import CANCELLED, CHANGED, Event, EventData, Viewer, instant, sees
from bot.storage.models import AgendaEvent
from bot.storage.repositories.rsvp import RsvpRepo

Saved = Literal["added", "updated", "unchanged"]
# Wall times differ from UTC by at most this much in any zone: the margin with which
# rows are chosen by their wall time before their instants are compared.
_ZONE_MARGIN = timedelta(hours=15)
_DATA_FIELDS = tuple(f.name for f in fields(EventData))


def to_event(row: AgendaEvent) -> Event:
    """The event a row holds."""
    return Event(
        uid=row.uid,
        kind=row.kind,
        title=row.title,
        start=row.start_local,
        end=row.end_local,
        zone=row.zone,
        description=row.description,
        address=row.address,
        online_url=row.online_url,
        hosts=tuple(row.host_list),
        audience=row.audience,
        capacity=row.capacity,
        rsvp_deadline=row.rsvp_deadline,
        id=row.id,
        status=row.status,
        sequence=row.sequence,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _columns(data: EventData) -> dict[str, object]:
    """The row's columns for an event's data."""
    values = {name: getattr(data, name) for name in _DATA_FIELDS}
    values["start_local"] = values.pop("start")
    values["end_local"] = values.pop("end")
    values["hosts"] = ",".join(data.hosts)
    return values


class AgendaRepo:
    """The agenda's events (RSVPs and feed tokens have their tables already; their
    methods come with the chat's agenda)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rsvps = RsvpRepo(session)  # the answers to the events

    async def _row(self, uid: str) -> AgendaEvent | None:
        return (
            await self.session.execute(select(AgendaEvent).where(AgendaEvent.uid == uid))
        ).scalar_one_or_none()

    async def get(self, uid: str) -> Event | None:
        row = await self._row(uid)
        return None if row is None else to_event(row)

    async def by_id(self, event_id: int) -> Event | None:
        row = await self.session.get(AgendaEvent, event_id)
        return None if row is None else to_event(row)

    async def save(self, data: EventData, now: datetime) -> tuple[Event, Saved]:
        """Add the event, or update the one with its UID: (the event, what happened)."""
        row = await self._row(data.uid)
        if row is None:
            row = AgendaEvent(**_columns(data), sequence=0, created_at=now, updated_at=now)
            self.session.add(row)
            await self.session.flush()
            return to_event(row), "added"
        stored = to_event(row)
        if EventData(**{n: getattr(stored, n) for n in _DATA_FIELDS}) == data:
            return stored, "unchanged"
        moved = stored.when_and_where() != data.when_and_where()
        for name, value in _columns(data).items():
            setattr(row, name, value)
        row.sequence += 1
        if moved and row.status != CANCELLED:
            row.status = CHANGED
        row.updated_at = now
        await self.session.flush()
        return to_event(row), "updated"

    async def cancel(self, uid: str, now: datetime) -> Event | None:
        """Cancel the event (None: no such UID). Cancelling twice changes nothing."""
        row = await self._row(uid)
        if row is None:
            return None
        if row.status != CANCELLED:
            row.status, row.sequence, row.updated_at = CANCELLED, row.sequence + 1, now
            await self.session.flush()
        return to_event(row)

    async def upcoming(
        self,
        now: datetime,
        viewer: Viewer | None = None,
        *,
        include_cancelled: bool = False,
        limit: int | None = None,
    ) -> list[Event]:
        """Events not yet over, soonest first; for ``viewer``: only those whose audience
        includes them (public ones and those for their roles, gemeente, organisation)."""
        query = select(AgendaEvent).where(
            AgendaEvent.end_local >= (now - _ZONE_MARGIN).replace(tzinfo=None)
        )
        if not include_cancelled:
            query = query.where(AgendaEvent.status != CANCELLED)
        query = query.order_by(AgendaEvent.start_local, AgendaEvent.id)
        page = None if limit is None else max(limit * 3, 30)
        events: list[Event] = []
        offset = 0
        while True:
            chunk = query if page is None else query.offset(offset).limit(page)
            rows = list((await self.session.execute(chunk)).scalars())
            events += [
                to_event(row)
                for row in rows
                if instant(row.end_local, row.zone) > now
                and (viewer is None or sees(row.audience, viewer))
            ]
            if page is None or limit is None or len(rows) < page:
                break
            # Enough when ``limit`` events start before any row still unread could
            # (rows come by wall time; zones move an instant by at most the margin).
            events.sort(key=lambda event: (event.starts_at, event.uid))
            if len(events) >= limit:
                last_read, last_kept = rows[-1].start_local, events[limit - 1].start
                if last_read - last_kept > 2 * _ZONE_MARGIN:
                    break
            offset += page
        events.sort(key=lambda event: (event.starts_at, event.uid))
        return events if limit is None else events[:limit]

    async def all(self) -> list[Event]:
        """Every event, past and cancelled ones too, by start."""
        rows = (
            await self.session.execute(select(AgendaEvent).order_by(AgendaEvent.start_local))
        ).scalars()
        return sorted((to_event(row) for row in rows), key=lambda e: (e.starts_at, e.uid))

    async def same_start(self, data: EventData) -> list[Event]:
        """Other events (another UID, not cancelled) of the same kind at the same
        instant: most likely the same event entered twice."""
        margin = _ZONE_MARGIN
        rows = (
            await self.session.execute(
                select(AgendaEvent).where(
                    AgendaEvent.kind == data.kind,
                    AgendaEvent.uid != data.uid,
                    AgendaEvent.status != CANCELLED,
                    AgendaEvent.start_local.between(data.start - margin, data.start + margin),
                )
            )
        ).scalars()
        return [to_event(r) for r in rows if instant(r.start_local, r.zone) == data.starts_at]
