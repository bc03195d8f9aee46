"""What an agenda event is: its kinds, its data, its times as wall time in a zone.

An event's start and end are kept as the wall-clock time people agreed on ("19:30")
plus the IANA zone it is in; the instant is computed from the two whenever it is
needed (:func:`instant`), so an event after a DST switch stays at 19:30 local time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.broadcast.audience import EVERYONE, Audience
from bot.people import vocab

LEERATELIER, GANGMAKERS, BESTUURDERS, REFLECTIECIRKEL, OVERIG = (
    "leeratelier",
    "gangmakers",
    "bestuurders",
    "reflectiecirkel",
    "overig",
)
KINDS = (LEERATELIER, GANGMAKERS, BESTUURDERS, REFLECTIECIRKEL, OVERIG)
PLANNED, CHANGED, CANCELLED = "planned", "changed", "cancelled"
STATUSES = (PLANNED, CHANGED, CANCELLED)
PUBLIC = EVERYONE  # the audience of an event for everyone


def instant(wall: datetime, zone: str) -> datetime:
    """The UTC instant of a naive wall time in ``zone`` (the earlier one when the
    wall time occurs twice, as zoneinfo's fold=0 does)."""
    return wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def wall_time(moment: datetime, zone: str) -> datetime:
    """The naive wall time in ``zone`` of an aware instant."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@dataclass(frozen=True)
class EventData:
    """An event as written in a file or typed: what a verbinder decides.

    ``start`` and ``end`` are naive wall times in ``zone``; ``rsvp_deadline`` is an
    aware instant; ``hosts`` organisation ids; ``audience`` an audience expression
    (``all``: public)."""

    uid: str
    kind: str
    title: str
    start: datetime
    end: datetime
    zone: str
    description: str = ""
    address: str | None = None
    online_url: str | None = None
    hosts: tuple[str, ...] = ()
    audience: str = PUBLIC
    capacity: int | None = None
    rsvp_deadline: datetime | None = None

    @property
    def starts_at(self) -> datetime:
        return instant(self.start, self.zone)

    @property
    def ends_at(self) -> datetime:
        return instant(self.end, self.zone)

    def when_and_where(self) -> tuple[object, ...]:
        """What a calendar must be told about when it changes: times and place."""
        return (self.start, self.end, self.zone, self.address, self.online_url)


@dataclass(frozen=True)
class Event(EventData):
    """An event as stored: its data plus the row's id, status and version."""

    id: int = 0
    status: str = PLANNED
    sequence: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


@dataclass(frozen=True)
class Viewer:
    """Who looks at the agenda: what an event's audience is matched against."""

    roles: frozenset[str] = frozenset()
    gemeente: str | None = None
    organisation: str | None = None
    all: bool = False  # every event, whoever it is for: a verbinder (they manage them)

    @classmethod
    def of(cls, roles: frozenset[str], gemeente: str | None, organisation: str | None) -> Viewer:
        """A person as a viewer: a verbinder sees every event (in /agenda, in the answer
        to a question and in their personal feed), anyone else the events for them."""
        return cls(roles, gemeente, organisation, all=vocab.VERBINDER in roles)


def _plain(value: str | None) -> str:
    """A value as audiences compare it: case, spaces, hyphens and underscores aside."""
    return "".join(c for c in (value or "").casefold() if c not in " -_")


def sees(audience: str, viewer: Viewer) -> bool:
    """Whether ``viewer`` is in an event's audience, as announcements choose people:
    ``all`` is everyone; roles, gemeenten and organisations each narrow it down (any
    value within one kind, every kind given). Everyone is an inwoner; a viewer with
    ``all`` (a verbinder) sees every event."""
    if viewer.all:
        return True
    chosen = Audience.stored(audience)
    if chosen.everyone:
        return True
    if not chosen.people:
        return False
    if chosen.roles and vocab.INWONER not in chosen.roles and not (chosen.roles & viewer.roles):
        return False
    if chosen.gemeenten and _plain(viewer.gemeente) not in {_plain(g) for g in chosen.gemeenten}:
        return False
    wanted = {_plain(o) for o in chosen.organisations}
    return not (chosen.organisations and _plain(viewer.organisation) not in wanted)
