"""What every channel adapter offers the core. Imports no platform SDK."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.core.messages import Incoming, Reply
from bot.outbox.ratelimit import RateLimiter


class DeliveryError(Exception):
    """A message could not be delivered.

    ``permanent``: the recipient cannot be reached (blocked the bot, left, does
    not exist); retrying is pointless and the recipient is marked inactive.
    ``retry_after``: the platform asked us to wait this many seconds.
    """

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


HandleIncoming = Callable[[Incoming], Awaitable[list[Reply]]]


class Channel(Protocol):
    """A platform the bot talks on."""

    name: str
    limiter: RateLimiter

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Deliver one reply; return the platform's message id if it gives one."""
        ...

    async def start(self, handle: HandleIncoming) -> None:
        """Begin receiving messages and passing them to ``handle``."""
        ...

    async def stop(self) -> None: ...
