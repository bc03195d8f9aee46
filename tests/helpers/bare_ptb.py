"""A bare python-telegram-bot echo bot, for the start-up benchmark's side-by-side
measure (``benchmarks/bench_startup.py``): the library alone, started as its docs
show, polling the tests' fake Bot API. Here rather than in ``benchmarks/`` because
only ``bot/channels`` and the tests import a platform SDK.

Run as ``python -m tests.helpers.bare_ptb BASE_URL TOKEN IDLE_SECONDS``: it prints one
JSON line with its import time, its start time (build, initialize, start,
start_polling), the wall-clock moment polling had started, the CPU seconds it had
used by then (``time.process_time()``: less noisy than wall time), and its VmRSS
``IDLE_SECONDS`` later.
"""

from __future__ import annotations

import time

_BEGAN = time.perf_counter()

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

_IMPORTED = time.perf_counter()


def rss_mib() -> float:
    """This process's resident memory (VmRSS), in MiB."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


async def run(base_url: str, token: str, idle: float) -> dict[str, float]:
    t0 = time.perf_counter()
    application = Application.builder().token(token).base_url(base_url).job_queue(None).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        if application.updater is None:
            raise RuntimeError("no updater")
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        result = {
            "start_s": time.perf_counter() - t0,
            "ready_epoch": time.time(),
            "cpu_s": time.process_time(),  # CPU of this process, all threads, to ready
        }
        await asyncio.sleep(idle)
        result["rss_mib"] = rss_mib()
        await application.updater.stop()
        await application.stop()
    return result


def main(argv: list[str]) -> int:
    base_url, token, idle = argv[0], argv[1], float(argv[2])
    result = asyncio.run(run(base_url, token, idle))
    result["import_s"] = _IMPORTED - _BEGAN
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
