"""Platform-neutral message types.

A channel adapter turns a platform update into an :class:`Incoming`, and renders
the :class:`Reply` objects a handler returns. Handlers never see platform types.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# Control characters a person cannot mean (NUL among them: PostgreSQL refuses it in
# text, SQLite keeps it), leaving tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Half a UTF-16 pair: what undecodable bytes become; no database can store it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACE = re.compile(r"\s+")
NAME_LIMIT = 64  # characters of a display name we keep (Telegram's own limit)
ID_LIMIT = 64  # characters of a platform's user or chat id
_URL_LIMIT = 2048  # characters of a link a button may open
_URL_BAD = re.compile(r"[\s\x00-\x1f\x7f]")  # a link with these is no link


class Kind(enum.StrEnum):
    """What a person sent."""

    TEXT = "text"
    COMMAND = "command"
    ACTION = "action"  # a pressed button / chosen option
    UNSUPPORTED = "unsupported"  # sticker, voice, ...; a photo or file (see attachment)


class FileKind(enum.StrEnum):
    """What kind of file a person sent along with a message."""

    IMAGE = "image"  # a picture (Telegram: a photo, the largest size)
    DOCUMENT = "document"  # any other file


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A picture or file a person sent. The channel has downloaded it to ``path``
    (under ``MEDIA_DIR``) unless it was larger than ``MEDIA_MAX_BYTES``: then
    ``too_large`` is set, ``path`` is None, and the handler can say so."""

    kind: FileKind
    path: Path | None  # the local copy; None when it was not downloaded
    filename: str  # the name the sender gave it ("" when the platform gave none)
    size: int | None  # bytes, as the platform reported them (None: not reported)
    mime_type: str | None = None
    too_large: bool = False


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
    # The channel cannot redo the update once it is confirmed (Telegram): the replies
    # are then written to the outbox in the message's own transaction, so a crash
    # between saving the state and sending loses no reply (see unit_of_work).
    durable_replies: bool = False
    # The options the channel shows numbered right now (the console), sent along with
    # typed text that chose none of them: "4" after three options is shown them again.
    shown: tuple[Choice, ...] = ()
    # A picture or file sent with the message (its caption is ``text``). Such a
    # message has kind UNSUPPORTED, so a handler that expects none answers it as
    # before; one that does (the announcement composer) reads this.
    attachment: IncomingFile | None = None

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


def clean_text(text: str) -> str:
    """Text as every database stores it: no control characters, no broken pairs."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def clean_name(name: str | None) -> str | None:
    """A display name on one line, at most ``NAME_LIMIT`` characters; None when empty."""
    if name is None:
        return None
    cleaned = _SPACE.sub(" ", clean_text(name)).strip()[:NAME_LIMIT].strip()
    return cleaned or None


def cleaned(msg: Incoming) -> Incoming:
    """The same message with the same rules for every channel and database: applied
    once, where a message enters the core, so nothing a platform lets through (NUL,
    undecodable bytes, a 200-character name) can break storing it."""
    text, name = clean_text(msg.text), clean_name(msg.display_name)
    action = clean_text(msg.action) if msg.action is not None else None
    language = clean_text(msg.language_code)[:16] if msg.language_code else None
    ids = (msg.user_id, msg.chat_id, msg.event_id)
    limits = (ID_LIMIT, ID_LIMIT, 2 * ID_LIMIT)  # the columns that store them
    safe_ids = tuple(clean_text(v)[:n] if v else v for v, n in zip(ids, limits, strict=True))
    if (
        text == msg.text
        and name == msg.display_name
        and action == msg.action
        and language == msg.language_code
        and safe_ids == ids
    ):
        return msg
    user_id, chat_id, event_id = safe_ids
    return dataclasses.replace(
        msg,
        text=text,
        display_name=name,
        action=action,
        language_code=language,
        user_id=user_id or "",
        chat_id=chat_id or "",
        event_id=event_id,
    )


@dataclass(frozen=True, slots=True)
class Choice:
    """An option offered to the person: a button, or a numbered line in the console.

    With ``url`` it is a link button instead: pressing it opens the link and sends the
    bot nothing, so it has no ``action`` (build it with :meth:`Choice.link`)."""

    label: str
    action: str = ""  # opaque data routed back as Incoming.action (max 64 bytes for Telegram)
    url: str | None = None  # an http(s) link the button opens

    def __post_init__(self) -> None:
        if len(self.action.encode()) > 64:
            raise ValueError("choice action data must fit in 64 bytes")
        if self.url is None:
            if not self.action:
                raise ValueError("a choice needs action data (or a url: a link button)")
            return
        if self.action:
            raise ValueError("a link button sends no action data")
        if not is_web_link(self.url):
            raise ValueError("a link button needs an http:// or https:// link")

    @classmethod
    def link(cls, label: str, url: str) -> Choice:
        """A button that opens ``url`` (http or https only; anything else: ValueError)."""
        return cls(label, url=url)


def is_web_link(url: str) -> bool:
    """An absolute http(s) link with a host, no spaces or control characters, and of a
    length every platform takes: what a link button may open (not javascript:, file:,
    tg:, or a relative path)."""
    if len(url) > _URL_LIMIT or _URL_BAD.search(url):
        return False
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0  # "host:abc" raises ValueError
    except ValueError:
        return False
    return port_ok and parts.scheme in ("http", "https") and bool(parts.hostname)


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


class PressOutcome(enum.StrEnum):
    """What became of the button press a reply answers; a channel that shows the
    pressed keyboard (Telegram) decides by it whether to close that keyboard."""

    # The press counted (or the reply answers no press): the keyboard closes with
    # the chosen label marked.
    ACCEPTED = "accepted"
    # An old or forged button that changed nothing: the keyboard closes, nothing marked.
    STALE = "stale"
    # Turned away for now (the database down, an internal error, the flood limit):
    # the keyboard stays, so the person can press again.
    TRY_AGAIN = "try_again"


@dataclass(frozen=True, slots=True)
class PrivateChatInvite:
    """A reply in a group that asks the person to go on in a private chat (health
    data stays out of groups). A channel with deep links draws a button that opens
    the private chat with the bot and sends it ``/start <start_payload>``."""

    start_payload: str  # "checkin", "mijnweb": what /start is given in the private chat
    button_label: str  # "" lets the channel choose (Telegram: @<bot username>)


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A link for the reader to pass on (an invite): it opens a private chat with the
    bot and sends ``/start <start_payload>``. Only the channel knows the bot's address:
    a channel with deep links adds ``label`` and the link below the text (Telegram:
    t.me/<bot>?start=<payload>); the others leave it out, so the text must say what to
    do without it (the invite's ``/code``)."""

    start_payload: str  # "inv_<token>"
    label: str  # the line above the link


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot."""

    text: str = ""
    choices: tuple[Choice, ...] = ()
    image: Image | None = None
    document: Document | None = None
    chat_id: str | None = None  # None: the chat the Incoming came from
    press_outcome: PressOutcome = PressOutcome.ACCEPTED
    private_invite: PrivateChatInvite | None = None
    share_link: ShareLink | None = None  # a deep link to pass on (see ShareLink)
    # The number each choice carries, where the labels carry numbers that are not bare
    # ("Over 2 weken": 2; None for a choice without one), declared by the flow so every
    # channel reads a typed "2" the same way (bot.core.choices). None: the labels say.
    choice_numbers: tuple[int | None, ...] | None = None
    # Set by the unit of work for durable replies: the outbox row that holds this
    # reply. The channel reports it sent or deferred (Outbox.settle).
    outbox_id: int | None = None
    # Earlier messages to this chat are still waiting in the outbox: the channel does
    # not send this one itself; the outbox sends it after them, in order.
    queued: bool = False
    # The platform's id of an earlier message of the bot in the same chat that this
    # reply replaces (its text and buttons), such as a progress line edited in place.
    # A channel that cannot edit it (gone, too old, no editing) sends a new message.
    edit_of: str | None = None
    # ``text`` is in the light markup (*vet*, _cursief_, [tekst](https://…)), parsed
    # by bot.core.markup and drawn by each channel; False: shown exactly as written.
    markup: bool = False
