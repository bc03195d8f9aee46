"""The safety layer: crisis signals and requests for medical advice.

Patterns live in ``content/safety.yaml`` so they can be reviewed and extended
without touching code. Crisis patterns are checked on every message before
anything else; medical patterns only on questions, before retrieval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.text import fold


@dataclass(frozen=True)
class Safety:
    crisis: tuple[re.Pattern[str], ...]
    medical: tuple[re.Pattern[str], ...]

    @classmethod
    def load(cls, content: Path) -> Safety:
        raw = yaml.safe_load((content / "safety.yaml").read_text(encoding="utf-8")) or {}
        return cls(
            crisis=tuple(re.compile(p) for p in raw.get("crisis", [])),
            medical=tuple(re.compile(p) for p in raw.get("medical", [])),
        )

    @staticmethod
    def _prepare(text: str) -> str:
        return " ".join(fold(text).replace("’", "'").split())

    def is_crisis(self, text: str) -> bool:
        folded = self._prepare(text)
        return any(p.search(folded) for p in self.crisis)

    def is_medical(self, text: str) -> bool:
        folded = self._prepare(text)
        return any(p.search(folded) for p in self.medical)
