"""Fakes that record what the bot sent, and can fail on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import ChannelHost, DeliveryError, HandleIncoming
from bot.core.messages import Reply
from bot.outbox.ratelimit import RateLimiter


@dataclass
class RecordingChannel:
    """A channel that keeps every delivery, and fails for chosen chats."""

    name: str = "console"
    limiter: RateLimiter = field(default_factory=RateLimiter.unlimited)
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    failures: dict[str, Exception] = field(default_factory=dict)
    calls: int = 0

    async def send(self, chat_id: str, reply: Reply) -> str:
        self.calls += 1
        failure = self.failures.get(chat_id)
        if failure is not None:
            raise failure
        self.sent.append((chat_id, reply))
        return f"{self.name}-{len(self.sent)}"

    def attach(self, host: ChannelHost, http: Any) -> None:
        return None

    async def start(self, handle: HandleIncoming) -> None:
        return None

    async def stop(self) -> None:
        return None

    def texts_to(self, chat_id: str) -> list[str]:
        return [reply.text for chat, reply in self.sent if chat == chat_id]


def blocked() -> DeliveryError:
    return DeliveryError("Forbidden: bot was blocked by the user", permanent=True)


def too_many(retry_after: float) -> DeliveryError:
    return DeliveryError("Too Many Requests", retry_after=retry_after)
