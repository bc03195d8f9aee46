"""A check-in in progress: what it keeps between messages (``handlers/checkin.py``
asks the questions; the flow engine stores this, encrypted, with the step, the run
and the turn)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class CheckinData:
    """What a check-in keeps between messages. Stored under the same keys as before
    the flow engine, so a check-in begun before an upgrade resumes after it; a key
    that is None is not stored. Where a paused check-in goes on (``paused_step``,
    ``resume_step``) is the engine's to keep, under the same names as before."""

    store: bool | None = None  # consent given: the result is kept
    mode: str | None = None  # SHORT or EXTENDED
    pos: int | None = None  # the question asked (0-based)
    answers: dict[str, int] | None = None  # question id -> score
    marks: list[str] | None = None  # question ids marked to talk about
    checkin: int | None = None  # the stored check-in's id, once stored
    rpos: int | None = None  # the reflection question asked
    refl: dict[str, str] = field(default_factory=dict)  # the reflections given

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "store": self.store,
            "mode": self.mode,
            "pos": self.pos,
            "answers": None if self.answers is None else dict(self.answers),
            "marks": None if self.marks is None else list(self.marks),
            "checkin": self.checkin,
            "rpos": self.rpos,
            "refl": dict(self.refl) if self.refl else None,
        }
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        def opt_int(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(value)

        def opt_str(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        answers = data.get("answers")
        marks = data.get("marks")
        store = data.get("store")
        return cls(
            store=None if store is None else bool(store),
            mode=opt_str("mode"),
            pos=opt_int("pos"),
            answers=None if answers is None else {str(k): int(v) for k, v in dict(answers).items()},
            marks=None if marks is None else [str(m) for m in marks],
            checkin=opt_int("checkin"),
            rpos=opt_int("rpos"),
            refl={str(k): str(v) for k, v in dict(data.get("refl") or {}).items()},
        )
