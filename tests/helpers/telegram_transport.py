"""Send the same ``sendMessage`` calls through python-telegram-bot with a given HTTP
transport, and report the CPU per call: ``benchmarks/bench_telegram_http.py`` uses it
(the SDK import lives here, not in ``benchmarks/``, which may not import it)."""

from __future__ import annotations

import asyncio
import time

WARM_UP = 100
CHATS = 50


async def measure_transport(
    base_url: str, token: str, transport: str, calls: int, at_once: int
) -> tuple[float, float]:
    from telegram import Bot

    from bot.channels.telegram_http import AiohttpRequest

    if transport == "aiohttp":
        bot = Bot(
            token,
            base_url=base_url,
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(1),
        )
    else:
        bot = Bot(token, base_url=base_url)
    gate = asyncio.Semaphore(at_once)

    async def one(number: int) -> None:
        async with gate:
            await bot.send_message(chat_id=1000 + number % CHATS, text=f"Antwoord {number}")

    async with bot:
        await asyncio.gather(*(one(n) for n in range(WARM_UP)))
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(calls)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / calls * 1000, calls / wall
