"""Turning Dutch (and English) text into search terms.

Lower case, accents folded, synonym groups mapped to one word (so
"spinneweb" and "spinnenweb", "6" and "zes", "ouderen" and "senioren" meet),
stop words dropped, and words stemmed with Snowball. For Dutch we use the
classic Snowball stemmer (``dutch_porter``): Snowball 3's new default Dutch
stemmer strips prefixes so aggressively that "gezondheid" and "gemeenten"
become "zon" and "meen".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

STEMMERS = {"nl": "dutch_porter", "en": "english"}
_WORD = re.compile(r"[a-z0-9]+")
_RUN = re.compile(r"\w+")  # what a phrase's \b...\b can match a word of
_APOSTROPHE_PLURAL = re.compile(r"['’`´]s\b")  # foto's → fotos, agenda's → agendas


def fold(text: str) -> str:
    """Lower case without accents: 'Zelfmanagement é' → 'zelfmanagement e'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():  # most text: no accents to drop
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Analyzer:
    def __init__(self, language: str, synonyms: list[list[str]], stopwords: set[str]) -> None:
        self.language = language
        # No cache of PyStemmer's own (maxCacheSize 0): ``stem`` below keeps one, and a
        # second of 10,000 words held 1.15 MiB at idle for nothing.
        self._stemmer = Stemmer.Stemmer(STEMMERS[language], 0)
        self.stopwords = {fold(w) for w in stopwords}
        self._single: dict[str, str] = {}
        phrases: list[tuple[str, str]] = []
        for group in synonyms:
            canonical = "_".join(_WORD.findall(fold(group[0])))
            for variant in group:
                words = _WORD.findall(fold(variant))
                if len(words) == 1:
                    self._single[words[0]] = canonical
                elif words:
                    phrases.append((" ".join(words), canonical))
        phrases.sort(key=lambda p: -len(p[0]))
        stemmer = Stemmer.Stemmer(STEMMERS[language], 0)
        self._stem_single = {
            stemmer.stemWord(w): c for w, c in self._single.items() if "_" not in w
        }
        # (phrase, its pattern, its group's word); the plain phrase is a quick test
        # that skips the pattern when the text does not contain it at all.
        self._phrases = [(p, re.compile(rf"\b{re.escape(p)}\b"), c) for p, c in phrases]
        # A phrase matches whole words only (each a whole run of word characters),
        # so it can match only when each of its words is in the text, or is the group
        # word an earlier phrase put there ("spinnenweb"). By first word, in the
        # order above: the few worth trying.
        self._phrase_words = [frozenset(p.split()) for p, _, _ in self._phrases]
        self._made = frozenset(c for _, c in phrases if "_" not in c)
        self._by_first: dict[str, list[int]] = {}
        for position, (phrase, _, _) in enumerate(self._phrases):
            self._by_first.setdefault(phrase.split()[0], []).append(position)
        self._after_made = {p for word in self._made for p in self._by_first.get(word, ())}
        self.stem = lru_cache(maxsize=50_000)(self._stem)

    def _stem(self, word: str) -> str:
        return word if "_" in word or word.isdigit() else self._stemmer.stemWord(word)

    def tokens(self, text: str) -> list[str]:
        """Folded words, as written ("foto's" and "fotos" alike)."""
        return _WORD.findall(_APOSTROPHE_PLURAL.sub("s", fold(text)))

    def canonical_stem(self, word: str) -> str:
        """The search term for one word: its synonym group, else its stem; a word
        that is a form of a synonym ("deelneem" of "deelnemen") finds the group too."""
        single = self._single.get(word)
        if single is not None:
            return single
        stem = self.stem(word)
        return self._stem_single.get(stem, stem)

    @property
    def synonym_words(self) -> set[str]:
        """Every word that occurs in a synonym group (known to the typo correction)."""
        words = set(self._single)
        for _, pattern, _ in self._phrases:
            words.update(_WORD.findall(pattern.pattern.replace("\\b", " ")))
        return words

    def canonical(self, tokens: list[str]) -> list[str]:
        """Synonym groups mapped to one word each."""
        joined = " ".join(tokens)
        for position in self._possible(_RUN.findall(joined)):
            phrase, pattern, canonical = self._phrases[position]
            if phrase in joined:  # a match needs the phrase; the test costs far less
                joined = pattern.sub(canonical, joined)
        return [self._single.get(w, w) for w in joined.split()]

    def _possible(self, words: list[str]) -> list[int]:
        """The phrases (by position, in order) whose words are all in ``words`` or
        made by a phrase: the only ones that can match. Most texts have none."""
        candidates = self._after_made.union(
            position for word in words for position in self._by_first.get(word, ())
        )
        if not candidates:
            return []
        present = self._made.union(words)
        return sorted(p for p in candidates if self._phrase_words[p] <= present)

    def words(self, text: str) -> list[str]:
        """Folded words with synonyms mapped, before stop words and stemming."""
        return self.canonical(self.tokens(text))

    def terms(self, words: list[str]) -> list[str]:
        return [self.stem(w) for w in words if w not in self.stopwords]

    def analyze(self, text: str) -> list[str]:
        return self.terms(self.words(text))


class NumberReader:
    """Tells a bare number ("4", "4.", "#4", "nummer 4", "vierde") from a question.

    A number alone is a choice from a menu, never a question. Number words are
    those the synonym groups give the digits; ``fillers`` are the words that may
    come with a menu number ("nummer", "optie"), from content.
    """

    def __init__(self, analyzer: Analyzer, fillers: set[str]) -> None:
        self.analyzer = analyzer
        self.fillers = {fold(w) for w in fillers}
        self.words = {word for n in range(1000) for word in analyzer.canonical([str(n), f"{n}e"])}

    def is_number(self, text: str) -> bool:
        folded = fold(text)
        if any(ch.isalpha() for ch in _WORD.sub(" ", folded)):
            return False  # letters of another script: words, not a number
        words = [w for w in self.analyzer.tokens(folded) if w not in self.fillers]
        return bool(words) and all(
            w.isdigit() or self.analyzer.canonical([w])[0] in self.words for w in words
        )
