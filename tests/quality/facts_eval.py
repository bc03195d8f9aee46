"""Measure answering on a question set that names facts, not entries.

Run: ``.venv/bin/python -m tests.quality.facts_eval [--verbose] [--questions FILE]``.

The third question set (``third_questions.yaml``) was written from the seeds
alone, by someone who never saw the content, so it cannot name entry ids: each
question lists the facts a right answer contains (any of a few spellings). A
question counts as answered right when the bot answers outright and its reply
holds every fact; answered wrong when it answers outright without them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.texts import Texts
from bot.knowledge.answer import Answerer, Outcome
from bot.knowledge.text import fold
from bot.paths import content_dir
from handlers.ask import render

THIRD = Path(__file__).with_name("third_questions.yaml")
ANSWERED = (Outcome.ANSWER, Outcome.FACT)
GATES = {"right": 0.85, "wrong": 0.03, "abstention": 0.95}


@dataclass
class FactsResult:
    answerable: int = 0
    right: int = 0
    wrong: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    abstained: int = 0
    refusable: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def right_rate(self) -> float:
        return self.right / self.answerable if self.answerable else 0.0

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.answerable if self.answerable else 0.0

    @property
    def abstention(self) -> float:
        return self.abstained / self.refusable if self.refusable else 1.0

    def summary(self) -> str:
        return (
            f"answered with the right facts: {self.right}/{self.answerable} "
            f"({self.right_rate:.1%}); answered without them: {self.wrong} "
            f"({self.wrong_rate:.1%}); outcomes {dict(self.outcomes)}\n"
            f"out of scope or medical handled right: {self.abstained}/{self.refusable} "
            f"({self.abstention:.1%})"
        )

    def gate_failures(self) -> list[str]:
        problems = []
        if self.right_rate < GATES["right"]:
            problems.append(f"right answers {self.right_rate:.1%} < {GATES['right']:.0%}")
        if self.wrong_rate > GATES["wrong"]:
            problems.append(f"wrong answers {self.wrong_rate:.1%} > {GATES['wrong']:.0%}")
        if self.abstention < GATES["abstention"]:
            problems.append(f"abstention {self.abstention:.1%} < {GATES['abstention']:.0%}")
        return problems


def _holds(text: str, facts: list[list[str]]) -> bool:
    folded = fold(text)
    return all(any(fold(str(option)) in folded for option in fact) for fact in facts)


def evaluate_facts(
    answerer: Answerer, texts: Texts, questions: dict[str, list[object]]
) -> FactsResult:
    result = FactsResult()
    knowledge = answerer.knowledge
    for item in questions.get("answerable", []):
        assert isinstance(item, dict)
        question, facts = str(item["q"]), item["facts"]
        answer = answerer.answer(question)
        result.answerable += 1
        result.outcomes[answer.outcome.value] += 1
        reply = "\n".join(r.text for r in render(answer, texts, knowledge))
        if answer.outcome in ANSWERED:
            if _holds(reply, facts):
                result.right += 1
                continue
            result.wrong += 1
        topic = (
            answer.entry.id
            if answer.entry
            else (answer.candidates[0].id if answer.candidates else "-")
        )
        result.failures.append(f"{answer.outcome.value} {topic}: {question!r} needs {facts}")
    for key, good in (
        ("out_of_scope", (Outcome.UNKNOWN, Outcome.MEDICAL)),
        ("medical", (Outcome.MEDICAL,)),
    ):
        for question in questions.get(key, []):
            answer = answerer.answer(str(question))
            result.refusable += 1
            if answer.outcome in good:
                result.abstained += 1
            else:
                result.failures.append(f"{key}: {question!r} got {answer.outcome.value}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every failure")
    parser.add_argument("--questions", type=Path, default=THIRD)
    args = parser.parse_args(argv)
    content = content_dir()
    answerer = Answerer.load(content)
    data = yaml.safe_load(args.questions.read_text(encoding="utf-8"))
    result = evaluate_facts(answerer, Texts.load(content), data)
    print(result.summary())
    if args.verbose:
        print("\n".join(result.failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
