"""Soak: chat, reminders and a broadcast at once for ``--minutes`` (10), memory sampled.

Issue 18 ("Faults"): one soak run of 10 minutes, chat, reminders and a broadcast at
once, with memory sampled; the RSS slope is reported and must be flat.

The real :class:`bot.app.App` runs with the real :class:`TelegramChannel` (polling),
the scheduler and the outbox sender on, against the fake Bot API of the tests
(``tests/helpers/fake_telegram.py``) in a process of its own ("spawn"), so this
process is the bot and nothing else; its database is a throw-away one
(``--db postgresql``, the default, or ``sqlite``). At the same time:

1. **Chat**: ``--people`` (200) people ask questions the knowledge base answers,
   ``--rate`` (10) updates a second in all, round-robin, for the whole run. The fake
   makes the updates itself (getUpdates) and counts the replies. Replies and the
   broadcast share Telegram's 30 messages a second: at 10 updates a second the
   broadcast gets the other 20 and is out within a few minutes; at 20 the backlog
   of the broadcast would take most of the run to clear.
2. **Reminders**: ``--reminders`` (300) check-in reminders, scheduler jobs
   (``services.reminder_jobs.checkin_reminder``, as /herinnering makes them) for as
   many people, due evenly from 30 s after the start until 30 s before the end.
3. **A broadcast**: at minute 1 an urgent announcement to everyone: the
   ``--recipients`` (3,000) people made at the start, plus the chat and reminder
   people; released by the sender's announcement engine, delivered through the
   channel with Telegram's limits (30 messages a second).

Memory: this process's RSS (``VmRSS`` of ``/proc/self/status``) every 10 s. The
first ``--warmup`` minutes (2) are left out, and a least-squares line through the
rest gives the slope, in MiB per minute and per hour. The verdict is **flat** when
both hold: the slope is below 0.5 MiB/min, and the mean of the last 3 minutes is
within 5% of the mean of minutes 2-5 (for a shorter run: the last and the first
3/8 of the part after the warm-up). Errors: failed Bot API calls, ERROR log
records of the bot, and updates left without a reply when the run ends (after up
to 120 s to catch up).

Usage::

    .venv/bin/python benchmarks/bench_soak.py                       # 10 minutes, PostgreSQL
    .venv/bin/python benchmarks/bench_soak.py --minutes 1 --db sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import _common
from bench_telegram import QUESTIONS, Inbox

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from bot.app import App

SAMPLE_SECONDS = 10.0
GOAL_SLOPE = 0.5  # MiB per minute
GOAL_DRIFT = 0.05  # last window's mean against the first window's, after the warm-up
WINDOW_SHARE = 3 / 8  # of the part after the warm-up: 3 minutes of a 10-minute run
CHAT_FIRST = 1_000_000  # chat people's Telegram ids
REMIND_FIRST = 3_000_000  # reminder people's
BULK_FIRST = 5_000_000  # the broadcast's other recipients'
ANNOUNCEMENT = (
    "Op 12 maart is het volgende leeratelier Positieve Gezondheid in Leiden. "
    "Je bent van harte welkom."
)
MARK = "12 maart"  # in the delivered announcement, in no answer or reminder


# -- the fake, in its own process ---------------------------------------------------
def fake_main(conn: Connection) -> None:
    """Entry point of the fake's process: serve until told to stop or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    asyncio.run(_fake_serve(conn))


def _soak_fake() -> Any:
    """The test fake, counting sends by kind as they happen (made in the fake's process)."""
    from tests.helpers.fake_telegram import SEND_METHODS, FakeBotApi

    class SoakFake(FakeBotApi):
        """Counts sends by kind as they happen and forgets the calls (a long run)."""

        def __init__(self) -> None:
            super().__init__()
            self.tally: Counter[str] = Counter()

        async def _dispatch(self, call: Any) -> tuple[Any, str | None]:
            try:
                result = await super()._dispatch(call)
            except Exception:
                self.tally["failed " + call.method] += 1
                raise
            if call.method in SEND_METHODS:
                text = str(call.params.get("text") or call.params.get("caption") or "")
                chat = int(call.chat_id)
                if MARK in text:
                    self.tally["broadcast"] += 1
                elif REMIND_FIRST <= chat < BULK_FIRST:
                    self.tally["reminder"] += 1
                elif CHAT_FIRST <= chat < REMIND_FIRST:
                    self.tally["reply"] += 1
                else:
                    self.tally["other send"] += 1
            return result

    return SoakFake()


async def _fake_serve(conn: Connection) -> None:
    inbox = Inbox(conn)
    fake = _soak_fake()
    await fake.start()
    conn.send(("ready", fake.token, fake.base_url))
    producer: asyncio.Task[None] | None = None
    try:
        while True:
            message = await inbox.get()
            if message[0] == "chat":
                _, people, rate = message
                producer = asyncio.create_task(_chat(fake, people, rate))
            elif message[0] == "quiet" and producer is not None:
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer
                conn.send(("quiet",))
            elif message[0] == "stats":
                conn.send(("stats", dict(fake.tally)))
            elif message[0] in ("stop", "eof"):
                return
    finally:
        if producer is not None:
            producer.cancel()
        inbox.close()
        await fake.stop()


async def _chat(fake: Any, people: int, rate: float) -> None:
    """``rate`` questions a second in all, round-robin over ``people``, on a fixed beat."""
    began = time.monotonic()
    sent = 0
    while True:
        person = sent % people
        question = QUESTIONS[(person + sent // people) % len(QUESTIONS)]
        fake.message(CHAT_FIRST + person, question)
        fake.tally["update"] += 1
        sent += 1
        if sent % 200 == 0:
            fake.calls.clear()  # counted in the tally already
            fake._messages.clear()  # the fake's own memory, in a long run
        delay = began + sent / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


# -- the bot, in this process --------------------------------------------------------
async def _schedule_reminders(app: App, users: list[int], seconds: float) -> None:
    assert app.services is not None and app.services.reminder_jobs is not None
    now = datetime.now(UTC)
    span = max(seconds - 60.0, 1.0)
    for n, user in enumerate(users):
        at = now + timedelta(seconds=30.0 + span * n / max(len(users) - 1, 1))
        await app.services.reminder_jobs.checkin_reminder(user, at, f"soak-{user}")


def fit(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minutes, MiB)."""
    n = len(samples)
    if n < 2:
        return float("nan")
    mx = sum(t for t, _ in samples) / n
    my = sum(m for _, m in samples) / n
    sxx = sum((t - mx) ** 2 for t, _ in samples)
    sxy = sum((t - mx) * (m - my) for t, m in samples)
    return sxy / sxx if sxx else float("nan")


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import App
    from bot.channels.telegram import TelegramChannel

    seconds = args.minutes * 60.0
    conn, process = _common.spawn_fake(fake_main)
    inbox = Inbox(conn)
    errors = _common.ErrorCount()
    logging.getLogger().addHandler(errors)
    try:
        _, token, base_url = await asyncio.wait_for(inbox.get(), timeout=60)
        with _common.temp_database(args.db, args.pg_url) as db:
            settings = _common.bench_settings(
                db, telegram_bot_token=token, telegram_api_base_url=base_url
            )
            app = App(settings, channels={"telegram": TelegramChannel(settings)})
            await app.start(scheduler=True, sender=True)
            try:
                await _common.insert_people(app, BULK_FIRST, args.recipients)
                reminded = await _common.insert_people(app, REMIND_FIRST, args.reminders)
                await _schedule_reminders(app, reminded, seconds)
                return await _run(app, conn, inbox, args, seconds, errors)
            finally:
                await app.stop()
    finally:
        logging.getLogger().removeHandler(errors)
        inbox.close()
        with contextlib.suppress(OSError):
            conn.send(("stop",))
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)
        conn.close()


async def _run(
    app: App,
    conn: Connection,
    inbox: Inbox,
    args: argparse.Namespace,
    seconds: float,
    errors: _common.ErrorCount,
) -> dict[str, Any]:
    began = time.monotonic()
    samples: list[tuple[float, float]] = [(0.0, _common.rss_mib())]
    conn.send(("chat", args.people, args.rate))
    announced = False
    while (elapsed := time.monotonic() - began) < seconds:
        if not announced and elapsed >= min(60.0, seconds / 4):
            await _common.announce(app, ANNOUNCEMENT)
            announced = True
        next_sample = SAMPLE_SECONDS * len(samples)
        await asyncio.sleep(max(0.0, min(next_sample, seconds) - (time.monotonic() - began)))
        if time.monotonic() - began >= next_sample - 0.01:
            samples.append(((time.monotonic() - began) / 60.0, _common.rss_mib()))
    conn.send(("quiet",))
    await inbox.get()
    expected_broadcast = args.recipients + args.reminders + args.people
    stats: dict[str, int] = {}
    for _ in range(120):  # catch up: every update answered, the broadcast and reminders out
        conn.send(("stats",))
        stats = (await inbox.get())[1]
        if (
            stats.get("reply", 0) >= stats.get("update", 0)
            and stats.get("broadcast", 0) >= expected_broadcast
            and stats.get("reminder", 0) >= args.reminders
        ):
            break
        await asyncio.sleep(1.0)
    return {"samples": samples, "stats": stats, "log_errors": errors.count}


def report(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    samples: list[tuple[float, float]] = result["samples"]
    stats: dict[str, int] = result["stats"]
    warmup = min(args.warmup, args.minutes * 0.2)
    kept = [s for s in samples if s[0] >= warmup]
    slope = fit(kept)
    window = (args.minutes - warmup) * WINDOW_SHARE
    early = [m for t, m in kept if t < warmup + window]
    late = [m for t, m in kept if t > args.minutes - window]
    early_mean = sum(early) / len(early) if early else float("nan")
    late_mean = sum(late) / len(late) if late else float("nan")
    drift = (late_mean - early_mean) / early_mean if early else float("nan")
    updates = stats.get("update", 0)
    replies = stats.get("reply", 0)
    failed = sum(v for k, v in stats.items() if k.startswith("failed "))
    unanswered = max(0, updates - replies)
    errors = failed + result["log_errors"] + unanswered + stats.get("other send", 0)
    flat = slope < GOAL_SLOPE and abs(drift) <= GOAL_DRIFT
    print(_common.machine_summary())
    print(
        f"soak on {args.db}: {args.minutes:g} min, {args.rate:g} updates/s over {args.people} "
        f"people, {args.reminders} reminders, broadcast to "
        f"{args.recipients + args.reminders + args.people:,} at minute "
        f"{min(60.0, args.minutes * 15) / 60:g}"
    )
    rows: list[list[object]] = [
        ["RSS at start (MiB)", samples[0][1]],
        [f"RSS at {warmup:g} min, end of warm-up (MiB)", kept[0][1] if kept else float("nan")],
        ["RSS at end (MiB)", samples[-1][1]],
        ["RSS max (MiB)", max(m for _, m in samples)],
        [f"slope after warm-up (MiB/min, {len(kept)} samples)", slope],
        ["slope (MiB/hour)", slope * 60],
        [f"mean, minutes {warmup:g}-{warmup + window:g} (MiB)", early_mean],
        [f"mean, last {window:g} minutes (MiB)", late_mean],
        ["drift of the means", f"{drift:+.1%}"],
        ["updates sent", updates],
        ["updates answered", replies],
        ["reminders delivered", stats.get("reminder", 0)],
        ["broadcast messages delivered", stats.get("broadcast", 0)],
        ["failed Bot API calls", failed],
        ["ERROR log records", result["log_errors"]],
        ["unanswered updates", unanswered],
        ["errors in all", errors],
    ]
    print(_common.table(["measure", "value"], rows))
    print("RSS samples (minute: MiB): " + ", ".join(f"{t:.1f}: {m:.1f}" for t, m in samples))
    verdict = "FLAT" if flat else "NOT FLAT"
    print(
        f"verdict: {verdict} (slope {slope:+.3f} MiB/min, goal < {GOAL_SLOPE:g}; drift "
        f"{drift:+.1%}, goal within {GOAL_DRIFT:.0%}); errors {errors}"
    )
    return flat and errors == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--pg-url", default=_common.DEFAULT_PG_URL)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes left out of the fit")
    parser.add_argument("--people", type=int, default=200, help="people chatting")
    parser.add_argument("--rate", type=float, default=10.0, help="updates a second, in all")
    parser.add_argument("--reminders", type=int, default=300)
    parser.add_argument("--recipients", type=int, default=3000, help="broadcast's bulk people")
    args = parser.parse_args(argv)
    _common.quiet_logging()
    if args.db == "postgresql":
        _common.drop_stale_databases(args.pg_url)
    result = _common.run_async(soak(args), timeout=args.minutes * 60 + 600)
    return 0 if report(args, result) else 1


if __name__ == "__main__":
    sys.exit(main())
