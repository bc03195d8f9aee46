"""iCalendar (RFC 5545) for the agenda, written and read with the ``icalendar`` library.

Writing: one event or many become one VCALENDAR. Every VEVENT carries the event's
stable UID, DTSTAMP (when it was last changed), SEQUENCE, STATUS (CANCELLED for a
cancelled one, which calendars then remove), DTSTART/DTEND with the event's TZID, and
the calendar a VTIMEZONE for each zone used, so a calendar shows 19:30 local time on
both sides of a DST switch. The place goes in LOCATION (and an online link in URL),
the kind in CATEGORIES, the text in DESCRIPTION; hosts and audience in X- properties
that other calendars ignore and this module reads back.

Reading: a standard .ics from Outlook or Google imports as it is. An event's kind
comes from CATEGORIES, else from its title ("Leeratelier ..." is a leeratelier), else
it is "overig"; an event with no audience is public; times in UTC or with a TZID become
wall time in the bot's zone, floating ones are taken as wall time there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.agenda.model import (
    BESTUURDERS,
    CANCELLED,
    GANGMAKERS,
    KINDS,
    LEERATELIER,
    OVERIG,
    PUBLIC,
    REFLECTIECIRKEL,
    Event,
    EventData,
    wall_time,
)

if TYPE_CHECKING:
    import icalendar

PRODID = "-//Alliantie Positieve Gezondheid Zuid-Holland Noord//alliantiebot//NL"
X_KIND, X_HOSTS, X_AUDIENCE, X_CAPACITY, X_RSVP_BY = (
    "X-ALLIANTIE-KIND",
    "X-ALLIANTIE-HOSTS",
    "X-ALLIANTIE-AUDIENCE",
    "X-ALLIANTIE-CAPACITY",
    "X-ALLIANTIE-RSVP-BY",
)
# A word in a title or category (its start, case aside) and the kind it names.
KIND_WORDS = {
    "leeratelier": LEERATELIER,
    "gangmaker": GANGMAKERS,
    "bestuurder": BESTUURDERS,
    "reflectiecirkel": REFLECTIECIRKEL,
}


class CalendarError(ValueError):
    """A calendar file that cannot be read as events; the message says where."""


# Writing ---------------------------------------------------------------------------


def to_ical(events: Iterable[Event], *, name: str | None = None) -> bytes:
    """One VCALENDAR with every event in ``events`` (cancelled ones as CANCELLED)."""
    import icalendar  # at the first calendar, not at start (bot.app imports this module)

    chosen = list(events)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if name:
        calendar.add("x-wr-calname", name)
    for event in chosen:
        calendar.add_component(_vevent(event))
    if chosen:
        # VTIMEZONEs from a year before the first event to two after the last.
        first = min(e.start for e in chosen).date().replace(month=1, day=1)
        last = max(e.end for e in chosen).date().replace(month=1, day=1)
        calendar.add_missing_timezones(
            first_date=first.replace(year=first.year - 1),
            last_date=last.replace(year=last.year + 2),
        )
    return bytes(calendar.to_ical())


def _vevent(event: Event) -> icalendar.Event:
    import icalendar

    zone = ZoneInfo(event.zone)
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.updated_at.astimezone(UTC))
    vevent.add("created", event.created_at.astimezone(UTC))
    vevent.add("last-modified", event.updated_at.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("summary", event.title)
    vevent.add("dtstart", event.start.replace(tzinfo=zone))
    vevent.add("dtend", event.end.replace(tzinfo=zone))
    vevent.add("categories", [event.kind])
    if event.address or event.online_url:
        vevent.add("location", event.address or event.online_url)
    if event.online_url:
        vevent.add("url", event.online_url)
    if event.description:
        vevent.add("description", event.description)
    vevent.add(X_KIND, event.kind)
    vevent.add(X_AUDIENCE, event.audience)
    if event.hosts:
        vevent.add(X_HOSTS, ",".join(event.hosts))
    if event.capacity is not None:
        vevent.add(X_CAPACITY, str(event.capacity))
    if event.rsvp_deadline is not None:
        vevent.add(X_RSVP_BY, f"{event.rsvp_deadline.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    return vevent


# Reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadEvent:
    """One VEVENT read from a file: its data, and whether it says it is cancelled."""

    data: EventData
    cancelled: bool = False


def from_ical(raw: bytes | str, zone: str) -> list[ReadEvent]:
    """The events of an .ics file, times as wall time in ``zone``. Raises
    :class:`CalendarError` for a file that is not iCalendar or an event that cannot
    be taken as it is (no UID, no start, a repeating one)."""
    import icalendar

    try:
        calendars = icalendar.Calendar.from_ical(raw, multiple=True)
    except ValueError as exc:
        raise CalendarError(f"not an iCalendar file ({exc})") from None
    vevents = [c for calendar in calendars for c in calendar.walk("VEVENT")]
    return [_read(vevent, number, zone) for number, vevent in enumerate(vevents, start=1)]


def _read(vevent: Any, number: int, zone: str) -> ReadEvent:
    title = str(vevent.get("summary", "")).strip()
    where = f"event {number}" + (f" ({title})" if title else "")
    uid = str(vevent.get("uid", "")).strip()
    if not uid:
        raise CalendarError(f"{where}: has no UID, so it could not be updated later")
    if "rrule" in vevent or "rdate" in vevent:
        raise CalendarError(f"{where}: repeats (RRULE); export its dates one by one")
    if "recurrence-id" in vevent:
        raise CalendarError(f"{where}: is a changed date of a repeating event")
    start, end = _times(vevent, where, zone)
    location = str(vevent.get("location", "")).strip() or None
    url = str(vevent.get("url", "")).strip() or None
    if location and url is None and location.startswith(("http://", "https://")):
        location, url = None, location
    data = EventData(
        uid=uid,
        kind=_kind(vevent, title),
        title=title or "(zonder titel)",
        start=start,
        end=end,
        zone=zone,
        description=str(vevent.get("description", "")).strip(),
        address=location,
        online_url=url,
        hosts=tuple(h for h in str(vevent.get(X_HOSTS, "")).split(",") if h.strip()),
        audience=str(vevent.get(X_AUDIENCE, "")).strip() or PUBLIC,
        capacity=_capacity(vevent, where),
        rsvp_deadline=_deadline(vevent, where),
    )
    return ReadEvent(data, cancelled=str(vevent.get("status", "")).upper() == CANCELLED.upper())


def _times(vevent: Any, where: str, zone: str) -> tuple[datetime, datetime]:
    """Start and end as naive wall times in ``zone``."""
    import icalendar

    if "dtstart" not in vevent:
        raise CalendarError(f"{where}: has no DTSTART")
    try:
        start_value, end_value = vevent.start, vevent.end
    except (icalendar.InvalidCalendar, ValueError) as exc:
        raise CalendarError(f"{where}: its times cannot be read ({exc})") from None
    return _wall(start_value, zone), _wall(end_value, zone)


def _wall(value: date | datetime, zone: str) -> datetime:
    if not isinstance(value, datetime):  # a whole day: from its midnight
        return datetime.combine(value, time())
    if value.tzinfo is None:  # floating: the local time wherever one is
        return value
    return wall_time(value, zone)


def _capacity(vevent: Any, where: str) -> int | None:
    raw = str(vevent.get(X_CAPACITY, "")).strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise CalendarError(f"{where}: {X_CAPACITY} {raw!r} is not a number")
    return int(raw)


def _deadline(vevent: Any, where: str) -> datetime | None:
    raw = str(vevent.get(X_RSVP_BY, "")).strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise CalendarError(f"{where}: {X_RSVP_BY} {raw!r} is not a UTC time") from None


def kind_in(text: str) -> str | None:
    """The kind a category or title names ("Leeratelier 13: ..." → leeratelier)."""
    for word in text.casefold().replace(":", " ").replace("-", " ").split():
        if word in KINDS:
            return word
        found = next((k for w, k in KIND_WORDS.items() if word.startswith(w)), None)
        if found is not None:
            return found
    return None


def _kind(vevent: Any, title: str) -> str:
    explicit = str(vevent.get(X_KIND, "")).strip().casefold()
    if explicit in KINDS:
        return explicit
    for category in _categories(vevent):
        found = kind_in(category)
        if found is not None:
            return found
    return kind_in(title) or OVERIG


def _categories(vevent: Any) -> list[str]:
    value = vevent.get("categories")
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(c) for v in values for c in getattr(v, "cats", [v])]
