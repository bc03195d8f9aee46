"""Chat latency while a 5,000-recipient broadcast and 10,000 reminders go out.

Issue 18: chat p99 while a broadcast to 5,000 and 10,000 reminders run, beside the
chat alone.

One process runs the real :class:`bot.app.App` with the real :class:`TelegramChannel`
(polling), the scheduler and the outbox sender on, on a throw-away database
(``--db postgresql``, the default, or ``sqlite``), against the fake Bot API of the tests
(``tests/helpers/fake_telegram.py``) in a process of its own ("spawn"), as in
bench_soak.py. The fake makes the chat updates itself and times each one: from the
moment getUpdates hands it out to the moment the reply arrives.

People: ``--people`` (300) chat people in three groups of equal size, ``--recipients``
(5,000) in the broadcast's audience (gemeente Leiden) and ``--reminders`` (10,000) with
a check-in reminder, each a scheduler job (``services.reminder_jobs.checkin_reminder``,
as /herinnering makes them). The chat groups: *neither* (in no audience: their replies
meet only the load on the process and the database), *broadcast* (in the broadcast's
audience) and *reminder* (with a reminder of their own), so that a reply that waits
behind the person's own broadcast or reminder row in the outbox shows apart from the
load itself. The broadcast and reminder counts include those chat people.

Phases, with chat at ``--rate`` (10) updates a second throughout, round robin:

1. warm-up (``--warmup``, 10 s, not counted);
2. **chat alone** (``--baseline``, 30 s): the baseline, in the same run;
3. **under load**: at its start an urgent announcement to gemeente Leiden is created
   (released by the sender's announcement engine within a second) and the scheduler,
   paused since the reminders were added, is resumed, so all reminders fall due at
   once. The phase ends when the last broadcast message and the last reminder have
   reached the fake (at most ``--max-load`` seconds);
4. the chat stops and every update gets up to 120 s for its reply.

Telegram's limits (the channel's 28 messages a second, no burst) are lifted by
default, as in bench_broadcast.py's first measure, so the broadcast and the reminders
go out as fast as the bot can send and the run stays short: what is measured is what
sending 15,000 messages costs the chat. ``--telegram-limits`` keeps the channel's own
limiter: then 15,000 messages take at least 9 minutes (28 a second), so use smaller
``--recipients`` and ``--reminders`` with it.

Reported for each phase and group: replies, p50, p95, p99 and the slowest, in ms; and
when the broadcast and the reminders reached the fake (first, last), from the start of
the load. Errors: failed Bot API calls, ERROR log records, updates left without a
reply, replies with the wrong answer, sends the benchmark did not expect.

Usage::

    .venv/bin/python benchmarks/bench_chat_under_load.py                  # PostgreSQL
    .venv/bin/python benchmarks/bench_chat_under_load.py --db sqlite
    .venv/bin/python benchmarks/bench_chat_under_load.py --quick          # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import _common
from bench_soak import ANNOUNCEMENT
from bench_telegram import QUESTIONS, Inbox

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from bot.app import App

CHAT_FIRST = 1_000_000  # chat people's Telegram ids
BULK_FIRST = 3_000_000  # the broadcast's other recipients'
REMIND_FIRST = 5_000_000  # the reminders' other people's
GROUPS = ("neither", "broadcast", "reminder")  # chat person i is in GROUPS[i % 3]
GEMEENTE = "Leiden"  # the broadcast's audience
CATCH_UP_SECONDS = 120


# -- the fake, in its own process ---------------------------------------------------
def fake_main(conn: Connection) -> None:
    """Entry point of the fake's process: serve until told to stop or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    asyncio.run(_fake_serve(conn))


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def group_of(chat: int) -> str:
    return GROUPS[(chat - CHAT_FIRST) % len(GROUPS)]


async def _fake_serve(conn: Connection) -> None:
    from _load_fake import LoadFake  # in the fake's process only

    inbox = Inbox(conn)
    fake = LoadFake()
    await fake.start()
    conn.send(("ready", fake.token, fake.base_url))
    producer: asyncio.Task[None] | None = None
    try:
        while True:
            message = await inbox.get()
            if message[0] == "chat":
                _, titles, people, rate = message
                fake.titles = tuple(titles)
                fake.chats = {CHAT_FIRST + p for p in range(people)}
                fake.tally.clear()  # the bot's start (setMyCommands, ...) is not counted
                producer = asyncio.create_task(_chat(fake, people, rate))
            elif message[0] == "quiet" and producer is not None:
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer
                conn.send(("quiet",))
            elif message[0] == "stats":
                arrivals = {k: (len(v), min(v), max(v)) for k, v in fake.arrivals.items() if v}
                conn.send(("stats", dict(fake.tally), arrivals))
            elif message[0] == "latencies":
                conn.send(("latencies", fake.latencies))
            elif message[0] in ("stop", "eof"):
                return
    finally:
        if producer is not None:
            producer.cancel()
        inbox.close()
        await fake.stop()


async def _chat(fake: Any, people: int, rate: float) -> None:
    """``rate`` questions a second in all, round robin over ``people``, on a fixed beat."""
    began = time.monotonic()
    sent = 0
    while True:
        person = sent % people
        question = QUESTIONS[(person + sent // people) % len(QUESTIONS)]
        update = fake.message(CHAT_FIRST + person, question)
        fake.chat_of[update["update_id"]] = CHAT_FIRST + person
        fake.tally["update"] += 1
        sent += 1
        delay = began + sent / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class FakeChild:
    """The parent's handle on the fake's process: never left running."""

    def __init__(self) -> None:
        self.conn, self.process = _common.spawn_fake(fake_main)
        self.inbox = Inbox(self.conn)

    async def ask(self, *message: Any) -> tuple[Any, ...]:
        if message:
            self.conn.send(message)
        return await asyncio.wait_for(self.inbox.get(), timeout=60)

    def close(self) -> None:
        self.inbox.close()
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()


# -- the bot, in this process --------------------------------------------------------
def answer_titles(app: App) -> list[str]:
    """The escaped title each question's answer starts with (as the channel sends it)."""
    from bot.channels.telegram_format import escape
    from bot.knowledge.answer import Outcome

    assert app.services is not None and app.services.knowledge is not None
    titles = []
    for question in QUESTIONS:
        result = app.services.knowledge.answerer.answer(question, default_language="nl")
        if result.outcome is not Outcome.ANSWER or result.entry is None:
            raise SystemExit(f"not answered ({result.outcome.value}): {question!r}")
        titles.append(escape(result.entry.text("nl")[0]))
    return titles


async def people(app: App, args: argparse.Namespace) -> list[int]:
    """Everyone the run needs; returns the user ids to remind."""
    chat = args.people
    in_group = [sum(1 for i in range(chat) if i % len(GROUPS) == g) for g in range(3)]
    chatters = await _common.insert_people(app, CHAT_FIRST, chat)
    # The chat people of the broadcast group live in Leiden.
    await _set_gemeente(app, [CHAT_FIRST + i for i in range(chat) if i % len(GROUPS) == 1])
    await _common.insert_people(
        app, BULK_FIRST, max(0, args.recipients - in_group[1]), gemeente=GEMEENTE
    )
    others = await _common.insert_people(app, REMIND_FIRST, max(0, args.reminders - in_group[2]))
    return [u for i, u in enumerate(chatters) if i % len(GROUPS) == 2] + others


async def _set_gemeente(app: App, ids: list[int]) -> None:
    from sqlalchemy import update

    from bot.storage.models import User

    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.platform_user_id.in_([str(i) for i in ids]))
            .values(gemeente=GEMEENTE)
        )


async def add_reminders(app: App, users: list[int]) -> float:
    """One check-in reminder job per person, all due now, with the scheduler paused
    (so none runs before the load starts); the seconds it took."""
    assert app.services is not None and app.services.reminder_jobs is not None
    jobs = app.services.reminder_jobs
    began = time.perf_counter()
    now = datetime.now(UTC)
    for user in users:
        await jobs.checkin_reminder(user, now, f"load-{user}")
    return time.perf_counter() - began


def aps(app: App) -> Any:
    """APScheduler's scheduler inside the bot's (a private attribute: pause and resume
    are APScheduler's own, the bot has no use for them)."""
    assert app.scheduler is not None
    return app.scheduler._aps


async def wait_leading(app: App) -> None:
    """On PostgreSQL the scheduler runs jobs once elected; wait for that."""
    assert app.scheduler is not None
    for _ in range(600):
        if app.scheduler.leads:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the scheduler was not elected within 60 s")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import App
    from bot.broadcast.audience import Audience
    from bot.channels.telegram import TelegramChannel
    from bot.outbox.ratelimit import RateLimiter

    child = FakeChild()
    errors = _common.ErrorCount()
    logging.getLogger().addHandler(errors)
    try:
        _, token, base_url = await child.ask()
        with _common.temp_database(args.db, args.pg_url) as db:
            settings = _common.bench_settings(
                db,
                telegram_bot_token=token,
                telegram_api_base_url=base_url,
                flood_limit_per_minute=1_000_000_000,
            )
            channel = TelegramChannel(settings)
            if not args.telegram_limits:
                channel.limiter = RateLimiter.unlimited()
            app = App(settings, channels={"telegram": channel})
            await app.start(scheduler=True, sender=True)
            try:
                await wait_leading(app)
                aps(app).pause()
                progress("bot started; adding people and reminder jobs")
                setup = time.perf_counter()
                reminded = await people(app, args)
                added = await add_reminders(app, reminded)
                print(
                    f"set-up: {len(reminded):,} reminder jobs added in {added:.1f} s "
                    f"(people and jobs {time.perf_counter() - setup:.1f} s)",
                    flush=True,
                )
                audience = Audience(gemeenten=frozenset({GEMEENTE}))
                return await _phases(app, child, args, audience, errors, answer_titles(app))
            finally:
                await app.stop()
    finally:
        logging.getLogger().removeHandler(errors)
        child.close()


async def _phases(
    app: App,
    child: FakeChild,
    args: argparse.Namespace,
    audience: Any,
    errors: Any,
    titles: list[str],
) -> dict[str, Any]:
    child.conn.send(("chat", titles, args.people, args.rate))
    progress(f"chat started: {args.warmup:g} s warm-up, {args.baseline:g} s alone")
    began = time.monotonic()
    await asyncio.sleep(args.warmup)
    baseline_at = time.monotonic()
    await asyncio.sleep(args.baseline)
    load_at = time.monotonic()
    await _common.announce(app, ANNOUNCEMENT, audience)
    aps(app).resume()
    progress("load started: broadcast created, scheduler resumed")
    stats: dict[str, int] = {}
    arrivals: dict[str, tuple[int, float, float]] = {}
    while time.monotonic() - load_at < args.max_load:
        _, stats, arrivals = await child.ask("stats")
        if (
            arrivals.get("broadcast", (0,))[0] >= args.recipients
            and arrivals.get("reminder", (0,))[0] >= args.reminders
        ):
            break
        await asyncio.sleep(0.5)
    load_end = time.monotonic()
    progress(f"load over after {load_end - load_at:.1f} s; waiting for the last replies")
    await child.ask("quiet")
    for _ in range(CATCH_UP_SECONDS):
        _, stats, arrivals = await child.ask("stats")
        if stats.get("reply", 0) >= stats.get("update", 0):
            break
        await asyncio.sleep(1.0)
    _, latencies = await child.ask("latencies")
    return {
        "began": began,
        "baseline_at": baseline_at,
        "load_at": load_at,
        "load_end": load_end,
        "stats": stats,
        "arrivals": arrivals,
        "latencies": latencies,
        "log_errors": errors.count,
    }


# -- the report ---------------------------------------------------------------------
def by_phase(result: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    """Latencies in ms by (phase, chat group), the phase the update was handed out in;
    group ``all`` too."""
    phases = (
        ("chat alone", result["baseline_at"], result["load_at"]),
        ("under load", result["load_at"], result["load_end"]),
    )
    picked: dict[tuple[str, str], list[float]] = {
        (phase, group): [] for phase, _, _ in phases for group in ("all", *GROUPS)
    }
    for chat, handed, replied in result["latencies"]:
        for phase, start, end in phases:
            if start <= handed < end:
                picked[phase, group_of(chat)].append((replied - handed) * 1000)
                picked[phase, "all"].append((replied - handed) * 1000)
    return picked


def latency_rows(picked: dict[tuple[str, str], list[float]]) -> list[list[object]]:
    return [
        [
            phase,
            group,
            len(values),
            _common.percentile(values, 0.50),
            _common.percentile(values, 0.95),
            _common.percentile(values, 0.99),
            max(values) if values else float("nan"),
        ]
        for (phase, group), values in picked.items()
    ]


def report(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    stats: dict[str, int] = result["stats"]
    arrivals: dict[str, tuple[int, float, float]] = result["arrivals"]
    load_at = result["load_at"]
    picked = by_phase(result)
    print(_common.machine_summary())
    limits = "Telegram's limits (28/s)" if args.telegram_limits else "limits lifted"
    print(
        f"chat under load on {args.db}: {args.rate:g} updates/s over {args.people} people; "
        f"broadcast to {args.recipients:,}, {args.reminders:,} reminders due at once; {limits}; "
        f"chat alone {args.baseline:g} s, load {result['load_end'] - load_at:.1f} s"
    )
    print(
        _common.table(
            ["phase", "chat group", "replies", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            latency_rows(picked),
        )
    )
    rows: list[list[object]] = []
    for kind, expected in (("broadcast", args.recipients), ("reminder", args.reminders)):
        count, first, last = arrivals.get(kind, (0, float("nan"), float("nan")))
        rows.append([kind, count, expected, first - load_at, last - load_at])
    print(
        _common.table(["load", "delivered", "expected", "first after load start s", "last s"], rows)
    )
    updates, replies = stats.get("update", 0), stats.get("reply", 0)
    failed = sum(v for k, v in stats.items() if k.startswith("failed "))
    unanswered = max(0, updates - replies)
    odd = ("other send", "other call", "reply without an update")
    unexpected = sum(stats.get(k, 0) for k in odd)
    odd_counts = {k: stats[k] for k in odd if stats.get(k)}
    missing = sum(
        max(0, expected - arrivals.get(kind, (0,))[0])
        for kind, expected in (("broadcast", args.recipients), ("reminder", args.reminders))
    )
    log_errors: int = result["log_errors"]
    errors: int = failed + log_errors + unanswered + unexpected + missing
    print(
        f"updates {updates:,}, answered {replies:,}; failed Bot API calls {failed}, ERROR log "
        f"records {result['log_errors']}, unanswered {unanswered}, unexpected calls "
        f"{unexpected}{f' {odd_counts}' if odd_counts else ''}, broadcast or "
        f"reminders not delivered {missing}: errors {errors}"
    )
    p99 = {key: _common.percentile(values, 0.99) for key, values in picked.items()}
    alone, loaded = p99["chat alone", "all"], p99["under load", "all"]
    print(
        f"chat p99: {alone:,.0f} ms alone, {loaded:,.0f} ms under load "
        f"({loaded / alone:.1f}x); neither group {p99['under load', 'neither']:,.0f} ms, "
        f"broadcast group {p99['under load', 'broadcast']:,.0f} ms, reminder group "
        f"{p99['under load', 'reminder']:,.0f} ms"
    )
    return errors == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--pg-url", default=_common.DEFAULT_PG_URL)
    parser.add_argument("--people", type=int, default=300, help="chat people (3 groups)")
    parser.add_argument("--rate", type=float, default=10.0, help="chat updates a second")
    parser.add_argument("--recipients", type=int, default=5000, help="the broadcast's")
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds, not counted")
    parser.add_argument("--baseline", type=float, default=30.0, help="seconds of chat alone")
    parser.add_argument("--max-load", type=float, default=900.0, help="seconds at most")
    parser.add_argument(
        "--telegram-limits",
        action="store_true",
        help="keep the channel's 28 messages a second (a long run: use smaller counts)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 500 recipients, 1,000 reminders, 10 s"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.recipients, args.reminders, args.warmup, args.baseline = 500, 1000, 3.0, 10.0
    _common.interruptible()
    _common.quiet_logging()
    if args.db == "postgresql":
        _common.drop_stale_databases(args.pg_url)
    result = _common.run_async(run(args), timeout=args.max_load + 900)
    return 0 if report(args, result) else 1


if __name__ == "__main__":
    sys.exit(main())
