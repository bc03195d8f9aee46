"""RecentEvents: a redelivered platform event is dropped, unless its handling failed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.messages import Incoming, Reply
from bot.core.middleware import RecentEvents


def _msg(event: str | None, platform: str = "telegram") -> Incoming:
    return Incoming.from_text(platform, "1", "1", "hallo", event_id=event)


async def test_a_repeat_is_dropped_and_a_failed_one_may_come_again() -> None:
    recent = RecentEvents(size=2)
    handled: list[str | None] = []
    fail = {"e2"}

    async def handle(msg: Incoming, ctx: Any) -> list[Reply]:
        handled.append(msg.event_id)
        if msg.event_id in fail:
            raise RuntimeError("database down")
        return [Reply(text="ok")]

    ctx: Any = None
    assert await recent(_msg("e1"), ctx, handle) == [Reply(text="ok")]
    assert await recent(_msg("e1"), ctx, handle) == []  # the same update again
    assert await recent(_msg("e1", platform="slack"), ctx, handle) != []  # another platform
    with pytest.raises(RuntimeError):
        await recent(_msg("e2"), ctx, handle)
    fail.clear()
    assert await recent(_msg("e2"), ctx, handle) != []  # handled again after the failure
    assert await recent(_msg(None), ctx, handle) != []  # no event id: never a repeat
    assert await recent(_msg(None), ctx, handle) != []
    # Bounded: the oldest ids are forgotten (the database's dedupe covers those).
    assert await recent(_msg("e1"), ctx, handle) != []
    assert handled == ["e1", "e1", "e2", "e2", None, None, "e1"]
