"""From a question to an answer: safety first, then retrieval and a confidence.

The confidence combines how much of the question the best entry covers (idf
weighted) with how clearly it beats the runner-up. Above ``ANSWER`` the bot
answers; between ``CLARIFY`` and ``ANSWER`` it asks "Bedoel je ...?"; below,
it says it does not know. The thresholds are calibrated on the development
question set in ``tests/quality/`` (see ``docs/knowledge.md``).

Suggestions (the options of a "Bedoel je ...?" and the topics under "I don't
know") are only entries that share a topic word with the question
(``Hit.topical``): a "Bedoel je ...?" whose first entry does not is an "I don't
know"; and an "I don't know" offers topics only with at least ``SUGGEST_SHARE``
of the evidence a "Bedoel je ...?" needs. A bare number is never a question.
"""

from __future__ import annotations

import enum
import functools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.knowledge.agenda_question import AgendaQuestion, AgendaQuestions
from bot.knowledge.content import Entry, Knowledge, load_knowledge
from bot.knowledge.decision import Decision
from bot.knowledge.index import FieldIndex, Hit
from bot.knowledge.people import People, Person
from bot.knowledge.region import Membership, Region
from bot.knowledge.safety import Assessment, Concern, Safety, SupportTopic
from bot.knowledge.text import Analyzer, NumberReader

ANSWER = 0.62
CLARIFY = 0.42
OTHER_LANGUAGE_MARGIN = 0.05
WEAK_MATCH = 2.0  # idf weight of the words matched, below which a match is weak
WEAK_CAP = 0.55  # a weak match is at most a "Bedoel je ...?"
# A message that shares a feeling gets the support reply, unless it is clearly a
# question the content answers ("ik ben mantelzorger, wanneer is het leeratelier?").
CONTENT_OVER_FEELING = 0.75
# An "I don't know" offers related topics only with at least this share of the
# evidence (the decision's probability) that a "Bedoel je ...?" needs.
SUGGEST_SHARE = 0.5
GREETING_CLAUSE_WORDS = 4  # "Dag meneer/mevrouw, hoe …?": a greeting before the comma
_QUESTION_SENTENCE = re.compile(r"[^.!?:;\n]*\?")


@functools.cache
def _language_identifier() -> Any:
    """py3langid, loaded at the first detection that needs it, not at start: its
    model costs about 70 MiB of memory and half a second, and most short messages
    are told apart by their stop words alone (``Answerer.detect_language``)."""
    import py3langid

    py3langid.set_languages(["nl", "en"])
    return py3langid


class Outcome(enum.StrEnum):
    CRISIS = "crisis"
    CRISIS_OTHER = "crisis_other"  # someone else is in danger: how to help, 113 for relatives
    INFO = "info"  # about suicide or 113, not the sender's crisis: 113's information
    EMERGENCY = "emergency"  # "112" on its own: what to do in an emergency
    MEDICAL = "medical"
    SUPPORT = "support"  # ordinary sadness, stress, loneliness: warmth and help nearby
    FACT = "fact"  # a direct answer from a fact table ("hoort Sassenheim bij de regio?")
    GREETING = "greeting"
    THANKS = "thanks"
    ANSWER = "answer"
    CLARIFY = "clarify"
    UNKNOWN = "unknown"
    NUMBER = "number"  # a bare number ("4"), a menu choice that chose nothing: no question
    AGENDA = "agenda"  # when/where is the next event: answered from the agenda, not content


@dataclass
class Answer:
    outcome: Outcome
    language: str
    confidence: float = 0.0
    entry: Entry | None = None
    candidates: list[Entry] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    support_topic: str = ""  # with SUPPORT: which feeling (content/safety.yaml, support)
    membership: Membership | None = None  # with FACT: the place asked about
    person: Person | None = None  # with FACT: the person asked about
    agenda: AgendaQuestion | None = None  # with AGENDA: the kind of event asked about

    @property
    def answered(self) -> bool:
        """Answered from content or a fact table (not a referral, a question back or a
        "don't know")."""
        return self.outcome in (Outcome.ANSWER, Outcome.FACT, Outcome.AGENDA)

    @property
    def gap(self) -> bool:
        """A question the content did not answer outright: a "Bedoel je ...?" or an
        "I don't know" (recorded for ``content gaps``)."""
        return self.outcome in (Outcome.CLARIFY, Outcome.UNKNOWN)


_WORD = re.compile(r"[^\W\d_]+")  # letters of any script: a word, not a number
_QUESTION = re.compile(
    r"\?|^\s*(wat|wie|waar|wanneer|hoe|welke|waarom|kan|kun|mag|is|zijn|heeft|hebben|doet"
    r"|what|who|where|when|how|which|why|can|is|are|does|do)\b",
    re.IGNORECASE,
)


def _asks(text: str) -> bool:
    return bool(_QUESTION.search(text))


_SENTENCE = re.compile(r"[^.?!;]+[.?!;]*")
FOCUS_MIN_WORDS = 12


def _focus(question: str) -> list[str]:
    """The core of a long question: its last sentence and any sentence that asks."""
    if len(question.split()) < FOCUS_MIN_WORDS:
        return []
    sentences = [s.strip() for s in _SENTENCE.findall(question) if len(s.split()) >= 2]
    if len(sentences) < 2:
        parts = [p.strip() for p in question.split(",") if len(p.split()) >= 3]
        sentences = parts if len(parts) >= 2 else []
    core = [s for s in sentences if "?" in s]
    if sentences:
        core.append(sentences[-1])
    return [s for s in dict.fromkeys(core) if s != question.strip()]


_SAFETY_OUTCOMES = {
    Concern.CRISIS: Outcome.CRISIS,
    Concern.CRISIS_OTHER: Outcome.CRISIS_OTHER,
    Concern.INFO: Outcome.INFO,
    Concern.EMERGENCY: Outcome.EMERGENCY,
    Concern.MEDICAL: Outcome.MEDICAL,
}
SAFETY_OUTCOMES = frozenset(_SAFETY_OUTCOMES.values())  # answered by the safety layer


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


def trim_phrases(words: list[str], phrases: Sequence[list[str]], keep: int) -> list[str]:
    """``words`` without any of ``phrases`` at the start and at the end, again and again,
    keeping at least ``keep`` words; tried in the phrases' order, which decides between
    overlapping ones."""
    start, end = 0, len(words)
    changed = True
    while changed:
        changed = False
        for phrase in phrases:
            n = len(phrase)
            if end - start >= n + keep and words[start : start + n] == phrase:
                start, changed = start + n, True
            elif end - start >= n + keep and words[end - n : end] == phrase:
                end, changed = end - n, True
    return words[start:end]


class Answerer:
    """The knowledge base, indexed, ready to answer. Rebuilt on reload."""

    def __init__(
        self,
        knowledge: Knowledge,
        safety: Safety,
        region: Region | None = None,
        decision: Decision | None = None,
        people: People | None = None,
        agenda: AgendaQuestions | None = None,
    ) -> None:
        started = time.perf_counter()
        self.agenda = agenda
        self.region = region
        self.decision = decision
        self.people = people
        self.knowledge = knowledge
        self.safety = safety
        self._courtesy = [phrase.split() for phrase in knowledge.courtesy]
        # By first word (the words a courtesy phrase starts with), in the order above:
        # only phrases whose words are all in a message can be trimmed from it.
        self._courtesy_words = [frozenset(phrase) for phrase in self._courtesy]
        self._courtesy_by_first: dict[str, list[int]] = {}
        for position, phrase in enumerate(self._courtesy):
            self._courtesy_by_first.setdefault(phrase[0], []).append(position)
        # Both languages' stop words in both analyzers: a Dutch question searched in
        # the English index (and the reverse) must not match on "het" or "the".
        self._language_words = {lang: knowledge.stopwords.get(lang, set()) for lang in ("nl", "en")}
        stopwords = self._language_words["nl"] | self._language_words["en"]
        self.analyzers = {
            lang: Analyzer(lang, knowledge.synonyms, stopwords) for lang in ("nl", "en")
        }
        context = knowledge.stopwords.get("context", set())
        self.numbers = NumberReader(self.analyzers["nl"], knowledge.stopwords.get("choice", set()))
        self.indexes = {
            lang: FieldIndex(knowledge.entries, self.analyzers[lang], lang, context)
            for lang in ("nl", "en")
        }
        self.build_seconds = time.perf_counter() - started

    @classmethod
    def load(cls, content: Path) -> Answerer:
        decision_file = content / "knowledge" / "decision.yaml"
        decision = Decision.load(decision_file) if decision_file.exists() else None
        return cls(
            load_knowledge(content),
            Safety.load(content),
            Region.load(content),
            decision,
            People.load(content),
            AgendaQuestions.load(content),
        )

    def _probability(self, hits: list[Hit]) -> float:
        return self.decision.probability(hits) if self.decision else confidence(hits)

    @property
    def thresholds(self) -> tuple[float, float]:
        """Answer and clarify thresholds of the decision in use."""
        if self.decision is None:
            return ANSWER, CLARIFY
        return self.decision.answer, self.decision.clarify

    def search(self, question: str, language: str | None = None) -> list[Hit]:
        """The hits the bot would decide on (see :meth:`answer`)."""
        words = self.analyzers["nl"].words(question)
        lang = language or self._detect_language(question, words)
        return self._best_hits(question, words, lang)[0]

    def _best_hits(self, question: str, words: list[str], lang: str) -> tuple[list[Hit], float]:
        """Search the question (its ``words`` as the Dutch analyzer reads them), and its
        core when it comes with a long run-up ("wij zijn een praktijk in Katwijk, ...
        kunnen we aansluiten?"), in the question's language and in the other one; keep
        the search the decision trusts most."""
        other = "en" if lang == "nl" else "nl"
        best: tuple[list[Hit], float] = ([], -1.0)
        # A message wrapped in courtesy words is searched without them (a closing such
        # as "fijne dag" is also a partner's slogan), and by its asking sentence.
        trimmed, asking = self._without_courtesy(question, words)
        focus = [
            f for f in _focus(question) if self._trim_courtesy(self.analyzers["nl"].words(f), 0)
        ]
        texts = (trimmed or question, *focus, *([asking] if asking else []))
        for text in dict.fromkeys(texts):
            for index_language, fuzzy, handicap in (
                (lang, True, 0.0),
                (other, False, OTHER_LANGUAGE_MARGIN),
            ):
                # Mixed questions ("what is Alles is Gezondheid") and topics without an
                # English text are found through the other language's index too.
                hits = self.indexes[index_language].search(text, fuzzy=fuzzy)
                probability = self._probability(hits) - handicap
                if probability > best[1]:
                    best = (hits, probability)
        return best[0], max(0.0, best[1])

    def _support(self, topic: SupportTopic, lang: str, score: float, hits: list[Hit]) -> Answer:
        entry = self.knowledge.get(topic.entry)
        candidates = [entry] if entry else []
        return Answer(Outcome.SUPPORT, lang, score, entry, candidates, hits, topic.name)

    def detect_language(self, text: str, default: str = "nl") -> str:
        """Dutch or English, from stop words first (short questions), then py3langid.
        Numbers, dates and punctuation are no words ("13-03 10:00", "4.", "?!"): text with
        fewer than three words has the person's own language (``default``), not what
        py3langid makes of digits."""
        return self._detect_language(text, self.analyzers["nl"].words(text), default)

    def _detect_language(self, text: str, words: list[str], default: str = "nl") -> str:
        """:meth:`detect_language` of ``text``, whose ``words`` (Dutch analyzer) are known."""
        written = _WORD.findall(text)
        if not written:
            return default
        nl_hits = sum(w in self._language_words["nl"] for w in words)
        en_hits = sum(w in self._language_words["en"] for w in words)
        if nl_hits != en_hits and max(nl_hits, en_hits) >= 2:
            return "nl" if nl_hits > en_hits else "en"
        if len(written) < 3:
            return default
        language, _ = _language_identifier().classify(text)
        return str(language) if language in ("nl", "en") else default

    def answer(
        self, question: str, language: str | None = None, default_language: str = "nl"
    ) -> Answer:
        """Answer ``question``; its language is detected unless ``language`` is given."""
        # The question's words, read once for the language, small talk and the search.
        words = self.analyzers["nl"].words(question)
        lang = language or self._detect_language(question, words, default_language)
        concern = self.safety.assess(question)
        direct = self._direct(question, words, lang, concern)
        if direct is not None:
            return direct
        feeling = concern.feeling
        hits, score = self._best_hits(question, words, lang)
        answer_at, _ = self.thresholds
        person = self.people.find(question) if self.people is not None else None
        if person is not None and (score < answer_at or person.name not in hits[0].entry.answer):
            # "wie is Tessa den Dulk": the person, unless an entry answers it about them.
            return Answer(Outcome.FACT, lang, 1.0, person=person)
        candidates = [hit.entry for hit in hits[:3]]
        if feeling is not None and (
            score < answer_at
            or (feeling.explicit and (score < CONTENT_OVER_FEELING or not _asks(question)))
        ):
            # A feeling is never "I don't know": warmth and help nearby instead.
            return self._support(feeling.topic, lang, score, hits)
        if score >= answer_at:
            return Answer(Outcome.ANSWER, lang, score, hits[0].entry, candidates, hits)
        return self._below_answer(question, lang, score, hits)

    def _direct(
        self, question: str, words: list[str], lang: str, concern: Assessment
    ) -> Answer | None:
        """The answers that need no search: safety first, then a bare number, when the
        next event is (the agenda answers), a place's membership and small talk (by the
        question's ``words``). None when the question needs the content."""
        if concern.concern in _SAFETY_OUTCOMES:
            return Answer(_SAFETY_OUTCOMES[concern.concern], lang, 1.0)
        if self.numbers.is_number(question):
            return Answer(Outcome.NUMBER, lang)
        asked = self.agenda.read(question) if self.agenda is not None else None
        if asked is not None:
            return Answer(Outcome.AGENDA, lang, 1.0, agenda=asked)
        place = self.region.membership(question) if self.region is not None else None
        if place is not None:
            return Answer(Outcome.FACT, lang, 1.0, membership=place)
        social = self.knowledge.smalltalk.get(" ".join(words))
        if social is not None:
            return Answer(Outcome(social), lang, 1.0)
        return None

    def _without_courtesy(self, question: str, words: list[str]) -> tuple[str | None, str | None]:
        """The question without what comes around it: the greeting before it and the
        thanks, closing or name after it ("goedemiddag, wat is een verbinder? alvast
        bedankt!", "Hoi! Even een vraag. Wat doet een gangmaker? Groetjes, Ria").

        Two readings, each None when it is the message itself: the message without its
        courtesy words at either end (it replaces the message in the search: nothing
        about the topic is lost), and the sentence that asks (the last one with a
        question mark) without a short greeting clause before it (searched beside it).
        ``words``: the question's words (Dutch analyzer).
        """
        kept = self._trim_courtesy(words)
        trimmed = " ".join(kept) if kept and len(kept) < len(words) else None
        asking: str | None = None
        asked = _QUESTION_SENTENCE.findall(question)
        if asked:
            sentence = asked[-1].strip()
            head, comma, rest = sentence.partition(",")
            opening = self.analyzers["nl"].words(head)
            greeting = 0 < len(opening) <= GREETING_CLAUSE_WORDS and (
                opening[0] in self._courtesy_by_first
            )
            if comma and rest.strip() and greeting:
                sentence = rest
            core = " ".join(self._trim_courtesy(self.analyzers["nl"].words(sentence)))
            if core and core not in (" ".join(words), trimmed):
                asking = core
        return trimmed, asking

    def _trim_courtesy(self, words: list[str], keep: int = 1) -> list[str]:
        """``words`` without courtesy phrases at the start and at the end, keeping at
        least ``keep`` words (0: a sentence of courtesy alone, "Fijne dag nog!", is
        nothing)."""
        present = frozenset(words)
        phrases = [
            self._courtesy[position]
            for position in sorted(
                position
                for word in present
                for position in self._courtesy_by_first.get(word, ())
                if self._courtesy_words[position] <= present
            )
        ]
        return trim_phrases(words, phrases, keep)

    def _below_answer(self, question: str, lang: str, score: float, hits: list[Hit]) -> Answer:
        """No entry scores high enough to answer: support for strain, else a question
        back (clarify) or "I don't know" with related entries."""
        _, clarify_at = self.thresholds
        strain = self.safety.strain(question)
        if strain is not None:
            return self._support(strain, lang, score, hits)
        related = [hit.entry for hit in hits[:3] if hit.topical]
        if score >= clarify_at and hits[0].topical:
            return Answer(Outcome.CLARIFY, lang, score, None, related, hits)
        if score < SUGGEST_SHARE * clarify_at:
            related = []
        return Answer(Outcome.UNKNOWN, lang, score, None, related, hits)
