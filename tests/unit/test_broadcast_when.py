"""Reading when an announcement goes out: Dutch first, English too, in TIMEZONE."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.when import PAST, UNREADABLE, WEEKDAY, parse_when

ZONE = ZoneInfo("Europe/Amsterdam")
# Tuesday 10 March 2026, 14:30 in Amsterdam (13:30 UTC).
NOW = datetime(2026, 3, 10, 14, 30, tzinfo=ZONE).astimezone(UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZONE).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("nu", NOW),
        ("Now", NOW),
        ("morgen 9:00", local(2026, 3, 11, 9, 0)),
        ("morgen om 9 uur", local(2026, 3, 11, 9, 0)),
        ("vr 13 maart 10u", local(2026, 3, 13, 10, 0)),
        ("vrijdag 13 maart 10u30", local(2026, 3, 13, 10, 30)),
        ("13-03 10:00", local(2026, 3, 13, 10, 0)),
        ("13.03 10.15u", local(2026, 3, 13, 10, 15)),
        ("13/3/2026 10:00", local(2026, 3, 13, 10, 0)),
        ("2026-03-13 10:00", local(2026, 3, 13, 10, 0)),
        ("over 2 uur", local(2026, 3, 10, 16, 30)),
        ("over 30 minuten", local(2026, 3, 10, 15, 0)),
        ("over een dag", local(2026, 3, 11, 14, 30)),
        ("13 maart", local(2026, 3, 13, 9, 0)),  # a date without a time: 09:00
        ("maandag 9u", local(2026, 3, 16, 9, 0)),  # the coming Monday
        ("dinsdag 16:00", local(2026, 3, 10, 16, 0)),  # today, the time still ahead
        ("dinsdag 9:00", local(2026, 3, 17, 9, 0)),  # today's has passed: next week
        ("9:00", local(2026, 3, 11, 9, 0)),  # a time alone: the next such moment
        ("20:00", local(2026, 3, 10, 20, 0)),
        ("3 januari", local(2027, 1, 3, 9, 0)),  # long past this year: next year's
        ("tomorrow 9am", local(2026, 3, 11, 9, 0)),
        ("fri 13 march 10:00", local(2026, 3, 13, 10, 0)),
        ("march 13th 3pm", local(2026, 3, 13, 15, 0)),
        ("in 2 hours", local(2026, 3, 10, 16, 30)),
        ("14:30", NOW),  # this very minute is now
    ],
)
def test_it_reads_what_verbinders_type(typed: str, expected: datetime) -> None:
    when = parse_when(typed, NOW, ZONE)
    assert when.problem is None, typed
    assert when.at == expected
    assert when.at is not None and when.at.tzinfo is not None


def test_summer_time_is_read_in_the_zone() -> None:
    assert parse_when("1 juli 10:00", NOW, ZONE).at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed", ["gisteren 9:00", "10-03 10:00", "1-3", "9-3-2026", "2025-12-01 10:00"]
)
def test_the_past_is_told_apart(typed: str) -> None:
    assert parse_when(typed, NOW, ZONE).problem == PAST


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "blah",
        "morgenochtend",
        "25:00",
        "31 februari",
        "over 2 jaar",
        "13 maart 10u extra",
        "13pm",
    ],
)
def test_what_is_not_understood_is_unreadable(typed: str) -> None:
    when = parse_when(typed, NOW, ZONE)
    assert (when.at, when.problem) == (None, UNREADABLE)


@pytest.mark.parametrize(
    ("typed", "now", "day"),
    [
        ("do 13 maart 10u", NOW, date(2026, 3, 13)),  # a Friday: not guessed
        # typed in December: 13 March is next year's, a Saturday
        ("vr 13 maart 10u", datetime(2026, 12, 2, 12, 0, tzinfo=UTC), date(2027, 3, 13)),
    ],
)
def test_a_weekday_that_does_not_fit_the_date_names_the_date(
    typed: str, now: datetime, day: date
) -> None:
    when = parse_when(typed, now, ZONE)
    assert (when.at, when.problem, when.day) == (None, WEEKDAY, day)
    assert when.weekday is not None and when.weekday != day.weekday()
