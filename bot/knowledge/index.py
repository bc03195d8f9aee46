"""Ranking entries for a question: BM25 with field weights, typo tolerance.

Each language has its own index. An entry is three BM25 fields: its title
(with tags), each example question as a document of its own (the best one
counts), and its answer. The entry's score is the weighted sum. Words of the
question that the index has never seen are matched to the closest known word
(RapidFuzz), so "spinneweb" and "dimesies" still find their entries.

Next to the score, each hit carries its *coverage*: how much of the question's
weight (idf) the entry's own words account for. A question about the bus to
Leiden matches "Leiden" somewhere, but covers little of what was asked; that
is what lets the bot say it does not know.

And each hit says whether it is *topical*: whether the question shares a topic
word with what the entry is about (its title, tags and example questions). A
topic word names a topic somewhere in the content (it is in a title or the
tags); numbers and stop words are none, and neither is a piece of a word split
for the search ("uitslag" is searched as "uit" + "slag", but it is not about a
"slag"). A place name relates only the entries whose title or tags name that
place. Only topical entries are offered as suggestions.
"""

from __future__ import annotations

import importlib
import logging
import math
import sys
from collections import Counter
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.content import Entry
from bot.knowledge.text import Analyzer


def _without_scipy(name: str) -> ModuleType:
    """Import ``name`` (bm25s) while scipy cannot be imported. bm25s imports
    scipy.sparse whenever it can, about 20 MiB of memory and a tenth of a second,
    only for a matrix back-end this index never asks for (its ``csc_backend`` is
    numpy's; the scores are the same). Done once, at import, before any thread of
    the bot runs; a process that already has scipy imports bm25s as it is."""
    if name in sys.modules or "scipy" in sys.modules:
        return importlib.import_module(name)
    sys.modules["scipy"] = None  # type: ignore[assignment]  # import scipy: ImportError
    try:
        return importlib.import_module(name)
    finally:
        if sys.modules.get("scipy", ...) is None:
            del sys.modules["scipy"]


if TYPE_CHECKING:
    import bm25s
else:
    bm25s = _without_scipy("bm25s")

# bm25s sets its own logger to DEBUG when imported and reports every index build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

WEIGHTS = {"title": 1.0, "questions": 2.0, "answer": 1.0}
DISTINCTIVE_ENTRIES = 3  # a word in at most this many entries says which entry is meant
SEPARABLE_PARTICLES = frozenset(
    (
        "aan", "af", "bij", "deel", "door", "in", "mee", "na", "om",
        "op", "over", "samen", "terug", "toe", "uit", "voor", "weg",
    )
)  # fmt: skip
FUZZY_CUTOFF = 84.0
# A word split for the search counts as a topic word only when both parts are
# words of their own ("beleid" + "medewerker"), not a prefix ("ver" + "taal").
MIN_TOPIC_PART = 4


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float
    coverage: float  # 0..1: share of the question's idf weight found in the entry
    matched: float = 0.0  # that idf weight in absolute terms: how specific the match is
    exact: bool = False  # the question's words are those of one of the entry's examples
    distinctive: float = 0.0  # idf weight of matched words that few entries use
    domain: bool = False  # a matched word is a topic word (an entry's title or tags)
    terms: int = 0  # how many different search words the question has
    example: float = 0.0  # overlap (Jaccard) with the entry's closest example question
    topical: bool = False  # shares a topic word with the entry's title, tags or examples


def _bm25(docs: list[list[str]]) -> _Field:
    index = bm25s.BM25(k1=1.2, b=0.75)
    # bm25s cannot index an empty document list or empty documents.
    index.index([doc or ["_empty_"] for doc in docs] or [["_empty_"]], show_progress=False)
    return _Field(index)


class _Field:
    """One BM25 field: the scores of every document for a query.

    bm25s keeps each word's precomputed scores as a column of a sparse matrix and
    sums the query's columns word by word into a float32 vector. This sums them the
    same way, word by word in the query's order (so to the same floats), without the
    checks and conversions bm25s repeats on every call: three fields are scored for
    every search. A variant of BM25 that also scores the words a document lacks is
    left to bm25s."""

    def __init__(self, index: bm25s.BM25) -> None:
        self._index = index
        self._own = index.nonoccurrence_array is None
        self._vocabulary: dict[str, int] = index.vocab_dict
        self._data = index.scores["data"]
        self._rows = index.scores["indices"]
        self._starts = index.scores["indptr"].tolist()
        self._documents = int(index.scores["num_docs"])
        self._dtype = np.dtype(index.dtype)

    def scores(self, terms: list[str]) -> np.ndarray:
        if not self._own:
            return self._index.get_scores(terms)  # type: ignore[no-any-return]
        scores = np.zeros(self._documents, dtype=self._dtype)
        for term in terms:
            column = self._vocabulary.get(term)
            if column is not None:
                if column + 1 >= len(self._starts):  # bm25s's "" has no column: it raises
                    return self._index.get_scores(terms)  # type: ignore[no-any-return]
                start, end = self._starts[column], self._starts[column + 1]
                # a column names each document once: the same sums as np.add.at
                scores[self._rows[start:end]] += self._data[start:end]
        return scores


class FieldIndex:
    """The index of one language."""

    def __init__(
        self,
        entries: list[Entry],
        analyzer: Analyzer,
        language: str,
        context: set[str] | None = None,
    ) -> None:
        self.entries = entries
        self.analyzer = analyzer
        self.context = set(analyzer.analyze(" ".join(sorted(context or ()))))
        titles, answers, questions, owners = [], [], [], []
        self.topic_terms: set[str] = set()
        self.entry_terms: list[set[str]] = []
        self.entry_topics: list[set[str]] = []  # title, tags and example questions
        self.entry_places: list[set[str]] = []  # context words (places) of title and tags
        self.example_sets: list[set[frozenset[str]]] = []
        known: Counter[str] = Counter()
        for position, entry in enumerate(entries):
            title, examples, answer = entry.text(language)
            # The id's words are Dutch: they help the Dutch index only.
            id_words = [entry.id.replace("-", " ")] if language == "nl" else []
            title_words = analyzer.words(" ".join([title, *entry.tags, *id_words]))
            answer_words = analyzer.words(answer)
            example_words = [analyzer.words(q) for q in examples]
            for text in (title, answer, *examples, *entry.tags):
                known.update(analyzer.tokens(text))
            titles.append(analyzer.terms(title_words))
            self.topic_terms.update(titles[-1])
            answers.append(analyzer.terms(answer_words))
            own_terms = set(titles[-1]) | set(answers[-1])
            self.example_sets.append({frozenset(analyzer.terms(w)) for w in example_words})
            topics = set(titles[-1]) - self.context
            self.entry_places.append(set(titles[-1]) & self.context)
            for words in example_words:
                questions.append(analyzer.terms(words))
                owners.append(position)
                own_terms.update(questions[-1])
                topics.update(questions[-1])
            self.entry_terms.append(own_terms)
            self.entry_topics.append(topics)
        known.update(analyzer.synonym_words)
        self._known = known
        # Numbers and their words ("4", "vier", "vierde"): never what a question is about.
        self._numbers = {term for n in range(1000) for term in analyzer.analyze(str(n))}
        # Typo candidates by first letter and length: a ratio of FUZZY_CUTOFF or more
        # is only possible between words of about the same length, and people
        # rarely mistype the first letter. This keeps lookups fast as content grows.
        self._by_length: dict[tuple[str, int], list[str]] = {}
        for word in known:
            if len(word) >= 4 and word not in analyzer.stopwords:
                self._by_length.setdefault((word[0], len(word)), []).append(word)
        self._candidate_cache: dict[tuple[str, int], list[str]] = {}
        # Example questions are stored entry by entry, so each entry's questions
        # are one contiguous run: its best question is a reduceat over the run.
        self._runs = np.searchsorted(np.array(owners, dtype=np.int64), np.arange(len(entries)))
        self._title = _bm25(titles)
        self._answer = _bm25(answers)
        self._questions = _bm25(questions)
        document_frequency: Counter[str] = Counter()
        for terms in self.entry_terms:
            document_frequency.update(terms)
        total = max(len(entries), 1)
        self._df = document_frequency
        self._idf = {t: math.log(1 + total / n) for t, n in document_frequency.items()}
        self._stems = set(document_frequency)
        self._unknown_idf = math.log(1 + total)

    def _correct(self, word: str, fuzzy: bool = True) -> list[str]:
        """Known words for a word the index has never seen.

        A Dutch compound is split into two known parts ("mesoniveau" → "meso",
        "niveau"; "beleidsmedewerker" → "beleid", "medewerker"); anything else
        becomes the closest known word, if one is close enough (a typo).
        """
        if word in self._known or len(word) < 4 or word.isdigit() or "_" in word:
            return [word]
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            if len(tail) >= 3 and tail in self._known:
                for stem in (head, head[:-1] if head.endswith("s") else ""):
                    if len(stem) >= 3 and stem in self._known:
                        return [stem, tail]
        if not fuzzy:
            return [word]
        match = process.extractOne(
            word, self._candidates(word[0], len(word)), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        return [match[0]] if match else [word]

    def _candidates(self, first: str, length: int) -> list[str]:
        cached = self._candidate_cache.get((first, length))
        if cached is None:
            # ratio = 2*matches/(len1+len2) >= c: lengths from len*c/(2-c) to len*(2-c)/c.
            cut = FUZZY_CUTOFF / 100
            low = math.ceil(length * cut / (2 - cut))
            high = math.floor(length * (2 - cut) / cut)
            cached = [w for n in range(low, high + 1) for w in self._by_length.get((first, n), ())]
            self._candidate_cache[(first, length)] = cached
        return cached

    def query_terms(self, question: str, fuzzy: bool = True) -> list[str]:
        return self._terms(self._words(question, fuzzy))

    def topic_words(self, question: str, fuzzy: bool = True) -> set[str]:
        """The question's topic words (see the module docstring)."""
        return self._topic_words(self._words(question, fuzzy))

    def _words(self, question: str, fuzzy: bool) -> list[list[str]]:
        """Each word of the question as the index knows it: itself, its typo
        corrected, or the two known words of a compound."""
        return [self._correct(word, fuzzy) for word in self.analyzer.tokens(question)]

    def _terms(self, words: list[list[str]]) -> list[str]:
        # Typos are corrected before synonyms are applied, so that "positiefe
        # gezondheid" still becomes the phrase "positieve gezondheid".
        tokens = [part for parts in words for part in parts]
        terms = self.analyzer.terms(self.analyzer.canonical(tokens))
        return terms + self._separable(tokens)

    def _topic_words(self, words: list[list[str]], terms: list[str] | None = None) -> set[str]:
        """``terms``: those of all ``words`` (``_terms``), when already known."""
        whole = [
            parts for parts in words if min(map(len, parts)) >= MIN_TOPIC_PART or len(parts) == 1
        ]
        if terms is None or len(whole) < len(words):
            terms = self._terms(whole)
        return {
            term
            for term in terms
            if term in self.topic_terms and term not in self._numbers and not term.isdigit()
        }

    def _topical(self, topic_words: set[str], position: int) -> bool:
        """The question shares a topic word with what the entry is about; a place
        only when the entry is about that place (its title or tags)."""
        places = topic_words & self.context
        return bool(
            (topic_words - places) & self.entry_topics[position]
            or places & self.entry_places[position]
        )

    def _separable(self, tokens: list[str]) -> list[str]:
        """Dutch separable verbs come apart in a question ("hoe meld ik me aan",
        "neem ik deel"): the particle joined to an earlier word, when the index
        knows that verb ("aanmelden", "deelnemen"), is searched as well."""
        if self.analyzer.language != "nl":
            return []
        joined = []
        for position, token in enumerate(tokens):
            if token not in SEPARABLE_PARTICLES:
                continue
            for verb in tokens[max(0, position - 4) : position]:
                term = self.analyzer.canonical_stem(token + verb)
                if len(verb) >= 3 and term in self._stems:
                    joined.append(term)
        return joined

    def _example(self, asked: frozenset[str], position: int) -> float:
        """The overlap (Jaccard) of the question's terms with the closest example
        question of the entry at ``position``; 0 when it shares none."""
        closest = 0.0
        for example in self.example_sets[position]:
            shared = len(asked & example)
            if shared:  # |a ∪ e| = |a| + |e| - |a ∩ e|
                closest = max(closest, shared / (len(asked) + len(example) - shared))
        return closest

    def search(self, question: str, limit: int = 5, fuzzy: bool = True) -> list[Hit]:
        """The best entries; ``fuzzy=False`` skips typo correction (used for the
        other language's index, where a word of this language would be "corrected"
        into an unrelated one)."""
        words = self._words(question, fuzzy)
        terms = self._terms(words)
        if not terms or not self.entries:
            return []
        topic_words = self._topic_words(words, terms)
        title = self._title.scores(terms)
        answer = self._answer.scores(terms)
        per_question = self._questions.scores(terms)
        best_question = np.maximum.reduceat(per_question, self._runs)
        combined = (
            WEIGHTS["title"] * title
            + WEIGHTS["questions"] * best_question
            + WEIGHTS["answer"] * answer
        )
        order = np.argsort(-combined)[:limit]
        # Context words (place names, times) help ranking but say nothing about
        # whether the question is about this topic: "het weer in Katwijk".
        unique = [t for t in dict.fromkeys(terms) if t not in self.context]
        weights = [self._idf.get(t, self._unknown_idf) for t in unique]
        total_weight = sum(weights) or 1.0
        asked = frozenset(terms)
        hits = []
        for position in order:
            score = float(combined[position])
            if score <= 0:
                break
            found = self.entry_terms[position]
            matched = [(t, w) for t, w in zip(unique, weights, strict=True) if t in found]
            covered = sum(w for _, w in matched)
            exact = asked in self.example_sets[position]
            distinctive = sum(w for t, w in matched if self._df.get(t, 0) <= DISTINCTIVE_ENTRIES)
            domain = any(t in self.topic_terms for t, _ in matched)
            example = self._example(asked, position)
            hits.append(
                Hit(
                    self.entries[position],
                    score,
                    covered / total_weight,
                    covered,
                    exact,
                    distinctive,
                    domain,
                    len(unique),
                    example,
                    self._topical(topic_words, position),
                )
            )
        return hits
