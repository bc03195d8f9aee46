"""Messages handled per second through middleware, router, handlers and storage.

No network: the benchmark starts :class:`bot.app.App` without HTTP server,
scheduler or outbox sender, and calls ``app.handle`` directly, as a channel
adapter would. Every message carries an ``event_id`` (as Telegram's
``update_id``), so the deduplication insert happens on each one.

The workload is 50 people, each going round the same eight steps:
``/start``, ``/help``, free text, ``/taal``, the "English" button, free text,
``/taal``, the "Nederlands" button. Free text goes to whatever the router's
free-text handler is (question answering, when this was written). Each
person's first ``/start`` creates their user row; those first contacts are
timed separately. Replies are checked: an error reply, or a language button
not answered in the chosen language, counts as an error.

Variants:

- ``sequential``: one message at a time (the latency floor).
- ``sequential, no event_id``: the same without deduplication (its cost).
- ``concurrent N``: N tasks at once, each with its own people, so one
  person's messages stay in order (as a platform adapter keeps them).

Besides msgs/s and latency it reports CPU milliseconds per message of this
process (all its threads, so aiosqlite's too; not the PostgreSQL server):
on a shared machine that is steadier than wall time. It also counts the SQL
statements one person's messages cause, as a cost model.

Usage::

    .venv/bin/python benchmarks/bench_messages.py --db sqlite
    .venv/bin/python benchmarks/bench_messages.py --db postgresql --messages 5000
    .venv/bin/python benchmarks/bench_messages.py --db sqlite --profile   # where time goes

Target: at least 1,000 handled messages per second.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import _common

if TYPE_CHECKING:
    from bot.app import App
    from bot.core.messages import Incoming

TARGET_PER_SECOND = 1_000
STATEMENTS: list[list[object]] = []
USERS = 50
STEPS = 8


@dataclass
class Run:
    variant: str
    backend: str
    messages: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process, all threads (aiosqlite's too), not the server
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    unexpected: int = 0
    partial: bool = False

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


class Workload:
    """Builds the messages and checks the replies that matter."""

    def __init__(self, app: App) -> None:
        from bot.core.messages import Incoming, Kind

        assert app.services is not None
        texts = app.services.texts
        self.Incoming = Incoming
        self.Kind = Kind
        self.error_texts = {
            texts.get(lang, key)
            for lang in texts.languages
            for key in ("errors.internal", "errors.database_down", "errors.flood")
        }
        # After the language button the reply must be in the chosen language.
        self.expected = {
            4: texts.get("en", "taal.done"),
            7: texts.get("nl", "taal.done"),
        }
        self._event = 0

    def message(self, namespace: str, user: int, step: int, *, event_id: bool) -> Incoming:
        user_id = f"{namespace}-u{user}"
        extra: dict[str, object] = {"display_name": f"Bench {user}"}
        if event_id:
            self._event += 1
            extra["event_id"] = f"{namespace}-{self._event}"
        step %= STEPS
        if step in (4, 7):
            code = "en" if step == 4 else "nl"
            return self.Incoming(
                platform="console",
                user_id=user_id,
                chat_id=user_id,
                kind=self.Kind.ACTION,
                text=code,
                action=f"taal:{code}",
                **extra,  # type: ignore[arg-type]
            )
        text = {
            0: "/start",
            1: "/help",
            2: "Hoe kan ik beter slapen?",
            3: "/taal",
            5: "What can I do here?",
            6: "/taal",
        }[step]
        return self.Incoming.from_text("console", user_id, user_id, text, **extra)

    def check(self, run: Run, step: int, replies: list[object]) -> None:
        texts = [getattr(r, "text", "") for r in replies]
        if not replies or any(t in self.error_texts for t in texts):
            run.errors += 1
        expected = self.expected.get(step % STEPS)
        if expected is not None and expected not in texts:
            run.unexpected += 1


async def _person(
    app: App,
    work: Workload,
    run: Run,
    plan: list[tuple[int, int]],
    namespace: str,
    event_id: bool,
    deadline: float,
) -> None:
    clock = time.perf_counter
    for user, step in plan:
        if clock() > deadline:
            run.partial = True
            return
        msg = work.message(namespace, user, step, event_id=event_id)
        began = clock()
        replies = await app.handle(msg)
        run.latencies.append(clock() - began)
        run.messages += 1
        work.check(run, step, list(replies))


def _plan(total: int, first_step: int) -> list[tuple[int, int]]:
    """(user, step) pairs, round-robin over the people."""
    return [(i % USERS, first_step + i // USERS) for i in range(total)]


async def measure(
    app: App,
    work: Workload,
    *,
    variant: str,
    backend: str,
    namespace: str,
    total: int,
    concurrency: int,
    event_id: bool,
    deadline: float,
) -> tuple[Run, Run]:
    """First contact for every person, then ``total`` messages of the mix."""
    first = Run(f"{variant}: first contact", backend)
    began = time.perf_counter()
    await _person(app, work, first, _plan(USERS, 0), namespace, event_id, deadline)
    first.seconds = time.perf_counter() - began

    run = Run(variant, backend)
    plan = _plan(total, 1)  # step 0 (/start) was the first contact
    lanes = [[p for p in plan if p[0] % concurrency == lane] for lane in range(concurrency)]
    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(
        *(_person(app, work, run, lane, namespace, event_id, deadline) for lane in lanes)
    )
    run.seconds = time.perf_counter() - began
    run.cpu_seconds = time.process_time() - cpu
    return first, run


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Run]:
    from bot.app import App

    runs: list[Run] = []
    deadline = time.perf_counter() + args.max_seconds
    with _common.temp_database(backend, args.pg_url) as db:
        settings = _common.bench_settings(db, flood_limit_per_minute=1_000_000_000)
        app = App(settings)
        await app.start(http=False, scheduler=False, sender=False)
        try:
            work = Workload(app)
            # Warm up caches (SQLAlchemy's compiled statements, pool connections).
            await measure(
                app, work, variant="warmup", backend=backend, namespace="warm",
                total=400, concurrency=1, event_id=True, deadline=deadline,
            )  # fmt: skip
            variants: list[tuple[str, int, bool]] = [("sequential", 1, True)]
            variants.append(("sequential, no event_id", 1, False))
            variants += [(f"concurrent {c}", c, True) for c in args.concurrency]
            for repeat in range(args.repeat):
                for name, concurrency, event_id in variants:
                    first, run = await measure(
                        app, work, variant=name, backend=backend,
                        namespace=f"r{repeat}-{name.replace(' ', '')}",
                        total=args.messages, concurrency=concurrency,
                        event_id=event_id, deadline=deadline,
                    )  # fmt: skip
                    runs += [first, run]
            STATEMENTS.extend(await count_statements(app, work, backend))
            if args.profile:
                await profile_sequential(app, work, args.messages, deadline + 120)
        finally:
            await app.stop()
    return runs


async def profile_sequential(app: App, work: Workload, total: int, deadline: float) -> None:
    """Run the sequential mix once more under a profiler and print where time goes.

    pyinstrument (if installed) follows ``await`` chains, so its tree shows
    which middleware and repository call the time is spent under. Otherwise
    cProfile, which counts every coroutine resumption as a call and sees this
    thread only (waiting for aiosqlite's thread shows up under ``select``).
    """

    async def go() -> None:
        await measure(
            app, work, variant="profile", backend="-", namespace="prof",
            total=total, concurrency=1, event_id=True, deadline=deadline,
        )  # fmt: skip

    try:
        import pyinstrument
    except ImportError:
        pyinstrument = None
    if pyinstrument is not None:
        sampler = pyinstrument.Profiler(async_mode="enabled", interval=0.0005)
        sampler.start()
        try:
            await go()
        finally:
            sampler.stop()
        print("\n--- pyinstrument, one sequential run ---")
        print(sampler.output_text(unicode=False, color=False))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        await go()
    finally:
        profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(30)
        print(f"\n--- cProfile, sorted by {order} ---")
        print(out.getvalue().strip())


STEP_NAMES = [
    "/start", "/help", "free text", "/taal", "button taal:en",
    "free text", "/taal", "button taal:nl",
]  # fmt: skip


async def count_statements(app: App, work: Workload, backend: str) -> list[list[object]]:
    """SQL statements per message for one person's first cycle (a cost model).

    Counted with SQLAlchemy's ``before_cursor_execute``: it sees BEGIN,
    SAVEPOINT and RELEASE too, but not COMMIT (one more round trip each).
    """
    from collections import Counter

    from sqlalchemy import event

    assert app.engine is not None
    engine = app.engine.sync_engine
    seen: Counter[str] = Counter()

    def before(*args: object) -> None:
        seen[str(args[2]).split(None, 1)[0].upper()] += 1

    rows: list[list[object]] = []
    event.listen(engine, "before_cursor_execute", before)
    try:
        for step in range(STEPS + 1):
            seen.clear()
            await app.handle(work.message("sql", 0, step, event_id=True))
            name = "/start (new person)" if step == 0 else STEP_NAMES[step % STEPS]
            detail = ", ".join(f"{k} {v}" for k, v in sorted(seen.items()))
            rows.append([backend, name, sum(seen.values()), detail])
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return rows


def summarise(runs: list[Run]) -> list[list[object]]:
    rows: list[list[object]] = []
    for (backend, variant), runs_of in _common.grouped(
        runs, lambda r: (r.backend, r.variant)
    ).items():
        group = [r for r in runs_of if r.messages]
        if not group:  # every run of it fell after the time limit
            continue
        rate = _common.median([r.rate for r in group])
        p50 = _common.median([_common.percentile(r.latencies, 0.50) * 1000 for r in group])
        p99 = _common.median([_common.percentile(r.latencies, 0.99) * 1000 for r in group])
        cpu = _common.median([r.cpu_seconds * 1000 / r.messages for r in group if r.messages])
        target = (
            "" if "first contact" in variant else ("yes" if rate >= TARGET_PER_SECOND else "NO")
        )
        note = "partial (time limit)" if any(r.partial for r in group) else ""
        rows.append(
            [
                backend,
                variant,
                group[0].messages,
                len(group),
                rate,
                p50,
                p99,
                cpu if cpu else float("nan"),
                sum(r.errors + r.unexpected for r in group),
                target,
                note,
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=240)
    parser.add_argument("--messages", type=int, default=4_000, help="messages per run")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[8],
        help="comma-separated task counts for the concurrent variant (default: 8)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of one more sequential run"
    )
    args = parser.parse_args(argv)
    _common.quiet_logging()
    print(_common.machine_summary())
    print(
        f"{args.messages:,} messages per run over {USERS} people, median of {args.repeat} runs; "
        f"target >= {TARGET_PER_SECOND:,} msgs/s"
    )
    runs = _common.run_async(
        _common.over_backends(args, bench_backend), timeout=args.max_seconds * 2 + 120
    )
    headers = [
        "db", "variant", "msgs", "runs", "msgs/s", "p50 ms", "p99 ms", "CPU ms/msg", "errors",
        "target", "note",
    ]  # fmt: skip
    print(_common.table(headers, summarise(runs)))
    print("\nSQL statements per message (one person's first cycle; plus one COMMIT each):")
    print(_common.table(["db", "message", "statements", "kinds"], STATEMENTS))
    return 0 if all(r.errors == 0 and r.unexpected == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
