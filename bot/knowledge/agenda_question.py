""" "Wanneer is het volgende leeratelier?": a question the agenda answers, not the content.

A question that asks when (or where) the next event of a kind is, or what is on the
agenda, is answered from the agenda with the date it holds (``handlers/agenda_ask.py``);
a question *about* a kind ("wat is een leeratelier?", "wanneer was het vijfde
leeratelier?") stays with the curated content. The words live in
``content/agenda_questions.yaml``; the text is read in the normal form of the safety
layer (:class:`~bot.knowledge.chattext.ChatNormalizer`: chat spelling, compounds,
near misses corrected) and words are compared by their Snowball stems
(:class:`~bot.knowledge.text.Analyzer`), so "leerateliers", "leeratelir" and "leer-atelier"
are all a leeratelier. The rules are described at the top of that file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from bot.knowledge.chattext import ChatNormalizer
from bot.knowledge.text import Analyzer
from bot.yamltext import load_yaml

FILE = "agenda_questions.yaml"
STEM_FROM = 5  # shorter words are compared as written
NEXT_BEFORE = 3  # a `next` word counts up to this many words before the kind
KIND_CUTOFF = 80.0  # a long unknown word this close to a kind is that kind ("leerateljee")
KIND_FROM = 7  # shorter words are not corrected to a kind
LISTS = (
    "agenda",
    "next",
    "soon",
    "when",
    "where",
    "one",
    "past",
    "general",
    "phrases",
    "months",
    "period",
    "asking",
    "doing",
    "filler",
    "about",
    "personal",
)
ANSWERS = "answers"  # the short answers to a card, typed: the whole text is one of them


@dataclass(frozen=True, slots=True)
class AgendaQuestion:
    """What was asked: the kind (None: any event) and whether it asked where."""

    kind: str | None
    where: bool = False
    rsvp: bool = False  # just "Ik kom" / "Misschien" typed, with no card to answer
    month: int | None = None  # "is er in januari een leeratelier?": 1


class _Line:
    """A question's tokens in normal form, read once: each token's forms and the
    spans each word list covers (the rules ask the same lists more than once)."""

    def __init__(self, tokens: list[str], reader: AgendaQuestions) -> None:
        self.tokens = tokens
        self.forms = [reader.forms(token) for token in tokens]
        self.text = " ".join(tokens)
        self._spans: dict[_Words, list[range]] = {}

    def __len__(self) -> int:
        return len(self.tokens)

    def spans(self, words: _Words) -> list[range]:
        found = self._spans.get(words)
        if found is None:
            found = self._spans[words] = words.spans(self)
        return found


class _Words:
    """One list of words and phrases, matched on a normal-form line by stem."""

    def __init__(self, entries: Iterable[str], reader: AgendaQuestions) -> None:
        self.single: set[str] = set()
        # (the phrase, its pattern): a line without the phrase needs no pattern
        self.phrases: list[tuple[str, re.Pattern[str]]] = []
        for entry in entries:
            words = reader.normalizer.normalize(entry).replace("|", " ").split()
            if len(words) == 1:
                self.single |= reader.forms(words[0])
            elif words:
                phrase = " ".join(words)
                self.phrases.append((phrase, re.compile(rf"(?<!\S){re.escape(phrase)}(?!\S)")))

    def spans(self, line: _Line) -> list[range]:
        """The tokens each word or phrase of the list covers in ``line``."""
        found = [
            range(i, i + 1)
            for i, forms in enumerate(line.forms)
            if not forms.isdisjoint(self.single)
        ]
        for phrase, pattern in self.phrases:
            if phrase not in line.text:
                continue
            for match in pattern.finditer(line.text):
                start = line.text[: match.start()].count(" ")
                found.append(range(start, start + match.group().count(" ") + 1))
        return sorted(found, key=lambda span: span.start)

    def positions(self, line: _Line) -> list[int]:
        """Where in ``line`` a word or phrase of the list starts."""
        return [span.start for span in line.spans(self)]

    def anywhere(self, line: _Line) -> bool:
        return bool(line.spans(self))


class AgendaQuestions:
    def __init__(self, raw: dict[str, Any]) -> None:
        kinds: dict[str, list[str]] = {str(k): [str(w) for w in v] for k, v in raw["kinds"].items()}
        months = {int(k): [str(w) for w in v] for k, v in (raw.get("months") or {}).items()}
        lists = {name: [str(w) for w in raw.get(name) or []] for name in LISTS if name != "months"}
        lists["months"] = [w for words in months.values() for w in words]
        every = [w for words in (*kinds.values(), *lists.values()) for w in words]
        keywords = {w for entry in every for w in entry.split() if len(w) >= 6}
        self.normalizer = ChatNormalizer(
            {str(k): str(v) for k, v in (raw.get("spelling") or {}).items()},
            {str(k): str(v) for k, v in (raw.get("compounds") or {}).items()},
            keywords,
        )
        self._analyzers = [Analyzer(lang, [], set()) for lang in ("nl", "en")]
        self.forms = lru_cache(maxsize=20_000)(self._forms)
        self.kinds = {kind: _Words(words, self) for kind, words in kinds.items()}
        self.words = {name: _Words(words, self) for name, words in lists.items()}
        self.months = {number: _Words(words, self) for number, words in months.items()}
        self._kind_words = sorted(
            {w for words in self.kinds.values() for w in words.single if ":" not in w}
        )
        self._kinds_by_start: dict[str, list[str]] = {}  # by their first two letters
        for word in self._kind_words:
            self._kinds_by_start.setdefault(word[:2], []).append(word)
        self._answers = {
            " ".join(t for t in self.normalizer.normalize(a).split() if t != "|")
            for a in raw.get(ANSWERS) or []
        }
        self._known = set().union(*(w.single for w in (*self.kinds.values(), *self.words.values())))

    @classmethod
    def load(cls, content: Path) -> AgendaQuestions | None:
        path = content / FILE
        if not path.exists():
            return None
        return cls(load_yaml(path.read_text(encoding="utf-8")) or {})

    def _forms(self, word: str) -> frozenset[str]:
        """A word and its stems in Dutch and English: what two words share when they
        are forms of one word. Short words only as written ("dat" is not "date").
        Remembered per word (``forms``)."""
        if len(word) < STEM_FROM:
            return frozenset((word,))
        return frozenset((word, *(f"{a.language}:{a.stem(word)}" for a in self._analyzers)))

    def _near_kind(self, word: str) -> str | None:
        """The kind word a long unknown word (or two joined) is a slip of, if any:
        "leerateljee", "leer ateljee" → "leeratelier". Only kind words that begin with
        the same two letters compete, so "ateliers" or "bestuur" stay what they are."""
        if len(word) < KIND_FROM or self.forms(word) & self._known:
            return None
        candidates = self._kinds_by_start.get(word[:2], [])
        found = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=KIND_CUTOFF)
        return str(found[0]) if found else None

    def _near_kinds(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens) and not self.forms(tokens[i + 1]) & self._known:
                joined = self._near_kind(tokens[i] + tokens[i + 1])
                if joined is not None:
                    out.append(joined)
                    i += 2
                    continue
            out.append(self._near_kind(tokens[i]) or tokens[i])
            i += 1
        return out

    def _bare(self, line: _Line, kinds: list[range]) -> bool:
        """Only a kind and a when word ("leeratelier datum?", "wanneer leeratelier")."""
        when = line.spans(self.words["when"])
        fill = line.spans(self.words["filler"])
        if not kinds or not when:
            return False
        covered = {i for span in (*kinds, *when, *fill) for i in span}
        return covered >= set(range(len(line)))

    def _ahead(self, line: _Line) -> list[int]:
        """Where the question names a time to come: a month, "volgende maand", "soon"."""
        return [
            *self.words["months"].positions(line),
            *self.words["period"].positions(line),
            *self.words["soon"].positions(line),
        ]

    def _whats_on(self, line: _Line) -> bool:
        """What is on, some time ahead: "wat staat er de komende tijd gepland?", "wat is
        er volgende maand te doen?" (a question word, something to do, a time ahead)."""
        if not self.words["asking"].anywhere(line) or self.words["personal"].anywhere(line):
            return False
        on = set(self.words["doing"].positions(line))
        return bool(on) and bool(set(self._ahead(line)) - on)

    def _month(self, line: _Line) -> int | None:
        """The month named first, by number."""
        named = {n: at for n, words in self.months.items() if (at := words.positions(line))}
        return min(named, key=lambda n: named[n][0], default=None)

    def read(self, question: str) -> AgendaQuestion | None:
        """The agenda question asked, or None when the question is for the content."""
        tokens = [t for t in self.normalizer.normalize(question).split() if t != "|"]
        if not tokens:
            return None
        if " ".join(tokens) in self._answers:  # "Ik kom" typed: which activity?
            return AgendaQuestion(None, rsvp=True)
        line = _Line(self._near_kinds(tokens), self)
        found = self._read(line)
        if found is None:
            return None
        return AgendaQuestion(found.kind, found.where, month=self._month(line))

    def _read(self, line: _Line) -> AgendaQuestion | None:
        where = self.words["where"].anywhere(line)
        if self.words["phrases"].anywhere(line):
            return AgendaQuestion(None, where)
        if any(self.words[name].anywhere(line) for name in ("past", "general", "about")):
            return None
        spans = {kind: line.spans(words) for kind, words in self.kinds.items()}
        named = {kind: [span.start for span in at] for kind, at in spans.items()}
        kind = min(
            (kind for kind, at in named.items() if at), key=lambda k: named[k][0], default=None
        )
        places = sorted(
            {*self.words["agenda"].positions(line), *(p for at in named.values() for p in at)}
        )
        if not places:
            return AgendaQuestion(None, where) if self._whats_on(line) else None
        # a month or a time ahead: "is er in januari een leeratelier?" (for the agenda
        # as a whole only as a question: "welke activiteiten zijn er de komende weken?")
        months = [*self.words["months"].positions(line), *self.words["period"].positions(line)]
        asking = self.words["asking"].anywhere(line) and not self.words["personal"].anywhere(line)
        if months and (kind is not None or asking):
            return AgendaQuestion(kind, where)
        if self._bare(line, [span for at in spans.values() for span in at]):
            return AgendaQuestion(kind, where)
        nexts = self.words["next"].positions(line)
        soon = nexts_before(nexts, places) or self.words["soon"].anywhere(line)
        asks = self.words["when"].anywhere(line) or where
        if soon or (asks and (nexts or self.words["one"].anywhere(line))):
            return AgendaQuestion(kind, where)
        if self._whats_on(line):
            return AgendaQuestion(kind, where)
        return None


def nexts_before(nexts: list[int], places: list[int]) -> bool:
    """A `next` word shortly before a kind: "het volgende leeratelier", not "het
    leeratelier over de volgende stap"."""
    return any(0 < place - at <= NEXT_BEFORE for at in nexts for place in places)
