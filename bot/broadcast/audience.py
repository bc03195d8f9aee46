"""Who an announcement is for: an audience expression, parsed and written back.

``all`` is everyone who has messages on; ``role:``, ``gemeente:``,
``organisation:`` and ``topic:`` narrow it down (within one kind OR, across
kinds AND); ``groups`` adds the linked group chats. The expression is what the
CLI takes and what ``announcements.audience`` stores::

    role:gangmaker,gemeente:leiden,gemeente:teylingen   # gangmakers in Leiden or Teylingen
    all,groups                                          # everyone, and every linked group

Turning an audience into recipients (in batches) is the repository's work
(:mod:`bot.storage.repositories.announcements`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.people.vocab import ROLES, TOPICS
from bot.yamltext import load_yaml

EVERYONE = "all"
GROUPS = "groups"
# The kinds of filter and the other words people write for them (Dutch, English).
KIND_WORDS = {
    "role": ("role", "rol", "roles", "rollen"),
    "gemeente": ("gemeente", "gemeenten", "municipality", "municipalities"),
    "organisation": (
        "organisation", "organization", "organisatie", "org",
        "organisations", "organizations", "organisaties",
    ),
    "topic": ("topic", "onderwerp", "topics", "onderwerpen"),
}  # fmt: skip
_FLAG_WORDS = {
    **dict.fromkeys((EVERYONE, "alle", "iedereen", "everyone"), EVERYONE),
    **dict.fromkeys((GROUPS, "groepen"), GROUPS),
}
_LOOSE = re.compile(r"[\s_-]+")
# Between two names, like a comma: "Leiden en Teylingen", "Leiden & Teylingen".
_CONNECTOR = re.compile(r"(\s+(?:en|of|and|or)\s+|\s*&\s*)", re.IGNORECASE)
CLOSE_ENOUGH = 75  # rapidfuzz ratio (0-100) from which a value is offered as meant


class AudienceError(ValueError):
    """An audience expression with a word that is not understood (``word``; "" when
    the expression is empty or names nobody). ``kind``: the kind the word named when
    only its value is not known (``value``); None when the kind itself is not."""

    def __init__(self, word: str, kind: str | None = None, value: str = "") -> None:
        super().__init__(f"unknown audience word: {word!r}" if word else "empty audience")
        self.word, self.kind, self.value = word, kind, value


def split_names(text: str, known: Callable[[str], bool]) -> list[str]:
    """Names typed with "en", "of", "and", "or" or "&" between them, read like
    commas: ``Leiden en Teylingen`` → both. A name with such a word in it (``Kaag en
    Braassem``) stays whole when ``known`` knows it; the longest known run is taken."""
    pieces = _CONNECTOR.split(text.strip())
    parts, glue = pieces[0::2], pieces[1::2]
    names: list[str] = []
    start = 0
    while start < len(parts):
        end, name = start + 1, parts[start]
        for stop in range(len(parts), start + 1, -1):
            joined = parts[start] + "".join(glue[k] + parts[k + 1] for k in range(start, stop - 1))
            if known(joined):
                end, name = stop, joined
                break
        names.append(name.strip())
        start = end
    return [name for name in names if name]


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``value`` most likely meant ("leidn" → "leiden"); None when none
    is close (rapidfuzz's ratio, case, spaces and hyphens aside)."""
    choices = {candidate: _loose(candidate) for candidate in candidates}
    found = process.extractOne(_loose(value), choices, scorer=fuzz.ratio, score_cutoff=CLOSE_ENOUGH)
    return None if found is None else str(found[2])


def kind_of(word: str) -> str | None:
    """The kind a word before ":" names ("rol" → "role"); None when none."""
    return next((k for k, words in KIND_WORDS.items() if word.strip().casefold() in words), None)


def _loose(value: str) -> str:
    """A value as compared: case, spaces, hyphens and underscores do not matter."""
    return _LOOSE.sub("", value.strip().casefold())


def _slug(value: str) -> str:
    return _LOOSE.sub("-", value.strip().casefold())


@dataclass(frozen=True)
class Audience:
    everyone: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    gemeenten: frozenset[str] = field(default_factory=frozenset)
    organisations: frozenset[str] = field(default_factory=frozenset)
    topics: frozenset[str] = field(default_factory=frozenset)
    groups: bool = False

    @property
    def filtered(self) -> bool:
        """Whether people are chosen by role, gemeente, organisation or topic."""
        return bool(self.roles or self.gemeenten or self.organisations or self.topics)

    @property
    def people(self) -> bool:
        """Whether people (private chats) are in it, not only linked groups."""
        return self.everyone or self.filtered

    def text(self) -> str:
        """The canonical expression: ``all`` or ``role:gangmaker,gemeente:leiden``."""
        words: list[str] = [EVERYONE] if self.everyone else []
        words += [f"role:{r}" for r in ROLES if r in self.roles]
        words += [f"gemeente:{_slug(g)}" for g in sorted(self.gemeenten, key=_slug)]
        words += [f"organisation:{_slug(o)}" for o in sorted(self.organisations, key=_slug)]
        words += [f"topic:{t}" for t in TOPICS if t in self.topics]
        if self.groups:
            words.append(GROUPS)
        return ",".join(words)

    @classmethod
    def parse(
        cls,
        expression: str,
        *,
        gemeenten: Collection[str],
        organisations: Collection[str],
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Audience:
        """Read an expression; raises :class:`AudienceError` naming the first word that
        is not understood. Values are matched regardless of case, spaces and hyphens
        and kept in the caller's spelling (``gemeente:kaag-en-braassem`` → the
        gemeente as given in ``gemeenten``). A role may be plural (``gangmakers``);
        ``labels`` adds other names per kind (a button's label → the value).
        ``gemeente:Leiden en Teylingen`` is both; a word without a kind after a comma
        is of the kind before it (``gemeente:leiden,teylingen``)."""
        known = {
            "role": {_loose(r): r for r in ROLES} | {_loose(r + "s"): r for r in ROLES},
            "gemeente": {_loose(g): g for g in gemeenten},
            "organisation": {_loose(o): o for o in organisations},
            "topic": {_loose(t): t for t in TOPICS},
        }
        for kind, names in (labels or {}).items():
            known[kind] |= {_loose(name): value for name, value in names.items()}
        return cls._read(expression, lambda kind, value: known[kind].get(_loose(value)))

    @classmethod
    def stored(cls, expression: str) -> Audience:
        """An expression as stored (written by :meth:`text`): gemeenten and
        organisations are taken as they are, since the lists may have changed since."""
        fixed = {"role": set(ROLES), "topic": set(TOPICS)}

        def lookup(kind: str, value: str) -> str | None:
            if kind in fixed:
                return value if value in fixed[kind] else None
            return value or None

        return cls._read(expression, lookup)

    @classmethod
    def _read(cls, expression: str, lookup: Callable[[str, str], str | None]) -> Audience:
        chosen: dict[str, set[str]] = {kind: set() for kind in KIND_WORDS}
        flags = {EVERYONE: False, GROUPS: False}
        words = [w.strip() for w in expression.split(",") if w.strip()]
        if not words:
            raise AudienceError("")
        kind: str | None = None
        for word in words:
            flag = _FLAG_WORDS.get(word.casefold())
            if flag is not None:
                flags[flag], kind = True, None
                continue
            kind, values = _values(word, kind, lookup)
            chosen[kind] |= values
        audience = cls(
            everyone=flags[EVERYONE],
            roles=frozenset(chosen["role"]),
            gemeenten=frozenset(chosen["gemeente"]),
            organisations=frozenset(chosen["organisation"]),
            topics=frozenset(chosen["topic"]),
            groups=flags[GROUPS],
        )
        if audience.everyone and audience.filtered:
            raise AudienceError(EVERYONE)  # "all" and a filter: which of the two was meant?
        return audience


def _values(
    word: str, before: str | None, lookup: Callable[[str, str], str | None]
) -> tuple[str, set[str]]:
    """One comma's worth: ``kind:value`` (``value en value`` too), or a bare value: of
    the kind before it, or of the one kind that knows it (``Leiden en Teylingen``).
    Raises :class:`AudienceError` for what is not known."""
    head, colon, value = word.partition(":")
    kind = kind_of(head) if colon else _bare_kind(word, before, lookup)
    if kind is None:
        raise AudienceError(word)
    found: set[str] = set()
    for name in split_names(value if colon else word, lambda v: lookup(kind, v) is not None):
        value_found = lookup(kind, name)
        if value_found is None:
            raise AudienceError(word, kind, name)
        found.add(value_found)
    if not found:
        raise AudienceError(word, kind, "")
    return kind, found


def _bare_kind(
    word: str, before: str | None, lookup: Callable[[str, str], str | None]
) -> str | None:
    """The kind of a value typed without one: the kind before it when that knows it,
    else the only kind that does; else ``before`` (None: not known)."""

    def knows(kind: str) -> bool:
        names = split_names(word, lambda v: lookup(kind, v) is not None)
        return bool(names) and all(lookup(kind, name) is not None for name in names)

    if before is not None and knows(before):
        return before
    kinds = [kind for kind in KIND_WORDS if knows(kind)]
    return kinds[0] if len(kinds) == 1 else before


def region_gemeenten(content: Path) -> list[str]:
    """The 13 gemeenten of ``content/regio.yaml``, as they are named there."""
    data = load_yaml((content / "regio.yaml").read_text(encoding="utf-8")) or {}
    return [str(name) for name in data.get("gemeenten", {})]


def known_values(*sources: Iterable[str | None]) -> list[str]:
    """Distinct non-empty values from several sources, first spelling kept."""
    seen: dict[str, str] = {}
    for source in sources:
        for value in source:
            if value and _loose(value) not in seen:
                seen[_loose(value)] = value
    return list(seen.values())
