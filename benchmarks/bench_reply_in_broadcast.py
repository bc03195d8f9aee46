"""A reply during a broadcast: how many messages go out before it (issue 18).

A broadcast's rows (``--rows``, default 5,000, one per chat) are pending in the
outbox. Then a person whose broadcast row is far back (at 90 %) asks a question:
the reply is held in the outbox behind their own broadcast row (one chat's messages
go in order, :meth:`bot.outbox.queue.Outbox.hold` queues it). The sender
(:class:`bot.outbox.sender.OutboxSender`, the service's batch of 100) then delivers
to a no-op channel until the reply is out. Reported: how many messages went out
before the reply, and what that means at Telegram's rate (``OVERALL_RATE``, 28 a
second): the seconds the person waits for the answer.

Usage::

    .venv/bin/python benchmarks/bench_reply_in_broadcast.py --db both
    .venv/bin/python benchmarks/bench_reply_in_broadcast.py --db postgresql --rows 20000
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from bot.core.messages import Reply
    from bot.outbox.queue import Outbox

TELEGRAM_RATE = 28  # messages a second: bot.channels.telegram's OVERALL_RATE
ANSWER = "antwoord"
FIRST_CHAT = 100_000


class CountingChannel:
    """Accepts everything at once; remembers when the answer went out."""

    name = "noop"

    def __init__(self, person: str) -> None:
        from bot.outbox.ratelimit import RateLimiter

        self.limiter = RateLimiter.unlimited()
        self.person = person  # the chat that asks a question during the broadcast
        self.sent = 0
        self.answer_at: int | None = None  # messages sent before the answer
        self.own_row_at: int | None = None  # ... before the person's broadcast row

    async def send(self, chat_id: str, reply: Reply) -> str:
        if reply.text == ANSWER:
            self.answer_at = self.sent
        elif chat_id == self.person:
            self.own_row_at = self.sent
        self.sent += 1
        return "id"

    async def start(self, handle: Any) -> None:
        return None

    async def stop(self) -> None:
        return None


@dataclass
class Run:
    backend: str
    rows: int
    own_row_at: int | None
    answer_at: int | None
    seconds: float  # wall time until the answer was out (no rate limit)


async def one_run(outbox: Outbox, backend: str, tag: str, rows: int) -> Run:
    from sqlalchemy import delete

    from bot.core.messages import Reply
    from bot.outbox.queue import REPLY, Outgoing
    from bot.outbox.sender import OutboxSender
    from bot.storage.models import OutboxMessage

    async with outbox.sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))
    news = Reply(text="Op 12 maart is het volgende leeratelier Positieve Gezondheid in Leiden.")
    await outbox.enqueue(
        [
            Outgoing(
                key=f"broadcast:{tag}:{i}",
                platform="noop",
                chat_id=str(FIRST_CHAT + i),
                reply=news,
                kind="announcement",
            )
            for i in range(rows)
        ]
    )
    channel = CountingChannel(str(FIRST_CHAT + rows * 9 // 10))
    question = Outgoing(
        key=f"reply:{tag}",
        platform="noop",
        chat_id=channel.person,
        reply=Reply(text=ANSWER),
        kind=REPLY,
    )
    async with outbox.sessions() as session, session.begin():
        _, queued = await outbox.hold(session, [question], timedelta(minutes=5))
    assert queued, "the reply should wait behind the person's broadcast row"
    sender = OutboxSender(outbox, {channel.name: channel}, batch_size=100)
    began = time.perf_counter()
    while channel.answer_at is None and await sender.deliver_due():
        pass
    return Run(backend, rows, channel.own_row_at, channel.answer_at, time.perf_counter() - began)


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Run]:
    from bot.core.clock import SystemClock
    from bot.crypto import Cipher
    from bot.outbox.queue import Outbox
    from bot.settings import normalise_database_url
    from bot.storage import db as storage

    runs: list[Run] = []
    with _common.temp_database(backend, args.pg_url) as tmp:
        engine = storage.create_engine(normalise_database_url(tmp.url))
        try:
            await storage.upgrade(engine)
            outbox = Outbox(
                storage.session_factory(engine), Cipher([_common.new_data_key()]), SystemClock()
            )
            await one_run(outbox, backend, "warm", 500)
            for repeat in range(args.repeat):
                runs.append(await one_run(outbox, backend, f"r{repeat}", args.rows))
        finally:
            await engine.dispose()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=240)
    parser.add_argument("--rows", type=int, default=5_000, help="broadcast rows (chats)")
    args = parser.parse_args(argv)
    _common.quiet_logging()
    print(_common.machine_summary())
    print(f"{args.rows:,} broadcast rows, the person's at 90 %; median of {args.repeat} runs")
    runs = _common.run_async(
        _common.over_backends(args, bench_backend), timeout=args.max_seconds * 2 + 120
    )
    headers = [
        "db", "rows", "runs", "sent before own row", "sent before reply",
        f"reply wait at {TELEGRAM_RATE}/s (s)", "wall s (no limit)",
    ]  # fmt: skip
    table = []
    for backend, group in _common.grouped(runs, lambda r: r.backend).items():
        before = _common.median([float(-1 if r.answer_at is None else r.answer_at) for r in group])
        own = _common.median([float(-1 if r.own_row_at is None else r.own_row_at) for r in group])
        table.append(
            [
                backend,
                group[0].rows,
                len(group),
                int(own),
                int(before),
                round(before / TELEGRAM_RATE, 1),
                round(_common.median([r.seconds for r in group]), 2),
            ]
        )
    print(_common.table(headers, table))
    return 0 if all(r.answer_at is not None for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
