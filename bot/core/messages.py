"""Platform-neutral message types.

A channel adapter turns a platform update into an :class:`Incoming`, and renders
the :class:`Reply` objects a handler returns. Handlers never see platform types.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class Kind(enum.StrEnum):
    """What a person sent."""

    TEXT = "text"
    COMMAND = "command"
    ACTION = "action"  # a pressed button / chosen option
    UNSUPPORTED = "unsupported"  # sticker, photo, voice, ...


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or button press from a person, as the core sees it."""

    platform: str
    user_id: str
    chat_id: str
    kind: Kind
    text: str = ""
    is_private: bool = True
    display_name: str | None = None
    language_code: str | None = None
    event_id: str | None = None  # platform update/event id, for deduplication
    action: str | None = None  # data of the pressed choice

    @property
    def command(self) -> str | None:
        """The command name without slash or bot suffix, lower-case."""
        if self.kind is not Kind.COMMAND:
            return None
        head = self.text.strip().split(maxsplit=1)[0]
        return head.lstrip("/").split("@", 1)[0].lower()

    @property
    def args(self) -> str:
        """Everything after the command word ("" for anything but a command)."""
        if self.kind is not Kind.COMMAND:
            return ""
        parts = self.text.strip().split(maxsplit=1)
        return parts[1] if len(parts) > 1 else ""

    @classmethod
    def from_text(
        cls, platform: str, user_id: str, chat_id: str, text: str, **kw: object
    ) -> Incoming:
        """Classify free text: a leading slash makes it a command."""
        stripped = text.strip()
        kind = Kind.COMMAND if stripped.startswith("/") and len(stripped) > 1 else Kind.TEXT
        return cls(platform=platform, user_id=user_id, chat_id=chat_id, kind=kind, text=text, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Choice:
    """An option offered to the person: a button, or a numbered line in the console."""

    label: str
    action: str  # opaque data routed back as Incoming.action (max 64 bytes for Telegram)

    def __post_init__(self) -> None:
        if len(self.action.encode()) > 64:
            raise ValueError("choice action data must fit in 64 bytes")


@dataclass(frozen=True, slots=True)
class Image:
    """A picture to send; ``path`` points at a PNG file on disk."""

    path: Path
    alt: str  # text alternative for screen readers and the console


@dataclass(frozen=True, slots=True)
class Document:
    """A file to send, such as a data export."""

    path: Path
    filename: str


def refused_press() -> dict[str, str]:
    """``Reply.extra`` for the answer to a button press that changed nothing (an
    old or forged button): a channel then closes that keyboard without marking the
    pressed choice as chosen."""
    return {"stale": "1"}


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot."""

    text: str = ""
    choices: tuple[Choice, ...] = ()
    image: Image | None = None
    document: Document | None = None
    chat_id: str | None = None  # None: the chat the Incoming came from
    extra: dict[str, str] = field(default_factory=dict)
