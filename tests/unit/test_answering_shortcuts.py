"""The shortcuts of question answering give what the plain computation gives.

Each shortcut (phrases tried only when their words are there, bm25 sums without
bm25s's checks, pattern lists searched as one, a pattern anchored at the start)
is compared with the computation it replaces, on the real content and on made-up
text (``docs/knowledge.md``, "CPU per answer").
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from bot.knowledge.answer import Answerer, trim_phrases
from bot.knowledge.chattext import any_of
from bot.knowledge.text import Analyzer
from bot.paths import content_dir


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


def _texts(answerer: Answerer, count: int, seed: int = 5) -> list[list[str]]:
    """Word lists mixing whole synonym and courtesy phrases, their words and everyday
    words."""
    analyzer = answerer.analyzers["nl"]
    phrases = [phrase for phrase, _, _ in analyzer._phrases] + list(answerer.knowledge.courtesy)
    words = sorted(analyzer.synonym_words)
    words += [w for phrase in answerer.knowledge.courtesy for w in phrase.split()]
    words += ["wat", "is", "een", "de", "leeratelier", "hoi", "bedankt", "fijne", "dag"]
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [
            rng.choice(phrases if rng.random() < 0.3 else words) for _ in range(rng.randint(1, 6))
        ]
        texts.append(" ".join(parts).split())
    return texts


def _canonical_plainly(analyzer: Analyzer, tokens: list[str]) -> list[str]:
    joined = " ".join(tokens)
    for _, pattern, canonical in analyzer._phrases:
        joined = pattern.sub(canonical, joined)
    return [analyzer._single.get(w, w) for w in joined.split()]


def test_synonym_phrases_as_if_every_phrase_were_tried(answerer: Answerer) -> None:
    joined = 0
    for language, analyzer in answerer.analyzers.items():
        for tokens in _texts(answerer, 3000):
            expected = _canonical_plainly(analyzer, tokens)
            assert analyzer.canonical(tokens) == expected, language
            joined += len(expected) < len(tokens)
    assert joined > 100  # the texts do have phrases to join
    analyzer = answerer.analyzers["nl"]
    assert analyzer.canonical(["positieve", "gezondheid"]) != ["positieve", "gezondheid"]


def _trim_plainly(answerer: Answerer, words: list[str], keep: int) -> list[str]:
    """Every courtesy phrase tried, not only those whose words are in the text."""
    return trim_phrases(words, answerer._courtesy, keep)


def test_courtesy_as_if_every_phrase_were_tried(answerer: Answerer) -> None:
    trimmed = 0
    for words in _texts(answerer, 3000, seed=6):
        for keep in (0, 1):
            expected = _trim_plainly(answerer, words, keep)
            assert answerer._trim_courtesy(words, keep) == expected
            trimmed += len(expected) < len(words)
    assert trimmed > 100  # the texts do have courtesy to trim


def test_bm25_fields_score_as_bm25s_does(answerer: Answerer) -> None:
    rng = random.Random(7)
    for index in answerer.indexes.values():
        for field in (index._title, index._answer, index._questions):
            vocabulary = [term for term in field._vocabulary if term]
            for _ in range(500):
                terms = [rng.choice(vocabulary) for _ in range(rng.randint(1, 8))]
                terms += rng.choice([[], ["onbekendwoord"], terms[:2]])
                ours, theirs = field.scores(terms), field._index.get_scores(terms)
                assert ours.dtype == theirs.dtype
                assert np.array_equal(ours, theirs)  # bit for bit: the ranking's ties too


def test_patterns_joined_only_when_that_keeps_their_meaning() -> None:
    plain = [re.compile(p) for p in (r"\bpijn\b", r"koorts", r"(?<![a-z])hoest")]
    assert len(any_of(plain)) == 1
    for group_by_number in (r"(a)\1", r"(?P<x>a)(?P=x)", r"(a)?(?(1)b|c)"):
        patterns = [re.compile(group_by_number), *plain]
        assert any_of(patterns) == tuple(patterns)
    assert any_of([re.compile("(?i)pijn"), *plain]) == (re.compile("(?i)pijn"), *plain)
    joined = any_of(plain)[0]
    for text in ("ik heb pijn", "pijnlijk", "koortsig", "hoesten", "ophoesten", "niets", ""):
        assert bool(joined.search(text)) == any(p.search(text) for p in plain)


def test_the_medical_patterns_anchored_at_the_start_find_what_a_search_finds(
    answerer: Answerer,
) -> None:
    """A pattern of lookaheads that start with ``.*`` and then ``.*`` can only match at
    the start of a line; content/safety.yaml anchors it there (``^``), so that a search
    does not try every place. Without the anchor it finds the same."""
    safety = answerer.safety
    starting = [p for p in safety.medical if p.pattern.startswith("^(?=.*")]
    assert starting  # content/safety.yaml has one ("^(?=.*...kortademig...).*...")
    rng = random.Random(8)
    words = [
        "ik",
        "heb",
        "al",
        "dagen",
        "pijn",
        "in",
        "mijn",
        "knie",
        "hoofdpijn",
        "koorts",
        "wat",
        "kan",
        "dat",
        "zijn",
        "is",
        "het",
        "erg",
    ]
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        for pattern in starting:
            unanchored = re.compile(pattern.pattern[1:])
            assert bool(pattern.search(text)) == bool(unanchored.search(text)), text
    assert safety.is_medical("Ik heb al een week hoofdpijn, wat kan dat zijn?")
