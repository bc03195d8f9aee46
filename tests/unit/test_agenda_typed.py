"""Reading when an event is, as a verbinder types it in the chat (bot.agenda.typed):
dates with a start and maybe an end, "19.30" as a time, ranges, a wrong weekday,
past dates (left to the shared check), the DST switches of 2026 and 2027."""

from __future__ import annotations

import re
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
from bot.core.texts import Texts
from bot.paths import content_dir
from bot.yamltext import load_yaml
from handlers.agenda_manage_state import date_examples

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


# -- what a Dutch verbinder types (the blind user test) -----------------------------------

# Wednesday 2 December 2026, 16:00 in Amsterdam.
DECEMBER = datetime(2026, 12, 2, 16, 0, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("vanavond 20:00", at(2026, 12, 2, 20, 0), None),
        ("vanavond 8 uur", at(2026, 12, 2, 20, 0), None),  # the evening's 8
        ("vanmiddag 14:00", at(2026, 12, 2, 14, 0), None),
        ("dinsdag over twee weken 13:00", at(2026, 12, 15, 13, 0), None),
        ("over 3 weken op dinsdag om 10.00", at(2026, 12, 22, 10, 0), None),
        ("over 2 weken 10:00", at(2026, 12, 16, 10, 0), None),
        ("volgende week donderdag 's avonds om 8 uur", at(2026, 12, 10, 20, 0), None),
        ("volgende week donderdag ’s avonds om 8 uur", at(2026, 12, 10, 20, 0), None),
        ("do 10 dec 's ochtends om 8 uur", at(2026, 12, 10, 8, 0), None),
        ("do 10 dec om 3 uur 's middags", at(2026, 12, 10, 15, 0), None),
        ("do 10 dec om 20:00 's avonds", at(2026, 12, 10, 20, 0), None),  # it fits: kept
        # "half acht" is 7:30 on its own, 19:30 with 's avonds (or vanavond)
        ("do 10 dec half acht", at(2026, 12, 10, 7, 30), None),
        ("do 10 dec half acht 's avonds", at(2026, 12, 10, 19, 30), None),
        ("vanavond half 8", at(2026, 12, 2, 19, 30), None),
        ("morgen half vier", at(2026, 12, 3, 3, 30), None),
        ("morgen kwart over acht", at(2026, 12, 3, 8, 15), None),
        ("morgen kwart voor acht 's avonds", at(2026, 12, 3, 19, 45), None),
        # the 16th: 16 December is a Wednesday, 16 January 2027 the coming Saturday
        ("zaterdag de 16e om 11 uur", at(2027, 1, 16, 11, 0), None),
        ("de 16e om 11 uur", at(2026, 12, 16, 11, 0), None),
        ("3 februari om twee uur 's middags", at(2027, 2, 3, 14, 0), None),
        ("3 feb. '27 15:00", at(2027, 2, 3, 15, 0), None),
        ("3 feb ’27 om twaalf uur", at(2027, 2, 3, 12, 0), None),
        ("next friday 3pm to 5pm", at(2026, 12, 4, 15, 0), at(2026, 12, 4, 17, 0)),
        ("do 10 dec half acht tot half tien 's avonds", at(2026, 12, 10, 19, 30), None),
        # an end before the start: the next day when the event is then 12 hours at most
        ("14 jan 19:30 tot 01:00", at(2027, 1, 14, 19, 30), at(2027, 1, 15, 1, 0)),
        ("14 jan 22:00 - 2:00", at(2027, 1, 14, 22, 0), at(2027, 1, 15, 2, 0)),
        # ... or the afternoon's hour when that is after the start
        ("14 jan 19:30 tot 9 uur", at(2027, 1, 14, 19, 30), at(2027, 1, 14, 21, 0)),
        ("14 jan 14:00 tot half vijf", at(2027, 1, 14, 14, 0), at(2027, 1, 14, 16, 30)),
        ("14 jan 19:30 tot 2 uur later", at(2027, 1, 14, 19, 30), at(2027, 1, 14, 21, 30)),
    ],
)
def test_it_reads_what_a_dutch_verbinder_types(
    typed: str, start: datetime, end: datetime | None
) -> None:
    span = read_span(typed, DECEMBER, ZONE)
    assert span.problem is None, (typed, span)
    if end is None and span.end is not None:  # "half acht tot half tien 's avonds"
        assert span.end > span.start
    else:
        assert (span.start, span.end) == (start, end), typed
    assert span.start == start


@pytest.mark.parametrize(
    ("typed", "end"),
    [
        ("14 jan 19:30 tot 18:00", at(2027, 1, 14, 18, 0)),  # 22.5 hours on: refused later
        ("14 jan 19:30 tot 14 jan 8:00", at(2027, 1, 14, 8, 0)),  # with its own date
        ("14 jan 10:00 tot 9:00 am", at(2027, 1, 14, 9, 0)),
    ],
)
def test_an_end_that_cannot_be_meant_stays_as_typed_for_the_refusal(
    typed: str, end: datetime
) -> None:
    span = read_span(typed, DECEMBER, ZONE)
    assert span.end == end
    assert span.start is not None and span.end is not None
    data = EventData("x@a", "overig", "X", span.start, span.end, ZONE)
    assert [i.code for i in event_issues(data, Vocabulary((), ()))] == ["end_before_start"]


@pytest.mark.parametrize(
    ("start", "typed", "end"),
    [
        (at(2027, 1, 14, 14, 0), "half vijf", at(2027, 1, 14, 16, 30)),
        (at(2027, 1, 14, 14, 0), "4 uur 's middags", at(2027, 1, 14, 16, 0)),
        (at(2027, 1, 14, 14, 0), "vier uur 's middags", at(2027, 1, 14, 16, 0)),
        (at(2027, 1, 14, 14, 0), "2 uur later", at(2027, 1, 14, 16, 0)),
        (at(2027, 1, 14, 14, 0), "2 uur", at(2027, 1, 14, 16, 0)),  # 2:00 and 14:00 are not after
        (at(2027, 1, 14, 19, 30), "2 uur", at(2027, 1, 14, 21, 30)),
        (at(2027, 1, 14, 10, 0), "5 uur", at(2027, 1, 14, 17, 0)),  # the afternoon's 5 is after
        (at(2027, 1, 14, 19, 30), "twee uur", at(2027, 1, 14, 21, 30)),
        (at(2027, 1, 14, 14, 0), "+2 uur", at(2027, 1, 14, 16, 0)),
        (at(2027, 1, 14, 14, 0), "90 minuten", at(2027, 1, 14, 15, 30)),
        (at(2027, 1, 14, 14, 0), "anderhalf uur", at(2027, 1, 14, 15, 30)),
        (at(2027, 1, 14, 14, 0), "2 hours", at(2027, 1, 14, 16, 0)),
        (at(2027, 1, 14, 14, 0), "17u", at(2027, 1, 14, 17, 0)),
        (at(2027, 1, 14, 19, 30), "1:00", at(2027, 1, 15, 1, 0)),  # past midnight
        (at(2027, 1, 14, 19, 30), "22.00", at(2027, 1, 14, 22, 0)),
    ],
)
def test_the_end_step_reads_spoken_times_and_lengths(
    start: datetime, typed: str, end: datetime
) -> None:
    span = read_end(typed, start, DECEMBER, ZONE)
    assert (span.start, span.problem) == (end, None), typed


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("30 februari 14:00", (30, 2, 2027)),  # typed in December: next year's February
        ("29-2-2027 10:00", (29, 2, 2027)),
        ("31 april om 10 uur", (31, 4, 2027)),
    ],
)
def test_a_date_that_does_not_exist_is_said_so(typed: str, day: tuple[int, int, int]) -> None:
    span = read_span(typed, DECEMBER, ZONE)
    assert (span.start, span.problem, span.typed) == (None, NO_SUCH_DATE, day)


@pytest.mark.parametrize(
    "typed", ["eerste maandag van februari", "kerstavond 19:00", "do 10 dec 14:00 's ochtends"]
)
def test_what_stays_unsupported_is_plainly_unreadable(typed: str) -> None:
    assert read_span(typed, DECEMBER, ZONE).problem == UNREADABLE


# -- every example the bot shows reads, at any time of the year ----------------------------

TEXTS = Texts.load(content_dir())
LANGS = ("nl", "en")
# Every day of a year from a Wednesday in December (so New Year and 29 February 2028
# are in), at a minute past midnight, at noon and at five to midnight in Amsterdam.
CLOCKS = [
    datetime(2026, 12, 2, hour, minute, tzinfo=ZoneInfo(ZONE)) + timedelta(days=n)
    for n in range(0, 460, 3)
    for hour, minute in ((0, 1), (12, 0), (23, 55))
]
_FOR_EXAMPLE = re.compile(r"\((?:bijvoorbeeld|for example) ([^)]+)\)")


def shown_when_examples(lang: str, now: datetime) -> list[str]:
    """The lines the date question shows under "Bijvoorbeeld:", as the bot renders it."""
    params = date_examples(TEXTS, lang, now.date())
    text = TEXTS.get(lang, "agenda_manage.ask_when", **params)
    head, *lines = text.splitlines()
    assert head.rstrip().endswith(":"), head
    return lines


@pytest.mark.parametrize("lang", LANGS)
def test_every_date_example_reads_and_is_ahead_at_any_time(lang: str) -> None:
    for now in CLOCKS:
        for line in shown_when_examples(lang, now):
            span = read_span(line, now, ZONE)
            assert span.problem is None, (lang, now, line, span)
            assert span.start is not None and span.start > now.replace(tzinfo=None), (now, line)
            # the end question's examples: a time, and a length
            later = span.start + timedelta(hours=2)  # as the end question makes it
            example = later.strftime("%H:%M" if lang == "en" else "%H.%M")
            end_text = TEXTS.get(lang, "agenda_manage.ask_end", start="x", example=example)
            for shown in _FOR_EXAMPLE.findall(end_text):
                end = read_end(shown, span.start, now, ZONE)
                assert end.start is not None and end.start > span.start, (line, shown)


def test_the_examples_name_a_real_weekday_ahead() -> None:
    today = date(2026, 12, 2)  # a Wednesday
    assert date_examples(TEXTS, "nl", today) == {
        "ex_date": "donderdag 10 december 19.30",
        "ex_range": "10-12 19:30 tot 21:30",
    }
    thursday = date_examples(TEXTS, "nl", date(2026, 12, 3))
    assert thursday["ex_date"] == "donderdag 10 december 19.30"  # never today
    assert date_examples(TEXTS, "en", date(2026, 12, 28))["ex_date"] == "Thursday 7 January 19:30"


MONTH_NAMES = (
    "januari", "februari", "maart", "april", "juni", "juli", "augustus", "september",
    "oktober", "november", "december", "january", "february", "march", "june", "july",
    "august", "october",
)  # fmt: skip


def _sentences(tree: object) -> list[str]:
    if isinstance(tree, dict):
        return [s for value in tree.values() for s in _sentences(value)]
    return [str(tree)]


@pytest.mark.parametrize("lang", LANGS)
def test_no_message_of_agenda_beheer_shows_a_fixed_date(lang: str) -> None:
    """A fixed date goes wrong with time (a weekday of another year, a date past):
    the examples are made from today instead."""
    path = content_dir() / "messages" / lang / "agenda_manage.yaml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    for sentence in _sentences(data):
        words = set(re.findall(r"[a-z]+", sentence.casefold()))
        assert not words & set(MONTH_NAMES), sentence
        assert not re.search(r"\b\d{1,2}-\d{1,2}\b", sentence), sentence
