"""RE2 picks the crisis patterns worth trying; the signals are those of trying all.

``bot.knowledge.crisis._Candidates`` lets Python's ``re`` try only the patterns an
RE2 set says match somewhere in the line. These tests compare the signals found
that way with the signals of trying every pattern, on the safety corpora and on
variants of them, and check the three ways out of the shortcut: a line that is not
ASCII, a set that answers nothing, a pattern RE2 cannot read.
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.knowledge.crisis import CrisisLexicon, Rule, Signal
from bot.knowledge.safety import Safety
from bot.paths import content_dir


@pytest.fixture(scope="module")
def safety() -> Safety:
    return Safety.load(content_dir())


def _every_rule(lexicon: CrisisLexicon, line: str) -> list[Signal]:
    """``signals`` as it was: every rule tried."""
    real = lexicon._candidates
    try:
        lexicon._candidates = lambda _line: lexicon.rules  # type: ignore[assignment,method-assign]
        return lexicon.signals(line)
    finally:
        lexicon._candidates = real  # type: ignore[method-assign]


def _corpus_lines(count: int) -> list[str]:
    lines: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            lines.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((content_dir() / "safety").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    rng = random.Random(11)
    return rng.sample(sorted(set(lines)), count)


def test_the_candidates_find_the_signals_of_trying_every_pattern(safety: Safety) -> None:
    lexicon = safety.lexicon
    found = 0
    for text in _corpus_lines(1200):
        for variant in (text, "haha " + text, "mijn vriend zegt dat " + text):
            line = safety.normalizer.normalize(variant)
            expected = _every_rule(lexicon, line)
            assert lexicon.signals(line) == expected, variant
            found += bool(expected)
    assert found > 500  # the corpora do hold crises


def test_most_patterns_are_left_out_of_an_ordinary_line(safety: Safety) -> None:
    line = safety.normalizer.normalize("wanneer is het volgende leeratelier in leiden")
    tried = safety.lexicon._candidates(line)
    assert len(tried) < len(safety.lexicon.rules) / 5


def test_a_line_that_is_not_ascii_tries_every_pattern(safety: Safety) -> None:
    lexicon = safety.lexicon
    assert list(lexicon._candidates("ik wil dood Привет")) == lexicon.rules


class _Refusing:
    """An RE2 set whose DFA ran out of memory: it answers no index at all."""

    def Match(self, _text: bytes) -> None:
        return None


def test_a_set_that_answers_nothing_means_every_pattern(safety: Safety) -> None:
    candidates = safety.lexicon._candidates
    real = candidates._set
    candidates._set = _Refusing()  # type: ignore[assignment]
    try:
        assert list(candidates("ik wil dood")) == safety.lexicon.rules
    finally:
        candidates._set = real


def test_a_pattern_re2_cannot_read_is_tried_on_every_line(tmp_path: Path) -> None:
    lexicon = CrisisLexicon(
        {
            "crisis": {
                "death_wish": [r"\bik wil dood\b", r"\bweg(?! van hier)\b"],
                "farewell": [r"\bvaarwel\b"],
            }
        }
    )
    lookahead: Rule = lexicon.rules[1]
    assert lexicon._candidates("ik ga weg") == [lookahead]
    assert lexicon._candidates("vaarwel allemaal") == [lookahead, lexicon.rules[2]]
    assert [s.family for s in lexicon.signals("ik ga weg")] == ["death_wish"]
    assert lexicon.signals("ik ga weg van hier") == []


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
@pytest.mark.parametrize(
    ("pattern", "line"),
    [(r"\bwil{,3} dood\b", "wi dood"), (r"\bdood[[:alpha:]]+", "dood:]")],
)
def test_a_pattern_re2_reads_otherwise_is_tried_on_every_line(pattern: str, line: str) -> None:
    """RE2 accepts these but reads them otherwise than Python's re: it would leave out
    a pattern that matches."""
    lexicon = CrisisLexicon({"crisis": {"death_wish": [pattern]}})
    assert lexicon.rules[0].pattern.search(line)
    assert list(lexicon._candidates(line)) == lexicon.rules


@functools.cache
def _vocabulary() -> list[str]:
    """The words the crisis patterns are written with, and a few everyday ones."""
    lexicon = _lexicon()
    words = {
        word
        for rule in lexicon.rules
        for word in re.findall(r"[a-z]{2,}", rule.pattern.pattern.replace("\\b", " "))
    }
    return sorted(words | {"ik", "mijn", "vriend", "haha", "niet", "meer", "|", "113"})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0), min_size=1, max_size=24))
def test_made_up_lines_of_pattern_words_leave_out_no_pattern_that_matches(
    picks: list[int],
) -> None:
    """Every pattern that Python's re finds in a line is among the candidates."""
    words = _vocabulary()
    line = " ".join(words[pick % len(words)] for pick in picks)
    lexicon = _lexicon()
    tried = {id(rule) for rule in lexicon._candidates(line)}
    missed = [
        rule.pattern.pattern
        for rule in lexicon.rules
        if id(rule) not in tried and rule.pattern.search(line)
    ]
    assert missed == [], line


@functools.cache
def _lexicon() -> CrisisLexicon:
    return Safety.load(content_dir()).lexicon
