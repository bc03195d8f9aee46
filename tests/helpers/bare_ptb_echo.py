"""A bare python-telegram-bot echo bot beside alliantiebot, for the Telegram
throughput benchmark (``benchmarks/bench_telegram.py``, issue 18).

The library alone: an ``Application`` with one ``MessageHandler`` that replies
with the text (``update.message.reply_text``, the echo of ``bare_ptb.py``), built
with the same aiohttp request class as :class:`bot.channels.telegram.TelegramChannel`
(``AiohttpRequest(256)`` for calls, ``AiohttpRequest(2)`` for getUpdates), the same
number of updates handled at once and the same poll timeout. It runs in the
benchmark's own process, so its CPU time is measured the same way as the bot's.
Here rather than in ``benchmarks/`` because only ``bot/channels`` and the tests
import a platform SDK.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters

from bot.channels.telegram import ALLOWED_UPDATES, POLL_TIMEOUT
from bot.channels.telegram_http import AiohttpRequest
from tests.helpers.bare_ptb import echo


class BareEchoBot:
    """Start polling ``base_url`` with ``concurrency`` updates at once; ``stop`` ends it."""

    def __init__(self, base_url: str, token: str, concurrency: int) -> None:
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .job_queue(None)
            .concurrent_updates(concurrency)
            .request(AiohttpRequest(256))
            .get_updates_request(AiohttpRequest(2))
            .build()
        )
        self.application.add_handler(MessageHandler(filters.TEXT, echo))

    async def start(self) -> None:
        application = self.application
        await application.initialize()
        await application.start()
        if application.updater is None:
            raise RuntimeError("no updater")
        await application.updater.start_polling(
            timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
        )

    async def stop(self) -> None:
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
