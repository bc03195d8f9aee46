"""Reading when an event is, as a verbinder types it in the chat (bot.agenda.typed):
dates with a start and maybe an end, "19.30" as a time, ranges, a wrong weekday,
past dates (left to the shared check), the DST switches of 2026 and 2027."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.agenda.files import Vocabulary, event_issues
from bot.agenda.model import EventData
from bot.agenda.typed import (
    DEFAULT_LENGTH,
    NO_SUCH_DATE,
    NO_SUCH_TIME,
    NO_TIME,
    default_end,
    read_end,
    read_span,
)
from bot.broadcast.when import UNREADABLE, WEEKDAY, parse_when

ZONE = "Europe/Amsterdam"
# Tuesday 10 March 2026, 14:30 in Amsterdam.
NOW = datetime(2026, 3, 10, 14, 30, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def at(*args: int) -> datetime:
    return datetime(*args)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        # the issue's three shapes
        ("do 12 maart 19.30", at(2026, 3, 12, 19, 30), None),
        ("volgende week dinsdag 14:00", at(2026, 3, 17, 14, 0), None),
        ("12-3 19:30 tot 21:30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        # ranges
        ("do 12 maart 19:30 tot 21:30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        ("12-3 19.30-21.30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        ("12-3 19.30 - 21.30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        ("12-3 19.30–21.30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        ("vr 13 maart van 19.30 tot 21.30", at(2026, 3, 13, 19, 30), at(2026, 3, 13, 21, 30)),
        ("12 maart om 19.30 tot 21.30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        ("12 maart 15u-17u30", at(2026, 3, 12, 15, 0), at(2026, 3, 12, 17, 30)),
        ("morgen 10:00 - 12:00", at(2026, 3, 11, 10, 0), at(2026, 3, 11, 12, 0)),
        ("19:30 tot 21:30", at(2026, 3, 10, 19, 30), at(2026, 3, 10, 21, 30)),  # today
        ("12 maart 15u tot 13 maart 12u", at(2026, 3, 12, 15, 0), at(2026, 3, 13, 12, 0)),
        ("thu 12 march 7:30 pm until 9:30 pm", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        # "19.30" is a time; a dotted date stays a date beside another time
        ("12.03 19.30", at(2026, 3, 12, 19, 30), None),
        ("12.03 19:30", at(2026, 3, 12, 19, 30), None),
        ("12.03 19.30-21.30", at(2026, 3, 12, 19, 30), at(2026, 3, 12, 21, 30)),
        ("donderdag 12 maart 2026 om 19.30 uur", at(2026, 3, 12, 19, 30), None),
        ("2027-04-01 15:00", at(2027, 4, 1, 15, 0), None),
        ("volgende week vrijdag 9u", at(2026, 3, 20, 9, 0), None),
        ("Volgende Week Dinsdag 14.00", at(2026, 3, 17, 14, 0), None),
        ("next week tuesday 2pm", at(2026, 3, 17, 14, 0), None),
        ("3 januari 10:00", at(2027, 1, 3, 10, 0), None),  # long past: next year's
    ],
)
def test_it_reads_dates_with_a_start_and_an_end(
    typed: str, start: datetime, end: datetime | None
) -> None:
    span = read_span(typed, NOW, ZONE)
    assert span.problem is None, typed
    assert (span.start, span.end) == (start, end)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("12 maart", NO_TIME),  # a date alone is no event
        ("volgende week dinsdag", NO_TIME),
        ("volgende week 14:00", UNREADABLE),  # which day of it?
        ("bla bla", UNREADABLE),
        ("31-2 10:00", NO_SUCH_DATE),  # said so, with the month's days
        ("12-3 25:00", UNREADABLE),
        ("", UNREADABLE),
        ("12-3 19:30 tot morgen", NO_TIME),
    ],
)
def test_what_it_cannot_read_is_said(typed: str, problem: str) -> None:
    span = read_span(typed, NOW, ZONE)
    assert (span.start, span.problem) == (None, problem)


def test_a_wrong_weekday_is_not_guessed() -> None:
    span = read_span("wo 12 maart 19.30", NOW, ZONE)  # 12 March 2026 is a Thursday
    assert span.problem == WEEKDAY
    assert (span.day, span.weekday) == (date(2026, 3, 12), 2)
    assert read_span("vrijdag 12-3 19:30 tot 21:30", NOW, ZONE).problem == WEEKDAY


def test_a_past_date_is_read_and_then_refused_by_the_shared_check() -> None:
    span = read_span("3 maart 19:30", NOW, ZONE)  # a week ago: this year's, in the past
    assert span.start == at(2026, 3, 3, 19, 30)
    data = EventData("x@a", "overig", "X", span.start, span.start + timedelta(hours=1), ZONE)
    assert data.starts_at < NOW
    earlier = read_span("vandaag 10:00", NOW, ZONE)  # this morning
    assert earlier.start == at(2026, 3, 10, 10, 0)


def test_the_end_before_the_start_is_read_as_typed_and_found_by_the_shared_check() -> None:
    span = read_span("12-3 19.30 tot 18.00", NOW, ZONE)
    assert (span.start, span.end) == (at(2026, 3, 12, 19, 30), at(2026, 3, 12, 18, 0))
    assert span.start is not None and span.end is not None
    data = EventData("x@a", "overig", "X", span.start, span.end, ZONE)
    codes = [i.code for i in event_issues(data, Vocabulary((), ()))]
    assert codes == ["end_before_start"]


@pytest.mark.parametrize(
    ("typed", "end"),
    [
        ("21:30", at(2026, 3, 12, 21, 30)),
        ("21.30", at(2026, 3, 12, 21, 30)),
        ("tot 21u", at(2026, 3, 12, 21, 0)),
        ("om 22:00", at(2026, 3, 12, 22, 0)),
        ("13 maart 10:00", at(2026, 3, 13, 10, 0)),
    ],
)
def test_an_end_typed_on_its_own_is_on_the_start_day(typed: str, end: datetime) -> None:
    span = read_end(typed, at(2026, 3, 12, 19, 30), NOW, ZONE)
    assert span.start == end


def test_the_default_length_per_kind() -> None:
    start = at(2026, 3, 12, 15, 0)
    assert default_end("leeratelier", start) == at(2026, 3, 12, 17, 30)
    assert default_end("gangmakers", start) == at(2026, 3, 12, 17, 0)
    assert default_end("onbekend", start) == start + DEFAULT_LENGTH["overig"]


# -- the DST switches: wall time is kept, the instant follows the zone -------------------


@pytest.mark.parametrize(
    ("typed", "start", "utc"),
    [
        # 2026: summer time from 29 March, winter time from 25 October
        ("za 28 maart 19.30", at(2026, 3, 28, 19, 30), datetime(2026, 3, 28, 18, 30, tzinfo=UTC)),
        ("ma 30 maart 19.30", at(2026, 3, 30, 19, 30), datetime(2026, 3, 30, 17, 30, tzinfo=UTC)),
        ("zo 29 maart 3:30", at(2026, 3, 29, 3, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("ma 26 okt 10:00", at(2026, 10, 26, 10, 0), datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),
        # twice that night: the first (summer time), as instant() reads it
        ("zo 25 okt 2:30", at(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        # 2027: 28 March and 31 October
        ("ma 29 maart 2027 10:00", at(2027, 3, 29, 10, 0), datetime(2027, 3, 29, 8, 0, tzinfo=UTC)),
        ("ma 1 nov 2027 10:00", at(2027, 11, 1, 10, 0), datetime(2027, 11, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_dates_around_the_dst_switches(typed: str, start: datetime, utc: datetime) -> None:
    span = read_span(typed, NOW, ZONE)
    assert span.problem is None and span.start == start
    data = EventData("x@a", "overig", "X", start, start + timedelta(hours=1), ZONE)
    assert data.starts_at == utc


@pytest.mark.parametrize("typed", ["zo 29 maart 2:30", "29-3 2.15", "28-3-2027 2:00"])
def test_a_time_the_clocks_skip_is_refused(typed: str) -> None:
    span = read_span(typed, NOW, ZONE)
    assert span.problem == NO_SUCH_TIME
    assert span.moment is not None and span.moment.hour == 2


def test_a_range_across_the_autumn_switch_keeps_wall_time() -> None:
    span = read_span("za 24 okt 22:00 tot zo 25 okt 4:00", NOW, ZONE)
    assert (span.start, span.end) == (at(2026, 10, 24, 22, 0), at(2026, 10, 25, 4, 0))


# -- the composer's reader learned "volgende week" too -----------------------------------


def test_the_composer_reads_next_week_and_this_week() -> None:
    zone = ZoneInfo(ZONE)
    expected = datetime(2026, 3, 17, 14, 0, tzinfo=zone).astimezone(UTC)
    assert parse_when("volgende week dinsdag 14:00", NOW, zone).at == expected
    friday = datetime(2026, 3, 13, 9, 0, tzinfo=zone).astimezone(UTC)
    assert parse_when("deze week vrijdag 9u", NOW, zone).at == friday
    assert parse_when("deze week maandag 9u", NOW, zone).problem == "past"
    assert parse_when("volgende week", NOW, zone).problem == UNREADABLE
    ten = datetime(2026, 3, 11, 10, 0, tzinfo=zone).astimezone(UTC)
    assert parse_when("morgen 10:00 uur", NOW, zone).at == ten  # "uur" whole, not "u" + "ur"
