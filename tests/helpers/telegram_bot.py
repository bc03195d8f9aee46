"""The whole bot on the Telegram channel, against the fake Bot API: a test harness.

``running_bot(settings)`` starts a :class:`FakeBotApi`, the real :class:`App` with a
real :class:`TelegramChannel` (python-telegram-bot unchanged) pointed at the fake,
and yields a :class:`TelegramBot` to talk through::

    async with running_bot(settings) as bot:
        sent = await bot.say(42, "/start checkin")
        sent = await bot.press(42, "Ja, bewaar mijn antwoorden")

Waiting is exact, not timed: :class:`ObservedChannel` is the real channel that also
counts the updates it finished (``process`` returned, so every reply of that
update was sent). ``say``/``press`` feed one update, wait until it is finished and
return what was delivered to the chat meanwhile. A message that gets no answer is
therefore checked without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from telegram import Update

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.core.clock import Clock
from bot.core.context import Services
from bot.core.state import State
from bot.settings import Settings
from bot.storage.models import User
from bot.storage.repositories.conversation import StateRepo
from tests.helpers.fake_telegram import Call, FakeBotApi, tiny_png

__all__ = ["ObservedChannel", "TelegramBot", "free_port", "running_bot", "tiny_png"]


class ObservedChannel(TelegramChannel):
    """The real Telegram channel; it also records which updates it has finished."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.finished: Counter[int] = Counter()
        self.started: Counter[int] = Counter()
        self._changed = asyncio.Event()

    async def process(self, update: Update) -> None:
        self.started[update.update_id] += 1
        self._notify()
        try:
            await super().process(update)
        finally:
            self.finished[update.update_id] += 1
            self._notify()

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_finished(self, update_id: int, times: int = 1, timeout: float = 15.0) -> None:
        """Wait until update ``update_id`` was processed ``times`` times."""
        await self._wait(self.finished, update_id, times, timeout, "finished")

    async def _wait(
        self, seen: Counter[int], update_id: int, times: int, timeout: float, what: str
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while seen[update_id] < times:
            event = self._changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"update {update_id} {what} {seen[update_id]} time(s), expected {times}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


@dataclass
class TelegramBot:
    """The running bot, its Telegram channel and the fake Telegram it talks to."""

    fake: FakeBotApi
    app: App
    channel: ObservedChannel

    @property
    def services(self) -> Services:
        assert self.app.services is not None
        return self.app.services

    @property
    def username(self) -> str:
        return self.fake.username

    def t(self, key: str, lang: str = "nl", **params: object) -> str:
        """A sentence from content/messages as the bot says it (plain text)."""
        return self.services.texts.get(lang, key, **params)

    async def feed(self, update: dict[str, Any], chat_id: int) -> list[Call]:
        """Wait until the fed ``update`` is finished; return what ``chat_id`` got since."""
        before = len(self.fake.sent(chat_id))
        await self.channel.wait_finished(int(update["update_id"]))
        return self.fake.sent(chat_id)[before:]

    async def say(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        **kwargs: Any,
    ) -> list[Call]:
        """``user_id`` sends ``text``; returns the messages the chat received in answer."""
        chat = user_id if chat_id is None else chat_id
        before = len(self.fake.sent(chat))
        update = self.fake.message(user_id, text, chat_id=chat_id, chat_type=chat_type, **kwargs)
        await self.channel.wait_finished(int(update["update_id"]))
        return self.fake.sent(chat)[before:]

    async def press(self, user_id: int, label: str, *, chat_id: int | None = None) -> list[Call]:
        """``user_id`` presses the newest button labelled ``label``; returns the answers."""
        chat = user_id if chat_id is None else chat_id
        before = len(self.fake.sent(chat))
        update = self.fake.press(user_id, label, chat_id=chat_id)
        await self.channel.wait_finished(int(update["update_id"]))
        return self.fake.sent(chat)[before:]

    async def callback(
        self, user_id: int, data: str, *, message_id: int, chat_id: int | None = None
    ) -> tuple[str, list[Call]]:
        """A press with any ``data`` on message ``message_id``: (query id, answers)."""
        chat = user_id if chat_id is None else chat_id
        before = len(self.fake.sent(chat))
        update = self.fake.callback(user_id, data, message_id=message_id, chat_id=chat_id)
        await self.channel.wait_finished(int(update["update_id"]))
        return str(update["callback_query"]["id"]), self.fake.sent(chat)[before:]

    # -- the database ---------------------------------------------------------------
    async def user(self, user_id: int) -> User:
        async with self.services.sessions() as session:
            result = await session.execute(
                select(User).where(
                    User.platform == "telegram", User.platform_user_id == str(user_id)
                )
            )
            return result.scalar_one()

    async def state(self, user_id: int, chat_id: int | None = None) -> State | None:
        user = await self.user(user_id)
        async with self.services.sessions() as session:
            repo = StateRepo(session, self.services.cipher)
            chat = str(user_id if chat_id is None else chat_id)
            return await repo.get(user.id, chat, self.app.clock.now())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def running_bot(
    make_settings: Callable[..., Settings],
    *,
    clock: Clock | None = None,
    http: bool = False,
    fake: FakeBotApi | None = None,
    **overrides: Any,
) -> AsyncIterator[TelegramBot]:
    """Start the fake Telegram (unless given), then the bot on it; stop both after.

    ``make_settings(**overrides)`` builds the settings (pass ``database_url`` and e.g.
    the webhook URL in ``overrides``); the token and API base URL point at the fake.
    """
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeBotApi())
        configured = make_settings(
            **{"telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url} | overrides
        )
        channel = ObservedChannel(configured)
        app = App(configured, clock=clock, channels={channel.name: channel})
        await app.start(http=http, scheduler=False, sender=False)
        stack.push_async_callback(app.stop)
        yield TelegramBot(fake=fake, app=app, channel=channel)
