"""Token buckets, driven by a fake monotonic clock."""

from __future__ import annotations

import pytest

from bot.outbox.ratelimit import Rate, RateLimiter, TokenBucket


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_burst_then_refills() -> None:
    ticks = Ticks()
    bucket = TokenBucket(Rate(per_second=2, burst=3), ticks)
    for _ in range(3):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == pytest.approx(0.5)
    ticks.now += 0.5
    assert bucket.delay() == 0


def test_group_chats_get_their_own_slower_limit() -> None:
    ticks = Ticks()
    limiter = RateLimiter(
        Rate(30, 30), lambda chat: Rate.per_minute(20) if chat.startswith("-") else None, ticks
    )
    assert limiter.delay("-100") == 0
    limiter._chat_bucket("-100").take()  # type: ignore[union-attr]
    assert limiter.delay("-100") == pytest.approx(3.0)
    assert limiter.delay("12345") == 0  # a private chat is not held up by the group


async def test_acquire_takes_from_overall_and_chat_buckets() -> None:
    ticks = Ticks()
    limiter = RateLimiter(Rate(1, 2), lambda _: Rate(10, 10), ticks)
    await limiter.acquire("a")
    await limiter.acquire("b")
    assert limiter.delay("c") == pytest.approx(1.0)
    assert RateLimiter.unlimited().delay("x") == 0
