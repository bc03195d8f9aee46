"""The terminal channel: the embedded default, for local use, scripts and tests.

Reads lines from standard input (a terminal or a pipe, until end of input)
and prints replies. Choices are numbered and the person answers with the number
or the label, unless the choices carry numbers themselves (scores, "Over 2
weken"): then they are shown without positions and a number means the number in
the label, as on every channel (:mod:`bot.core.choices`). Pictures and files are
already on disk; their path is printed. A link button is printed with its link and
is not numbered (choosing it sends the bot nothing). A reply that edits an earlier
message (``Reply.edit_of``) is printed again, marked as an update. Text in the light
markup (``Reply.markup``) is printed without its markers, a link's address in brackets
after its text.

``/bijlage <path> [caption]`` sends a local file as a person would send a picture
or file (``Incoming.attachment``, the caption as text): a picture by its type,
anything else a document; a path with spaces in quotes. With ``media_dir`` the file
is copied there first, as a platform's download would be; without, it is attached
where it is.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.channels.base import ChannelHost, HandleIncoming
from bot.channels.media import DEFAULT_MAX_BYTES, local_file
from bot.core.choices import carried_numbers, pick
from bot.core.markup import marked_text, readable
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.outbox.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.http import HttpServer

Label = Callable[..., str]


DEFAULT_USER = "local"
ATTACH_COMMAND = "/bijlage"  # /bijlage <path> [caption]: send a local file
# The path: in double or single quotes (spaces allowed), or up to the first space;
# the rest of the line, as typed, is the caption.
_ATTACH_LINE = re.compile(r"""\s*(?:"([^"]+)"|'([^']+)'|(\S+))\s*(.*)""", re.DOTALL)


class ConsoleChannel:
    name = "console"

    def __init__(
        self,
        *,
        user: str,
        label: Label,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        echo: bool | None = None,
        media_dir: Path | None = None,
        media_max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.user = user
        # "local" is a placeholder, not a name to greet someone with.
        self.display_name = None if user == DEFAULT_USER else user
        self.label = label
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        # Echo what was read when input is piped, so a transcript reads as a conversation.
        self.echo = (not self.stdin.isatty()) if echo is None else echo
        self.limiter = RateLimiter.unlimited()
        # A terminal serves one person: the outbox gives it only their rows, so that
        # several terminals on one database each show their own messages.
        self.only_chats: tuple[str, ...] = (user,)
        self._choices: tuple[Choice, ...] = ()
        self._numbers: tuple[int | None, ...] = ()  # the number each choice carries
        # Within one answer of the bot, plain choices of several replies (the cards of
        # /agenda) are numbered on, 1 to N over all of them, and each can be chosen; so
        # are those of outbox messages that arrive before the person types again.
        self._numbering_on = False
        self._ids = itertools.count(1)
        self.media_dir = media_dir  # None: a /bijlage file is attached where it is
        self.media_max_bytes = media_max_bytes

    def attach(self, host: ChannelHost, http: HttpServer | None) -> None:
        """Nothing to ask of the bot: the console knows no menus, routes or groups."""
        return None

    # -- outgoing -----------------------------------------------------------
    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def render(self, reply: Reply) -> None:
        if reply.edit_of is not None:
            self._write(self.label("channels.console.updated"))
        if reply.text:
            self._write(readable(marked_text(reply)))
        if reply.image is not None:
            self._write(self.label("console.image", alt=reply.image.alt, path=reply.image.path))
        if reply.document is not None:
            self._write(
                self.label(
                    "console.document", filename=reply.document.filename, path=reply.document.path
                )
            )
        self._offer(*_answers(reply))
        for link in (c for c in reply.choices if c.url is not None):
            self._write("  " + self.label("channels.console.link", label=link.label, url=link.url))
        self._write("")

    def _offer(self, choices: tuple[Choice, ...], numbers: tuple[int | None, ...] | None) -> None:
        """Show the choices that answer the bot, and remember them for the next line."""
        if choices:
            labels = [c.label for c in choices]
            carried = carried_numbers(numbers, labels)
            scores = [c.label for c in choices if c.label.isascii() and c.label.isdigit()]
            plain = not scores and not any(n is not None for n in carried)
            first = 1
            if plain and self._numbering_on:
                first = len(self._choices) + 1
                self._choices, self._numbers = self._choices + choices, self._numbers + carried
            else:
                self._choices, self._numbers = choices, carried
            self._numbering_on = plain
            if scores:
                # Scores: one row of numbers; the other choices are typed by their words.
                self._write("  " + "  ".join(f"[{label}]" for label in scores))
                others = [label for label in labels if label not in scores]
                if others:
                    self._write("  " + "  ·  ".join(others))
            elif any(n is not None for n in self._numbers):
                # Labels with a number in them ("Over 2 weken"): no positions beside
                # them, so "2" can only mean the 2 in the label.
                for label in labels:
                    self._write(f"  - {label}")
            else:
                for number, label in enumerate(labels, start=first):
                    self._write(f"  {number}. {label}")

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Deliver an outbox message (a reminder, a broadcast) to the terminal. An edit
        keeps the id of the message it replaces, as on Telegram."""
        if reply.edit_of is None:
            self._write(self.label("console.message"))
        # Messages that arrive together (an invitation, a checklist, a prompt) number
        # their choices on, like the replies of one answer: each can be chosen.
        self.render(reply)
        return reply.edit_of or f"console-{next(self._ids)}"

    # -- incoming -----------------------------------------------------------
    def to_incoming(self, line: str) -> Incoming:
        text = line.rstrip("\r\n")
        stripped = text.strip()
        if self._choices and not stripped.startswith("/"):
            choice = self._match(stripped)
            if choice is not None:
                return Incoming(
                    platform=self.name,
                    user_id=self.user,
                    chat_id=self.user,
                    kind=Kind.ACTION,
                    text=choice.label,
                    action=choice.action,
                    display_name=self.display_name,
                )
        return Incoming.from_text(
            self.name,
            self.user,
            self.user,
            text,
            display_name=self.display_name,
            shown=self._choices,
        )

    async def read_line(self, line: str) -> Incoming | None:
        """What a typed line sends: ``/bijlage`` a local file, anything else
        :meth:`to_incoming`. None when there is nothing to send (said why)."""
        head, _, rest = line.strip().partition(" ")
        if head.lower() != ATTACH_COMMAND:
            return self.to_incoming(line)
        found = _ATTACH_LINE.fullmatch(rest)
        if found is None:
            self._write(self.label("channels.console.attach_usage", command=ATTACH_COMMAND))
            return None
        path = Path(next(group for group in found.groups()[:3] if group))
        try:
            attachment = await local_file(
                path,
                platform=self.name,
                user_id=self.user,
                folder=self.media_dir,
                max_bytes=self.media_max_bytes,
            )
        except OSError:
            self._write(self.label("channels.console.attach_missing", path=path))
            return None
        return Incoming(
            platform=self.name,
            user_id=self.user,
            chat_id=self.user,
            kind=Kind.UNSUPPORTED,
            text=found.group(4).strip(),
            display_name=self.display_name,
            attachment=attachment,
        )

    def _match(self, text: str) -> Choice | None:
        """The choice ``text`` names: the same rule as the flows' (``pick``), with
        positions, since they are shown. A number with a unit ("2 weken") goes on
        as text: the flow knows the words of its units."""
        index = pick(
            text,
            [c.label for c in self._choices],
            numbers=self._numbers if len(self._numbers) == len(self._choices) else None,
            positions=True,
        )
        return None if index is None else self._choices[index]

    def _start_reader(self) -> None:
        """Read standard input in a daemon thread.

        Not ``asyncio.to_thread``: a thread blocked on a terminal read would keep
        the process from exiting on SIGTERM; a daemon thread does not.
        """
        loop = asyncio.get_running_loop()

        def read() -> None:
            while True:
                line = self.stdin.readline()
                loop.call_soon_threadsafe(self._lines.put_nowait, line)
                if line == "":
                    return

        threading.Thread(target=read, name="console-stdin", daemon=True).start()

    async def converse(self, handle: HandleIncoming, intro: bool = True) -> None:
        """Talk until end of input."""
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._start_reader()
        if intro:
            self._write(self.label("console.intro", user=self.user))
            self._write("")
        while True:
            if not self.echo:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await self._lines.get()
            if line == "":
                break
            if not line.strip():
                continue  # a blank line in a terminal is not a message
            if self.echo:
                self._write(f"> {line.rstrip()}")
            await self._answer(handle, line)
        if not self.echo:
            self._write("")
        self._write(self.label("console.bye"))

    async def _answer(self, handle: HandleIncoming, line: str) -> None:
        incoming = await self.read_line(line)
        if incoming is None:
            return
        if incoming.kind is Kind.ACTION:
            self._choices, self._numbers = (), ()
        self._numbering_on = False  # the bot's answer: its choices start at 1
        for reply in await handle(incoming):
            self.render(reply)

    async def start(self, handle: HandleIncoming) -> None:  # pragma: no cover - see converse
        await self.converse(handle)

    @property
    def connected(self) -> bool:
        """A terminal is always ready (/readyz): nothing to connect, no token."""
        return True

    async def check(self) -> bool | None:
        return True

    async def stop(self) -> None:
        return None


def _answers(reply: Reply) -> tuple[tuple[Choice, ...], tuple[int | None, ...] | None]:
    """The choices that answer the bot (not the link buttons), with their numbers."""
    choices = tuple(c for c in reply.choices if c.url is None)
    numbers = reply.choice_numbers
    if numbers is not None and len(choices) != len(reply.choices):
        pairs = zip(reply.choices, numbers, strict=False)
        numbers = tuple(n for c, n in pairs if c.url is None)
    return choices, numbers
