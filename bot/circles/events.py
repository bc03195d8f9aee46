"""A year's circles stored, each with an agenda event for its first meeting.

The events are ordinary agenda events (kind ``reflectiecirkel``), so they get the
agenda's invitations, RSVP and reminders: for the gangmakers and bestuurders of the
circle's organisations (``role:gangmaker,role:bestuurder,organisation:…``), hosted by
those organisations (so their people see ``/agenda deelnemers``). The date comes from
``content/circles.yaml`` (:mod:`bot.circles.rules`); verbinders move it with
``/agenda beheer``. Each event's UID is fixed by the year and the circle's number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.agenda.model import REFLECTIECIRKEL, EventData
from bot.broadcast.audience import Audience
from bot.circles.rules import FirstMeeting
from bot.people.vocab import BESTUURDER, GANGMAKER

if TYPE_CHECKING:
    from bot.storage.repositories.agenda import AgendaRepo
    from bot.storage.repositories.circles import CircleRepo

ROLES = frozenset({GANGMAKER, BESTUURDER})


def uid(year: int, n: int) -> str:
    return f"reflectiecirkel-{year}-{n}@alliantiepg.nl"


def circle_events(
    year: int,
    circles: Sequence[Sequence[str]],
    meeting: FirstMeeting,
    names: Mapping[str, str],
    now: datetime,
    zone: str,
) -> list[EventData]:
    """One event per circle (numbered from 1), a week apart (see the rules)."""
    days = meeting.days(year, len(circles), now, zone)
    events = []
    for n, (circle, day) in enumerate(zip(circles, days, strict=True), start=1):
        who = ", ".join(names.get(org, org) for org in circle)
        events.append(
            EventData(
                uid=uid(year, n),
                kind=REFLECTIECIRKEL,
                title=meeting.title.format(n=n, year=year, organisations=who),
                start=datetime.combine(day, meeting.start),
                end=datetime.combine(day, meeting.end),
                zone=zone,
                description=meeting.description.format(n=n, year=year, organisations=who),
                address=meeting.place or None,
                hosts=tuple(circle),
                audience=Audience(roles=ROLES, organisations=frozenset(circle)).text(),
            )
        )
    return events


async def save_year(
    circles_repo: CircleRepo,
    agenda: AgendaRepo,
    year: int,
    circles: Sequence[Sequence[str]],
    events: Sequence[EventData],
    now: datetime,
) -> bool:
    """Store the year's circles and their events; False (nothing stored) when the
    year has circles already."""
    if not await circles_repo.save(year, circles, now):
        return False
    for event in events:
        await agenda.save(event, now)
    return True
