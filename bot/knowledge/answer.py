"""From a question to an answer: safety first, then retrieval and a confidence.

The confidence combines how much of the question the best entry covers (idf
weighted) with how clearly it beats the runner-up. Above ``ANSWER`` the bot
answers; between ``CLARIFY`` and ``ANSWER`` it asks "Bedoel je ...?"; below,
it says it does not know. The thresholds are calibrated on the development
question set in ``tests/quality/`` (see ``docs/knowledge.md``).
"""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import py3langid

from bot.knowledge.content import Entry, Knowledge, load_knowledge
from bot.knowledge.index import FieldIndex, Hit
from bot.knowledge.safety import Concern, Safety
from bot.knowledge.text import Analyzer

ANSWER = 0.62
CLARIFY = 0.42
OTHER_LANGUAGE_MARGIN = 0.05
WEAK_MATCH = 2.0  # idf weight of the words matched, below which a match is weak
WEAK_CAP = 0.55  # a weak match is at most a "Bedoel je ...?"
# A message that shares a feeling gets the support reply, unless it is clearly a
# question the content answers ("ik ben mantelzorger, wanneer is het leeratelier?").
CONTENT_OVER_FEELING = 0.75


class Outcome(enum.StrEnum):
    CRISIS = "crisis"
    CRISIS_OTHER = "crisis_other"  # someone else is in danger: how to help, 113 for relatives
    INFO = "info"  # about suicide or 113, not the sender's crisis: 113's information
    MEDICAL = "medical"
    SUPPORT = "support"  # ordinary sadness, stress, loneliness: warmth and help nearby
    GREETING = "greeting"
    THANKS = "thanks"
    ANSWER = "answer"
    CLARIFY = "clarify"
    UNKNOWN = "unknown"


@dataclass
class Answer:
    outcome: Outcome
    language: str
    confidence: float = 0.0
    entry: Entry | None = None
    candidates: list[Entry] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    support_topic: str = ""  # with SUPPORT: which feeling (content/safety.yaml, support)

    @property
    def answered(self) -> bool:
        return self.outcome is Outcome.ANSWER


_QUESTION = re.compile(
    r"\?|^\s*(wat|wie|waar|wanneer|hoe|welke|waarom|kan|kun|mag|is|zijn|heeft|hebben|doet"
    r"|what|who|where|when|how|which|why|can|is|are|does|do)\b",
    re.IGNORECASE,
)


def _asks(text: str) -> bool:
    return bool(_QUESTION.search(text))


_SAFETY_OUTCOMES = {
    Concern.CRISIS: Outcome.CRISIS,
    Concern.CRISIS_OTHER: Outcome.CRISIS_OTHER,
    Concern.INFO: Outcome.INFO,
    Concern.MEDICAL: Outcome.MEDICAL,
}


def confidence(hits: list[Hit]) -> float:
    """0..1: coverage of the best entry, tempered by its margin over the second."""
    if not hits:
        return 0.0
    best = hits[0]
    second = hits[1].score if len(hits) > 1 else 0.0
    margin = (best.score - second) / best.score if best.score > 0 else 0.0
    score = 0.75 * best.coverage + 0.25 * margin
    if best.matched < WEAK_MATCH and not best.exact:
        # One or two everyday words ("ik zoek werk") can be fully covered by an
        # entry and still say little: ask "Bedoel je ...?" rather than answer,
        # unless the words are exactly those of one of its example questions.
        score = min(score, WEAK_CAP)
    return max(0.0, min(1.0, score))


class Answerer:
    """The knowledge base, indexed, ready to answer. Rebuilt on reload."""

    def __init__(self, knowledge: Knowledge, safety: Safety) -> None:
        started = time.perf_counter()
        py3langid.set_languages(["nl", "en"])
        self.knowledge = knowledge
        self.safety = safety
        # Both languages' stop words in both analyzers: a Dutch question searched in
        # the English index (and the reverse) must not match on "het" or "the".
        self._language_words = {lang: knowledge.stopwords.get(lang, set()) for lang in ("nl", "en")}
        stopwords = self._language_words["nl"] | self._language_words["en"]
        self.analyzers = {
            lang: Analyzer(lang, knowledge.synonyms, stopwords) for lang in ("nl", "en")
        }
        context = knowledge.stopwords.get("context", set())
        self.indexes = {
            lang: FieldIndex(knowledge.entries, self.analyzers[lang], lang, context)
            for lang in ("nl", "en")
        }
        self.build_seconds = time.perf_counter() - started

    @classmethod
    def load(cls, content: Path) -> Answerer:
        return cls(load_knowledge(content), Safety.load(content))

    def detect_language(self, text: str, default: str = "nl") -> str:
        """Dutch or English, from stop words first (short questions), then py3langid."""
        words = self.analyzers["nl"].words(text)
        nl_hits = sum(w in self._language_words["nl"] for w in words)
        en_hits = sum(w in self._language_words["en"] for w in words)
        if nl_hits != en_hits and max(nl_hits, en_hits) >= 2:
            return "nl" if nl_hits > en_hits else "en"
        if len(words) < 3:
            return default
        language, _ = py3langid.classify(text)
        return str(language) if language in ("nl", "en") else default

    def answer(
        self, question: str, language: str | None = None, default_language: str = "nl"
    ) -> Answer:
        """Answer ``question``; its language is detected unless ``language`` is given."""
        lang = language or self.detect_language(question, default_language)
        concern = self.safety.assess(question)
        if concern.concern in _SAFETY_OUTCOMES:
            return Answer(_SAFETY_OUTCOMES[concern.concern], lang, 1.0)
        feeling = self.safety.feeling(question) if concern.concern is Concern.SUPPORT else None
        social = self.knowledge.smalltalk.get(" ".join(self.analyzers["nl"].words(question)))
        if social is not None:
            return Answer(Outcome(social), lang, 1.0)
        hits = self.indexes[lang].search(question)
        score = confidence(hits)
        # Mixed questions ("what is Alles is Gezondheid") and topics without an
        # English text are found through the other language's index too.
        other = "en" if lang == "nl" else "nl"
        other_hits = self.indexes[other].search(question, fuzzy=False)
        if confidence(other_hits) > score + OTHER_LANGUAGE_MARGIN:
            hits, score = other_hits, confidence(other_hits)
        candidates = [hit.entry for hit in hits[:3]]
        if feeling is not None and (score < CONTENT_OVER_FEELING or not _asks(question)):
            # A feeling is never "I don't know": warmth and help nearby instead.
            entry = self.knowledge.get(feeling.entry)
            return Answer(
                Outcome.SUPPORT, lang, score, entry, [entry] if entry else [], hits, feeling.name
            )
        if score >= ANSWER:
            return Answer(Outcome.ANSWER, lang, score, hits[0].entry, candidates, hits)
        if score >= CLARIFY:
            return Answer(Outcome.CLARIFY, lang, score, None, candidates, hits)
        return Answer(Outcome.UNKNOWN, lang, score, None, candidates, hits)
