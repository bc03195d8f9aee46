"""The crisis lexicon: families of patterns, who they are about, and their context.

``content/safety.yaml`` declares the patterns by family (death wish, suicide,
self-harm, farewell, hopelessness, plan or method, acute danger), written over
the normal form of :mod:`bot.knowledge.chattext` with named building blocks
(``{GAP}``, ``{SELF}``...). A match is then placed in its context:

- **who**: the nearest person before the match in its clause ("mijn vriend zegt
  dat hij ..." is about someone else; "ik ..." or "mezelf" is the sender; a
  general "iemand" is a question about the subject);
- **weak** patterns ("ik wil dood", "kill me") do not count inside an idiom or
  a joke ("ik ga dood van de honger", "this meeting is killing me lol");
- a match about no one in particular inside **news, fiction or prevention
  work** ("in het nieuws", "training suïcidepreventie") is information, not
  the sender's crisis.

**Which patterns to try.** Python's ``re`` scans a line once per pattern: with some
700 patterns that was most of the crisis check (0.6 ms a message). RE2's ``Set``
tells in one pass which patterns match somewhere in the line (:class:`_Candidates`);
only those, and the few RE2 cannot read (lookarounds), are then run by ``re``, which
still decides the match and its place. The two engines agree on whether a pattern
matches an ASCII line: RE2's ``\\b``, ``\\w`` and ``\\s`` are ASCII, Python's are
Unicode, the same on ASCII. The normal form is ASCII, so a line that is not
(another script) is checked by every pattern. Every pattern is still compiled by
``re`` at load, so a pattern only Python cannot read fails there, not in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import re2

from bot.knowledge.chattext import any_of

Person = Literal["self", "other", "general", "none"]
FAMILIES = (
    "death_wish",
    "suicide",
    "self_harm",
    "farewell",
    "hopelessness",
    "plan_method",
    "acute",
)
# A plan or self-harm stays a signal even with "haha" beside it; a joke cancels the rest.
UNDENIABLE = ("plan_method", "self_harm")
_MACRO = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def expand(pattern: str, macros: Mapping[str, str]) -> str:
    """Replace ``{NAME}`` with its building block, repeatedly (blocks may nest)."""
    for _ in range(5):
        expanded = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if expanded == pattern:
            break
        pattern = expanded
    if _MACRO.search(pattern):
        raise ValueError(f"unknown building block in safety pattern: {pattern!r}")
    return pattern


@dataclass(frozen=True)
class Rule:
    family: str
    pattern: re.Pattern[str]
    weak: bool
    mention: bool  # names the subject only ("zelfmoord"): information in an info context


# RE2 refuses a set whose program and DFA do not fit in this (it needs about 5 MiB for
# today's patterns); its DFA cache grows to it as lines vary (docs/performance.md §18b).
CANDIDATES_MEMORY = 8 << 20
# Where RE2 accepts a pattern but reads it otherwise than Python's re on ASCII: "{,3}"
# is up to three to Python and the text "{,3}" to RE2; "[[:alpha:]]" a class of letters
# to RE2 and a set of "[:alph" to Python. Such a pattern is tried on every line.
_READ_OTHERWISE = ("{,", "[:")


class _Candidates:
    """The rules that can match a line, in their order, found by one RE2 pass.

    A set that cannot answer (its DFA out of memory) answers nothing at all, so the
    set holds one more pattern that matches every line: without it in the answer,
    every rule is tried."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1  # one byte a character: ASCII
        options.max_mem = CANDIDATES_MEMORY
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        self._rules = tuple(rules)
        self._by_index: list[int] = []  # set index -> rule index
        self._always: list[int] = []  # rules RE2 cannot read: tried on every line
        for number, rule in enumerate(self._rules):
            source = rule.pattern.pattern
            if any(shape in source for shape in _READ_OTHERWISE):
                self._always.append(number)
                continue
            try:
                self._set.Add(source.encode("latin-1"))
            except (re2.error, UnicodeEncodeError):
                self._always.append(number)
            else:
                self._by_index.append(number)
        self._answered = self._set.Add(b"")
        self._set.Compile()

    def __call__(self, line: str) -> Sequence[Rule]:
        if not line.isascii():
            return self._rules
        found = self._set.Match(line.encode("ascii")) or ()
        if self._answered not in found:
            return self._rules
        numbers = [self._by_index[i] for i in found if i != self._answered]
        numbers.extend(self._always)
        return [self._rules[n] for n in sorted(numbers)]


@dataclass(frozen=True)
class Signal:
    """One crisis pattern that fired, and what its context says."""

    family: str
    person: Person
    weak: bool
    mention: bool = False
    pattern: str = ""  # for reviewers (``content explain``); never logged with the text


def _compile(raw: str, macros: Mapping[str, str]) -> re.Pattern[str]:
    return re.compile(expand(raw, macros))


def _rule(family: str, item: object, macros: Mapping[str, str]) -> Rule:
    kind, text = next(iter(item.items())) if isinstance(item, dict) else ("", item)
    if kind not in ("", "weak", "mention"):
        raise ValueError(f"safety.yaml: unknown pattern kind {kind!r} in {family}")
    return Rule(family, _compile(str(text), macros), kind == "weak", kind == "mention")


class CrisisLexicon:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        macros = {str(k): str(v) for k, v in (raw.get("macros") or {}).items()}
        families = raw.get("crisis") or {}
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown crisis families in safety.yaml: {sorted(unknown)}")
        self.rules = [
            _rule(family, item, macros)
            for family, patterns in families.items()
            for item in patterns or []
        ]
        self._candidates = _Candidates(self.rules)
        context = raw.get("context") or {}
        self._scoped_idioms: list[tuple[re.Pattern[str], frozenset[str] | None]] = []
        for item in context.get("idiom", []):
            if isinstance(item, dict):
                families = frozenset(str(f) for f in item.get("families", []))
                self._scoped_idioms.append((_compile(str(item["pattern"]), macros), families))
            else:
                self._scoped_idioms.append((_compile(str(item), macros), None))
        self.jokes = [_compile(str(p), macros) for p in context.get("joke", [])]
        self.phrases = [_compile(str(p), macros) for p in context.get("phrase", [])]
        self._serious = _compile(str(context.get("joke_serious", "(?!)")), macros)
        self.info = [_compile(str(p), macros) for p in context.get("info", [])]
        self.about = [_compile(str(p), macros) for p in context.get("about", [])]
        self.topic = [_compile(str(p), macros) for p in context.get("topic", [])]
        self._topic = any_of(self.topic)
        self.requests = [_compile(str(p), macros) for p in context.get("request", [])]
        # An apology for asking ("sorry als dit al eens gevraagd is"): not read by the
        # classifier either; the crisis patterns still see the whole message.
        self.requests += [_compile(str(p), macros) for p in context.get("courtesy", [])]
        self._relation = _compile(str(raw.get("relation", "(?!)")), macros)
        persons = raw.get("persons") or {}
        self._self_in_span = _compile(str(persons.get("self_in_span", "(?!)")), macros)
        self._other_in_span = _compile(str(persons.get("other_in_span", "(?!)")), macros)
        self._subjects = [
            (kind, _compile(str(p), macros))
            for kind in ("self", "other", "general")
            for p in persons.get(kind, [])
        ]

    def signals(self, line: str) -> list[Signal]:
        """Every crisis pattern that fires on a normalised line, in context."""
        found: list[Signal] = []
        joking = self._joking(line)
        for rule in self._candidates(line):
            for match in rule.pattern.finditer(line):
                clause = _clause(line, match.start(), match.end())
                if rule.weak and self._idiom_for(rule.family, clause):
                    continue
                if rule.family not in UNDENIABLE and joking:
                    continue
                if any(p.search(clause) for p in self.phrases):
                    continue
                person = self.person(line, match.start(), match.end())
                found.append(
                    Signal(rule.family, person, rule.weak, rule.mention, rule.pattern.pattern)
                )
                break
        return found

    def is_info(self, line: str) -> bool:
        """News, fiction, prevention work or a question about 113."""
        return any(p.search(line) for p in self.info)

    def close_relation(self, line: str) -> bool:
        """Someone close is named ("mijn zoon", "my friend"): their crisis, not the news."""
        return bool(self._relation.search(line))

    def _idiom_for(self, family: str, clause: str) -> bool:
        return any(
            (families is None or family in families) and pattern.search(clause)
            for pattern, families in self._scoped_idioms
        )

    def _joking(self, line: str) -> bool:
        return any(p.search(line) for p in self.jokes) and not self._serious.search(line)

    def is_about(self, line: str) -> bool:
        """A question or a statement about the subject: schools, myths, how to ask."""
        return self.is_info(line) or any(p.search(line) for p in self.about)

    def open_to_model(self, line: str) -> bool:
        """Whether the learned classifier may add a signal the patterns missed: not in
        an idiom, a joke, news or a question about the subject."""
        return not self.is_idiom(line) and not self.is_about(line)

    def without_requests(self, line: str) -> str:
        """The line without its requests for fewer messages or topics ("ik wil geen
        berichten meer", "I don't want them anymore"): what the classifier reads, so a
        wish beside such a request is still read and the request alone is not."""
        masked = list(line)
        for pattern in self.requests:
            for match in pattern.finditer(line):
                masked[match.start() : match.end()] = " " * (match.end() - match.start())
        if masked == list(line):
            return line
        return " ".join("".join(masked).split())

    def is_idiom(self, line: str) -> bool:
        """An idiom, an accident or a joke somewhere in the message."""
        return (
            any(pattern.search(line) for pattern, _ in self._scoped_idioms)
            or any(p.search(line) for p in self.phrases)
            or self._joking(line)
        )

    def is_topic(self, line: str) -> bool:
        """The subject of suicide or self-harm is mentioned at all."""
        return any(p.search(line) for p in self._topic)

    def person(self, line: str, start: int, end: int) -> Person:
        """Who a match at ``start:end`` is about: the span's own pronouns first,
        then the nearest subject before it, in this clause and then the earlier ones."""
        span = line[start:end]
        if self._self_in_span.search(span):
            return "self"
        if self._other_in_span.search(span):
            return "other"
        before = line[:start]
        best: tuple[int, Person] | None = None
        for kind, pattern in self._subjects:
            for match in pattern.finditer(before):
                if best is None or match.end() > best[0]:
                    best = (match.end(), kind)  # type: ignore[assignment]
        if best is None:
            after = line[end:]
            for kind, pattern in self._subjects:
                if kind != "self" and pattern.match(after.lstrip()):
                    return kind  # type: ignore[return-value]
            return "none"
        return best[1]


def _clause(line: str, start: int, end: int) -> str:
    left = line.rfind("|", 0, start)
    right = line.find("|", end)
    return line[left + 1 : right if right >= 0 else len(line)]


def strongest(signals: Sequence[Signal]) -> Signal | None:
    """The signal that decides the reply: the sender's own before someone else's."""
    order = {"self": 0, "none": 1, "other": 2, "general": 3}
    return min(signals, key=lambda s: (s.mention, order[s.person], s.weak), default=None)
