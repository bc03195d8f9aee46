"""A year's circles stored, each with an agenda event for its first meeting.

The events are ordinary agenda events (kind ``reflectiecirkel``), so they get the
agenda's invitations, RSVP and reminders: for the gangmakers and bestuurders of the
circle's organisations (``role:gangmaker,role:bestuurder,organisation:…``), hosted by
those organisations (so their people see ``/agenda deelnemers``). The date comes from
``content/circles.yaml`` (:mod:`bot.circles.rules`); verbinders move it with
``/agenda beheer``. Each event's UID is fixed by the year and the circle's number.

A circle's day that already has another agenda event (not cancelled) overlapping its
time, such as the gangmakers overleg on the same Tuesday afternoon, moves on to the
next free week, and the circles after it with it; :func:`moved` says which did. When
the meetings would not all fall in the year itself (a year whose day has passed, say
in December), :class:`CircleYearError` refuses: the circles are then for next year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.agenda.model import REFLECTIECIRKEL, Event, EventData, instant
from bot.broadcast.audience import Audience
from bot.circles.rules import FirstMeeting
from bot.people.vocab import BESTUURDER, GANGMAKER

if TYPE_CHECKING:
    from bot.storage.repositories.agenda import AgendaRepo
    from bot.storage.repositories.circles import CircleRepo

ROLES = frozenset({GANGMAKER, BESTUURDER})


class CircleYearError(ValueError):
    """The year's meetings do not all fall in the year: ``last`` is the last one."""

    def __init__(self, year: int, last: date) -> None:
        super().__init__(f"the circles of {year} would meet until {last.isoformat()}")
        self.year, self.last = year, last


def uid(year: int, n: int) -> str:
    return f"reflectiecirkel-{year}-{n}@alliantiepg.nl"


def _busy(
    year: int, meeting: FirstMeeting, zone: str, others: Iterable[EventData]
) -> Callable[[date], bool]:
    """Whether a day has another event (not cancelled, not one of the year's circles)
    overlapping the meeting's time."""
    own = f"reflectiecirkel-{year}-"
    taken = [
        (e.starts_at, e.ends_at)
        for e in others
        if not (isinstance(e, Event) and e.cancelled) and not e.uid.startswith(own)
    ]

    def busy(day: date) -> bool:
        begins = instant(datetime.combine(day, meeting.start), zone)
        ends = instant(datetime.combine(day, meeting.end), zone)
        return any(start < ends and begins < end for start, end in taken)

    return busy


def circle_events(
    year: int,
    circles: Sequence[Sequence[str]],
    meeting: FirstMeeting,
    names: Mapping[str, str],
    now: datetime,
    zone: str,
    others: Iterable[EventData] = (),
) -> list[EventData]:
    """One event per circle (numbered from 1), a week apart (see the rules), on days
    without another of ``others`` (the agenda's events) at that time; raises
    :class:`CircleYearError` when they would not all be in ``year``."""
    days = meeting.days(year, len(circles), now, zone, _busy(year, meeting, zone, others))
    if days and (days[0].year != year or days[-1].year != year):
        raise CircleYearError(year, days[-1])
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


def moved(
    year: int, meeting: FirstMeeting, now: datetime, zone: str, events: Sequence[EventData]
) -> list[tuple[int, date, date]]:
    """The circles (number, the day by the rules, the day given) that moved because
    another event was at that time, or a circle before them moved."""
    plain = meeting.days(year, len(events), now, zone)
    return [
        (n, was, event.start.date())
        for n, (was, event) in enumerate(zip(plain, events, strict=True), start=1)
        if event.start.date() != was
    ]


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
