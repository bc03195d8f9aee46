""" "Hoort <plaats> bij de regio?": a yes or a no, with the gemeente and the 13.

People ask it about a gemeente ("doet Lisse mee?"), a village inside one ("hoort
Sassenheim erbij?") or a place outside ("valt Zoetermeer onder jullie?"). A
search over the entries can only offer the list; this answers the question.
The places live in ``content/regio.yaml``; typos are forgiven (RapidFuzz), and
a place the list does not know, named in a membership question, is outside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.knowledge.text import fold
from bot.yamltext import load_yaml

# A question about belonging to the region: a word of belonging, a word for the region,
# and no other question word first ("wat doet de alliantie in Leiden" is not one).
_BELONG = re.compile(
    r"\b(hoort|horen|hoor|valt|vallen|val|zit|zitten|doet|doen|deel|onderdeel|binnen|"
    r"belong\w*|part of|included|covered|within|erbij|er ook bij|er bij)\b"
)
_REGION = re.compile(
    r"\b(regio|zhn|zuid ?holland ?noord|werkgebied|gebied|erbij|er ook bij|er bij|alliantie|"
    r"jullie|mee|region|area|alliance)\b"
)
_OTHER_QUESTION = re.compile(
    r"^(wat|hoe|wanneer|waar|wie|welke|waarom|what|how|when|where|who|which|why)\b"
)
# Where a place name follows in a membership question, when it is not on the list.
_PLACE_AFTER = re.compile(
    r"\b(?:hoort|horen|valt|vallen|doet|doen|zit|zitten|ligt|is|are|does|do|woon|woont|"
    r"wonen|live|lives|uit|from|gemeente)\s+(?:in\s+|te\s+|de gemeente\s+|gemeente\s+)?"
    r"([a-z][a-z'-]+(?:\s+(?:aan|a/d|aan den|aan de|den|de|en)\s+[a-z'-]+)*)"
)
_NOT_A_PLACE = {
    "mijn",
    "onze",
    "jouw",
    "jullie",
    "het",
    "de",
    "een",
    "dat",
    "dit",
    "er",
    "ook",
    "die",
    "my",
    "our",
    "your",
    "the",
    "a",
    "it",
    "this",
    "that",
    "there",
    "ik",
    "i",
    "je",
    "you",
    "hier",
    "daar",
    "gemeente",
    "regio",
    "wel",
    "niet",
    "nog",
    "al",
    "zo",
    "bij",
    "mee",
}
TYPO_CUTOFF = 88.0
REGION_ENTRY = "alliantie-gemeenten"  # the entry about the 13 gemeenten, offered with a yes/no


@dataclass(frozen=True)
class Membership:
    place: str  # as the region file spells it, or as asked when unknown
    gemeente: str | None  # the gemeente it lies in; None when outside the region
    is_gemeente: bool = False
    gemeenten: tuple[str, ...] = ()  # all 13, for the answer


class Region:
    def __init__(self, gemeenten: dict[str, list[str]], outside: list[str]) -> None:
        self.gemeenten = list(gemeenten)
        self._where: dict[str, tuple[str, str | None]] = {}
        for gemeente, kernen in gemeenten.items():
            self._where[fold(gemeente)] = (gemeente, gemeente)
            for kern in kernen:
                self._where[fold(kern)] = (kern, gemeente)
        for place in outside:
            self._where.setdefault(fold(place), (place, None))
        # Longest names first, so "Alphen aan den Rijn" wins over "Alphen".
        names = sorted(self._where, key=len, reverse=True)
        self._names = re.compile(
            r"\b("
            + "|".join(re.escape(n).replace(r"\-", "[ -]?").replace(r"\ ", "[ -]") for n in names)
            + r")\b"
        )

    @classmethod
    def load(cls, content: Path) -> Region | None:
        path = content / "regio.yaml"
        if not path.exists():
            return None
        raw = load_yaml(path.read_text(encoding="utf-8")) or {}
        gemeenten = {
            str(g): [str(k) for k in (kernen or [])] for g, kernen in raw["gemeenten"].items()
        }
        return cls(gemeenten, [str(p) for p in raw.get("outside", [])])

    def _lookup(self, name: str) -> tuple[str, str | None] | None:
        key = fold(name).replace("-", " ")
        for candidate in (key, key.replace(" ", "-")):
            if candidate in self._where:
                return self._where[candidate]
        match = process.extractOne(
            key, list(self._where), scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
        )
        return self._where[match[0]] if match else None

    def membership(self, question: str) -> Membership | None:
        """The answer to a membership question, or None when it is not one."""
        text = " ".join(re.sub(r"[?,!.-]", " ", fold(question)).split())
        if not (_BELONG.search(text) and _REGION.search(text)) or _OTHER_QUESTION.match(text):
            return None
        found = self._names.search(text)
        if found is not None:
            hit = self._lookup(found.group(1))
            if hit is not None:
                place, gemeente = hit
                return Membership(place, gemeente, gemeente == place, tuple(self.gemeenten))
        for match in _PLACE_AFTER.finditer(text):
            name = match.group(1)
            if name.split()[0] in _NOT_A_PLACE:
                continue
            hit = self._lookup(name)
            if hit is not None:
                place, gemeente = hit
                return Membership(place, gemeente, gemeente == place, tuple(self.gemeenten))
            if len(name) >= 4 and _named(question, name, match.group(0)):
                return Membership(name.title(), None, False, tuple(self.gemeenten))
        return None


def _named(question: str, name: str, context: str) -> bool:
    """An unknown word is taken for a place when it is written with a capital, or
    follows "woon in" / "live in" / "gemeente", where nothing but a place fits."""
    if re.match(r"(?:woon|woont|wonen|live|lives|uit|from|gemeente)\b", context):
        return True
    first = name.split()[0]
    return bool(re.search(rf"(?<![.?!]\s)(?<!^)\b{re.escape(first.capitalize())}\b", question))
