"""The fake Bot API of bench_telegram.py, in the fake's own process: the test fake
(``tests/helpers/fake_telegram.py``) plus first-delivery times, staged updates and a
reply counter. Only the fake's process imports this module."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from tests.helpers.fake_telegram import SEND_METHODS, Call, FakeBotApi

SEND_TEXT_KEPT = 160  # characters of each sent text the fake reports back


class BenchFake(FakeBotApi):
    """The test fake, plus: first-delivery times, staged updates, a reply counter."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered: dict[int, float] = {}
        self.staged: list[dict[str, Any]] = []
        self.paced = False
        self.expected = 0
        self.replies = 0
        self.finished = asyncio.Event()

    def stage(self, people: list[tuple[int, str]]) -> list[tuple[int, int]]:
        """Build the updates now (not timed); they become available on ``go``."""
        self.clear_calls()
        self.delivered.clear()
        self.staged = [self.message(user, text, enqueue=False) for user, text in people]
        self.expected, self.replies = len(self.staged), 0
        self.finished = asyncio.Event()
        return [(u["update_id"], u["message"]["chat"]["id"]) for u in self.staged]

    def go(self, paced: bool) -> None:
        self.paced = paced
        self._release(1 if paced else len(self.staged))

    def _release(self, count: int) -> None:
        batch, self.staged = self.staged[:count], self.staged[count:]
        if batch:
            self._pending.extend(batch)  # already in update_id order
            self._notify()

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        updates = await super()._get_updates(call)
        now = time.monotonic()
        for update in updates:
            self.delivered.setdefault(update["update_id"], now)
        return updates

    async def _dispatch(self, call: Call) -> tuple[Any, str | None]:
        try:
            return await super()._dispatch(call)
        finally:
            if call.method in SEND_METHODS:
                self.replies += 1
                if self.paced:
                    self._release(1)
                if self.replies >= self.expected:
                    self.finished.set()

    def records(self, updates: list[tuple[int, int]]) -> dict[str, Any]:
        sends = []
        other: Counter[str] = Counter()
        for call in self.calls:
            if call.method in SEND_METHODS:
                text = str(call.params.get("text") or call.params.get("caption") or "")
                sends.append((call.chat_id, call.at, call.status, text[:SEND_TEXT_KEPT]))
            elif call.method not in ("getUpdates", "deleteWebhook"):
                # deleteWebhook: the bot's poller clears any webhook before its first poll.
                other[call.method] += 1
        return {
            "updates": [(uid, chat, self.delivered.get(uid)) for uid, chat in updates],
            "sends": sends,
            "other_calls": dict(other),
        }
