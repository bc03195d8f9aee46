"""When an event is, as a verbinder types it in the chat: a date, a start time and,
if they like, an end on the same line.

``do 12 maart 19.30``, ``volgende week dinsdag 14:00``, ``12-3 19:30 tot 21:30``,
``vr 13 maart van 19.30 tot 21.30``, ``12-3 19.30-21.30``, ``12 maart 15u tot 13 maart
12u``. The date and the start are read by :mod:`bot.broadcast.when` (the composer's
reader: Dutch first, English too; ``dateparser`` was measured there and not taken);
this module adds what an event needs on top:

- **"19.30" is a time.** In the composer a bare ``13.03`` is a date; here the last
  ``HH.MM`` of the line is the start time, unless a time is written otherwise
  (``12.03 19:30``: then ``12.03`` stays the date).
- **A range**: ``19:30 tot 21:30``, ``19.30-21.30``, ``van 19.30 tot 21.30`` (``tot``,
  ``until``, ``to``, ``-``, ``–``), or an end with its own date after ``tot``.
  An end time alone is on the start's day.
- **Wall time.** The result is the naive wall time in the zone, as the events table
  keeps it (``bot.agenda.model``). A time that does not exist that day (the hour the
  clocks skip in spring, ``29 maart 2026 2:30``) is refused; a time that happens twice
  in autumn is the first (as :func:`bot.agenda.model.instant` reads it).
- **A time is needed**: a date alone is not an event (``NO_TIME``).
- **A date that does not exist** (``30 februari``) is said so (``NO_SUCH_DATE``, with
  the day, month and year), not "not understood".
- **An end before the start** that was typed as a time alone is read the way a
  person means it: an hour from 1 to 11 in the afternoon or evening when that is
  after the start (``19.30 tot 9`` ends at 21.00, ``14:00`` then ``half vijf`` at
  16.30), else the next day when the event then lasts at most 12 hours
  (``19:30 tot 01:00``). Otherwise it stays as typed and the shared check refuses it.
- **A length at the end**: ``2 uur later``, ``+2 uur``, ``90 minuten``,
  ``anderhalf uur``, ``2 hours``; a bare ``2 uur`` is the clock time when that (or
  its afternoon hour) is after the start, else a length (19.30 then ``2 uur`` is
  21.30).

Whether the start is in the past, or the end before the start, is checked where all
events are checked (``bot.agenda.files.event_issues``), so the chat and the files say
the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.agenda.model import BESTUURDERS, GANGMAKERS, LEERATELIER, OVERIG, REFLECTIECIRKEL
from bot.broadcast.when import (
    FILLER,
    NUMBER_WORDS,
    UNREADABLE,
    marked,
    no_such_date,
    normal,
    read_local,
    spoken,
    take_time,
)

NO_TIME, NO_SUCH_TIME, NO_SUCH_DATE = "no_time", "no_such_time", "no_such_date"
LONGEST_NIGHT = timedelta(hours=12)  # an end before the start is the next day's up to this
# How long an event of each kind lasts when no end is typed (the chat offers it).
DEFAULT_LENGTH = {
    LEERATELIER: timedelta(hours=2, minutes=30),
    GANGMAKERS: timedelta(hours=2),
    BESTUURDERS: timedelta(hours=2),
    REFLECTIECIRKEL: timedelta(hours=1, minutes=30),
    OVERIG: timedelta(hours=1),
}

_CLOCK = r"\d{1,2}(?:[:.]\d{2}\s*(?:uur|u|h|am|pm)?|\s*(?:uur|u|h)(?:\d{2})?|\s*(?:am|pm))"
_JOIN = r"\s*(?:-|–|—)\s*|\s+(?:tot|until|till|to|t/m)\s+"
# "19:30 tot 21:30", "19.30-21.30", "van 19.30 tot 21.30", "15u-17u"
_RANGE = re.compile(
    rf"(?:\b(?:van|from)\s+)?(?<![\d:.\-/])({_CLOCK})(?:{_JOIN})({_CLOCK})(?![\d:.\-/\w])"
)
# "... tot 13 maart 12:00": an end with words of its own
_UNTIL = re.compile(r"\s+(?:tot|until|till|t/m)\s+|\s+(?:-|–|—)\s+")
_DOTTED = re.compile(r"(?<![\d:.\-/])(\d{1,2})\.(\d{2})(?![\d:.\-/])")
# A length at the end: "2 uur later", "+2 uur", "90 minuten", "anderhalf uur".
_LENGTH = re.compile(
    r"(?P<plus>\+\s*|na\s+)?(?P<count>\d{1,3}(?:\.5)?|anderhalf|" + "|".join(NUMBER_WORDS) + r")"
    r"\s*(?P<unit>uur|uren|u|hours?|hrs?|h|minuten|minuut|min|minutes?)"
    r"(?:\s+(?P<later>later|lang|erna|erbij|long))?"
)
_OTHER_TIME = re.compile(
    r"(?<![\d:.\-/])\d{1,2}(?::\d{2}|\s*(?:uur|u|h)\b|u\d{2}\b|\s*(?:am|pm)\b)"
)


@dataclass(frozen=True)
class Span:
    """What was typed: the start and, when typed, the end (naive wall times in the
    zone); or the problem (``UNREADABLE``, ``WEEKDAY``, ``NO_TIME``, ``NO_SUCH_TIME``)
    with, for ``WEEKDAY``, the date typed and the weekday typed."""

    start: datetime | None
    end: datetime | None = None
    problem: str | None = None
    day: date | None = None
    weekday: int | None = None
    moment: datetime | None = None  # NO_SUCH_TIME: the wall time that does not exist
    typed: tuple[int, int, int] | None = None  # NO_SUCH_DATE: the day, month and year


def read_span(text: str, now: datetime, zone: str) -> Span:
    """A start (and maybe an end) typed by a verbinder; ``now`` is aware."""
    s = spoken(normal(text)).removeprefix("op ").strip()
    head, *tail = _UNTIL.split(s, maxsplit=1)
    length = bool(tail) and _LENGTH.fullmatch(tail[0]) is not None  # "19:30 tot 2 uur later"
    ranged = None if length else _RANGE.search(s)
    if ranged is not None:
        rest = (s[: ranged.start()] + " " + s[ranged.end() :]).strip()
        start = _read(f"{rest} {_colon(ranged.group(1))}", now, zone)
        if start.start is None:
            return start
        end = _read(_colon(ranged.group(2)), now, zone, after=start.start)
        return Span(start.start, end.start) if end.start is not None else end
    start = _read(head, now, zone)
    if start.start is None or not tail:
        return start
    end = read_end(tail[0], start.start, now, zone)
    return Span(start.start, end.start) if end.start is not None else end


def read_end(text: str, start: datetime, now: datetime, zone: str) -> Span:
    """The end, typed on its own: a time on the start's day (``21:30``, ``21.30``;
    before the start: see the module's rules), a length (``2 uur later``), or a date
    and a time; ``Span.start`` holds it."""
    s = spoken(normal(text)).removeprefix("tot ").removeprefix("until ").strip()
    length = _length(s, start)
    if length is not None:
        return Span(start + length) if _exists(start + length, zone) else _skipped(start + length)
    alone = _DOTTED.fullmatch(s)
    return _read(_colon(s) if alone else s, now, zone, after=start)


def _length(s: str, start: datetime) -> timedelta | None:
    """``s`` as a length (``2 uur later``); None when it is not one. A bare ``2 uur``
    is a clock time when that, or its afternoon hour, is after ``start``."""
    match = _LENGTH.fullmatch(s)
    if match is None:
        return None
    count, unit = match["count"], match["unit"]
    amount = 1.5 if count == "anderhalf" else NUMBER_WORDS.get(count) or float(count)
    minutes = unit.startswith("min")
    if not (match["plus"] or match["later"] or minutes or unit.startswith("h")):
        hour = int(amount) if amount == int(amount) else -1
        if 0 <= hour <= 23 and any(start.time() < t for t in _clock_hours(hour)):
            return None  # a clock time after the start: "tot 9 uur"
    length = timedelta(minutes=amount) if minutes else timedelta(hours=amount)
    return length if timedelta(0) < length <= timedelta(days=2) else None


def _clock_hours(hour: int) -> tuple[time, ...]:
    """The clock times "``hour`` uur" may be: as typed, and the afternoon's."""
    return (time(hour),) + ((time(hour + 12),) if 1 <= hour <= 11 else ())


def _skipped(wall: datetime) -> Span:
    return Span(None, problem=NO_SUCH_TIME, moment=wall)


def default_end(kind: str, start: datetime) -> datetime:
    """When an event of ``kind`` that starts at ``start`` ends if no end is typed."""
    return start + DEFAULT_LENGTH.get(kind, DEFAULT_LENGTH[OVERIG])


def _colon(clock: str) -> str:
    """``19.30`` → ``19:30``: a dotted time as the composer's reader knows it."""
    return _DOTTED.sub(r"\1:\2", clock.strip())


def _times_dotted(s: str) -> str:
    """The last ``HH.MM`` of the line as a time, unless a time is written otherwise
    there (then every ``HH.MM`` is a date, as in the composer)."""
    found = [m for m in _DOTTED.finditer(s) if int(m.group(1)) < 24 and int(m.group(2)) < 60]
    if not found or _OTHER_TIME.search(_DOTTED.sub(" ", s)):
        return s
    last = found[-1]
    return f"{s[: last.start()]}{last.group(1)}:{last.group(2)}{s[last.end() :]}"


def _read(s: str, now: datetime, zone: str, after: datetime | None = None) -> Span:
    """One moment; ``after``: the start, so a time alone is an end on its day (or the
    next, see :func:`_end_after`)."""
    s = " ".join(_times_dotted(s).split())
    local_now = now.astimezone(ZoneInfo(zone))
    if not s:
        return Span(None, problem=UNREADABLE)
    alone = after is not None and _only_a_time(s)
    if alone and after is not None:
        s = f"{after.date().isoformat()} {s}"
    when = read_local(s, local_now)
    if when.at is None:
        problem = when.problem or UNREADABLE
        typed = no_such_date(s, local_now) if problem == UNREADABLE else None
        if typed is not None:
            return Span(None, problem=NO_SUCH_DATE, typed=typed)
        return Span(None, problem=problem, day=when.day, weekday=when.weekday)
    if not when.timed:
        return Span(None, problem=NO_TIME)
    wall = when.at.replace(tzinfo=None)
    if alone and after is not None and wall <= after:
        wall = _end_after(wall, after, s)
    if not _exists(wall, zone):
        return _skipped(wall)
    return Span(wall)


def _end_after(end: datetime, start: datetime, s: str) -> datetime:
    """An end typed as a time alone that is not after the start: in the afternoon
    or evening when that is after it (no am or morning typed), else the next day
    when the event then lasts at most :data:`LONGEST_NIGHT`, else as typed."""
    said_morning = any(word in s for word in ("am", "ochtend", "morgen", "morning"))
    later = end + timedelta(hours=12)
    if 1 <= end.hour <= 11 and not said_morning and later > start:
        return later
    next_day = end + timedelta(days=1)
    return next_day if next_day - start <= LONGEST_NIGHT else end


def _only_a_time(s: str) -> bool:
    """Whether ``s`` is a clock time and nothing else (``21:30``, ``om 21u``)."""
    taken = take_time(marked(s))
    return (
        taken is not None
        and taken[0] is not None
        and all(word in FILLER or word.startswith("+part") for word in taken[1].split())
    )


def _exists(wall: datetime, zone: str) -> bool:
    """Whether ``wall`` is a time the clocks show that day (not skipped in spring)."""
    tz = ZoneInfo(zone)
    there_and_back = wall.replace(tzinfo=tz).astimezone(ZoneInfo("UTC")).astimezone(tz)
    return there_and_back.replace(tzinfo=None) == wall
