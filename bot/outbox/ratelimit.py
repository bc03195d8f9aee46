"""Token buckets for the platforms' rate limits: one limiter per bot token.

A bucket refills at ``rate`` per second up to ``burst``; ``acquire`` waits
until a token is free. The overall bucket and the per-chat bucket must both
allow a message before it goes out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: float = 1.0

    @classmethod
    def per_minute(cls, count: float, burst: float = 1.0) -> Rate:
        return cls(count / 60.0, burst)


class TokenBucket:
    def __init__(self, rate: Rate, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._tokens = rate.burst
        self._monotonic = monotonic
        self._stamp = monotonic()

    def _refill(self) -> None:
        now = self._monotonic()
        refill = (now - self._stamp) * self.rate.per_second
        self._tokens = min(self.rate.burst, self._tokens + refill)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until one token is available (0 if one is now)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate.per_second

    def take(self) -> None:
        self._refill()
        self._tokens -= 1

    @property
    def idle(self) -> bool:
        self._refill()
        return self._tokens >= self.rate.burst


class RateLimiter:
    """An overall bucket plus one bucket per chat, as the chat's kind requires."""

    def __init__(
        self,
        overall: Rate | None,
        per_chat: Callable[[str], Rate | None] = lambda _: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._overall = TokenBucket(overall, monotonic) if overall else None
        self._per_chat = per_chat
        self._chats: dict[str, TokenBucket] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def unlimited(cls) -> RateLimiter:
        return cls(None)

    def _chat_bucket(self, chat_id: str) -> TokenBucket | None:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            rate = self._per_chat(chat_id)
            if rate is None:
                return None
            if len(self._chats) > 50_000:  # drop full (idle) buckets to bound memory
                self._chats = {k: b for k, b in self._chats.items() if not b.idle}
            bucket = self._chats[chat_id] = TokenBucket(rate, self._monotonic)
        return bucket

    def delay(self, chat_id: str) -> float:
        """How long the next message to this chat would have to wait."""
        buckets = [b for b in (self._overall, self._chat_bucket(chat_id)) if b is not None]
        return max((b.delay() for b in buckets), default=0.0)

    async def acquire(self, chat_id: str) -> None:
        buckets = [b for b in (self._overall, self._chat_bucket(chat_id)) if b is not None]
        if not buckets:
            return
        async with self._lock:
            wait = max(b.delay() for b in buckets)
            if wait > 0:  # refilling is a matter of time, not of an event
                await asyncio.sleep(wait)
            for bucket in buckets:
                bucket.take()
