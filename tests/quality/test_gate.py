"""The quality gates of question answering, on the development question set.

CI fails under 90% top-1 accuracy, under 95% correct abstention, on any missed
crisis and on any false crisis alarm. ``python -m tests.quality.evaluate
--verbose`` shows what goes wrong.
"""

from __future__ import annotations

import pytest

from bot.knowledge.answer import Answerer
from bot.knowledge.check import check_content
from bot.knowledge.text import fold
from bot.paths import content_dir
from tests.quality.evaluate import QUESTIONS, evaluate, expected_ids, load_questions

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


def test_safety_on_the_second_question_set(answerer: Answerer) -> None:
    """A second set, written without seeing the content or the first set.

    Its answer metrics are reported in docs/knowledge.md, not gated (the gates
    were tuned on the development set); safety is gated here too.
    """
    result = evaluate(answerer, load_questions(HELDOUT))
    assert result.crisis_recall == 1.0, "\n".join(result.failures)
    assert result.false_alarms == 0, "\n".join(result.failures)
