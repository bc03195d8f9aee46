"""When the agenda's invitations and reminders are due: the rules file, and instants
from wall time that stay right across the DST switches of 2026 and 2027."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from bot.agenda.model import EventData
from bot.agenda.reminders import INVITE, REMIND, Rule, Rules, RulesError, changes, snapshot
from bot.paths import content_dir

ZONE = "Europe/Amsterdam"


def event(start: datetime, hours: int = 2, kind: str = "leeratelier") -> EventData:
    return EventData(
        uid="e@x",
        kind=kind,
        title="Leeratelier",
        start=start,
        end=start.replace(hour=start.hour + hours),
        zone=ZONE,
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


DAY_BEFORE = Rule(REMIND, days=1, at=time(10, 0))
WEEK_BEFORE = Rule(REMIND, days=7, at=time(10, 0))
TWO_HOURS = Rule(REMIND, hours=2)


@pytest.mark.parametrize(
    ("monday", "sunday_10_local"),
    [
        # 2026-03-29 clocks go forward: Sunday 10:00 is CEST (UTC+2)
        (datetime(2026, 3, 30, 19, 30), utc(2026, 3, 29, 8, 0)),
        # 2026-10-25 clocks go back: Sunday 10:00 is CET (UTC+1)
        (datetime(2026, 10, 26, 19, 30), utc(2026, 10, 25, 9, 0)),
        (datetime(2027, 3, 29, 19, 30), utc(2027, 3, 28, 8, 0)),
        (datetime(2027, 11, 1, 19, 30), utc(2027, 10, 31, 9, 0)),
    ],
)
def test_the_day_before_reminder_is_at_10_local_on_the_day_of_a_switch(
    monday: datetime, sunday_10_local: datetime
) -> None:
    assert DAY_BEFORE.due(event(monday)) == sunday_10_local


def test_a_week_before_crosses_the_switch_and_stays_at_10_local() -> None:
    # Monday 30 March 2026 (summer time); a week before is 23 March (winter time)
    assert WEEK_BEFORE.due(event(datetime(2026, 3, 30, 19, 30))) == utc(2026, 3, 23, 9, 0)
    # Monday 26 October 2026 (winter time); a week before is 19 October (summer time)
    assert WEEK_BEFORE.due(event(datetime(2026, 10, 26, 19, 30))) == utc(2026, 10, 19, 8, 0)


def test_hours_before_count_from_the_start_instant() -> None:
    # 19:30 CEST is 17:30 UTC; two hours before is 15:30 UTC
    assert TWO_HOURS.due(event(datetime(2026, 3, 30, 19, 30))) == utc(2026, 3, 30, 15, 30)
    # 03:30 CET on the night the clocks go back is 02:30 UTC: two real hours before is
    # 00:30 UTC, which the clock showed as 02:30 summer time
    early = event(datetime(2026, 10, 25, 3, 30), hours=1)
    assert TWO_HOURS.due(early) == utc(2026, 10, 25, 0, 30)


def test_the_rules_in_content_are_valid_and_name_every_kind() -> None:
    rules = Rules.load(content_dir(None))
    for kind in ("leeratelier", "gangmakers", "bestuurders", "reflectiecirkel", "overig"):
        names = [r.name for r in rules.of(kind)]
        assert names, kind
        assert names[0] == INVITE
    assert [r.name for r in rules.of("overig")] == ["invite", "7d", "1d", "2h"]  # the default


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([], "mapping of kinds"),
        ({"feest": {}}, "unknown kind 'feest'"),
        ({"default": {"remind": [{"days": 1, "at": "25:00"}]}}, "not a time"),
        ({"default": {"remind": [{"days": 1, "at": 1000}]}}, "in quotes"),
        ({"default": {"remind": [{"days": -1, "at": "10:00"}]}}, "whole numbers"),
        ({"default": {"remind": [{"weeks": 1}]}}, "expected"),
        ({"default": {"remind": [{"hours": 0}]}}, "needs days or hours"),
        ({"default": {"remind": [{"hours": 2}, {"hours": 2}]}}, "the same moment twice"),
        ({"default": {"invite": {"days": 1}, "extra": 1}}, "expected 'invite' and 'remind'"),
    ],
)
def test_a_bad_rules_file_says_what_is_wrong(raw: object, says: str) -> None:
    with pytest.raises(RulesError, match=says):
        Rules.parse(raw)


def test_invite_none_sends_no_invitation() -> None:
    rules = Rules.parse({"default": {"invite": "none", "remind": [{"hours": 3}]}})
    assert [r.name for r in rules.of("leeratelier")] == ["3h"]


def test_a_change_is_time_or_place_not_the_title() -> None:
    before = event(datetime(2026, 3, 12, 19, 30))
    told = snapshot(before)
    assert changes(told, replace(before, title="Nieuw")) == []
    assert changes(told, replace(before, start=datetime(2026, 3, 12, 20, 0))) == ["time"]
    assert changes(told, replace(before, address="Elders")) == ["place"]
