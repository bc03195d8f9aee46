"""Time from process start to ready, idle memory, and a clean exit of ``alliantiebot chat``.

Measurements per database backend, each in fresh processes:

1. ``python -m bot chat`` (what ``alliantiebot chat`` runs) with an empty
   standard input: the bot starts, reads end-of-input at once, says goodbye
   and stops. Wall time from spawning to exit. The first run works on an
   empty database and applies the migrations; later runs find it migrated.
2. spawn → ready: a child process (this script with ``--child``) imports what
   ``alliantiebot run`` imports (``bot.cli``, ``bot.app``), builds
   :class:`bot.app.App` and runs ``App.start()`` with scheduler, outbox sender
   and HTTP server (port 0), then adds the console channel, as ``alliantiebot
   run`` without platform tokens does, and reports the wall-clock moment
   ``start()`` returned. One second later it reports its idle memory (VmRSS
   from /proc/self/status). The child also reports how long its imports took
   and ``App.start()`` itself took, and how long a second ``App.start()`` in the
   same process takes (imports already done).
3. the same child as a Telegram worker: ``TELEGRAM_BOT_TOKEN`` and
   ``TELEGRAM_API_BASE_URL`` set to the fake Bot API of item 5, the channels built
   by :func:`bot.channels.registry.platform_channels` as ``alliantiebot run`` does;
   ready is the moment ``App.start()`` returned, which starts the channel's polling:
   what the echo bot of item 5 does, plus the bot's own work.
4. baselines: ``python -c pass`` and ``python -c "import bot.app"``.
5. side by side, in the same run: a bare python-telegram-bot echo bot
   (``tests/helpers/bare_ptb.py``, since only the channels and the tests import a
   platform SDK), started as its docs show (``async with
   application``, ``start()``, ``updater.start_polling()``, no job queue)
   against the fake Bot API of the tests (``tests/helpers/fake_telegram.py``,
   in this process, on loopback): spawn → polling started, and its VmRSS one
   second later. The echo bot uses the library's default transport (httpx).

At the end: the bot's spawn → ready against the echo bot's (goal: at most 2×; also
its CPU seconds to ready, which a loaded machine disturbs less than wall time)
and its idle RSS against the goal of 120 MiB (issue 18), for the console run and
for the Telegram worker.

Every child runs in a temporary working directory (so no ``.env`` and no
``./data`` of the checkout are used) with ``DATABASE_URL`` pointing at a fresh
database and a throw-away ``DATA_KEY``.

Usage::

    .venv/bin/python benchmarks/bench_startup.py --db sqlite
    .venv/bin/python benchmarks/bench_startup.py --db both --repeat 5

Target: ready within 3 s; ready ≤ 2× the echo bot's; idle RSS ≤ 120 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import _common

TARGET_SECONDS = 3.0
READY_RATIO_GOAL = 2.0  # spawn → ready, against the bare echo bot's
RSS_GOAL_MIB = 120.0
IDLE_SECONDS = 1.0  # RSS is read this long after ready
CHILD_TIMEOUT = 90.0
# Variables of bot.settings.Settings: the parent's values must not leak into a child.
SETTINGS_PREFIXES = (
    "DATABASE_URL", "TIMEZONE", "DEFAULT_LANGUAGE", "BOT_ADMINS", "DATA_KEY", "HTTP_",
    "TELEGRAM_", "SLACK_", "LOG_LEVEL", "CONTENT_DIR", "IMAGE_DIR", "DB_STARTUP", "FLOOD_",
    "MAX_MESSAGE", "OUTBOX_", "MISFIRE_",
)  # fmt: skip


def child() -> int:
    """Runs in the child process: import, start, report, stop, start again. With
    TELEGRAM_BOT_TOKEN set, as a Telegram worker (the channels from the registry)."""
    began = time.perf_counter()
    import bot.cli  # noqa: F401  (what `alliantiebot run` imports first)
    from bot.app import App
    from bot.channels.console import ConsoleChannel
    from bot.channels.registry import platform_channels
    from bot.settings import load_settings

    imported = time.perf_counter()
    settings = load_settings()
    result: dict[str, float] = {"import_s": imported - began}

    async def go() -> None:
        t0 = time.perf_counter()
        app = App(settings, channels=platform_channels(settings))
        await app.start(http=True, scheduler=True, sender=True)
        result["start_s"] = time.perf_counter() - t0
        result["ready_epoch"] = time.time()
        result["cpu_s"] = time.process_time()  # this process, all threads, to ready
        if not app.channels:
            app.add_channel(ConsoleChannel(user="bench", label=lambda key, **kw: key))
        await asyncio.sleep(IDLE_SECONDS)
        result["rss_mib"] = _common.rss_mib()
        t0 = time.perf_counter()
        await app.stop()
        result["stop_s"] = time.perf_counter() - t0
        again = App(settings, channels=platform_channels(settings))
        t0 = time.perf_counter()
        await again.start(http=True, scheduler=True, sender=True)
        result["start_again_s"] = time.perf_counter() - t0
        await again.stop()

    asyncio.run(go())
    print(json.dumps(result))
    return 0


def child_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(SETTINGS_PREFIXES)}
    env.update(
        DATABASE_URL=database_url,
        DATA_KEY=_common.new_data_key(),
        LOG_LEVEL="WARNING",
        HTTP_PORT="0",
        PYTHONPATH=str(_common.REPO),  # a checkout without `pip install -e .` works too
    )
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Run ``cmd`` with an empty stdin; (spawn epoch, seconds to exit, stdout).

    On this shared machine a child is now and then killed by a signal from
    outside (another session cleaning up); such a run is repeated once.
    """
    for attempt in (1, 2):
        spawned = time.time()
        began = time.perf_counter()
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        seconds = time.perf_counter() - began
        if done.returncode == 0:
            return spawned, seconds, done.stdout
        if done.returncode < 0 and attempt == 1:
            print(f"note: child killed by signal {-done.returncode}; run repeated", file=sys.stderr)
            continue
        break
    raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")


def bench_backend(
    args: argparse.Namespace, backend: str, deadline: float, telegram: tuple[str, str]
) -> list[list[object]]:
    python = sys.executable
    rows: list[list[object]] = []

    def add(name: str, values: list[float], *, target: bool = False) -> None:
        first, later = values[0], values[1:]
        met = ""
        if target:  # every run counts, the first (migrating) one too
            met = "yes" if max(values) <= TARGET_SECONDS else "NO"
        rows.append(
            [
                backend,
                name,
                first,
                _common.median(later),
                min(later, default=float("nan")),
                max(later, default=float("nan")),
                len(later),
                met,
            ]
        )

    # 1. the chat command, end of input at once
    with _common.temp_database(backend, args.pg_url) as db:
        env = child_env(db.url)
        exits: list[float] = []
        for _ in range(args.repeat):
            if exits and time.perf_counter() > deadline:
                break
            _, seconds, out = timed([python, "-m", "bot", "chat"], env, db.workdir)
            if not out.strip():
                raise RuntimeError("alliantiebot chat printed nothing")
            exits.append(seconds)
        add("`alliantiebot chat` < /dev/null: spawn to exit", exits)

    # 2. spawn to ready, and App.start() in process
    with _common.temp_database(backend, args.pg_url) as db:
        env = child_env(db.url)
        ready: list[float] = []
        parts: dict[str, list[float]] = {
            "import_s": [],
            "start_s": [],
            "start_again_s": [],
            "rss_mib": [],
            "cpu_s": [],
        }
        for _ in range(args.repeat):
            if ready and time.perf_counter() > deadline:
                break
            spawned, _, out = timed([python, __file__, "--child"], env, db.workdir)
            report = json.loads(out.strip().splitlines()[-1])
            ready.append(report["ready_epoch"] - spawned)
            for key in parts:
                parts[key].append(report[key])
        add("spawn to ready (App.start returned)", ready, target=True)
        add("  of which: imports (bot.app, settings)", parts["import_s"])
        add("  of which: App.start() (first in process)", parts["start_s"], target=True)
        add("App.start() again in same process", parts["start_again_s"])
        add("CPU seconds to ready (all threads)", parts["cpu_s"])
        add(f"idle RSS MiB ({IDLE_SECONDS:g} s after ready)", parts["rss_mib"])
        rows[-1][-1] = "yes" if max(parts["rss_mib"]) <= RSS_GOAL_MIB else "NO"

    # 3. the same as a Telegram worker, polling the fake Bot API
    ready, cpu, rss = telegram_worker(args, backend, deadline, telegram)
    add("Telegram worker: spawn to ready (polling started)", ready, target=True)
    add("Telegram worker: CPU seconds to ready", cpu)
    add(f"Telegram worker: idle RSS MiB ({IDLE_SECONDS:g} s after ready)", rss)
    rows[-1][-1] = "yes" if max(rss) <= RSS_GOAL_MIB else "NO"
    return rows


def telegram_worker(
    args: argparse.Namespace, backend: str, deadline: float, telegram: tuple[str, str]
) -> tuple[list[float], list[float], list[float]]:
    """The child as a Telegram worker polling the fake Bot API: spawn → ready, CPU
    seconds to ready, idle RSS."""
    ready: list[float] = []
    cpu: list[float] = []
    rss: list[float] = []
    with _common.temp_database(backend, args.pg_url) as db:
        env = child_env(db.url)
        env.update(TELEGRAM_API_BASE_URL=telegram[0], TELEGRAM_BOT_TOKEN=telegram[1])
        for _ in range(args.repeat):
            if ready and time.perf_counter() > deadline:
                break
            spawned, _, out = timed([sys.executable, __file__, "--child"], env, db.workdir)
            report = json.loads(out.strip().splitlines()[-1])
            ready.append(report["ready_epoch"] - spawned)
            cpu.append(report["cpu_s"])
            rss.append(report["rss_mib"])
    return ready, cpu, rss


@contextlib.contextmanager
def fake_bot_api() -> Iterator[tuple[str, str]]:
    """The tests' fake Bot API on loopback, in a thread of this process; (base_url, token)."""
    sys.path.insert(0, str(_common.REPO))
    from tests.helpers.fake_telegram import FakeBotApi

    loop = asyncio.new_event_loop()
    fake = FakeBotApi()
    thread = threading.Thread(target=loop.run_forever, name="fake-bot-api", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=30)
    try:
        yield fake.base_url, fake.token
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def bench_echo(repeat: int, base_url: str, token: str) -> list[list[object]]:
    """The bare python-telegram-bot echo bot: spawn → polling, and its idle RSS."""
    env = child_env("sqlite:///unused.db")
    ready: list[float] = []
    parts: dict[str, list[float]] = {"import_s": [], "start_s": [], "rss_mib": [], "cpu_s": []}
    for _ in range(repeat):
        spawned, _, out = timed(
            [
                sys.executable,
                "-m",
                "tests.helpers.bare_ptb",
                base_url,
                token,
                str(IDLE_SECONDS),
            ],
            env,
            _common.REPO,
        )
        report = json.loads(out.strip().splitlines()[-1])
        ready.append(report["ready_epoch"] - spawned)
        for key in parts:
            parts[key].append(report[key])
    rows: list[list[object]] = []
    for name, values in (
        ("spawn to ready (polling started)", ready),
        ("  of which: imports (telegram, telegram.ext)", parts["import_s"]),
        ("  of which: build, initialize, start, start_polling", parts["start_s"]),
        ("CPU seconds to ready (all threads)", parts["cpu_s"]),
        (f"idle RSS MiB ({IDLE_SECONDS:g} s after ready)", parts["rss_mib"]),
    ):
        later = values[1:]
        rows.append(
            ["echo bot", name, values[0], _common.median(later), min(later, default=float("nan")),
             max(later, default=float("nan")), len(later), ""]
        )  # fmt: skip
    return rows


def side_by_side(rows: list[list[object]]) -> str:
    """The bot's spawn → ready against the echo bot's, and its RSS against the goal."""

    def later(db: str, name: str) -> float:
        for row in rows:
            if row[0] == db and str(row[1]).startswith(name):
                value = row[3]
                return float(value) if isinstance(value, (int, float)) else float("nan")
        return float("nan")

    echo_ready = later("echo bot", "spawn to ready")
    echo_cpu = later("echo bot", "CPU seconds")
    echo_rss = later("echo bot", "idle RSS")
    lines = [
        f"echo bot: ready {echo_ready:.2f} s, idle RSS {echo_rss:.0f} MiB "
        "(medians of the later runs)"
    ]
    for db in sorted({str(row[0]) for row in rows} - {"-", "echo bot"}):
        for what, prefix in (("console", ""), ("Telegram worker", "Telegram worker: ")):
            ready, rss = later(db, prefix + "spawn to ready"), later(db, prefix + "idle RSS")
            cpu = later(db, prefix + "CPU seconds")
            ratio = ready / echo_ready
            lines.append(
                f"alliantiebot {db}, {what}: ready {ready:.2f} s = {ratio:.1f}x the echo "
                f"bot's (goal <= {READY_RATIO_GOAL:g}x: "
                f"{'yes' if ratio <= READY_RATIO_GOAL else 'NO'}; CPU to ready {cpu:.2f} s = "
                f"{cpu / echo_cpu:.1f}x); idle RSS {rss:.0f} MiB "
                f"(goal <= {RSS_GOAL_MIB:g}: {'yes' if rss <= RSS_GOAL_MIB else 'NO'}; "
                f"{rss / echo_rss:.1f}x the echo bot's)"
            )
    return "\n".join(lines)


def baselines(repeat: int) -> list[list[object]]:
    python = sys.executable
    env = child_env("sqlite:///unused.db")
    rows: list[list[object]] = []
    for name, code in (
        ("python -c pass", "pass"),
        ("python -c 'import bot.app'", "import bot.app"),
    ):
        values = [timed([python, "-c", code], env, Path.cwd())[1] for _ in range(repeat)]
        later = values[1:]
        rows.append(
            ["-", name, values[0], _common.median(later), min(later), max(later), len(later), ""]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=180)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(repeat=5)
    args = parser.parse_args(argv)
    _common.interruptible()
    if args.child:
        return child()
    print(_common.machine_summary())
    print(
        f"{args.repeat} runs each; 'first' is run 1 (fresh database: migrations), 'later' the "
        f"median of the rest; target: ready within {TARGET_SECONDS:g} s"
    )
    try:
        rows = baselines(3)
        with fake_bot_api() as telegram:
            rows += bench_echo(args.repeat, *telegram)
            for backend in _common.backends(args.db):
                deadline = time.perf_counter() + args.max_seconds
                rows += bench_backend(args, backend, deadline, telegram)
    except KeyboardInterrupt:
        print("stopped early (signal); temporary databases removed", file=sys.stderr)
        return 130
    headers = ["db", "measurement", "first", "later", "min", "max", "n", "target"]
    print(_common.table(headers, rows))
    print("seconds, except where MiB; 'later' is the median of runs 2..n")
    print(side_by_side(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
