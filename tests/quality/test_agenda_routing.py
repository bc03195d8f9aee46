"""Which questions go to the agenda ("wanneer is het volgende leeratelier?") and which
stay with the curated content ("wat is een leeratelier?"), on a fresh question set
(``agenda_questions.yaml`` here); and the crisis check stays first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge.answer import Answerer, Outcome
from bot.paths import content_dir

QUESTIONS = Path(__file__).with_name("agenda_questions.yaml")
# Written before the reader learnt months, typos in a kind, a bare kind with a when
# word and what's-on questions (docs/agenda.md, "Asking when": 4/30 before, 30/30 after).
HELD_OUT = Path(__file__).with_name("agenda_heldout.yaml")


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


def _routed(answerer: Answerer, question: str) -> str | None:
    """The kind the agenda answers for (``any``), or None when it is not the agenda."""
    result = answerer.answer(question)
    if result.outcome is not Outcome.AGENDA:
        return None
    assert result.agenda is not None
    return result.agenda.kind or "any"


@pytest.mark.parametrize(("path", "least", "agenda"), [(QUESTIONS, 40, 20), (HELD_OUT, 45, 30)])
def test_when_questions_go_to_the_agenda_and_what_is_questions_do_not(
    answerer: Answerer, path: Path, least: int, agenda: int
) -> None:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    assert len(items) >= least
    assert sum("agenda" in item for item in items) >= agenda
    wrong = [
        f"{item['q']!r}: expected {item.get('agenda')}, got {got}"
        for item in items
        if (got := _routed(answerer, item["q"])) != item.get("agenda")
    ]
    assert wrong == []


def test_the_crisis_check_stays_first(answerer: Answerer) -> None:
    result = answerer.answer("wanneer is het volgende leeratelier, ik wil niet meer leven")
    assert result.outcome is Outcome.CRISIS


def test_a_question_about_the_agenda_is_answered_not_recorded_as_a_gap(
    answerer: Answerer,
) -> None:
    result = answerer.answer("Wanneer is het volgende leeratelier?")
    assert result.answered and not result.gap
