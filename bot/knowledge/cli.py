"""The knowledge commands of the CLI: ``ask``, ``content check``, ``content gaps``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from bot.core.texts import Texts
from bot.knowledge.answer import SAFETY_OUTCOMES, Answer, Answerer
from bot.knowledge.check import check_content
from bot.knowledge.content import Knowledge
from bot.knowledge.region import REGION_ENTRY
from bot.paths import content_dir
from bot.settings import Settings


def _sources(result: Answer, knowledge: Knowledge) -> list[str]:
    if result.person is not None:
        return [result.person.source.label(knowledge.source_names(result.language))]
    entry = result.entry
    if result.membership is not None:
        entry = knowledge.get(REGION_ENTRY)
    return [knowledge.source_label(entry, result.language)] if entry else []


def _as_json(
    question: str, result: Answer, replies_text: str, knowledge: Knowledge
) -> dict[str, Any]:
    entry = result.entry
    return {
        "question": question,
        "answered": result.answered,
        "outcome": result.outcome.value,
        "answer": replies_text,
        "sources": _sources(result, knowledge),
        "score": round(result.confidence, 4),
        "topic": entry.id if entry else None,
        "candidates": [c.id for c in result.candidates],
        "language": result.language,
        "safety": result.outcome in SAFETY_OUTCOMES,
    }


def ask(settings: Settings, question: str, *, as_json: bool, language: str | None) -> int:
    from handlers.ask import render

    content = content_dir(settings.content_dir)
    texts = Texts.load(content)
    answerer = Answerer.load(content)
    questions: Iterator[str]
    if as_json and not question.strip():
        questions = (line.rstrip("\n") for line in sys.stdin)
    elif question.strip():
        questions = iter([question])
    else:
        print(
            "alliantiebot: ask needs a question (or --json with questions on stdin)",
            file=sys.stderr,
        )
        return 2
    for text in questions:
        if not text.strip():
            if as_json:
                print(
                    json.dumps(
                        {
                            "question": text,
                            "answered": False,
                            "outcome": "empty",
                            "answer": "",
                            "sources": [],
                            "score": 0.0,
                            "topic": None,
                        }
                    )
                )
            continue
        result = answerer.answer(
            text, language=language, default_language=settings.default_language
        )
        replies = render(result, texts, answerer.knowledge)
        shown = "\n".join(r.text for r in replies)
        if as_json:
            print(
                json.dumps(_as_json(text, result, shown, answerer.knowledge), ensure_ascii=False),
                flush=True,
            )
        else:
            print(shown)
            for reply in replies:
                for number, choice in enumerate(reply.choices, start=1):
                    print(f"  {number}. {choice.label}")
    return 0


def check(settings: Settings) -> int:
    report = check_content(content_dir(settings.content_dir))
    for error in report.errors:
        print(f"error: {error}")
    for confusion in report.confusions:
        print(f"confusion: {confusion}")
    print(
        f"{report.entries} entries, {report.questions} example questions, "
        f"{len(report.errors)} errors, {len(report.confusions)} confusions"
    )
    return 1 if report.errors else 0


async def gaps(settings: Settings, limit: int) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.storage import db
    from bot.storage.repositories.gaps import GapRepo

    since = datetime.now(UTC) - timedelta(days=settings.unanswered_retention_days)
    # Reads only: a missing or older database is one line and exit 2, never migrated.
    async with db.existing(settings.database_url, settings.db_startup_timeout) as (
        engine,
        revision,
    ):
        db.require_head(revision)
        async with db.session_factory(engine)() as session:
            rows = await GapRepo(session).most_frequent(limit, since=since)
    if not rows:
        print("no unanswered questions recorded")
    for question, count in rows:  # no dates: a date and a wording can point at a person
        print(f"{count:5d}  {question}")
    return 0


def train(settings: Settings, questions: str) -> int:
    """Retrain the crisis classifier and the decision to answer (needs the dev extra)."""
    from pathlib import Path

    from bot.knowledge.crisis_train import train as train_crisis
    from bot.knowledge.decision_train import train as train_decision

    content = content_dir(settings.content_dir)
    crisis = train_crisis(content)
    print(
        f"crisis classifier: {crisis.crisis} crisis and {crisis.ordinary} hard negative "
        f"messages; threshold {crisis.threshold:.2f}; cross-validated with the lexicon: "
        f"recall {crisis.cv_recall:.1%}, false alarms {crisis.cv_false_alarms:.1%}"
    )
    decision = train_decision(content, Path(questions))
    print(
        f"decision to answer: {decision.answerable} answerable and {decision.out_of_scope} "
        f"out-of-scope questions; answer at {decision.answer:.2f}, clarify at "
        f"{decision.clarify:.2f}; cross-validated: right {decision.cv_right:.1%}, "
        f"wrong {decision.cv_wrong:.1%}, out of scope refused {decision.cv_abstain:.1%}"
    )
    return 0


def explain(settings: Settings, text: str) -> int:
    """For reviewers: which safety patterns a message trips, and the decision."""
    answerer = Answerer.load(content_dir(settings.content_dir))
    safety = answerer.safety
    line = safety.normalizer.normalize(text)
    print(f"normal form: {line}")
    for signal in safety.lexicon.signals(line):
        kind = "weak " if signal.weak else "mention " if signal.mention else ""
        print(f"signal: {signal.family} ({kind}about {signal.person}): {signal.pattern}")
    if safety.model is not None:
        probability, threshold = safety.model.probability(line), safety.model.threshold
        print(f"classifier: {probability:.2f} (fires at {threshold:.2f})")
        rest = safety.lexicon.without_requests(line)
        if rest != line:
            rest_probability = safety.model.probability(rest)
            print(f"without the request for fewer messages: {rest!r}: {rest_probability:.2f}")
    print(f"safety: {safety.assess(text)}")
    result = answerer.answer(text)
    print(f"outcome: {result.outcome.value} ({result.confidence:.2f})")
    return 0
