"""When an announcement goes out, as a verbinder types it: Dutch first, English too.

``nu``, ``morgen 9:00``, ``13 maart 10u``, ``vrijdag 10:00``, ``vr 13 maart 10u``,
``13-03 10:00``, ``over 2 uur``, ``2026-03-13 10:00``, ``tomorrow 9am``,
``fri 13 march 10:00``, ``in 2 hours``: read in the bot's time zone (``TIMEZONE``),
returned in UTC.

Rules where a person leaves something out:

- a date without a time is at 09:00;
- a time without a date is the next such moment (today, or tomorrow when it has
  passed); a weekday without a date is the coming one (today when the time is still
  ahead);
- a day and month without a year are this year, or next year when that date lies
  more than 30 days back ("3 januari" typed in December); a date less far back is
  in the past, and said so;
- ``volgende week dinsdag`` (``next week tuesday``) is the Tuesday of next week
  (Monday to Sunday), ``deze week vrijdag`` the Friday of this one;
- a weekday that does not fit the date ("do 13 maart" when it is a Friday) is not
  guessed: the problem is ``WEEKDAY``, with the date and the weekday typed, so the
  reply can name the real weekday ("13 maart 2027 is een zaterdag");
- spoken times are read as a Dutch person says them: ``half acht`` is 7:30,
  ``kwart over acht`` 8:15, ``kwart voor acht`` 7:45, ``twee uur`` 2:00 (the numbers
  one to twelve as words); on their own these are the morning's hours (a 24-hour
  clock reads them so). ``'s avonds`` / ``'s middags`` (``vanavond``,
  ``vanmiddag``, ``tonight``, ``in the evening``) put an hour from 1 to 11 in the
  afternoon or evening (``half acht 's avonds`` is 19:30, ``8 uur 's avonds`` 20:00);
  ``'s ochtends`` / ``'s morgens`` keep it in the morning and refuse an hour after 12;
- ``over 3 weken op dinsdag`` / ``dinsdag over twee weken`` is the Tuesday of the week
  three (two) weeks from now; ``over 3 weken`` with a time but without a weekday is
  that many weeks from today;
- a day of the month without a month, written as an ordinal (``zaterdag de 16e``,
  ``16th``), is the coming 16th (or the one after when only that one fits the
  weekday typed);
- a year may be written short with an apostrophe (``3 feb. '27``).

``dateparser`` was measured for this and not taken: it read "vr 13 maart 10u" as
the year 2110, "9 uur" as nine hours from now and "maandag 9u" as last Monday at
midnight (see docs/announcements.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import partial

PAST, UNREADABLE, WEEKDAY = "past", "unreadable", "weekday"
DEFAULT_TIME = time(9, 0)
NEXT_YEAR_AFTER = timedelta(days=30)  # a date further back than this is next year's
GRACE = timedelta(minutes=1)  # "10:00" typed at 10:00:30 is now, not the past

NOW_WORDS = frozenset({"nu", "now", "direct", "meteen", "immediately", "asap"})
DAY_WORDS = {
    "vandaag": 0,
    "today": 0,
    "vanavond": 0,
    "vanmiddag": 0,
    "vanochtend": 0,
    "vanmorgen": 0,
    "tonight": 0,
    "morgen": 1,
    "tomorrow": 1,
    "overmorgen": 2,
    "gisteren": -1,  # understood, so that it is said to be in the past
    "yesterday": -1,
    "eergisteren": -2,
}
WEEKDAYS = {
    **dict.fromkeys(("maandag", "ma", "monday", "mon"), 0),
    **dict.fromkeys(("dinsdag", "di", "tuesday", "tue", "tues"), 1),
    **dict.fromkeys(("woensdag", "wo", "wednesday", "wed"), 2),
    **dict.fromkeys(("donderdag", "do", "thursday", "thu", "thur", "thurs"), 3),
    **dict.fromkeys(("vrijdag", "vr", "vrij", "friday", "fri"), 4),
    **dict.fromkeys(("zaterdag", "za", "saturday", "sat"), 5),
    **dict.fromkeys(("zondag", "zo", "sunday", "sun"), 6),
}
MONTHS = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "february", "feb"), 2),
    **dict.fromkeys(("maart", "march", "mrt", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("augustus", "august", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("december", "dec"), 12),
}
UNITS = {
    **dict.fromkeys(("min", "mins", "minuut", "minuten", "minute", "minutes", "m"), "minutes"),
    **dict.fromkeys(("u", "uur", "uren", "hour", "hours", "h"), "hours"),
    **dict.fromkeys(("dag", "dagen", "day", "days", "d"), "days"),
    **dict.fromkeys(("week", "weken", "weeks", "w"), "weeks"),
}
# The numbers one to twelve as words (hours, counts), Dutch and English.
NUMBER_WORDS = {
    **dict.fromkeys(("een", "één", "one"), 1),
    **dict.fromkeys(("twee", "two"), 2),
    **dict.fromkeys(("drie", "three"), 3),
    **dict.fromkeys(("vier", "four"), 4),
    **dict.fromkeys(("vijf", "five"), 5),
    **dict.fromkeys(("zes", "six"), 6),
    **dict.fromkeys(("zeven", "seven"), 7),
    **dict.fromkeys(("acht", "eight"), 8),
    **dict.fromkeys(("negen", "nine"), 9),
    **dict.fromkeys(("tien", "ten"), 10),
    **dict.fromkeys(("elf", "eleven"), 11),
    **dict.fromkeys(("twaalf", "twelve"), 12),
}
COUNT_WORDS = {**NUMBER_WORDS, "a": 1, "an": 1}
# The part of the day typed: an hour from 1 to 11 is after noon in the afternoon and
# the evening; the morning refuses an hour after 12.
MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
PART_WORDS = {
    "vanavond": EVENING,
    "tonight": EVENING,
    "vanmiddag": AFTERNOON,
    "vanochtend": MORNING,
    "vanmorgen": MORNING,
}
_PART = re.compile(
    r"(?:'s|s)\s+(avonds|middags|ochtends|morgens)\b|\bin\s+the\s+(evening|afternoon|morning)\b"
    r"|\bin\s+de\s+(avond|middag|ochtend|morgen)\b"
)
_PART_OF = {
    **dict.fromkeys(("avonds", "evening", "avond"), EVENING),
    **dict.fromkeys(("middags", "afternoon", "middag"), AFTERNOON),
    **dict.fromkeys(("ochtends", "morgens", "morning", "ochtend", "morgen"), MORNING),
}
_PART_MARK = "+part"
_HOUR_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_SPOKEN = (
    # "half acht", "half 8": 7:30; "kwart over acht" 8:15, "kwart voor acht" 7:45
    (re.compile(rf"\bhalf\s+({_HOUR_WORD}|\d{{1,2}})\b(?!\s*[:.]\d)"), "half"),
    (re.compile(rf"\bkwart\s+over\s+({_HOUR_WORD}|\d{{1,2}})\b(?!\s*[:.]\d)"), "past"),
    (re.compile(rf"\bkwart\s+voor\s+({_HOUR_WORD}|\d{{1,2}})\b(?!\s*[:.]\d)"), "to"),
    # "twee uur", "two pm", "acht uur 's avonds"
    (re.compile(rf"\b({_HOUR_WORD})\s*(uur|u|am|pm|o'clock)\b"), "word"),
)
# "over 3 weken", "over twee weken", "in 2 weeks": the week that many weeks ahead.
_WEEKS_AHEAD = re.compile(rf"\b(?:over|in)\s+(\d{{1,2}}|{_HOUR_WORD})\s+(?:weken|week|weeks)\b")
_AHEAD_MARK = "+ahead"
_SHORT_YEAR = re.compile(r"'(\d{2})")
FILLER = frozenset({"om", "at", "op", "on", "de", "the", "van", "of", "volgende", "komende"})
FILLER |= {"aanstaande", "next", "this", "deze", "a.s.", "as"}

# "volgende week", "next week" (1), "deze week", "this week" (0): the week of a weekday.
_WEEK = re.compile(r"\b(?:(volgende|komende|next)|deze|this)\s+week\b")
_WEEK_MARK = "+week"
_RELATIVE = re.compile(r"(?:over|in)\s+(\d+|[a-z]+)\s*([a-z]+)")
_TIMES = (
    # 10:00, 10:00u, 10:00 am; 10.00u (a bare 13.03 is a date); 10u, 10u30, 10 uur, 10h;
    # 10am, 3 pm
    re.compile(r"(?<![\d:.\-/])(\d{1,2}):(\d{2})\s*(?:uur|u|h)?\s*(am|pm)?(?![\d:.\-/])"),
    re.compile(r"(?<![\d:.\-/])(\d{1,2})\.(\d{2})\s*(?:uur|u|h)()(?![\w])"),
    re.compile(r"(?<![\d:.\-/])(\d{1,2})\s*(?:uur|u|h)(\d{2})?(?![\w])()"),
    re.compile(r"(?<![\d:.\-/])(\d{1,2})()\s*(am|pm)(?![\w])"),
)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2}|\d{4}))?")
_ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th|e|ste|de)?")


@dataclass(frozen=True)
class When:
    at: datetime | None  # UTC
    problem: str | None = None  # "past" | "unreadable" | "weekday"
    day: date | None = None  # "weekday": the date typed, which is another weekday
    weekday: int | None = None  # "weekday": the weekday typed (0 is Monday)
    timed: bool = True  # a clock time was typed (read_local; else DEFAULT_TIME)


class _WrongWeekday(ValueError):
    """The date typed falls on another weekday than the one typed."""

    def __init__(self, day: date, weekday: int) -> None:
        super().__init__(f"{day} is no weekday {weekday}")
        self.day, self.weekday = day, weekday


@dataclass
class _Parts:
    """What the words said; None where they said nothing."""

    day: int | None = None
    month: int | None = None
    year: int | None = None
    weekday: int | None = None
    offset: int | None = None  # days from today
    week: int | None = None  # weeks from this one ("volgende week dinsdag")
    ahead: bool = False  # the week was "over 3 weken": without a weekday, 3 weeks on
    clock: time | None = None
    part: str | None = None  # MORNING, AFTERNOON, EVENING: "'s avonds"
    ordinal: bool = False  # the day was written "16e" / "16th"


def parse_when(text: str, now: datetime, zone: tzinfo) -> When:
    """A moment typed by a person, read in ``zone``; ``now`` is timezone-aware."""
    s = normal(text)
    if s in NOW_WORDS:
        return When(now.astimezone(UTC))
    relative = _relative(s)
    if relative is not None:
        return When((now + relative).astimezone(UTC)) if relative else When(None, UNREADABLE)
    local = read_local(s, now.astimezone(zone))
    if local.at is None:
        return local
    at = local.at.astimezone(UTC)
    if at < now - GRACE:
        return When(None, PAST)
    return When(max(at, now.astimezone(UTC)))


def normal(text: str) -> str:
    """Text as the readers here take it: lower case, commas as spaces, single spaces,
    one kind of apostrophe."""
    for quote in "’‘`´":
        text = text.replace(quote, "'")
    return " ".join(text.casefold().replace(",", " ").split())


def spoken(s: str) -> str:
    """Spoken times as digits (``s`` as :func:`normal` gives it): ``half acht`` →
    ``7:30``, ``kwart over acht`` → ``8:15``, ``twee uur`` → ``2 uur``."""
    for pattern, how in _SPOKEN:
        s = pattern.sub(partial(_spoken_time, how=how), s)
    return s


def _spoken_time(match: re.Match[str], *, how: str) -> str:
    word = match.group(1)
    hour = int(word) if word.isdigit() else NUMBER_WORDS[word]
    if how == "word":
        unit = "uur" if match.group(2) == "o'clock" else match.group(2)
        return f"{hour} {unit}"
    if not 1 <= hour <= 12:
        return match.group(0)
    if how == "past":
        return f"{hour}:15"
    before = 12 if hour == 1 else hour - 1
    return f"{before}:{30 if how == 'half' else 45}"


def no_such_date(s: str, now: datetime) -> tuple[int, int, int] | None:
    """A date typed that does not exist (``30 februari``, ``29-2-2027``): its day,
    month and year (the year it would be in); None when that is not the problem."""
    parts = _read(s)
    if parts is None or parts.day is None or parts.month is None or parts.offset is not None:
        return None
    if not 1 <= parts.month <= 12 or parts.day < 1:
        return None
    year = parts.year or now.year
    if parts.year is None and date(year, parts.month, 1) < now.date() - NEXT_YEAR_AFTER:
        year += 1  # as a date that exists would be: "30 februari" typed in December
    try:
        date(year, parts.month, parts.day)
    except ValueError:
        return parts.day, parts.month, year
    return None


def read_local(s: str, now: datetime) -> When:
    """A date and time typed (``s`` as :func:`normal` gives it) as a moment in
    ``now``'s zone (``at`` aware, in that zone), by the rules above; not checked
    against the clock. ``timed``: whether a clock time was typed."""
    parts = _read(s)
    if parts is None:
        return When(None, UNREADABLE)
    try:
        local = _moment(parts, now)
    except _WrongWeekday as wrong:
        return When(None, WEEKDAY, wrong.day, wrong.weekday)
    if local is None:
        return When(None, UNREADABLE)
    return When(local, timed=parts.clock is not None)


def _with_part(clock: time, part: str | None) -> time | None:
    """The clock time in the part of the day typed; None when they do not fit."""
    if part in (AFTERNOON, EVENING) and 1 <= clock.hour <= 11:
        return clock.replace(hour=clock.hour + 12)
    if part == MORNING and clock.hour > 12:
        return None
    return clock


def _relative(s: str) -> timedelta | None:
    """``over 2 uur`` / ``in 10 minutes``: the delta; timedelta(0) when it starts so
    but is not understood; None when it is no relative time at all."""
    match = _RELATIVE.fullmatch(s)
    if match is None:
        return None
    raw, unit = match.groups()
    count = int(raw) if raw.isdigit() else COUNT_WORDS.get(raw)
    name = UNITS.get(unit)
    if count is None or name is None or count <= 0:
        return timedelta(0)
    return timedelta(**{name: count})


def take_time(s: str) -> tuple[time | None, str] | None:
    """The clock time in ``s`` and the rest; None for an impossible time (25:00)."""
    for pattern in _TIMES:
        match = pattern.search(s)
        if match is None:
            continue
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        half = match.group(3)
        if half:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if half == "pm" else 0)
        if hour > 23 or minute > 59:
            return None
        return time(hour, minute), s[: match.start()] + " " + s[match.end() :]
    return None, s


def marked(s: str) -> str:
    """``s`` with its spoken times as digits and its parts of the day and weeks
    ahead as marks the word reader knows."""
    s = _PART.sub(lambda m: f" {_PART_MARK}{_PART_OF[m.group(m.lastindex or 0)]} ", spoken(s))
    s = _WEEKS_AHEAD.sub(lambda m: f" {_AHEAD_MARK}{_count(m.group(1))} ", s)
    return _SHORT_YEAR.sub(r"20\1", s)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _read(s: str) -> _Parts | None:
    """Every word as a part of a date; None when a word is not understood."""
    taken = take_time(marked(s))
    if taken is None:
        return None
    clock, rest = taken
    rest = _WEEK.sub(lambda m: f" {_WEEK_MARK}{1 if m.group(1) else 0} ", rest)
    parts = _Parts(clock=clock)
    for token in rest.split():
        if token not in FILLER and not _token(token, parts):
            return None
    if parts.clock is not None:
        parts.clock = _with_part(parts.clock, parts.part)
        if parts.clock is None:
            return None
    return parts


def _token(token: str, parts: _Parts) -> bool:
    """Put one word into ``parts``; False when it means nothing here."""
    if token.startswith("+"):
        return _mark(token, parts)
    if token in DAY_WORDS:
        parts.offset = DAY_WORDS[token]
        parts.part = PART_WORDS.get(token, parts.part)
    elif token.rstrip(".") in WEEKDAYS:
        parts.weekday = WEEKDAYS[token.rstrip(".")]
    elif token.rstrip(".") in MONTHS:
        parts.month = MONTHS[token.rstrip(".")]
    elif match := _ISO.fullmatch(token):
        parts.year, parts.month, parts.day = (int(g) for g in match.groups())
    elif match := _NUMERIC.fullmatch(token):
        parts.day, parts.month = int(match.group(1)), int(match.group(2))
        if match.group(3):
            parts.year = _full_year(int(match.group(3)))
    elif token.isdigit() and len(token) == 4:
        parts.year = int(token)
    elif match := _ORDINAL.fullmatch(token):
        parts.day, parts.ordinal = int(match.group(1)), not token.isdigit()
    else:
        return False
    return True


def _mark(token: str, parts: _Parts) -> bool:
    """A mark :func:`marked` made: a week, weeks ahead, a part of the day."""
    if token.startswith(_WEEK_MARK):
        parts.week = int(token.removeprefix(_WEEK_MARK))
    elif token.startswith(_AHEAD_MARK):
        parts.week, parts.ahead = int(token.removeprefix(_AHEAD_MARK)), True
    elif token.startswith(_PART_MARK):
        parts.part = token.removeprefix(_PART_MARK)
    else:
        return False
    return True


def _full_year(year: int) -> int:
    return year + 2000 if year < 100 else year


def _moment(parts: _Parts, now: datetime) -> datetime | None:
    """The local moment the parts name, or None when they do not fit together."""
    today = now.date()
    clock = parts.clock
    ahead = clock is not None and datetime.combine(today, clock, now.tzinfo) >= now - GRACE
    day: date | None
    if parts.week is not None:
        day = _in_week(parts, parts.week, today)
    elif parts.day is not None and parts.month is None and parts.ordinal:
        day = _day_of_month(parts.day, parts.weekday, today)
    elif parts.day is not None or parts.month is not None:
        day = _calendar_date(parts, today)
    elif parts.offset is not None:
        day = today + timedelta(days=parts.offset)
    elif parts.weekday is not None:
        day = today + timedelta(days=(parts.weekday - today.weekday()) % 7)
        if day == today and clock is not None and not ahead:
            day = today + timedelta(days=7)
    elif clock is not None:
        day = today if ahead else today + timedelta(days=1)
    else:
        return None
    if day is None:
        return None
    if parts.weekday is not None and day.weekday() != parts.weekday:
        raise _WrongWeekday(day, parts.weekday)
    return datetime.combine(day, clock or DEFAULT_TIME, tzinfo=now.tzinfo)


def _in_week(parts: _Parts, week: int, today: date) -> date | None:
    """The day of "volgende week dinsdag", "over 3 weken (op dinsdag)"."""
    if parts.day is not None or parts.offset is not None:
        return None  # "volgende week" with a date: which day?
    if parts.weekday is None:
        # "volgende week" alone: which day of it? "over 3 weken": three weeks on
        return today + timedelta(days=7 * week) if parts.ahead else None
    return today + timedelta(days=7 * week + parts.weekday - today.weekday())


def _day_of_month(day: int, weekday: int | None, today: date) -> date | None:
    """The coming ``day`` of a month (today's counts); of the next two, the one on
    ``weekday`` when only that one is."""
    found: list[date] = []
    year, month = today.year, today.month
    while len(found) < 2 and (year, month) < (today.year + 1, today.month + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            found.append(candidate)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not found:
        return None
    fits = [d for d in found if weekday is None or d.weekday() == weekday]
    return fits[0] if fits else found[0]


def _calendar_date(parts: _Parts, today: date) -> date | None:
    if parts.day is None or parts.month is None or parts.offset is not None:
        return None
    try:
        found = date(parts.year or today.year, parts.month, parts.day)
        if parts.year is None and found < today - NEXT_YEAR_AFTER:
            found = found.replace(year=today.year + 1)
    except ValueError:  # 31 februari, or 29 februari next year
        return None
    return found
