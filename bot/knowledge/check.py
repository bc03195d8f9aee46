"""``alliantiebot content check``: validate the content and report confusions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.agenda.reminders import timing_problems
from bot.agenda.series import rules_problems
from bot.circles.rules import rules_problems as circle_problems
from bot.knowledge.answer import Answerer
from bot.knowledge.safety import Concern


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    confusions: list[str] = field(default_factory=list)
    entries: int = 0
    questions: int = 0


def check_content(content: Path) -> Report:
    report = Report()
    try:
        answerer = Answerer.load(content)
    except Exception as exc:  # a broken safety.yaml or synonyms file
        report.errors.append(f"content cannot be loaded: {exc}")
        return report
    knowledge = answerer.knowledge
    report.errors += knowledge.errors
    report.entries = len(knowledge.entries)
    if report.entries == 0:
        report.errors.append("no knowledge entries found")
    for entry in knowledge.entries:
        for language in ("nl", "en"):
            if language == "en" and entry.en is None:
                continue
            for question in entry.text(language)[1]:
                report.questions += 1
                concern = answerer.safety.assess(question).concern
                if concern in (Concern.CRISIS, Concern.CRISIS_OTHER, Concern.MEDICAL):
                    report.errors.append(
                        f"{entry.id}: example question trips the safety layer: {question!r}"
                    )
                    continue
                hits = answerer.indexes[language].search(question, limit=1)
                best = hits[0].entry.id if hits else "(nothing)"
                if best != entry.id:
                    report.confusions.append(f"{entry.id} [{language}]: {question!r} → {best}")
    report.errors += rules_problems(content)  # the agenda's series rules are content too
    report.errors += timing_problems(content)  # and when it sends reminders and prompts
    report.errors += circle_problems(content)  # the reflectiecirkels' wishes and dates
    return report
