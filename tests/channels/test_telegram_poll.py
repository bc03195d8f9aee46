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

    async def _post(self, *_: Any, **__: Any) -> list[Any]:  # getUpdates, raw
        self.polling.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.ended.set()
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


class _Telegram:
    """getUpdates as Telegram answers it: up to ``limit`` updates from ``offset``, and
    every update below the offset forgotten (confirmed)."""

    def __init__(self, count: int) -> None:
        self.kept = {
            n: {
                "update_id": n,
                "message": {
                    "message_id": n,
                    "date": 0,
                    "chat": {"id": n % 7, "type": "private"},
                    "text": "hallo",
                },
            }
            for n in range(1, count + 1)
        }
        self.polls = 0

    async def _post(self, endpoint: str, data: dict[str, Any], **_: Any) -> list[dict[str, Any]]:
        assert endpoint == "getUpdates"
        self.polls += 1
        offset = data["offset"] or 1
        for n in [n for n in self.kept if n < offset]:
            del self.kept[n]
        if not self.kept:  # a long poll: nothing until something comes
            await asyncio.sleep(data["timeout"])
        await asyncio.sleep(0)
        return [self.kept[n] for n in sorted(self.kept)][: data["limit"]]

    async def delete_webhook(self) -> bool:
        return True


async def test_updates_in_hand_are_read_once_and_polled_for_in_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the offset waits for the updates in hand, Telegram sends them again with
    every answer: they are not made Update objects again (about 0.6 ms each), and the
    poller asks again once half of those in hand are done, not after each one (a
    burst of 300 took 40 polls per update's worth of parsing before)."""
    telegram = _Telegram(300)
    parsed: list[int] = []
    real = telegram_poll._update

    def counted(data: dict[str, Any], bot: Any) -> Any:
        parsed.append(int(data["update_id"]))
        return real(data, bot)

    monkeypatch.setattr(telegram_poll, "_update", counted)
    queue: asyncio.Queue[object] = asyncio.Queue()
    offsets = Offsets()
    poller = telegram_poll.Poller(
        telegram,  # type: ignore[arg-type]
        queue,
        timeout=10,
        allowed_updates=[],
        on_error=lambda exc: None,
        offsets=offsets,
    )
    done: list[int] = []

    async def handle() -> None:
        while True:
            update = await queue.get()
            await asyncio.sleep(0.001)
            done.append(update.update_id)  # type: ignore[attr-defined]
            offsets.finished(update.update_id)  # type: ignore[attr-defined]

    workers = [asyncio.create_task(handle()) for _ in range(16)]
    poller.start()
    try:
        async with asyncio.timeout(60):
            while len(done) < 300:
                await asyncio.sleep(0.01)
    finally:
        await poller.stop()
        for worker in workers:
            worker.cancel()
    assert sorted(done) == list(range(1, 301))
    assert sorted(parsed) == list(range(1, 301))  # each read once
    assert telegram.polls < 100
