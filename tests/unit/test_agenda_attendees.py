"""The attendee CSV (bot/agenda/attendees.py) and the agenda question reader
(bot/knowledge/agenda_question.py), without a database."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

from bot.agenda.attendees import safe_cell, to_csv
from bot.knowledge.agenda_question import AgendaQuestions
from bot.paths import content_dir
from bot.storage.repositories.rsvp import Attendee


def test_a_name_a_spreadsheet_would_run_is_quoted() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+31", "-x", "@a", "Anna", "")] == [
        "'=1+1",
        "'+31",
        "'-x",
        "'@a",
        "Anna",
        "",
    ]


def test_answered_at_is_wall_time_in_the_zone_on_both_sides_of_dst() -> None:
    winter = Attendee("Anna", "yes", None, datetime(2026, 3, 28, 9, 0, tzinfo=UTC))
    summer = Attendee(None, "yes", 1, datetime(2026, 3, 30, 9, 0, tzinfo=UTC))
    text = to_csv(
        ("n", "a", "w", "t"),
        [winter, summer],
        "Europe/Amsterdam",
        lambda a: a.name or "?",
        str.upper,
    )
    assert list(csv.reader(text.splitlines())) == [
        ["n", "a", "w", "t"],
        ["Anna", "YES", "", "2026-03-28 10:00"],
        ["?", "YES", "1", "2026-03-30 11:00"],
    ]


def test_the_reader_names_the_kind_and_where() -> None:
    reader = AgendaQuestions.load(content_dir())
    assert reader is not None
    asked = reader.read("waar is de eerstvolgende reflectie-cirkel?")
    assert asked is not None and (asked.kind, asked.where) == ("reflectiecirkel", True)
    assert reader.read("wanneer was de reflectiecirkel") is None
    assert reader.read("") is None
