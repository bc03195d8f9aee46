"""The terminal channel: the embedded default, for local use, scripts and tests.

Reads lines from standard input (a terminal or a pipe, until end of input)
and prints replies. Choices are numbered; the person answers with the number
or the label (a label that is itself a number, like a score, wins over the
position). Pictures and files are already on disk; their path is printed.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.channels.base import HandleIncoming
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.outbox.ratelimit import RateLimiter

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
        self._ids = itertools.count(1)

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
            self._choices = reply.choices
            numbers = [c for c in reply.choices if c.label.isdigit()]
            if numbers:
                # Scores: one row of numbers; the other choices are typed by their words.
                self._write("  " + "  ".join(f"[{c.label}]" for c in numbers))
                others = [c.label for c in reply.choices if not c.label.isdigit()]
                if others:
                    self._write("  " + "  ·  ".join(others))
            else:
                for number, choice in enumerate(reply.choices, start=1):
                    self._write(f"  {number}. {choice.label}")
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
            self.name, self.user, self.user, text, display_name=self.display_name
        )

    @staticmethod
    def _fold(text: str) -> str:
        return text.casefold().strip(" .,!?¿¡")

    def _match(self, text: str) -> Choice | None:
        folded = self._fold(text)
        for choice in self._choices:
            if self._fold(choice.label) == folded:
                return choice
        if text.isdigit() and not any(c.label.isdigit() for c in self._choices):
            index = int(text)
            if 1 <= index <= len(self._choices):
                return self._choices[index - 1]
        return None

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
                self._choices = ()
            for reply in await handle(incoming):
                self.render(reply)
        if not self.echo:
            self._write("")
        self._write(self.label("console.bye"))

    async def start(self, handle: HandleIncoming) -> None:  # pragma: no cover - see converse
        await self.converse(handle)

    async def stop(self) -> None:
        return None
