"""python-telegram-bot's HTTP transport alone: httpx (its default) against aiohttp.

Why ``bot/channels/telegram_http.py`` exists. The same ``sendMessage`` calls go
to the fake Bot API of the tests, which runs in a process of its own, 16 at a
time; reported is the CPU of this process per call and the calls per second.
No database, no bot: only the library and its transport.

Usage::

    .venv/bin/python benchmarks/bench_telegram_http.py --calls 1500
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = 100
CHATS = 50


def _serve(conn: Connection) -> None:
    from tests.helpers.fake_telegram import FakeBotApi

    async def main() -> None:
        async with FakeBotApi() as fake:
            conn.send((fake.base_url, fake.token))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


async def _measure(
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--at-once", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    multiprocessing.set_start_method("spawn")
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    try:
        base_url, token = ours.recv()
        print("| transport | calls | CPU ms/call | calls/s |")
        print("|---|---:|---:|---:|")
        for _ in range(args.repeat):
            for transport in ("httpx", "aiohttp"):
                cpu, rate = asyncio.run(
                    _measure(base_url, token, transport, args.calls, args.at_once)
                )
                print(f"| {transport} | {args.calls} | {cpu:.2f} | {rate:,.0f} |")
    finally:
        ours.send("stop")
        server.join(5)
        if server.is_alive():
            server.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
