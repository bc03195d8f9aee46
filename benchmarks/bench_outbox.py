"""Outbox throughput: rows enqueued per second, and deliveries per second.

A broadcast's worth of rows (default 20,000, one call to
:meth:`bot.outbox.queue.Outbox.enqueue`, as a broadcast handler would make) is
enqueued for a no-op channel whose rate limiter is unlimited, then
:meth:`bot.outbox.sender.OutboxSender.drain` delivers them all. What is left is
the outbox's own cost: encrypting payloads, inserting rows, claiming batches,
decrypting, and recording each group's outcome.

Several ``batch_size`` × ``concurrency`` settings are measured; the first,
100 × 16, is the service's default (``OUTBOX_BATCH_SIZE`` and the sender's
default concurrency). Between runs the outbox table is emptied.

Usage::

    .venv/bin/python benchmarks/bench_outbox.py --db sqlite
    .venv/bin/python benchmarks/bench_outbox.py --db postgresql --rows 20000 --configs 100x16,500x50
    .venv/bin/python benchmarks/bench_outbox.py --db sqlite --profile   # where drain() spends time

Target: at least 2,000 deliveries per second.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from bot.core.messages import Reply
    from bot.outbox.queue import Outbox

TARGET_PER_SECOND = 2_000
DEFAULT_CONFIGS = "100x16,500x50,1000x100"


class NoopChannel:
    """A channel that accepts everything at once and remembers nothing but a count."""

    name = "noop"

    def __init__(self) -> None:
        from bot.outbox.ratelimit import RateLimiter

        self.limiter = RateLimiter.unlimited()
        self.sent = 0

    async def send(self, chat_id: str, reply: Reply) -> str:
        self.sent += 1
        return "id"

    async def start(self, handle: Any) -> None:
        return None

    async def stop(self) -> None:
        return None


@dataclass
class Run:
    backend: str
    batch_size: int
    concurrency: int
    rows: int
    enqueue_seconds: float
    drain_seconds: float
    delivered: int
    ok: bool
    partial: bool = False


def parse_configs(text: str) -> list[tuple[int, int]]:
    configs = []
    for part in text.split(","):
        batch, _, concurrency = part.strip().partition("x")
        configs.append((int(batch), int(concurrency)))
    return configs


def outgoing(tag: str, count: int) -> list[Any]:
    """A broadcast: the same announcement to ``count`` people, with two buttons."""
    from bot.core.messages import Choice, Reply
    from bot.outbox.queue import Outgoing

    reply = Reply(
        text="Op 12 maart is het volgende leeratelier Positieve Gezondheid in Leiden. "
        "Je bent van harte welkom; aanmelden kan via de knop hieronder.",
        choices=(Choice("Ik kom", "event:yes:42"), Choice("Liever niet", "event:no:42")),
    )
    return [
        Outgoing(
            key=f"broadcast:{tag}:{i}",
            platform="noop",
            chat_id=str(100_000 + i),
            reply=reply,
            kind="broadcast",
        )
        for i in range(count)
    ]


async def empty_outbox(outbox: Outbox) -> None:
    from sqlalchemy import delete

    from bot.storage.models import OutboxMessage

    async with outbox.sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))


async def one_run(
    outbox: Outbox,
    backend: str,
    tag: str,
    rows: int,
    batch_size: int,
    concurrency: int,
    deadline: float,
    profile: bool = False,
) -> Run:
    from bot.outbox.sender import OutboxSender

    await empty_outbox(outbox)
    items = outgoing(tag, rows)
    began = time.perf_counter()
    new = await outbox.enqueue(items)
    enqueue_seconds = time.perf_counter() - began

    channel = NoopChannel()
    sender = OutboxSender(
        outbox,
        {channel.name: channel},
        batch_size=batch_size,
        concurrency=concurrency,
        lease=timedelta(minutes=5),
    )
    sampler = _start_profile() if profile else None
    partial = False
    began = time.perf_counter()
    try:
        delivered = await asyncio.wait_for(
            sender.drain(), timeout=max(deadline - time.perf_counter(), 1.0)
        )
    except TimeoutError:
        delivered, partial = channel.sent, True
    drain_seconds = time.perf_counter() - began
    if sampler is not None:
        sampler.stop()
        print(
            f"\n--- pyinstrument, drain() with batch {batch_size} x concurrency {concurrency} ---"
        )
        print(sampler.output_text(unicode=False, color=False))
    counts = await outbox.counts()
    # A run cut short by the time limit cannot be checked for completeness.
    ok = partial or (new == rows and channel.sent == rows and counts == {"sent": rows})
    if not ok:
        print(f"  check failed: new={new} sent={channel.sent} counts={counts}", file=sys.stderr)
    return Run(
        backend,
        batch_size,
        concurrency,
        rows,
        enqueue_seconds,
        drain_seconds,
        delivered,
        ok,
        partial,
    )


def _start_profile() -> Any:
    try:
        import pyinstrument
    except ImportError:
        print("--profile needs pyinstrument: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return None
    sampler = pyinstrument.Profiler(async_mode="enabled", interval=0.0005)
    sampler.start()
    return sampler


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Run]:
    from bot.core.clock import SystemClock
    from bot.crypto import Cipher
    from bot.outbox.queue import Outbox
    from bot.settings import normalise_database_url
    from bot.storage import db as storage

    runs: list[Run] = []
    deadline = time.perf_counter() + args.max_seconds
    with _common.temp_database(backend, args.pg_url) as tmp:
        engine = storage.create_engine(normalise_database_url(tmp.url))
        try:
            await storage.upgrade(engine)
            outbox = Outbox(
                storage.session_factory(engine), Cipher([_common.new_data_key()]), SystemClock()
            )
            # Warm up: compiled-statement caches, pool connections.
            await one_run(outbox, backend, "warm", 500, 100, 16, deadline)
            for repeat in range(args.repeat):
                for batch_size, concurrency in args.configs:
                    if time.perf_counter() > deadline:
                        break
                    profile = args.profile and repeat == args.repeat - 1
                    runs.append(
                        await one_run(
                            outbox,
                            backend,
                            f"r{repeat}-{batch_size}x{concurrency}",
                            args.rows,
                            batch_size,
                            concurrency,
                            deadline,
                            profile,
                        )
                    )
        finally:
            await engine.dispose()
    return runs


def summarise(runs: list[Run]) -> list[list[object]]:
    rows: list[list[object]] = []
    by_config = _common.grouped(runs, lambda r: (r.backend, r.batch_size, r.concurrency))
    for (backend, batch, concurrency), group in by_config.items():
        enqueue = _common.median([r.rows / r.enqueue_seconds for r in group])
        deliver = _common.median([r.delivered / r.drain_seconds for r in group])
        note = []
        if any(r.partial for r in group):
            note.append("partial (time limit)")
        if not all(r.ok for r in group):
            note.append("CHECK FAILED")
        rows.append(
            [
                backend,
                batch,
                concurrency,
                group[0].rows,
                len(group),
                enqueue,
                deliver,
                "yes" if deliver >= TARGET_PER_SECOND else "NO",
                ", ".join(note),
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=240)
    parser.add_argument("--rows", type=int, default=20_000, help="rows per run")
    parser.add_argument(
        "--configs",
        type=parse_configs,
        default=parse_configs(DEFAULT_CONFIGS),
        help=f"comma-separated BATCHxCONCURRENCY settings (default: {DEFAULT_CONFIGS})",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a pyinstrument profile of the last drains"
    )
    args = parser.parse_args(argv)
    _common.quiet_logging()
    print(_common.machine_summary())
    print(
        f"{args.rows:,} rows per run, median of {args.repeat} runs; "
        f"target >= {TARGET_PER_SECOND:,} deliveries/s"
    )
    runs = _common.run_async(
        _common.over_backends(args, bench_backend), timeout=args.max_seconds * 2 + 120
    )
    headers = [
        "db", "batch", "concurrency", "rows", "runs",
        "enqueue rows/s", "deliveries/s", "target", "note",
    ]  # fmt: skip
    print(_common.table(headers, summarise(runs)))
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
