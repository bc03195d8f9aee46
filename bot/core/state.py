"""The conversation a person is in, as the core and the handlers see it.

Stored per (person, chat) by the storage layer (``conversation_state``: flow,
step, the data encrypted, a version); this shape is what older rows hold too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class State:
    """A conversation in progress."""

    flow: str
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 1
