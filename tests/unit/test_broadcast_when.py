"""Reading when an announcement goes out: Dutch first, English too, in TIMEZONE."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.when import PAST, UNREADABLE, WEEKDAY, parse_when
from bot.paths import content_dir
from bot.yamltext import load_yaml

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


# -- spoken Dutch, parts of the day, weeks ahead (the composer reads them too) ------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("vanavond 20:00", local(2026, 3, 10, 20, 0)),
        ("vanavond om 8 uur", local(2026, 3, 10, 20, 0)),
        ("morgen half acht", local(2026, 3, 11, 7, 30)),
        ("morgen half acht 's avonds", local(2026, 3, 11, 19, 30)),
        ("morgen om twee uur 's middags", local(2026, 3, 11, 14, 0)),
        ("morgen kwart over negen", local(2026, 3, 11, 9, 15)),
        ("over 2 weken 10:00", local(2026, 3, 24, 10, 0)),
        ("dinsdag over twee weken 13:00", local(2026, 3, 24, 13, 0)),
        ("over 3 weken op dinsdag om 10.00 uur", local(2026, 3, 31, 10, 0)),
        ("3 feb. '27 15:00", local(2027, 2, 3, 15, 0)),
        ("vrijdag de 13e om 11 uur", local(2026, 3, 13, 11, 0)),
        ("next friday 3pm", local(2026, 3, 13, 15, 0)),
        ("tomorrow at eight pm", local(2026, 3, 11, 20, 0)),
    ],
)
def test_spoken_times_and_parts_of_the_day(typed: str, expected: datetime) -> None:
    assert parse_when(typed, NOW, ZONE).at == expected


@pytest.mark.parametrize("typed", ["morgen 14:00 's ochtends", "half", "de 13 om 11 uur"])
def test_what_does_not_fit_together_is_unreadable(typed: str) -> None:
    assert parse_when(typed, NOW, ZONE).problem == UNREADABLE


# -- the composer's own examples read at any time of the year -------------------------------

_EXAMPLES = re.compile(r"(?:bijvoorbeeld|for example):?\s*(.+)", re.IGNORECASE)


def composer_examples(lang: str) -> list[str]:
    """The dates the composer's messages show after "bijvoorbeeld" / "for example"."""
    path = content_dir() / "messages" / lang / "broadcast.yaml"
    compose = load_yaml(path.read_text(encoding="utf-8"))["compose"]
    found: list[str] = []
    for key in ("when", "when_unreadable", "change_time_ask", "when_weekday"):
        match = _EXAMPLES.search(compose[key])
        assert match is not None, key
        shown = re.sub(r"\(.*?\)", "", match.group(1)).strip().rstrip(".")
        found += [part.strip() for part in re.split(r",| of | or ", shown) if part.strip()]
    return found


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_composer_examples_read_at_any_time(lang: str) -> None:
    examples = composer_examples(lang)
    assert "13 maart 10u" in examples
    start = datetime(2026, 12, 2, 0, 1, tzinfo=ZONE)
    for n in range(0, 460, 5):
        for hour in (0, 12, 23):
            now = (start + timedelta(days=n)).replace(hour=hour)
            for example in examples:
                problem = parse_when(example, now, ZONE).problem
                # a date can be past for 30 days after it (then it is said so)
                assert problem in (None, PAST), (now, example, problem)
