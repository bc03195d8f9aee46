"""Which offset the poller asks Telegram with (bot/channels/telegram_poll.py): never past
an update that is not finished, unless it has been stuck for longer than the hold."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from telegram import Bot

from bot.channels import telegram_poll
from bot.channels.telegram_poll import Offsets, Poller


def test_the_offset_waits_for_the_oldest_unfinished_update() -> None:
    offsets = Offsets()
    assert offsets.offset() == 0 and not offsets.holding()  # Telegram's oldest first
    for update_id in (7, 8, 9):
        assert offsets.fresh(update_id)
        offsets.taken(update_id)
    assert not offsets.fresh(8)  # sent again while the offset waits: skipped
    assert offsets.offset() == 7 and offsets.holding()
    offsets.finished(8)
    offsets.finished(9)
    assert offsets.offset() == 7  # 8 and 9 are done, but 7 is not: nothing confirmed
    offsets.finished(7)
    assert offsets.offset() == 10 and not offsets.holding()
    assert offsets.unfinished == 0


def test_a_stuck_update_stops_holding_the_offset_after_the_hold(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    monkeypatch.setattr(telegram_poll.time, "monotonic", lambda: now[0])
    offsets = Offsets(hold=60.0)
    offsets.taken(3)
    now[0] += 30.0
    offsets.taken(4)
    assert offsets.offset() == 3
    now[0] += 31.0  # 3 is stuck for 61 s, 4 for 31 s
    assert offsets.offset() == 4
    assert offsets.offset() == 4
    assert caplog.text.count("update 3 unfinished") == 1  # said once
    now[0] += 30.0
    assert offsets.offset() == 5
    assert offsets.unfinished == 2  # still in hand; only no longer held back


async def test_the_oldest_finishing_during_a_poll_wakes_the_poller_at_once() -> None:
    """The poller watches before its getUpdates: a finish while the request is out is not
    missed (it waited the whole idle time before, and under load fell far behind)."""
    offsets = Offsets()
    offsets.taken(1)
    offsets.taken(2)
    offsets.watch()  # a poll starts
    offsets.finished(2)  # not the oldest: the offset stays
    offsets.finished(1)  # the oldest, while the poll is out
    async with asyncio.timeout(30):  # a guard against a hang; the wait asks for an hour
        await offsets.wait_moved(3600)


class _HangingBot:
    """A Bot whose getUpdates waits for ever (until cancelled)."""

    def __init__(self) -> None:
        self.polling = asyncio.Event()
        self.ended = asyncio.Event()

    async def delete_webhook(self) -> bool:
        return True

    async def get_updates(self, **_: Any) -> tuple[()]:
        self.polling.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.ended.set()
        return ()

    async def _post(self, *_: Any, **__: Any) -> list[Any]:  # getUpdates, raw
        await self.get_updates()
        return []


async def test_stop_after_a_pause_waits_until_the_poll_has_ended() -> None:
    """The stop pauses first (at once, as the election's on_follow does), then waits for
    the loop to end: no getUpdates of this poller is still out when stop returns (the
    last, confirming one follows it)."""
    bot = _HangingBot()
    poller = Poller(cast(Bot, bot), asyncio.Queue(), timeout=10, allowed_updates=[], on_error=print)
    poller.start()
    async with asyncio.timeout(30):  # a guard against a hang
        await bot.polling.wait()
    poller.pause()
    assert not poller.running
    await poller.stop()
    assert bot.ended.is_set()
