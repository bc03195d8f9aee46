"""All user-facing sentences, loaded from ``content/messages/<lang>.yaml``.

Handlers refer to sentences by dotted key (``start.welcome``); this module
looks them up in the person's language and falls back to Dutch.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.settings import SUPPORTED_LANGUAGES
from bot.yamltext import load_yaml

FALLBACK_LANGUAGE = "nl"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    elif isinstance(node, str):
        out[prefix] = node.strip("\n") if node.endswith("\n") else node
    else:
        raise ValueError(f"message {prefix!r} must be text, not {type(node).__name__}")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields a sentence expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    """Lookup of user-facing sentences by language and key."""

    def __init__(self, catalogues: dict[str, dict[str, str]], source: Path | None = None) -> None:
        if FALLBACK_LANGUAGE not in catalogues:
            raise ValueError("the Dutch catalogue is required")
        self._catalogues = catalogues
        self._source = source

    @classmethod
    def load(cls, content: Path) -> Texts:
        return cls(cls._read(content), content)

    def reload(self) -> None:
        """Read the catalogues again (after a content change); keeps the old on error."""
        if self._source is not None:
            self._catalogues = self._read(self._source)

    @staticmethod
    def _read(content: Path) -> dict[str, dict[str, str]]:
        """``messages/<lang>.yaml`` and, per feature, ``messages/<lang>/*.yaml``: one
        catalogue per language; a key given in two files is refused."""
        catalogues: dict[str, dict[str, str]] = {}
        for language in SUPPORTED_LANGUAGES:
            main = content / "messages" / f"{language}.yaml"
            if not main.exists():
                continue
            flat: dict[str, str] = {}
            for path in (main, *sorted((content / "messages" / language).glob("*.yaml"))):
                part: dict[str, str] = {}
                _flatten("", load_yaml(path.read_text(encoding="utf-8")) or {}, part)
                if twice := part.keys() & flat.keys():
                    raise ValueError(f"{path}: messages given twice: {sorted(twice)[:5]}")
                flat.update(part)
            catalogues[language] = flat
        return catalogues

    @property
    def languages(self) -> list[str]:
        return list(self._catalogues)

    def keys(self, language: str) -> set[str]:
        return set(self._catalogues.get(language, {}))

    def raw(self, language: str, key: str) -> str:
        catalogue = self._catalogues.get(language) or self._catalogues[FALLBACK_LANGUAGE]
        template = catalogue.get(key) or self._catalogues[FALLBACK_LANGUAGE].get(key)
        if template is None:
            raise KeyError(f"no message {key!r}")
        return template

    def get(self, language: str, key: str, **params: object) -> str:
        """The sentence ``key`` in ``language`` with ``params`` filled in."""
        template = self.raw(language, key)
        return template.format(**params)

    def has(self, key: str) -> bool:
        return key in self._catalogues[FALLBACK_LANGUAGE]
