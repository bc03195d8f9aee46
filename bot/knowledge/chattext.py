"""Chat text in one normal form, so that safety patterns see every spelling alike.

People in crisis do not type carefully: "k wil der nie meer zijn", "zelf-moord",
"wanna kms", "suÏcide", "dooooood". Before any safety pattern is tried the text
is folded (lower case, no accents), repeated letters are shortened, chat words
are spelled out ("k" → "ik", "der" → "er", "wanna" → "want to"), laughing
emoji become "haha" (so a joke reads as one), split or
hyphenated compounds are joined ("zelf moord" → "zelfmoord") and near misses of
the key words are corrected ("zelfmoort" → "zelfmoord", RapidFuzz). Sentence
ends become a ``|`` token, so that a pattern can stay inside one clause.

The word lists live in ``content/safety.yaml`` (``spelling``, ``compounds``,
``keywords``) so that reviewers can extend them without touching code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.knowledge.text import fold

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_REPEATS = re.compile(r"([a-z])\1{2,}")
_CLAUSE_END = re.compile(r"[.!?;:\n\r]+|\s[-–—]\s")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|\|")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"})
_HAS_LETTER = re.compile(r"[a-z]")
TYPO_CUTOFF = 86.0


def _loose(words: str) -> str:
    """A pattern for a compound written apart, joined or with a hyphen."""
    parts = [re.escape(w) for w in words.split()]
    return "(?<![a-z])" + "[ -]?".join(parts) + "(?![a-z])"


_BY_NUMBER = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")  # \1, (?P=name), (?(1)...)


def any_of(patterns: Sequence[re.Pattern[str]]) -> tuple[re.Pattern[str], ...]:
    """``patterns`` as one alternation, searched once instead of one by one: it finds
    a match exactly when one of them does. Left as they are when they cannot be
    joined without changing their meaning (a reference to a group, whose number
    would shift; flags of their own; groups of the same name)."""
    if len(patterns) < 2 or any(
        p.flags != re.UNICODE or _BY_NUMBER.search(p.pattern) for p in patterns
    ):
        return tuple(patterns)
    try:
        return (re.compile("|".join(f"(?:{p.pattern})" for p in patterns)),)
    except re.error:
        return tuple(patterns)


class ChatNormalizer:
    """Text → one space-separated line of normal words and ``|`` clause marks."""

    def __init__(
        self,
        spelling: Mapping[str, str],
        compounds: Mapping[str, str],
        keywords: Iterable[str],
        emoji: Mapping[str, str] | None = None,
    ) -> None:
        self._emoji = dict(emoji or {})
        self._spelling = {fold(k): fold(v) for k, v in spelling.items()}
        joined = sorted(
            ((fold(k), fold(v)) for k, v in compounds.items()), key=lambda p: -len(p[0])
        )
        # With the first word of each: a compound can only be where that word is, and
        # asking that (a substring test) first skips most of the ~50 regexes per text.
        self._compounds = [(k.split()[0], re.compile(_loose(k)), v) for k, v in joined]
        self._keywords = sorted({fold(k) for k in keywords})
        self._by_first: dict[str, list[str]] = {}
        for word in self._keywords:
            self._by_first.setdefault(word[0], []).append(word)
        self.correct = lru_cache(maxsize=20_000)(self._correct)

    def _correct(self, token: str) -> str:
        """A long word that is one slip away from a key word becomes that word."""
        if len(token) < 6 or token in self._spelling:
            return token
        candidates = self._by_first.get(token[0], [])
        match = process.extractOne(token, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return str(match[0]) if match else token

    def _word(self, token: str) -> str:
        if _HAS_LETTER.search(token) and not token.isdigit() and any(c in token for c in "0134"):
            token = token.translate(_LEET)  # "d00d", "su1cide"
        token = self._spelling.get(token, token)
        return token if " " in token else self.correct(token)

    def normalize(self, text: str) -> str:
        for symbol, word in self._emoji.items():
            text = text.replace(symbol, word)
        folded = fold(text.translate(_QUOTES))
        folded = _REPEATS.sub(r"\1\1", folded)
        folded = _CLAUSE_END.sub(" | ", folded)
        folded = folded.replace("-", " - ").replace("/", " ")
        for first, pattern, joined in self._compounds:
            if first in folded:
                folded = pattern.sub(joined, folded)
        words = [self._word(t) for t in _TOKEN.findall(folded.replace(" - ", " "))]
        line = " ".join(words)
        for first, pattern, joined in self._compounds:  # spelled-out words can too
            if first in line:
                line = pattern.sub(joined, line)
        return " ".join(line.split())
