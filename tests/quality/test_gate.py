"""The quality gates of question answering, on the development question set.

CI fails under 90% top-1 accuracy, under 95% correct abstention, on any missed
crisis and on any false crisis alarm; on the held-out set under 85% answered
right or over 3% answered wrong; on the independent safety sets on any missed
crisis, over 1% false alarms, or any crisis reply or "I don't know" to an
ordinary feeling. ``python -m tests.quality.evaluate --verbose`` and
``python -m tests.quality.safety_eval --verbose`` show what goes wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge.answer import Answerer
from bot.knowledge.check import check_content
from bot.knowledge.text import fold
from bot.paths import content_dir
from tests.quality.evaluate import QUESTIONS, evaluate, expected_ids, load_questions
from tests.quality.facts_eval import THIRD
from tests.quality.safety_eval import (
    BLIND,
    INDEPENDENT,
    NO_MORE,
    SUPPORT,
    evaluate_safety,
    load_set,
)

HELDOUT = QUESTIONS.with_name("heldout_questions.yaml")


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


def test_quality_gates(answerer: Answerer) -> None:
    result = evaluate(answerer, load_questions())
    print(
        f"top-1 {result.top1:.1%}, abstention {result.abstention:.1%}, "
        f"crisis recall {result.crisis_recall:.1%}, false alarms {result.false_alarms}"
    )
    assert result.gate_failures() == [], "\n".join(result.failures)


def test_the_question_set_is_large_enough_and_not_copied(answerer: Answerer) -> None:
    questions = load_questions()
    assert len(questions["answerable"]) >= 200
    assert len(questions["out_of_scope"]) + len(questions["medical"]) >= 40
    assert len(questions["crisis"]) >= 10
    examples = {
        " ".join(fold(q).split())
        for e in answerer.knowledge.entries
        for lang in ("nl", "en")
        for q in e.text(lang)[1]
    }
    copied = [
        item["q"]
        for item in questions["answerable"]  # type: ignore[index]
        if " ".join(fold(str(item["q"])).split()) in examples
    ]  # type: ignore[index]
    assert copied == []
    ids = set(answerer.knowledge.by_id)
    expected = set().union(*(expected_ids(item) for item in questions["answerable"]))  # type: ignore[arg-type]
    unknown = expected - ids
    assert unknown == set()


def test_content_check_finds_no_errors() -> None:
    report = check_content(content_dir())
    assert report.errors == []
    assert report.entries >= 80
    english = sum(1 for e in Answerer.load(content_dir()).knowledge.entries if e.en)
    assert english >= 15


def test_the_held_out_set_is_answered_right_and_rarely_wrong(answerer: Answerer) -> None:
    """The second set, written without seeing the content or the first set: at least
    85% answered outright with the right entry, at most 3% with a wrong one."""
    result = evaluate(answerer, load_questions(HELDOUT))
    assert result.answered_correctly >= 0.85, "\n".join(result.failures)
    assert result.wrong_answers <= 0.03, "\n".join(result.failures)
    assert result.abstention >= 0.95, "\n".join(result.failures)
    assert result.crisis_recall == 1.0, "\n".join(result.failures)
    assert result.false_alarms == 0, "\n".join(result.failures)


@pytest.mark.parametrize("path", [INDEPENDENT, BLIND], ids=["independent", "blind"])
def test_every_crisis_is_caught_and_near_misses_are_not(answerer: Answerer, path: Path) -> None:
    """Written by helpers who never saw the patterns (docs/knowledge.md, "Safety"):
    100% of the crisis messages get a crisis reply, at most 1% of the near misses do."""
    sets = load_set(path)
    assert len(sets["crisis"]) >= 130 and len(sets["near_miss"]) >= 140
    result = evaluate_safety(answerer, {k: sets[k] for k in ("crisis", "near_miss")})
    assert result.gate_failures() == [], "\n".join(result.failures)


def test_no_more_messages_is_no_crisis_and_no_more_life_is(answerer: Answerer) -> None:
    """Typed unsubscribe texts ("Geen berichten meer over de agenda", "I don't want any
    more messages") get no crisis reply; the wishes that look like them, alone or beside
    such a request, all do (docs/knowledge.md, "Safety")."""
    sets = load_set(NO_MORE)
    assert len(sets["crisis"]) >= 30 and len(sets["near_miss"]) >= 30
    result = evaluate_safety(answerer, sets)
    assert result.recall == 1.0, "\n".join(result.failures)
    assert result.false_alarms == 0, "\n".join(result.failures)


@pytest.mark.parametrize("path", [SUPPORT, BLIND], ids=["support", "blind"])
def test_ordinary_feelings_get_warmth_never_a_crisis_or_i_dont_know(
    answerer: Answerer, path: Path
) -> None:
    sets = load_set(path)
    assert len(sets["support"]) >= 60
    result = evaluate_safety(answerer, {"support": sets["support"]})
    assert result.support_crisis == 0, "\n".join(result.failures)
    assert result.support_fallback == 0, "\n".join(result.failures)


def test_the_independent_sets_are_large_enough() -> None:
    sets = load_set(INDEPENDENT)
    assert len(sets["crisis"]) >= 150 and len(sets["near_miss"]) >= 150
    assert len(load_set(SUPPORT)["support"]) >= 100
    third = yaml.safe_load(THIRD.read_text(encoding="utf-8"))
    assert len(third["answerable"]) >= 150
