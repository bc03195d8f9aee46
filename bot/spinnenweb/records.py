"""A stored spinnenweb check-in as the domain sees it: decrypted, never logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class CheckinRecord:
    """A check-in as the person sees it: decrypted, never logged."""

    id: int
    taken_at: datetime
    mode: str
    scores: dict[str, float]  # dimension id -> 0..10
    answers: dict[str, int] = field(default_factory=dict)  # question id -> 0..10
    marked: list[str] = field(default_factory=list)  # "hier wil ik over praten"
    reflection: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """What is stored, encrypted, in the check-in's payload column."""
        return {
            "scores": self.scores,
            "answers": self.answers,
            "marked": self.marked,
            "reflection": self.reflection,
        }
