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
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.telegram_transport import measure_transport  # noqa: E402 - after sys.path


def _serve(conn: Connection) -> None:
    from tests.helpers.fake_telegram import FakeBotApi

    async def main() -> None:
        async with FakeBotApi() as fake:
            conn.send((fake.base_url, fake.token))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


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
                    measure_transport(base_url, token, transport, args.calls, args.at_once)
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
