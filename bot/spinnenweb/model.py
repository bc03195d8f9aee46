"""The spinnenweb as content: six dimensions of seven aspects, read from
``content/spinnenweb.yaml``, and the questions of each check-in mode.

Nothing here stores or logs anything; it turns content into questions and
answers into dimension scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.yamltext import load_yaml

SHORT, EXTENDED = "kort", "uitgebreid"
MODES = (SHORT, EXTENDED)
LANGUAGES = ("nl", "en")


class SpinnenwebContentError(ValueError):
    """content/spinnenweb.yaml does not have the shape the check-in needs."""


def _text(node: Any, where: str) -> dict[str, str]:
    if not isinstance(node, Mapping) or not all(
        isinstance(node.get(lang), str) and node[lang].strip() for lang in LANGUAGES
    ):
        raise SpinnenwebContentError(f"{where}: needs non-empty nl and en text")
    return {lang: str(node[lang]).strip() for lang in LANGUAGES}


@dataclass(frozen=True, slots=True)
class Aspect:
    id: str
    name: dict[str, str]
    question: dict[str, str]


@dataclass(frozen=True, slots=True)
class Dimension:
    id: str
    name: dict[str, str]
    explain: dict[str, str]
    question: dict[str, str]
    aspects: tuple[Aspect, ...]


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a check-in; ``id`` is the dimension id (kort) or
    ``dimension/aspect`` (uitgebreid)."""

    id: str
    dimension: Dimension
    aspect: Aspect | None

    def name(self, lang: str) -> str:
        return (self.aspect or self.dimension).name[lang]

    def text(self, lang: str) -> str:
        return (self.aspect or self.dimension).question[lang]


@dataclass(frozen=True, slots=True)
class Spinnenweb:
    intro: dict[str, str]
    consent_version: str
    dimensions: tuple[Dimension, ...]
    numbers: dict[str, tuple[str, ...]]  # language -> words for 0..10
    words: dict[str, dict[str, frozenset[str]]]  # meaning -> language -> words

    @classmethod
    def load(cls, content: Path) -> Spinnenweb:
        path = content / "spinnenweb.yaml"
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpinnenwebContentError(f"{path}: {exc}") from exc
        if not isinstance(data, Mapping):
            raise SpinnenwebContentError(f"{path}: not a mapping")
        return cls.parse(data)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Spinnenweb:
        dimensions = []
        for i, raw in enumerate(data.get("dimensions") or []):
            where = f"dimensions[{i}]"
            aspects = tuple(
                Aspect(
                    id=str(a["id"]),
                    name=_text(a.get("name"), f"{where}.{a.get('id')}.name"),
                    question=_text(a.get("question"), f"{where}.{a.get('id')}.question"),
                )
                for a in raw.get("aspects") or []
            )
            if not aspects:
                raise SpinnenwebContentError(f"{where}: has no aspects")
            dimensions.append(
                Dimension(
                    id=str(raw["id"]),
                    name=_text(raw.get("name"), f"{where}.name"),
                    explain=_text(raw.get("explain"), f"{where}.explain"),
                    question=_text(raw.get("question"), f"{where}.question"),
                    aspects=aspects,
                )
            )
        if len(dimensions) != 6:
            raise SpinnenwebContentError("the spinnenweb has six dimensions")
        ids = [d.id for d in dimensions] + [f"{d.id}/{a.id}" for d in dimensions for a in d.aspects]
        if len(ids) != len(set(ids)):
            raise SpinnenwebContentError("dimension and aspect ids must be unique")
        numbers = {}
        for lang in LANGUAGES:
            found = tuple(str(w).casefold() for w in (data.get("numbers") or {}).get(lang, []))
            if len(found) != 11:
                raise SpinnenwebContentError(f"numbers.{lang}: needs the words for 0 to 10")
            numbers[lang] = found
        words: dict[str, dict[str, frozenset[str]]] = {}
        for meaning, per_lang in (data.get("words") or {}).items():
            words[str(meaning)] = {
                lang: frozenset(str(w).casefold() for w in per_lang.get(lang, []))
                for lang in LANGUAGES
            }
        missing = sorted(set(WORD_MEANINGS) - set(words))
        if missing:
            raise SpinnenwebContentError(f"words: missing {', '.join(missing)}")
        return cls(
            intro=_text(data.get("intro"), "intro"),
            consent_version=str(data.get("consent_version") or "1"),
            dimensions=tuple(dimensions),
            numbers=numbers,
            words=words,
        )

    def questions(self, mode: str) -> list[Question]:
        if mode == SHORT:
            return [Question(d.id, d, None) for d in self.dimensions]
        if mode == EXTENDED:
            return [Question(f"{d.id}/{a.id}", d, a) for d in self.dimensions for a in d.aspects]
        raise ValueError(f"unknown check-in mode {mode!r}")

    def question(self, mode: str, position: int) -> Question:
        return self.questions(mode)[position]

    def count(self, mode: str) -> int:
        return len(self.questions(mode))

    def names(self, lang: str) -> dict[str, str]:
        """Every question id (dimensions and aspects) -> its name in ``lang``."""
        found = {d.id: d.name[lang] for d in self.dimensions}
        for d in self.dimensions:
            for a in d.aspects:
                found[f"{d.id}/{a.id}"] = a.name[lang]
        return found

    def scores(self, mode: str, answers: Mapping[str, int]) -> dict[str, float]:
        """Dimension scores: the answer itself (kort) or the mean of the aspects."""
        from statistics import fmean  # at the first check-in, not at every start

        result = {}
        for dimension in self.dimensions:
            if mode == SHORT:
                result[dimension.id] = float(answers[dimension.id])
            else:
                values = [answers[f"{dimension.id}/{a.id}"] for a in dimension.aspects]
                result[dimension.id] = round(fmean(values), 1)
        return result

    def means(self, word: str, text: str) -> bool:
        """Does ``text`` say ``word`` (stop, back, yes, ...) in either language?"""
        folded = normalise(text)
        return any(folded in self.words[word][lang] for lang in LANGUAGES)


WORD_MEANINGS = (
    "stop",
    "back",
    "pause",
    "talk",
    "skip",
    "yes",
    "no",
    "short",
    "long",
    "resume",
    "restart",
    "weeks",
    "within",
)


def normalise(text: str) -> str:
    return " ".join(text.casefold().strip(" .,!?¿¡\"'").split())


def arrow(now: float, before: float | None) -> str:
    """↑, ↓ or = for the change of one dimension ("" without an earlier score)."""
    if before is None:
        return ""
    if now - before >= 0.05:
        return "↑"
    if before - now >= 0.05:
        return "↓"
    return "="


def fmt(score: float, lang: str) -> str:
    """7.0 -> "7"; 6.4 -> "6,4" in Dutch and "6.4" in English."""
    if float(score).is_integer():
        return str(int(score))
    text = f"{score:.1f}"
    return text.replace(".", ",") if lang == "nl" else text


def ordered(values: Mapping[str, float], dimensions: Sequence[Dimension]) -> list[float]:
    return [float(values[d.id]) for d in dimensions]
