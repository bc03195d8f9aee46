"""The fake Bot API of bench_chat_under_load.py, in the fake's own process: the test fake
(``tests/helpers/fake_telegram.py``) timing each chat update from the moment getUpdates
hands it out to the moment its reply arrives, and noting when each broadcast message and
reminder arrives. Only the fake's process imports this module."""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from typing import Any

from bench_chat_under_load import REMIND_FIRST, group_of
from bench_soak import MARK

from tests.helpers.fake_telegram import SEND_METHODS, FakeBotApi

KEPT_MESSAGES = 2000  # the fake's stored messages, cleared beyond this (nothing is edited)


def classify(text: str, chat: int, titles: tuple[str, ...], chats: set[int]) -> str:
    """What a message the bot sent is: a reply, the broadcast, a reminder, or other."""
    if MARK in text:
        return "broadcast"
    if chat in chats and text.startswith(titles):
        return "reply"
    if chat >= REMIND_FIRST or (chat in chats and group_of(chat) == "reminder"):
        return "reminder"
    return "other send"


class LoadFake(FakeBotApi):
    def __init__(self) -> None:
        super().__init__()
        self.tally: Counter[str] = Counter()
        self.handed: dict[int, deque[float]] = defaultdict(deque)  # chat: hand-out times
        self.chat_of: dict[int, int] = {}  # update_id: chat, until handed out
        self.latencies: list[tuple[int, float, float]] = []  # chat, handed out, replied
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # broadcast, reminder
        self.titles: tuple[str, ...] = ()  # a reply starts with one of these
        self.chats: set[int] = set()

    async def _get_updates(self, call: Any) -> list[dict[str, Any]]:
        updates = await super()._get_updates(call)
        now = time.monotonic()
        for update in updates:
            chat = self.chat_of.pop(update["update_id"], None)
            if chat is not None:
                self.handed[chat].append(now)
        return updates

    async def _dispatch(self, call: Any) -> tuple[Any, str | None]:
        try:
            result = await super()._dispatch(call)
        except Exception:
            self.tally["failed " + call.method] += 1
            raise
        if call.method in SEND_METHODS:
            self._sent(call)
        elif call.method not in ("getUpdates", "getMe"):
            self.tally["other call"] += 1
        if len(self.calls) > 1000:
            self.calls.clear()  # counted already; a long run
        if len(self._messages) > KEPT_MESSAGES:
            self._messages.clear()
        return result

    def _sent(self, call: Any) -> None:
        now = time.monotonic()
        text = str(call.params.get("text") or call.params.get("caption") or "")
        chat = int(call.chat_id)
        kind = classify(text, chat, self.titles, self.chats)
        if kind == "reply":
            handed = self.handed.get(chat)
            if handed:
                self.latencies.append((chat, handed.popleft(), now))
            else:
                kind = "reply without an update"
        elif kind in ("broadcast", "reminder"):
            self.arrivals[kind].append(now)
        self.tally[kind] += 1
