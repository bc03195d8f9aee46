"""The prompt rules (content/agenda_prompts.yaml): read and checked; when each is due."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.agenda.model import EventData
from bot.agenda.prompts import CHECKLIST, DEFAULT_ITEMS, Prompt, Prompts, PromptsError
from bot.paths import content_dir

MONDAY = EventData(
    uid="g@x",
    kind="gangmakers",
    title="G",
    start=datetime(2026, 10, 26, 14, 0),  # the Monday after the switch to winter time
    end=datetime(2026, 10, 26, 16, 0),
    zone="Europe/Amsterdam",
)


def test_the_rules_in_content_are_valid() -> None:
    prompts = Prompts.load(content_dir(None))
    names = [p.name for p in prompts.of("gangmakers")]
    assert names == [
        "checklist",
        "checklist_nudge",
        "inbreng",
        "inbreng_reminder",
        "digest",
        "meenemen",
        "meenemen_gedeeld",
        "meenemen_verbinders",
    ]
    assert prompts.items("gangmakers") == ("zaal", "agenda", "uitnodiging")
    assert [p.name for p in prompts.of("leeratelier")] == [
        "meenemen",
        "meenemen_gedeeld",
        "meenemen_verbinders",
    ]
    assert prompts.of("overig") == ()


def test_before_and_after_are_wall_time_across_dst() -> None:
    before = Prompt("inbreng", ("role:gangmaker",), 1, time(10, 0))
    after = Prompt("meenemen", ("attendees",), 1, time(10, 0), after=True)
    assert before.due(MONDAY) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # 10:00 CET
    assert after.due(MONDAY) == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
    three_weeks = Prompt(CHECKLIST, ("hosts",), 21, time(10, 0), items=DEFAULT_ITEMS)
    assert three_weeks.due(MONDAY) == datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # 10:00 CEST


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([], "mapping of kinds"),
        ({"feest": []}, "unknown kind"),
        ({"gangmakers": {}}, "a list of prompts"),
        ({"gangmakers": [{"name": "koffie", "to": "hosts"}]}, "unknown prompt 'koffie'"),
        ({"gangmakers": [{"name": "inbreng", "to": "", "before": {}}]}, "expected {days"),
        (
            {
                "gangmakers": [
                    {"name": "inbreng", "to": "iedereen", "before": {"days": 1, "at": "10:00"}}
                ]
            },
            "unknown 'to'",
        ),
        (
            {
                "gangmakers": [
                    {
                        "name": "inbreng",
                        "to": "hosts",
                        "before": {"days": 1, "at": "10:00"},
                        "after": {"days": 1, "at": "10:00"},
                    }
                ]
            },
            "either 'before' or 'after'",
        ),
        (
            {"gangmakers": [{"name": "inbreng", "to": "hosts", "before": {"days": 1, "at": 1000}}]},
            "in quotes",
        ),
        (
            {
                "gangmakers": [
                    {"name": "inbreng", "to": "hosts", "before": {"days": -1, "at": "10:00"}}
                ]
            },
            "whole number",
        ),
        (
            {
                "gangmakers": [
                    {
                        "name": "digest",
                        "to": "hosts",
                        "before": {"days": 1, "at": "10:00"},
                        "items": ["x"],
                    }
                ]
            },
            "only the checklist",
        ),
        (
            {
                "gangmakers": [
                    {
                        "name": "digest",
                        "to": "hosts",
                        "before": {"days": 1, "at": "10:00"},
                        "wie": 1,
                    }
                ]
            },
            "unknown field",
        ),
        (
            {
                "gangmakers": [
                    {"name": "digest", "to": "hosts", "before": {"days": 1, "at": "10:00"}}
                ]
                * 2
            },
            "named twice",
        ),
    ],
)
def test_a_bad_rules_file_says_what_is_wrong(raw: object, says: str) -> None:
    with pytest.raises(PromptsError, match=says):
        Prompts.parse(raw)
