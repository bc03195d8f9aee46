"""content/circles.yaml (bot/circles/rules.py) and the events of a saved year
(bot/circles/events.py): the wishes, the first meeting's day a week apart per circle,
moved on when it is not in the future, and every mistake as one line (also in
``content check``)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.circles.events import circle_events
from bot.circles.rules import (
    CircleRules,
    CircleRulesError,
    FirstMeeting,
    load_rules,
    read_rules,
    rules_problems,
)
from bot.knowledge.check import check_content

ROOT = Path(__file__).resolve().parents[2]
ORGS = ("reos", "participe", "marente", "activite")
ZONE = "Europe/Amsterdam"
DECEMBER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_shipped_file_reads_and_content_check_has_nothing_to_say() -> None:
    rules = load_rules(ROOT / "content", ORGS)
    assert rules.apart == ()
    meeting = rules.first_meeting
    assert (meeting.month, meeting.week, meeting.weekday) == (2, 2, 1)  # 2nd Tuesday, Feb
    assert (meeting.start, meeting.end) == (time(14, 0), time(16, 0))
    assert rules_problems(ROOT / "content") == []


def test_wishes_and_a_meeting_are_read() -> None:
    rules = read_rules(
        """
        apart:
          - [reos, participe]
        first_meeting: {month: maart, week: derde, weekday: do, start: "19:30", end: "21:30",
                        place: Hogeschool Leiden, title: "Kring {n} van {year}"}
        """,
        ORGS,
    )
    assert rules.apart == (("reos", "participe"),)
    assert rules.first_meeting.rule_day(2027) == date(2027, 3, 18)
    assert rules.first_meeting.place == "Hogeschool Leiden"


def test_no_file_is_no_wishes_and_the_defaults(tmp_path: Path) -> None:
    assert load_rules(tmp_path, ORGS) == CircleRules()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("apart: [[reos, reso]]", "apart #1: unknown organisation 'reso' (did you mean 'reos'?)"),
        ("apart: [[reos, reos]]", "apart #1: expected two different organisation ids"),
        ("apart: reos", "apart: expected a list of pairs"),
        ("first_meeting: {weekday: dinsdagg}", "weekday 'dinsdagg' is not one"),
        ("first_meeting: {month: 13}", "month 13 is not one"),
        ("first_meeting: {start: 14:00}", 'start 840 is not a time such as "14:00" (in quotes)'),
        ('first_meeting: {start: "16:00", end: "14:00"}', "end 14:00 is not after start 16:00"),
        ("first_meeting: {title: 'Kring {nummer}'}", "title: use only {n}, {year}"),
        ("first_meeting: {dag: 3}", "unknown field 'dag'"),
        ("kringen: []", "unknown field 'kringen'"),
        ("- a", "expected a mapping"),
    ],
)
def test_every_mistake_is_one_line(text: str, problem: str) -> None:
    with pytest.raises(CircleRulesError) as exc:
        read_rules(text, ORGS)
    assert len(exc.value.problems) == 1
    assert problem in exc.value.problems[0]
    assert exc.value.problems[0].startswith("circles.yaml: ")


def test_content_check_reports_a_broken_circles_file(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "circles.yaml").write_text("apart: [[reos, nobody]]\n", encoding="utf-8")
    problems = rules_problems(content)
    assert problems == [
        "circles.yaml: apart #1: unknown organisation 'nobody' (see organisations.yaml)"
    ]
    assert problems[0] in check_content(content).errors


def test_circles_meet_a_week_apart_and_a_passed_day_moves_on() -> None:
    meeting = FirstMeeting()
    assert meeting.days(2027, 3, DECEMBER, ZONE) == [
        date(2027, 2, 9),
        date(2027, 2, 16),
        date(2027, 2, 23),
    ]
    # On the day itself, after 14:00: from the next Tuesday on.
    that_afternoon = datetime(2027, 2, 9, 13, 30, tzinfo=UTC)  # 14:30 in Amsterdam
    assert meeting.days(2027, 2, that_afternoon, ZONE) == [date(2027, 2, 16), date(2027, 2, 23)]
    before = datetime(2027, 2, 9, 12, 30, tzinfo=UTC)  # 13:30 in Amsterdam: still ahead
    assert meeting.days(2027, 1, before, ZONE) == [date(2027, 2, 9)]


def test_each_circle_gets_an_event_for_its_organisations() -> None:
    meeting = FirstMeeting(description="Met {organisations}.", place="Leiden")
    names = {"reos": "Reos", "participe": "Participe"}
    events = circle_events(
        2027, [("marente", "participe", "reos"), ("activite", "x", "y")], meeting, names,
        DECEMBER, ZONE,
    )  # fmt: skip
    first, second = events
    assert first.uid == "reflectiecirkel-2027-1@alliantiepg.nl"
    assert (first.kind, first.title) == ("reflectiecirkel", "Reflectiecirkel 1 (2027)")
    assert (first.start, first.end) == (datetime(2027, 2, 9, 14), datetime(2027, 2, 9, 16))
    assert first.description == "Met marente, Participe, Reos."
    assert (first.address, first.zone, first.hosts) == (
        "Leiden",
        ZONE,
        ("marente", "participe", "reos"),
    )
    assert first.audience == (
        "role:gangmaker,role:bestuurder,organisation:marente,organisation:participe,"
        "organisation:reos"
    )
    assert second.start == datetime(2027, 2, 16, 14)
