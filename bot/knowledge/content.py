"""Loading and validating the curated knowledge in ``content/knowledge/``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.knowledge.text import fold
from bot.yamltext import load_yaml

MIN_WORDS, MAX_WORDS, MIN_QUESTIONS = 40, 200, 5
# a seed, general knowledge, or the bot's own user guide (entries about the bot itself)
SEED_PATTERN = r"^(algemeen|handleiding|\d{3}_[0-9a-f]{16}\.txt)$"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(pattern=SEED_PATTERN)
    section: str = ""

    def label(self, names: dict[str, str] | None = None) -> str:
        """How the source is named to a reader: document title, then section."""
        document = (names or {}).get(self.file, self.file)
        if self.file == "algemeen" or not self.section:
            return document
        return f"{document}, {self.section}"


class Translation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    questions: list[str] = Field(min_length=MIN_QUESTIONS)
    answer: str


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    audience: Literal["inwoner", "professional", "iedereen"]
    tags: list[str] = Field(default_factory=list)
    questions: list[str] = Field(min_length=MIN_QUESTIONS)
    answer: str
    source: Source
    related: list[str] = Field(default_factory=list)
    en: Translation | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _plain_source(cls, value: object) -> object:
        return {"file": "algemeen", "section": ""} if value == "algemeen" else value

    def text(self, language: str) -> tuple[str, list[str], str]:
        """Title, example questions and answer in ``language`` (Dutch if not translated)."""
        if language == "en" and self.en is not None:
            return self.en.title, self.en.questions, self.en.answer
        return self.title, self.questions, self.answer


COURTESY = "courtesy"  # smalltalk.yaml: words around a question, never a message alone


@dataclass
class Knowledge:
    entries: list[Entry]
    synonyms: list[list[str]] = field(default_factory=list)
    stopwords: dict[str, set[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    smalltalk: dict[str, str] = field(default_factory=dict)  # folded message → kind
    # Greetings, thanks and closings around a question ("goedemiddag, …? dank je!"),
    # folded, longest first: the answerer also searches the question without them.
    courtesy: tuple[str, ...] = ()
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # file → lang → title
    popular: list[str] = field(default_factory=list)  # ids /vraag offers, most asked first

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}

    def get(self, entry_id: str) -> Entry | None:
        return self.by_id.get(entry_id)

    def source_names(self, language: str) -> dict[str, str]:
        """Each source document's title in ``language`` (Dutch if not translated)."""
        return {
            file: titles.get(language) or titles.get("nl", file)
            for file, titles in self.sources.items()
        }

    def source_label(self, entry: Entry, language: str) -> str:
        return entry.source.label(self.source_names(language))


def _words(text: str) -> int:
    return len(text.split())


def load_knowledge(content: Path) -> Knowledge:
    """Read every entry file; problems are collected in ``errors``, not raised."""
    folder = content / "knowledge"
    entries: list[Entry] = []
    errors: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.stem in ("synonyms", "stopwords", "smalltalk", "popular", "sources", "decision"):
            continue
        try:
            raw = load_yaml(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: not valid YAML ({exc})")
            continue
        if not isinstance(raw, list):
            errors.append(f"{path.name}: must be a list of entries")
            continue
        for index, item in enumerate(raw):
            try:
                entries.append(Entry.model_validate(item))
            except ValidationError as exc:
                where = item.get("id", f"#{index}") if isinstance(item, dict) else f"#{index}"
                for problem in exc.errors():
                    loc = ".".join(str(p) for p in problem["loc"])
                    errors.append(f"{path.name}: {where}: {loc}: {problem['msg']}")
    errors += _cross_checks(entries)
    synonyms_file = folder / "synonyms.yaml"
    synonyms = (
        load_yaml(synonyms_file.read_text(encoding="utf-8")) if synonyms_file.exists() else []
    )
    stop_file = folder / "stopwords.yaml"
    stop_raw = load_yaml(stop_file.read_text(encoding="utf-8")) if stop_file.exists() else {}
    stopwords = {str(lang): {str(w) for w in words} for lang, words in (stop_raw or {}).items()}
    groups = [[str(word).lower() for word in group] for group in synonyms or []]
    small_file = folder / "smalltalk.yaml"
    small_raw = load_yaml(small_file.read_text(encoding="utf-8")) if small_file.exists() else {}
    small_phrases = [
        (str(kind), " ".join(fold(str(p)).split()))
        for kind, phrases in (small_raw or {}).items()
        for p in phrases
    ]
    smalltalk = {phrase: kind for kind, phrase in small_phrases if kind != COURTESY}
    courtesy = sorted(
        {phrase for _, phrase in small_phrases if phrase},
        key=lambda phrase: (-len(phrase.split()), phrase),
    )
    sources_file = folder / "sources.yaml"
    sources = load_yaml(sources_file.read_text(encoding="utf-8")) if sources_file.exists() else {}
    for entry in entries:
        if sources and entry.source.file not in sources:
            errors.append(f"{entry.id}: source {entry.source.file!r} is not in sources.yaml")
    popular_file = folder / "popular.yaml"
    raw_popular = (
        load_yaml(popular_file.read_text(encoding="utf-8")) if popular_file.exists() else []
    )
    popular = [str(i) for i in raw_popular or []]
    known = {entry.id for entry in entries}
    errors += [f"popular.yaml: no entry {i!r}" for i in popular if i not in known]
    return Knowledge(
        entries=entries,
        synonyms=groups,
        stopwords=stopwords,
        errors=errors,
        smalltalk=smalltalk,
        courtesy=tuple(courtesy),
        sources=sources or {},
        popular=popular,
    )


def _cross_checks(entries: list[Entry]) -> list[str]:
    errors = []
    counts = Counter(entry.id for entry in entries)
    errors += [f"{entry_id}: id used {n} times" for entry_id, n in counts.items() if n > 1]
    ids = set(counts)
    for entry in entries:
        errors += [
            f"{entry.id}: related entry {r!r} does not exist" for r in entry.related if r not in ids
        ]
        if entry.id in entry.related:
            errors.append(f"{entry.id}: related to itself")
        for language, answer in (("nl", entry.answer), ("en", entry.en.answer if entry.en else "")):
            if language == "en" and not answer:
                continue
            words = _words(answer)
            if not MIN_WORDS <= words <= MAX_WORDS:
                errors.append(
                    f"{entry.id}: {language} answer has {words} words "
                    f"(expected {MIN_WORDS}-{MAX_WORDS})"
                )
        duplicates = [q for q, n in Counter(q.lower() for q in entry.questions).items() if n > 1]
        errors += [f"{entry.id}: example question repeated: {q!r}" for q in duplicates]
    return errors
