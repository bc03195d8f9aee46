"""The terminal channel: the embedded default, for local use, scripts and tests.

Reads lines from standard input (a terminal or a pipe, until end of input)
and prints replies. Choices are numbered and the person answers with the number
or the label, unless the choices carry numbers themselves (scores, "Over 2
weken"): then they are shown without positions and a number means the number in
the label, as on every channel (:mod:`bot.core.choices`). Pictures and files are
already on disk; their path is printed.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from bot.channels.base import ChannelHost, HandleIncoming
from bot.core.choices import carried_numbers, pick
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.outbox.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.http import HttpServer

Label = Callable[..., str]


DEFAULT_USER = "local"


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
        self._choices: tuple[Choice, ...] = ()
        self._numbers: tuple[int | None, ...] = ()  # the number each choice carries
        self._ids = itertools.count(1)

    def attach(self, host: ChannelHost, http: HttpServer | None) -> None:
        """Nothing to ask of the bot: the console knows no menus, routes or groups."""
        return None

    # -- outgoing -----------------------------------------------------------
    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def render(self, reply: Reply) -> None:
        if reply.text:
            self._write(reply.text)
        if reply.image is not None:
            self._write(self.label("console.image", alt=reply.image.alt, path=reply.image.path))
        if reply.document is not None:
            self._write(
                self.label(
                    "console.document", filename=reply.document.filename, path=reply.document.path
                )
            )
        if reply.choices:
            labels = [c.label for c in reply.choices]
            self._choices = reply.choices
            self._numbers = carried_numbers(reply.choice_numbers, labels)
            scores = [c.label for c in reply.choices if c.label.isascii() and c.label.isdigit()]
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
                for number, label in enumerate(labels, start=1):
                    self._write(f"  {number}. {label}")
        self._write("")

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Deliver an outbox message (a reminder, a broadcast) to the terminal."""
        self._write(self.label("console.message"))
        self.render(reply)
        return f"console-{next(self._ids)}"

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
            incoming = self.to_incoming(line)
            if incoming.kind is Kind.ACTION:
                self._choices, self._numbers = (), ()
            for reply in await handle(incoming):
                self.render(reply)
        if not self.echo:
            self._write("")
        self._write(self.label("console.bye"))

    async def start(self, handle: HandleIncoming) -> None:  # pragma: no cover - see converse
        await self.converse(handle)

    async def stop(self) -> None:
        return None
