"""Drive the bot like a person: ``replies = await bot.send("/start")``."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.app import App
from bot.channels.console import ConsoleChannel
from bot.core.messages import Choice, Incoming, Kind, Reply

_events = itertools.count(1)


@dataclass
class Person:
    """One person talking to the bot in one chat."""

    app: App
    user_id: str = "anna"
    chat_id: str | None = None
    platform: str = "console"
    private: bool = True
    display_name: str | None = "Anna"
    language_code: str | None = None
    with_event_ids: bool = False
    # Replies held in the outbox in the message's own transaction, as Telegram's are.
    durable_replies: bool = False
    last: list[Reply] = field(default_factory=list)

    def _base(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "user_id": self.user_id,
            "chat_id": self.chat_id or self.user_id,
            "is_private": self.private,
            "display_name": self.display_name,
            "language_code": self.language_code,
            "event_id": str(next(_events)) if self.with_event_ids else None,
            "durable_replies": self.durable_replies,
        }

    async def deliver(self, incoming: Incoming) -> list[Reply]:
        self.last = await self.app.handle(incoming)
        return self.last

    async def send(self, text: str) -> list[Reply]:
        base = self._base()
        return await self.deliver(
            Incoming.from_text(
                str(base.pop("platform")),
                str(base.pop("user_id")),
                str(base.pop("chat_id")),
                text,
                **base,
            )
        )

    async def press(self, label_or_action: str) -> list[Reply]:
        """Press a choice from the last replies by its label, or send raw action data."""
        choice = self.find_choice(label_or_action)
        action = choice.action if choice else label_or_action
        label = choice.label if choice else label_or_action
        return await self.deliver(
            Incoming(kind=Kind.ACTION, text=label, action=action, **self._base())
        )  # type: ignore[arg-type]

    async def sticker(self) -> list[Reply]:
        return await self.deliver(Incoming(kind=Kind.UNSUPPORTED, **self._base()))  # type: ignore[arg-type]

    def find_choice(self, label_or_action: str) -> Choice | None:
        for reply in reversed(self.last):
            for choice in reply.choices:
                if label_or_action in (choice.label, choice.action):
                    return choice
        return None

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    @property
    def choices(self) -> list[str]:
        return [c.label for r in self.last for c in r.choices]


async def typed_in_console(app: App, lines: Sequence[str], user: str = "fatima") -> str:
    """Type ``lines`` in the terminal chat (Dutch labels); what the console printed."""
    assert app.services is not None
    texts = app.services.texts
    out = io.StringIO()
    console = ConsoleChannel(
        user=user,
        label=lambda key, **kw: texts.get("nl", key, **kw),
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
        echo=True,
    )
    await console.converse(app.handle, intro=False)
    return out.getvalue()
