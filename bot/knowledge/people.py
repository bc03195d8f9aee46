""" "Wie is <naam>?": the people named in the seeds, from ``content/people.yaml``.

A name in a question ("wie is Tessa den Dulk", "nummer van lotte coenen", "who
is Jacqueline Wallaart?") is matched on the full name or an alias, forgiving a
typo (RapidFuzz), or on a surname that only one person has. The answer is the
person's description in the question's language, how to reach them where the
seeds publish it, the source, and always how to reach the Alliantie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.knowledge.content import Source
from bot.knowledge.text import fold
from bot.yamltext import load_yaml

# "wie is", "who is", "contact", "nummer"...: a question about a person, not a topic.
_ABOUT_A_PERSON = re.compile(
    r"\b(wie is|wie was|wie zijn|wie heeft|wat doet|wat deed|waar werkt|ken je|bereik|bereiken|"
    r"contact|mail|e-?mail|mailadres|nummer|telefoon\w*|bellen|bel|who is|who was|who's|"
    r"what does|where does|reach|phone|number)\b"
)
NAME_CUTOFF = 88.0
_NOISE = {"van", "de", "der", "den", "het", "ter", "te", "la", "le"}


@dataclass(frozen=True)
class Person:
    name: str
    nl: str
    en: str
    source: Source
    organisation: str | None = None
    contact: str | None = None

    def text(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.nl


class People:
    def __init__(self, people: list[Person], aliases: dict[str, Person]) -> None:
        self.people = people
        self._names = aliases  # folded full name or alias → person
        self._name_list = list(aliases)  # what a typo is compared with
        surnames: dict[str, list[Person]] = {}
        for name, person in aliases.items():
            surname = " ".join(w for w in name.split()[1:] if w not in _NOISE)
            if surname and len(surname) >= 4:
                surnames.setdefault(surname, []).append(person)
        self._surnames = {s: p[0] for s, p in surnames.items() if len({x.name for x in p}) == 1}

    @classmethod
    def load(cls, content: Path) -> People | None:
        path = content / "people.yaml"
        if not path.exists():
            return None
        raw = load_yaml(path.read_text(encoding="utf-8")) or {}
        people: list[Person] = []
        names: dict[str, Person] = {}
        for item in raw.get("people", []):
            person = Person(
                name=str(item["name"]),
                nl=str(item["nl"]),
                en=str(item.get("en") or ""),
                source=Source.model_validate(item["source"]),
                organisation=item.get("organisation"),
                contact=item.get("contact"),
            )
            people.append(person)
            for name in (person.name, *(item.get("aliases") or [])):
                names[" ".join(fold(str(name)).replace("-", " ").split())] = person
        return cls(people, names)

    def find(self, question: str) -> Person | None:
        """The person a question is about, if it asks about one by name."""
        text = " ".join(re.sub(r"[^a-z0-9' ]", " ", fold(question).replace("-", " ")).split())
        if not _ABOUT_A_PERSON.search(text):
            return None
        phrases = _phrases(text.split())
        for phrase in phrases:
            if phrase in self._names:
                return self._names[phrase]
        close = self._close_name(phrases)
        if close is not None:
            return close
        return self._by_surname(text)

    def _close_name(self, phrases: list[str]) -> Person | None:
        """A near spelling of a known name (a typo), for phrases of 8 letters or more."""
        for phrase in phrases:
            if len(phrase) < 8:
                continue
            match = process.extractOne(
                phrase, self._name_list, scorer=fuzz.ratio, score_cutoff=NAME_CUTOFF
            )
            if match:
                return self._names[match[0]]
        return None

    def _by_surname(self, text: str) -> Person | None:
        """A person named by their surname alone."""
        for surname, person in self._surnames.items():
            if re.search(rf"\b{re.escape(surname)}\b", text):
                return person
        return None


def _phrases(words: list[str]) -> list[str]:
    """Runs of four, then three, then two words, longest first, left to right."""
    return [
        " ".join(words[start : start + size])
        for size in (4, 3, 2)
        for start in range(len(words) - size + 1)
    ]
