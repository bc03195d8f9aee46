"""Announcements: delivery speed to Telegram, the rate-limited time, enqueue time, memory.

Four measurements, on each database chosen with ``--db``:

1. **Deliveries per second, limits lifted**: an announcement to ``--people`` (5,000)
   Telegram recipients through the real Telegram channel (python-telegram-bot)
   against the fake Bot API (``tests/helpers/fake_telegram.py``, in this process),
   with the channel's rate limiter replaced by an unlimited one. Timed from the
   release (the outbox rows written) until the last delivery.
2. **With Telegram's limits** (the channel's own limiter, ``OVERALL_RATE``: 28
   messages/s overall, no burst, so that no sliding second exceeds Telegram's 30):
   the time for ``--limited`` (1,000) recipients, as a share of the theoretical
   minimum at that rate.
3. **Enqueue time** for ``--enqueue`` (50,000) recipients: the release alone, rows
   written in batches of 1,000.
4. **Peak memory** (``tracemalloc``) while releasing and sending to 5,000 and to
   50,000 recipients through a no-op channel: it should stay flat.

Usage::

    .venv/bin/python benchmarks/bench_broadcast.py --db both
    .venv/bin/python benchmarks/bench_broadcast.py --db sqlite --limited 300   # shorter
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from bot.app import App
    from bot.broadcast.engine import BroadcastEngine
    from bot.core.messages import Reply

TARGET_SHARE = 0.95
FIRST_CHAT = 1_000_000


@dataclass
class Row:
    backend: str
    what: str
    count: int
    seconds: float
    value: str
    note: str = ""


class NoopChannel:
    """Accepts everything at once (for the memory pass)."""

    name = "telegram"

    def __init__(self) -> None:
        from bot.outbox.ratelimit import RateLimiter

        self.limiter = RateLimiter.unlimited()
        self.sent = 0

    async def send(self, chat_id: str, reply: Reply) -> str:
        self.sent += 1
        return "1"

    def attach(self, host: Any, http: Any) -> None:
        return None

    async def start(self, handle: Any) -> None:
        return None

    async def stop(self) -> None:
        return None


async def _people(app: App, count: int) -> None:
    from sqlalchemy import delete, insert

    from bot.storage.models import Announcement, OutboxMessage, User

    when = datetime(2026, 1, 5, tzinfo=UTC)
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))
        await session.execute(delete(Announcement))
        await session.execute(delete(User))
        rows = _common.telegram_people(FIRST_CHAT, count, when)
        for start in range(0, count, 5000):
            await session.execute(insert(User), rows[start : start + 5000])


async def _announce(app: App) -> None:
    from bot.broadcast.audience import Audience

    assert app.services is not None
    now = app.services.clock.now()
    async with app.services.work.begin() as repos:
        await repos.announcements.create(
            created_by=None,
            audience=Audience(everyone=True),
            topic="nieuws",
            text="Op 12 maart is het volgende leeratelier Positieve Gezondheid in Leiden. "
            "Je bent van harte welkom.",
            attachment=None,
            urgent=True,
            send_at=now,
            report_to=None,
            now=now,
        )


def _engine(app: App) -> BroadcastEngine:
    from bot.broadcast.engine import BroadcastEngine

    services = app.services
    assert services is not None
    return BroadcastEngine(
        services.sessions, services.outbox, services.texts, services.clock, interval=0.0
    )


async def _send(app: App, count: int, measure: Any = None) -> tuple[float, float]:
    """Release and deliver one announcement to ``count`` people: (release s, total s).
    ``measure`` starts just before the release (the people are in the database)."""
    from bot.outbox.sender import OutboxSender

    assert app.services is not None
    await _people(app, count)
    await _announce(app)
    if measure is not None:
        measure()
    engine = _engine(app)
    sender = OutboxSender(app.services.outbox, app.channels, batch_size=100, concurrency=50)
    began = time.perf_counter()
    await engine.release_one(app.services.clock.now())
    released = time.perf_counter() - began
    await sender.drain(max_rounds=10_000_000)
    return released, time.perf_counter() - began


async def _on_fake(db: Any, backend: str, args: argparse.Namespace) -> list[Row]:
    from bot.app import App
    from bot.channels.telegram import OVERALL_RATE, TelegramChannel
    from bot.outbox.ratelimit import RateLimiter
    from tests.helpers.fake_telegram import FakeBotApi

    rows: list[Row] = []
    async with FakeBotApi() as fake:
        settings = _common.bench_settings(
            db, telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url
        )
        channel = TelegramChannel(settings)
        limits = channel.limiter
        app = App(settings, channels={channel.name: channel})
        await app.start(scheduler=False, sender=False)
        try:
            channel.limiter = RateLimiter.unlimited()
            times = []
            for _ in range(args.repeat):
                fake.clear_calls()
                _, total = await _send(app, args.people)
                assert len(fake.calls_of("sendMessage")) == args.people
                times.append(total)
            total = _common.median(times)
            rows.append(
                Row(
                    backend,
                    "deliveries/s, limits lifted",
                    args.people,
                    total,
                    f"{args.people / total:,.0f} /s",
                    "release included",
                )
            )
            if args.limited:
                channel.limiter = limits
                fake.clear_calls()
                _, total = await _send(app, args.limited)
                # The channel's own limiter: a burst at once, then its rate.
                rate = OVERALL_RATE
                minimum = (args.limited - rate.burst) / rate.per_second
                share = minimum / total
                rows.append(
                    Row(
                        backend,
                        "time with Telegram's limits",
                        args.limited,
                        total,
                        f"{share:.1%} of the minimum ({minimum:.1f} s)",
                        "goal >= 95%" + ("" if share >= TARGET_SHARE else ": MISSED"),
                    )
                )
        finally:
            await app.stop()
    return rows


async def _enqueue_and_memory(db: Any, backend: str, args: argparse.Namespace) -> list[Row]:
    from bot.app import App

    rows: list[Row] = []
    settings = _common.bench_settings(db)
    channel = NoopChannel()
    app = App(settings, channels={channel.name: channel})
    await app.start(scheduler=False, sender=False)
    try:
        await _people(app, args.enqueue)
        await _announce(app)
        assert app.services is not None
        began = time.perf_counter()
        await _engine(app).release_one(app.services.clock.now())
        seconds = time.perf_counter() - began
        rows.append(
            Row(
                backend,
                "enqueue (release)",
                args.enqueue,
                seconds,
                f"{args.enqueue / seconds:,.0f} rows/s",
            )
        )
        for count in (args.people, args.enqueue):
            tracemalloc.start()
            base: list[int] = []
            _, total = await _send(app, count, lambda into=base: _mark(into))
            peak = tracemalloc.get_traced_memory()[1] - base[0]
            tracemalloc.stop()
            rows.append(
                Row(
                    backend,
                    "peak memory, release + send",
                    count,
                    total,
                    f"{peak / 2**20:.1f} MiB",
                    "tracemalloc, no-op channel",
                )
            )
    finally:
        await app.stop()
    return rows


def _mark(into: list[int]) -> None:
    """Start the peak over from here; remember what was in use already."""
    tracemalloc.reset_peak()
    into.append(tracemalloc.get_traced_memory()[0])


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Row]:
    rows: list[Row] = []
    with _common.temp_database(backend, args.pg_url) as db:
        rows += await _on_fake(db, backend, args)
    with _common.temp_database(backend, args.pg_url) as db:
        rows += await _enqueue_and_memory(db, backend, args)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=900)
    parser.add_argument("--people", type=int, default=5000, help="recipients, limits lifted")
    parser.add_argument(
        "--limited", type=int, default=1000, help="recipients with Telegram's limits (0: skip)"
    )
    parser.add_argument("--enqueue", type=int, default=50_000, help="recipients to enqueue")
    args = parser.parse_args(argv)
    _common.quiet_logging()
    print(_common.machine_summary())
    rows = _common.run_async(
        _common.over_backends(args, bench_backend), timeout=args.max_seconds * 2 + 120
    )
    headers = ["db", "measurement", "recipients", "seconds", "result", "note"]
    table = [[r.backend, r.what, r.count, r.seconds, r.value, r.note] for r in rows]
    print(_common.table(headers, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
