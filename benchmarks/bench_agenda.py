"""The agenda: reminders due at once, /agenda with many events, a feed of many events.

Three measurements, on each database chosen with ``--db``:

1. **Reminders due in the same minute** (issue 15): ``--people`` (10,000) people and
   ``--events`` (20) events whose 1-day reminders are all due at the same instant.
   Two shapes: *spread* (each person said yes to one of the events: 10,000 messages)
   and *every* (each said yes to all of them: 200,000 messages). The engine
   (``bot.agenda.reminders``) runs on a clock that starts at the due instant and moves
   with real time; the lateness of a message is its outbox row's ``created_at`` minus
   the due instant: from due to handed to the outbox. Reported: p50, p99, the last, and
   the peak memory of the round (``tracemalloc``).
2. **/agenda for one person with ``--agenda-events`` (500) future events**: the time
   from the message to the replies, through the whole middleware (median of 50).
3. **A feed of 500 events**: ``GET /agenda.ics``'s work (read and write iCalendar),
   median of 20.

Usage::

    .venv/bin/python benchmarks/bench_agenda.py --db both
    .venv/bin/python benchmarks/bench_agenda.py --db sqlite --people 2000   # shorter
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import _common

GOAL_SECONDS = 2.0
DUE = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 local, the day before the events
BEFORE = DUE - timedelta(days=30)


@dataclass
class Row:
    backend: str
    what: str
    count: int
    seconds: float
    value: str
    note: str = ""


class RunningClock:
    """Starts at ``start`` and moves with real time (for lateness)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t0 = time.perf_counter()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.perf_counter() - self.t0)

    def set(self, moment: datetime) -> None:
        self.start, self.t0 = moment, time.perf_counter()


def _event(number: int, start: datetime) -> Any:
    from bot.agenda.model import EventData

    return EventData(
        uid=f"bench-{number}@alliantiepg.nl",
        kind="leeratelier",
        title=f"Leeratelier {number}",
        start=start,
        end=start + timedelta(hours=2),
        zone="Europe/Amsterdam",
        address="Hogeschool Leiden",
    )


async def _people(app: Any, count: int) -> list[int]:
    from sqlalchemy import insert, select

    from bot.storage.models import User

    rows = [
        {
            "platform": "telegram",
            "platform_user_id": str(1_000_000 + n),
            "private_chat_id": str(1_000_000 + n),
            "language": "nl" if n % 5 else "en",
            "roles": "",
            "topics_off": "",
            "messages_enabled": True,
            "active": True,
            "created_at": BEFORE,
            "last_seen_at": BEFORE,
        }
        for n in range(count)
    ]
    async with app.services.sessions() as session, session.begin():
        for start in range(0, len(rows), 5000):
            await session.execute(insert(User), rows[start : start + 5000])
        return list((await session.execute(select(User.id).order_by(User.id))).scalars())


async def _reminders(db: Any, backend: str, args: argparse.Namespace, every: bool) -> list[Row]:
    from sqlalchemy import delete, insert, select, update

    from bot.agenda.reminders import Rules, engine_for
    from bot.app import App
    from bot.storage.models import AgendaReminder, AgendaRsvp, OutboxMessage

    clock = RunningClock(BEFORE)
    app = App(_common.bench_settings(db), clock=clock)  # type: ignore[arg-type]
    await app.start(scheduler=False, sender=False)
    try:
        assert app.services is not None
        users = await _people(app, args.people)
        start = datetime(2027, 3, 11, 19, 30)  # wall time; all reminded 10 March 10:00
        ids = []
        async with app.services.work.begin() as repos:
            for n in range(args.events):
                event, _ = await repos.agenda.save(_event(n, start), BEFORE)
                ids.append(event.id)
        rsvps = [
            {"event_id": e, "user_id": u, "answer": "yes", "answered_at": BEFORE, "muted": False}
            for i, u in enumerate(users)
            for e in (ids if every else [ids[i % len(ids)]])
        ]
        async with app.services.sessions() as session, session.begin():
            for at in range(0, len(rsvps), 5000):
                await session.execute(insert(AgendaRsvp), rsvps[at : at + 5000])
        only_the_day_before = Rules.parse({"default": {"remind": [{"days": 1, "at": "10:00"}]}})
        engine = replace(engine_for(app.services, only_the_day_before), interval=0)
        await engine.run_once()  # plans the rows, a month before
        clock.set(DUE)
        began = time.perf_counter()
        await engine.run_once()
        took = time.perf_counter() - began
        async with app.services.sessions() as session:
            made = list(
                (
                    await session.execute(
                        select(OutboxMessage.created_at).where(OutboxMessage.kind == "agenda")
                    )
                ).scalars()
            )
        # The same round again with tracemalloc on (which slows it): its peak memory.
        async with app.services.sessions() as session, session.begin():
            await session.execute(delete(OutboxMessage).where(OutboxMessage.kind == "agenda"))
            await session.execute(update(AgendaReminder).values(status="pending", done_at=None))
        clock.set(DUE)
        tracemalloc.start()
        await engine.run_once()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        late = sorted((m - DUE).total_seconds() for m in made)
        shape = "every" if every else "spread"
        value = (
            f"p50 {_common.percentile(late, 0.5):.2f} s, p99 {_common.percentile(late, 0.99):.2f}"
            f" s, last {late[-1]:.2f} s; peak {peak / 2**20:.1f} MiB"
        )
        within = sum(1 for x in late if x <= GOAL_SECONDS) / len(late)
        note = f"{within:.0%} within {GOAL_SECONDS:g} s; {len(late) / took:,.0f} msgs/s"
        what = f"reminders due at once ({shape}: {args.people} people, {args.events} events)"
        return [Row(backend, what, len(late), took, value, note)]
    finally:
        await app.stop()


async def _agenda_and_feed(db: Any, backend: str, args: argparse.Namespace) -> list[Row]:
    from bot.agenda.feeds import CalendarFeeds
    from bot.app import App
    from bot.core.clock import FrozenClock
    from bot.core.messages import Incoming

    clock = FrozenClock(BEFORE)
    app = App(_common.bench_settings(db, flood_limit_per_minute=1_000_000), clock=clock)
    await app.start(scheduler=False, sender=False)
    rows: list[Row] = []
    try:
        assert app.services is not None
        async with app.services.work.begin() as repos:
            for n in range(args.agenda_events):
                start = datetime(2027, 3, 1, 19, 30) + timedelta(days=n // 3, hours=n % 3)
                await repos.agenda.save(_event(n, start), BEFORE)

        def message() -> Incoming:
            return Incoming.from_text(
                "console", "anna", "anna", "/agenda", is_private=True, display_name="Anna"
            )

        await app.handle(message())  # the person exists; warm
        times = []
        for _ in range(50):
            began = time.perf_counter()
            replies = await app.handle(message())
            times.append(time.perf_counter() - began)
        assert len(replies) == 11, len(replies)  # the intro and 10 cards
        rows.append(
            Row(
                backend,
                f"/agenda, {args.agenda_events} future events",
                50,
                sum(times),
                f"p50 {_common.median(times) * 1000:.1f} ms, "
                f"p99 {_common.percentile(times, 0.99) * 1000:.1f} ms",
                "whole middleware, 10 cards shown",
            )
        )
        feeds = CalendarFeeds(app.services.work, clock)
        times = []
        for _ in range(20):
            began = time.perf_counter()
            response = await feeds.public(None)  # type: ignore[arg-type]
            times.append(time.perf_counter() - began)
        size = len(response.body or b"")  # type: ignore[arg-type]
        rows.append(
            Row(
                backend,
                f"public feed, {args.agenda_events} events",
                20,
                sum(times),
                f"p50 {_common.median(times) * 1000:.0f} ms",
                f"{size / 1024:.0f} KiB of iCalendar",
            )
        )
    finally:
        await app.stop()
    return rows


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Row]:
    rows: list[Row] = []
    with _common.temp_database(backend, args.pg_url) as db:
        rows += await _agenda_and_feed(db, backend, args)
    for every in (False, True):
        if every and args.skip_every:
            continue
        with _common.temp_database(backend, args.pg_url) as db:
            rows += await _reminders(db, backend, args, every)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=900)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--agenda-events", type=int, default=500)
    parser.add_argument(
        "--skip-every", action="store_true", help="skip the shape where all say yes to all"
    )
    args = parser.parse_args(argv)
    _common.quiet_logging()
    print(_common.machine_summary())
    rows = _common.run_async(
        _common.over_backends(args, bench_backend), timeout=args.max_seconds * 2 + 120
    )
    headers = ["db", "measurement", "count", "seconds", "result", "note"]
    table = [[r.backend, r.what, r.count, r.seconds, r.value, r.note] for r in rows]
    print(_common.table(headers, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
