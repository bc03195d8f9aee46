"""A year's dates of a series, proposed from its rules (:mod:`bot.agenda.series`).

:func:`plan` is a pure function: the same rules, year, agenda and moment give the same
proposal. Each of a rule's months gives one date, the ``week``-th ``weekday`` of the
month, at the rule's wall times in the zone (so 15:00 stays 15:00 on both sides of a
DST switch). A date is moved a week (later, or earlier when later leaves the month)
when it falls on a Dutch public holiday (``skip_holidays``) or on a day that already
has another event of the same kind; a date that is not in the future is left out.

Every date's UID is fixed by its kind, year and month (``leeratelier-2027-03@…``), so
saving a plan twice adds nothing the second time. A date whose UID is in the agenda
already is shown as it is stored and never saved over (what a verbinder changed there
stays changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Final, Literal

from bot.agenda.model import Event, EventData
from bot.agenda.rotation import HOSTS_PER_MEETING, Rotation, Volunteer
from bot.agenda.series import LAST, SeriesRule, Slot

UID_DOMAIN = "alliantiepg.nl"
Moved = Literal["holiday", "taken"]
Left = Literal["past", "no_day"]
HOLIDAY: Final = "holiday"
TAKEN: Final = "taken"
PAST: Final = "past"
NO_DAY: Final = "no_day"
WEEK = timedelta(days=7)
_DATA_FIELDS = tuple(f.name for f in fields(EventData))


@dataclass(frozen=True)
class Planned:
    """One proposed date: the event, the rule's own day, and why it moved (if it did).
    ``stored``: its UID is in the agenda already; ``data`` is then as stored."""

    data: EventData
    rule_day: date
    moved: Moved | None = None
    stored: bool = False
    theme: str = ""


@dataclass(frozen=True)
class Skipped:
    """A date of the rules that is not proposed, and why."""

    rule_day: date
    why: Left


@dataclass(frozen=True)
class Proposal:
    kind: str
    year: int
    items: tuple[Planned, ...]
    skipped: tuple[Skipped, ...] = ()
    rotation: bool = False  # hosts in turn (:func:`with_hosts`)

    @property
    def new(self) -> tuple[Planned, ...]:
        """The dates that saving would add (not those in the agenda already)."""
        return tuple(item for item in self.items if not item.stored)


def uid_for(kind: str, year: int, month: int) -> str:
    """The stable UID of a series' date in ``month`` of ``year``."""
    return f"{kind}-{year}-{month:02d}@{UID_DOMAIN}"


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The ``week``-th ``weekday`` (0 is Monday) of the month; ``LAST``: the last one."""
    if week == LAST:
        following = date(year + month // 12, month % 12 + 1, 1)
        last = following - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7) + (week - 1) * WEEK


def holidays(year: int) -> dict[date, str]:
    """The Dutch public holidays of ``year`` (the days most people are off): New Year,
    Good Friday, Easter, King's Day (the 26th when the 27th is a Sunday), Liberation
    Day, Ascension, Whitsun and Christmas. Names are codes, not text for people."""
    from dateutil.easter import easter  # only when planning: not at every start

    easter_day = easter(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:
        kings_day = date(year, 4, 26)
    return {
        date(year, 1, 1): "nieuwjaarsdag",
        easter_day - timedelta(days=2): "goede_vrijdag",
        easter_day: "eerste_paasdag",
        easter_day + timedelta(days=1): "tweede_paasdag",
        kings_day: "koningsdag",
        date(year, 5, 5): "bevrijdingsdag",
        easter_day + timedelta(days=39): "hemelvaartsdag",
        easter_day + timedelta(days=49): "eerste_pinksterdag",
        easter_day + timedelta(days=50): "tweede_pinksterdag",
        date(year, 12, 25): "eerste_kerstdag",
        date(year, 12, 26): "tweede_kerstdag",
    }


def as_data(event: EventData) -> EventData:
    """An event's data without what the store adds (id, status, sequence ...)."""
    return EventData(**{name: getattr(event, name) for name in _DATA_FIELDS})


def plan(
    rule: SeriesRule, year: int, *, zone: str, now: datetime, existing: Iterable[Event] = ()
) -> Proposal:
    """The proposal for ``year``; ``existing``: the agenda's events (any kind)."""
    stored = {event.uid: event for event in existing}
    taken = {
        event.start.date()
        for event in stored.values()
        if event.kind == rule.kind and not event.cancelled
    }
    off = holidays(year) if rule.skip_holidays else {}
    items: list[Planned] = []
    skipped: list[Skipped] = []
    for slot in rule.slots:
        rule_day = nth_weekday(year, slot.month, slot.weekday, slot.week)
        uid = uid_for(rule.kind, year, slot.month)
        if uid in stored:
            items.append(Planned(as_data(stored[uid]), rule_day, stored=True, theme=slot.theme))
            continue
        day, moved = _free_day(rule_day, lambda d: d in taken, off)
        if day is None:
            skipped.append(Skipped(rule_day, NO_DAY))
            continue
        data = _event(rule, slot, uid, day, zone, len(items) + 1, year)
        if data.starts_at <= now:
            skipped.append(Skipped(rule_day, PAST))
            continue
        items.append(Planned(data, rule_day, moved, theme=slot.theme))
    return Proposal(rule.kind, year, tuple(items), tuple(skipped))


def _free_day(
    day: date, is_taken: Callable[[date], bool], off: dict[date, str]
) -> tuple[date | None, Moved | None]:
    """``day``, or the nearest same weekday in its month (later first) that is no
    holiday and not taken; and why it moved."""
    why: Moved | None = None
    candidates = [day + n * WEEK for n in range(5)] + [day - n * WEEK for n in range(1, 5)]
    for candidate in candidates:
        if candidate.month != day.month:
            continue
        if candidate in off:
            why = why or HOLIDAY
            continue
        if is_taken(candidate):
            why = why or TAKEN
            continue
        return candidate, why
    return None, why


def _event(
    rule: SeriesRule, slot: Slot, uid: str, day: date, zone: str, n: int, year: int
) -> EventData:
    return EventData(
        uid=uid,
        kind=rule.kind,
        title=rule.title_for(n, year, slot.theme),
        start=datetime.combine(day, rule.start),
        end=datetime.combine(day, rule.end),
        zone=zone,
        description=rule.description,
        address=rule.address,
        online_url=rule.online_url,
        hosts=rule.hosts,
        audience=rule.audience,
        capacity=rule.capacity,
    )


def conflict(
    data: EventData, others: Iterable[EventData], now: datetime
) -> Literal["past", "taken"] | None:
    """Why ``data`` cannot be saved as it is: it starts in the past, or another event
    of its kind (another UID, not cancelled) is on the same day."""
    if data.starts_at <= now:
        return PAST
    for other in others:
        if isinstance(other, Event) and other.cancelled:
            continue
        if (
            other.uid != data.uid
            and other.kind == data.kind
            and other.start.date() == data.start.date()
        ):
            return TAKEN
    return None


def moved_to(data: EventData, day: date, start: datetime | None = None) -> EventData:
    """``data`` on ``day`` (at ``start``'s wall time, if given), as long as it was."""
    length = data.end - data.start
    begin = start if start is not None else datetime.combine(day, data.start.time())
    return replace(data, start=begin, end=begin + length)


# -- hosts in turn ----------------------------------------------------------------------


def host_history(kind: str, year: int, existing: Iterable[Event]) -> list[tuple[str, ...]]:
    """The hosts of the kind's stored events before ``year`` (not cancelled), oldest
    first: the rotation's history."""
    earlier = sorted(
        (e for e in existing if e.kind == kind and e.start.year < year and not e.cancelled),
        key=lambda e: e.start,
    )
    return [tuple(e.hosts) for e in earlier if e.hosts]


def with_hosts(
    proposal: Proposal,
    volunteers: Sequence[Volunteer],
    existing: Iterable[Event],
    seed: int,
) -> Proposal:
    """The proposal with two hosts a new date, in turn (:mod:`bot.agenda.rotation`),
    after the hosts of earlier years (last year's last) and of this year's dates that
    are stored already (which keep theirs)."""
    events = list(existing)
    history = host_history(proposal.kind, proposal.year, events)
    last_year = [
        tuple(e.hosts)
        for e in sorted(events, key=lambda e: e.start)
        if e.kind == proposal.kind and e.start.year == proposal.year - 1 and not e.cancelled
    ]
    rotation = Rotation(volunteers, history, seed, last_year)
    fixed = {n: item.data.hosts for n, item in enumerate(proposal.items) if item.stored}
    chosen = rotation.plan([item.data.start.month for item in proposal.items], fixed)
    items = [
        item if item.stored else replace(item, data=replace(item.data, hosts=hosts))
        for item, hosts in zip(proposal.items, chosen, strict=True)
    ]
    return replace(proposal, items=tuple(items), rotation=True)


def alone(proposal: Proposal) -> list[Planned]:
    """The dates with fewer than two hosts (nobody else can in its month)."""
    return [item for item in proposal.items if len(item.data.hosts) < HOSTS_PER_MEETING]
