"""The safety layer: crisis signals, information about 113, medical questions and
ordinary feelings, decided before any answer from content.

Everything is declared in ``content/safety.yaml`` (the crisis lexicon by family,
its context, the medical patterns, the support topics and the chat spellings)
and in ``content/safety/crisis_model.npz`` (a small learned classifier next to
the lexicon). The order is fixed and crisis wins over every other rule:

1. **crisis** of the sender (113, 112, huisarts), or of **someone else** they
   worry about (how to help, 113 also advises relatives);
2. **info**: the subject of suicide in news, fiction, prevention work or a
   question about 113, answered with 113's information, not as a crisis; and
   **emergency**: "112" on its own, answered with what to do in an emergency;
3. **medical**: medicines, doses, symptoms, diagnoses → huisarts or apotheek;
4. **support**: ordinary sadness, stress, worry, loneliness, grief, an
   overloaded mantelzorger → warmth and concrete help nearby.
"""

from __future__ import annotations

import enum
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge.chattext import ChatNormalizer, any_of
from bot.knowledge.crisis import CrisisLexicon, Signal, strongest
from bot.knowledge.crisis_model import CrisisModel
from bot.knowledge.text import fold
from bot.yamltext import load_yaml

MODEL_FILE = Path("safety") / "crisis_model.npz"
STRAIN_MIN_WORDS = 6
REST_MIN_WORDS = 3  # words left beside a request that the classifier may read
JUDGED_LINES = 64  # recent lines whose crisis check is remembered (the same message asked twice)


class Concern(enum.StrEnum):
    CRISIS = "crisis"
    CRISIS_OTHER = "crisis_other"
    INFO = "info"
    EMERGENCY = "emergency"
    MEDICAL = "medical"
    SUPPORT = "support"
    NONE = "none"


@dataclass(frozen=True)
class SupportTopic:
    name: str
    patterns: tuple[re.Pattern[str], ...]  # a feeling in so many words
    entry: str  # the knowledge entry the support reply offers
    strain: tuple[re.Pattern[str], ...] = ()  # everyday strain: counts with an emotion word


@dataclass(frozen=True)
class Feeling:
    topic: SupportTopic
    explicit: bool  # said in so many words ("eenzaam"), not only everyday strain


@dataclass(frozen=True)
class Assessment:
    concern: Concern
    family: str = ""  # the crisis family, or "model" when only the classifier saw it
    feeling: Feeling | None = None  # with SUPPORT: the feeling shared

    @property
    def is_crisis(self) -> bool:
        return self.concern in (Concern.CRISIS, Concern.CRISIS_OTHER)

    @property
    def about_someone_else(self) -> bool:
        """A crisis signal about another person (a friend, a child), not the writer."""
        return self.concern is Concern.CRISIS_OTHER

    @property
    def topic(self) -> str:
        """The support topic, if any."""
        return self.feeling.topic.name if self.feeling is not None else ""


class Safety:
    def __init__(self, raw: dict[str, Any], model: CrisisModel | None = None) -> None:
        # The crisis check of the last few lines: the middleware asks it of every
        # message before the answerer asks it again of the same text. Kept in process
        # memory only, and small; the text is never logged.
        self._judged: OrderedDict[str, Assessment | None] = OrderedDict()
        # The normal form of the same few messages: the middleware's crisis check,
        # the answerer's assessment and its strain check each read the message.
        self._lines: OrderedDict[str, str] = OrderedDict()
        self.normalizer = ChatNormalizer(
            raw.get("spelling") or {},
            raw.get("compounds") or {},
            raw.get("keywords") or [],
            raw.get("emoji") or {},
        )
        self.lexicon = CrisisLexicon(raw)
        self.model = model
        self.medical = tuple(re.compile(p) for p in raw.get("medical", []))
        self.emergency = tuple(re.compile(p) for p in raw.get("emergency", []))
        self._emergency = any_of(self.emergency)
        personal = raw.get("support_personal") or {}
        self._professional = re.compile(str(personal.get("professional", "(?!)")))
        self._first_person = re.compile(str(personal.get("first_person", "(?!)")))
        self.support = tuple(
            SupportTopic(
                str(name),
                tuple(re.compile(p) for p in topic.get("patterns", [])),
                str(topic.get("entry", "")),
                tuple(re.compile(p) for p in topic.get("strain", [])),
            )
            for name, topic in (raw.get("support") or {}).items()
        )
        self._emotion = re.compile(str(raw.get("support_emotion", "(?!)")))
        # Each topic's patterns searched at once (``any_of``), in the topics' order.
        self._support = [
            (topic, any_of(topic.patterns), any_of(topic.strain)) for topic in self.support
        ]

    @classmethod
    def load(cls, content: Path) -> Safety:
        raw = load_yaml((content / "safety.yaml").read_text(encoding="utf-8")) or {}
        return cls(raw, CrisisModel.load(content / MODEL_FILE))

    @staticmethod
    def _prepare(text: str) -> str:
        return " ".join(fold(text).replace("’", "'").split())

    def _normalize(self, text: str) -> str:
        """``normalizer.normalize(text)``, remembered for the last few messages."""
        line = self._lines.get(text)
        if line is None:
            line = self._lines[text] = self.normalizer.normalize(text)
            if len(self._lines) > JUDGED_LINES:
                self._lines.popitem(last=False)
        return line

    def crisis(self, text: str) -> Assessment | None:
        """The crisis part only: what the middleware asks of every message."""
        return self._crisis(self._normalize(text))

    def _crisis(self, line: str) -> Assessment | None:
        if line in self._judged:
            return self._judged[line]
        found = self._judge(line)
        self._judged[line] = found
        if len(self._judged) > JUDGED_LINES:
            self._judged.popitem(last=False)
        return found

    def _judge(self, line: str) -> Assessment | None:
        signal = strongest(self.lexicon.signals(line))
        if signal is None and self.model is not None and self.lexicon.open_to_model(line):
            # Ordinary feelings share much of a crisis' vocabulary, and the classifier
            # cannot tell "my mind won't stop" from a wish to die: where a feeling is
            # named, only the patterns decide.
            if self._feeling_topic(line) is not None or not self._model_fires(line):
                return None
            signal = Signal("model", self.lexicon.person(line, len(line), len(line)), True)
        if signal is None:
            return None
        info = self.lexicon.is_info(line)
        about = self.lexicon.is_about(line)
        if signal.mention and about:
            return Assessment(Concern.INFO, signal.family)
        if (
            signal.person == "self"
            or (signal.person == "none" and not info)
            or (signal.person == "general" and not about)
        ):
            return Assessment(Concern.CRISIS, signal.family)
        if signal.person == "other" and (self.lexicon.close_relation(line) or not (info or about)):
            return Assessment(Concern.CRISIS_OTHER, signal.family)
        return Assessment(Concern.INFO, signal.family)

    def _model_fires(self, line: str) -> bool:
        """The classifier on what is left once requests for fewer messages are taken out
        ("ik wil geen berichten meer"); a word or two left over ("ik", "pls") is no
        message of its own."""
        rest = self.lexicon.without_requests(line)
        if rest != line and len(rest.replace("|", " ").split()) < REST_MIN_WORDS:
            return False
        return self.model is not None and self.model.fires(rest)

    def is_crisis(self, text: str) -> bool:
        found = self.crisis(text)
        return found is not None and found.is_crisis

    def is_medical(self, text: str) -> bool:
        folded = self._prepare(text)
        return any(p.search(folded) for p in self.medical)

    def feeling(self, text: str) -> Feeling | None:
        """The feeling a person shares, if any; not a professional's question about the
        people they help."""
        return self._feeling_topic(self._normalize(text))

    def _feeling_topic(self, line: str) -> Feeling | None:
        if self._professional.search(line):
            return None
        for topic, patterns, _ in self._support:
            if any(p.search(line) for p in patterns):
                return Feeling(topic, explicit=True)
        if self._emotion.search(line):
            for topic, _, strain in self._support:
                if any(p.search(line) for p in strain):
                    return Feeling(topic, explicit=False)
        return None

    def strain(self, text: str) -> SupportTopic | None:
        """Everyday strain named by someone about themselves, even without a word of
        how it feels ("ik zit veel alleen thuis"): the support reply instead of "I
        don't know" when the content has no answer."""
        line = self._normalize(text)
        if self._professional.search(line) or not self._first_person.search(line):
            return None
        if len(line.split()) < STRAIN_MIN_WORDS:
            return None
        for topic, _, strain in self._support:
            if any(p.search(line) for p in strain):
                return topic
        return None

    def assess(self, text: str) -> Assessment:
        """The whole safety decision for a question, in the fixed order."""
        line = self._normalize(text)
        found = self._crisis(line)
        if found is not None:
            return found
        if any(p.search(line) for p in self._emergency):
            return Assessment(Concern.EMERGENCY)
        if self.lexicon.is_topic(line):
            return Assessment(Concern.INFO, "topic")
        if self.is_medical(text):
            return Assessment(Concern.MEDICAL)
        feeling = self._feeling_topic(line)
        if feeling is not None:
            return Assessment(Concern.SUPPORT, feeling=feeling)
        return Assessment(Concern.NONE)
