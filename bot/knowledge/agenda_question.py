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
from pathlib import Path
from typing import Any

from bot.knowledge.chattext import ChatNormalizer
from bot.knowledge.text import Analyzer
from bot.yamltext import load_yaml

FILE = "agenda_questions.yaml"
STEM_FROM = 5  # shorter words are compared as written
NEXT_BEFORE = 3  # a `next` word counts up to this many words before the kind
LISTS = ("agenda", "next", "soon", "when", "where", "one", "past", "general", "phrases")


@dataclass(frozen=True, slots=True)
class AgendaQuestion:
    """What was asked: the kind (None: any event) and whether it asked where."""

    kind: str | None
    where: bool = False


class _Words:
    """One list of words and phrases, matched on a normal-form line by stem."""

    def __init__(self, entries: Iterable[str], reader: AgendaQuestions) -> None:
        self._reader = reader
        self.single: set[str] = set()
        self.phrases: list[re.Pattern[str]] = []
        for entry in entries:
            words = reader.normalizer.normalize(entry).replace("|", " ").split()
            if len(words) == 1:
                self.single |= reader.forms(words[0])
            elif words:
                self.phrases.append(re.compile(rf"(?<!\S){re.escape(' '.join(words))}(?!\S)"))

    def positions(self, tokens: list[str]) -> list[int]:
        """Where in ``tokens`` a word or phrase of the list starts."""
        found = [i for i, token in enumerate(tokens) if self._reader.forms(token) & self.single]
        line = " ".join(tokens)
        for pattern in self.phrases:
            for match in pattern.finditer(line):
                found.append(line[: match.start()].count(" "))
        return sorted(found)

    def anywhere(self, tokens: list[str]) -> bool:
        return bool(self.positions(tokens))


class AgendaQuestions:
    def __init__(self, raw: dict[str, Any]) -> None:
        kinds: dict[str, list[str]] = {str(k): [str(w) for w in v] for k, v in raw["kinds"].items()}
        lists = {name: [str(w) for w in raw.get(name) or []] for name in LISTS}
        every = [w for words in (*kinds.values(), *lists.values()) for w in words]
        keywords = {w for entry in every for w in entry.split() if len(w) >= 6}
        self.normalizer = ChatNormalizer(
            {str(k): str(v) for k, v in (raw.get("spelling") or {}).items()},
            {str(k): str(v) for k, v in (raw.get("compounds") or {}).items()},
            keywords,
        )
        self._analyzers = [Analyzer(lang, [], set()) for lang in ("nl", "en")]
        self.kinds = {kind: _Words(words, self) for kind, words in kinds.items()}
        self.words = {name: _Words(words, self) for name, words in lists.items()}

    @classmethod
    def load(cls, content: Path) -> AgendaQuestions | None:
        path = content / FILE
        if not path.exists():
            return None
        return cls(load_yaml(path.read_text(encoding="utf-8")) or {})

    def forms(self, word: str) -> set[str]:
        """A word and its stems in Dutch and English: what two words share when they
        are forms of one word. Short words only as written ("dat" is not "date")."""
        if len(word) < STEM_FROM:
            return {word}
        return {word, *(f"{a.language}:{a.stem(word)}" for a in self._analyzers)}

    def read(self, question: str) -> AgendaQuestion | None:
        """The agenda question asked, or None when the question is for the content."""
        tokens = [t for t in self.normalizer.normalize(question).split() if t != "|"]
        if not tokens:
            return None
        where = self.words["where"].anywhere(tokens)
        if self.words["phrases"].anywhere(tokens):
            return AgendaQuestion(None, where)
        if self.words["past"].anywhere(tokens) or self.words["general"].anywhere(tokens):
            return None
        named = {kind: words.positions(tokens) for kind, words in self.kinds.items()}
        kind = min(
            (kind for kind, at in named.items() if at), key=lambda k: named[k][0], default=None
        )
        places = sorted(
            {*self.words["agenda"].positions(tokens), *(p for at in named.values() for p in at)}
        )
        if not places:
            return None
        nexts = self.words["next"].positions(tokens)
        soon = nexts_before(nexts, places) or self.words["soon"].anywhere(tokens)
        asks = self.words["when"].anywhere(tokens) or where
        if soon or (asks and (nexts or self.words["one"].anywhere(tokens))):
            return AgendaQuestion(kind, where)
        return None


def nexts_before(nexts: list[int], places: list[int]) -> bool:
    """A `next` word shortly before a kind: "het volgende leeratelier", not "het
    leeratelier over de volgende stap"."""
    return any(0 < place - at <= NEXT_BEFORE for at in nexts for place in places)
