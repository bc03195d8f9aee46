"""Telegram updates handled per second, end to end through python-telegram-bot.

Target: at least 300 updates per second with the default
``TELEGRAM_CONCURRENT_UPDATES`` (32), on SQLite and on PostgreSQL.

The real :class:`bot.app.App` with the real :class:`TelegramChannel` (polling,
python-telegram-bot unchanged) talks over HTTP to the fake Bot API server of
the tests (``tests/helpers/fake_telegram.py``). The fake runs in a process of
its own (``multiprocessing``, "spawn"), so its CPU time does not count against
the bot's event loop; this process is the bot and nothing else. The two talk
over a pipe: the fake reports its address, builds the updates in advance, makes
them available on "go" and at the end sends back what it saw.

The workload: ``--people`` private chats (200), each asking ``--questions``
(5) questions that get an answer ("Wat is positieve gezondheid?", "Hoe word ik
gangmaker?", ...), round-robin over the people, so the first question of each
person is also their first contact (a new user row). Every run has new people.
Each update must get exactly one sendMessage in its chat, in order, whose text
starts with the title of the expected answer; anything else (a missing, extra,
failed or wrong reply, any other API call) counts as an error.

Variants (``--concurrency``, default ``32,1``; each value starts its own bot):

- ``burst, concurrency N``: all updates of a run are available at once, so
  the bot pulls them in batches of 100 (as after a busy minute or a restart)
  and handles ``N`` at a time (``TELEGRAM_CONCURRENT_UPDATES``; one chat's
  updates stay in order). Throughput = updates / (last reply − first delivery).
  Latency there is mostly time spent waiting in the queue.
- ``one at a time`` (``--paced`` updates, with the lowest concurrency): the
  next update is released when the previous answer arrives: the latency floor.

The fake answers within a millisecond, so here concurrency only overlaps the
database's waits; against the real Bot API (tens of ms per call) it matters far
more. Latency runs from the moment getUpdates first returned the update to the
moment the fake received the matching sendMessage (``time.monotonic()`` is
system-wide, so the two processes' clocks agree). "bot CPU" is this process
(all threads, so aiosqlite's too; not the PostgreSQL server); "bot CPU share"
near 1.00 means the bot keeps one core busy, i.e. it is the limit. "fake CPU"
is the fake's process: the same work in every run, so when it rises the shared
machine is slower. Before measuring, 50 updates warm up each started bot.
``--profile`` runs one more burst under pyinstrument (or cProfile) and prints
how the bot's time splits over PTB, httpx, SQLAlchemy, our code and the loop.

Side by side (issue 18): before the bot, each concurrency also runs a bare
python-telegram-bot echo bot (``tests/helpers/bare_ptb_echo.py``: one
``MessageHandler`` answering ``reply_text`` with the text, the bot's aiohttp
request class, the same concurrency), in this process, on the same fake, with
the same workload (its reply must be the question); ``--no-echo`` leaves it
out. The summary prints ``alliantiebot / bare PTB`` (goal 40%), bot CPU per
update (goal 2.5 ms) and, counted by SQLAlchemy event listeners on the bot's
engine over the measured runs, SQL statements, commits, begins and pool
checkouts and pings per plain question; database round trips are statements +
BEGIN + COMMIT + pings (the pool pings a connection only after it sat idle,
bot/storage/ping.py) on PostgreSQL, statements (its ``BEGIN IMMEDIATE`` among
them) + commits on SQLite (goal 2). On SQLite the express path's statements, BEGIN
and COMMIT among them, are counted one by one although each message hands them to
the store's thread twice (bot/storage/express_sqlite.py): SQLite runs in the process,
so a statement there is no network round trip. Each burst is
followed by ``burst, ..., known people``: the same people once more, so that every
update is a plain question from someone the bot knows (the express path,
bot/storage/express*.py); in the first burst each person's first question is
their first contact (the express path creates them in the same write).

Usage::

    .venv/bin/python benchmarks/bench_telegram.py --db both
    .venv/bin/python benchmarks/bench_telegram.py --db sqlite --people 40 --repeat 1
    .venv/bin/python benchmarks/bench_telegram.py --db sqlite --profile   # where time goes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import _common

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from _bench_fake import BenchFake

    from bot.app import App

TARGET_PER_SECOND = 300
# Issue 18's goals, beside the bare python-telegram-bot echo bot of the same run.
GOAL_RATIO = 0.40  # alliantiebot's updates/s over the echo bot's
GOAL_CPU_MS = 2.5  # bot CPU per update
GOAL_ROUND_TRIPS = 2  # database round trips per plain question
ECHO = "bare PTB echo, "  # prefix of the echo bot's variants
KNOWN = ", known people"  # suffix of the bursts by people who wrote before
WARMUP_PEOPLE = 10  # x --questions updates, not counted
FIRST_PERSON = 1_000_000  # user ids: FIRST_PERSON * (run number) + person
# Questions the knowledge base answers (checked at start); person p asks
# QUESTIONS[(p + i) % len] as question i, so one chat never repeats itself.
QUESTIONS = (
    "Wat is positieve gezondheid?",
    "Hoe word ik gangmaker?",
    "Wat is een verbinder?",
    "Wie zijn de verbinders?",
    "Wat is een leeratelier?",
    "Wat is het spinnenweb?",
    "Wie zijn de partners?",
    "Wat is een reflectiecirkel?",
    "Wat is het gangmakersplatform?",
    "Wat is zingeving?",
)
# Around each question, so that texts seldom repeat (the crisis check remembers the last
# 64 messages it read, and a workload of ten texts would only ever meet that memory):
# every (opening, closing, question) whose answer is still the question's (checked at
# start; about 600 texts).
OPENINGS = ("", "Hoi! ", "Goedemorgen, ", "Hallo, ", "Vraagje: ", "Dag, ", "Hee, ", "Beste, ")
CLOSINGS = (
    "",
    " Dank je!",
    " Alvast bedankt.",
    " Groetjes",
    " Bedankt!",
    " Fijne dag",
    " Dankjewel",
    " Graag een antwoord.",
)


# -- the pipe between the processes -------------------------------------------
class Inbox:
    """Messages from the other process, awaited without a thread.

    The pipe's descriptor is watched by the event loop (``add_reader``), so a
    cancelled wait leaves no thread blocked in ``recv`` behind. End of file
    (the other side is gone) arrives as ``("eof",)``.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.fd = conn.fileno()
        self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            self.close()
            message = ("eof",)
        self.queue.put_nowait(message)

    async def get(self) -> tuple[Any, ...]:
        return await self.queue.get()

    def close(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self.fd)


# -- the fake, in its own process ---------------------------------------------
def fake_main(conn: Connection) -> None:
    """Entry point of the fake's process: serve until told to stop or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    asyncio.run(_fake_serve(conn))


async def _fake_serve(conn: Connection) -> None:
    from _bench_fake import BenchFake  # in the fake's process only: the bot never loads it

    inbox = Inbox(conn)
    fake = BenchFake()
    await fake.start()
    conn.send(("ready", fake.token, fake.base_url))
    updates: list[tuple[int, int]] = []
    try:
        while True:
            message = await inbox.get()
            kind = message[0]
            if kind == "load":
                updates = fake.stage(message[1])
                conn.send(("loaded", len(updates)))
            elif kind == "go":
                _, paced, timeout = message
                records = await _timed_run(fake, inbox, updates, paced=paced, max_wait=timeout)
                if records is None:  # told to stop (or the parent is gone) mid-run
                    return
                conn.send(("done", records))
            else:  # "stop" or "eof"
                return
    finally:
        inbox.close()
        await fake.stop()


async def _timed_run(
    fake: BenchFake,
    inbox: Inbox,
    updates: list[tuple[int, int]],
    *,
    paced: bool,
    max_wait: float,
) -> dict[str, Any] | None:
    """Release the staged updates and wait for the last reply (or ``max_wait`` seconds):
    what the fake saw, with its CPU time. None when told to stop (or the parent is gone)
    mid-run."""
    getter = asyncio.ensure_future(inbox.get())
    finished = asyncio.ensure_future(fake.finished.wait())
    cpu = time.process_time()
    fake.go(paced)
    done, _ = await asyncio.wait(
        {getter, finished}, timeout=max_wait, return_when=asyncio.FIRST_COMPLETED
    )
    cpu = time.process_time() - cpu
    finished.cancel()
    if getter in done:
        return None
    getter.cancel()
    await asyncio.sleep(0.2)  # an extra reply would show up here
    records = fake.records(updates)
    records["fake_cpu"] = cpu
    records["timed_out"] = not fake.finished.is_set()
    return records


class FakeProcess:
    """The parent's handle on the fake: start, load, go, stop; never left running."""

    def __init__(self) -> None:
        self.conn, self.process = _common.spawn_fake(fake_main)
        self.inbox: Inbox | None = None
        self.token = ""
        self.base_url = ""

    async def _request(self, message: tuple[Any, ...] | None, expect: str) -> tuple[Any, ...]:
        assert self.inbox is not None
        if message is not None:
            self.conn.send(message)
        reply = await self.inbox.get()
        if reply[0] != expect:
            raise RuntimeError(f"fake Bot API process: expected {expect!r}, got {reply[0]!r}")
        return reply

    async def start(self) -> None:
        self.inbox = Inbox(self.conn)
        _, self.token, self.base_url = await asyncio.wait_for(
            self._request(None, "ready"), timeout=60
        )

    async def load(self, people: list[tuple[int, str]]) -> None:
        await self._request(("load", people), "loaded")

    def go(self, *, paced: bool, timeout: float) -> None:
        self.conn.send(("go", paced, timeout))

    async def done(self) -> dict[str, Any]:
        return dict((await self._request(None, "done"))[1])

    async def close(self) -> None:
        if self.inbox is not None:
            self.inbox.close()
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        for _ in range(50):
            if not self.process.is_alive():
                break
            await asyncio.sleep(0.1)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


# -- measuring -------------------------------------------------------------------
@dataclass
class Run:
    backend: str
    variant: str
    concurrency: int
    updates: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    fake_cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    partial: bool = False
    sql: Counter[str] = field(default_factory=Counter)  # statement, commit, begin, checkout, ping

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0


class Bench:
    """One backend: the fake, the expected answers, a counter for fresh people."""

    def __init__(self, args: argparse.Namespace, backend: str, fake: FakeProcess) -> None:
        self.args = args
        self.backend = backend
        self.fake = fake
        self.titles: dict[str, str] = {}  # every text asked, by the title of its answer
        self.variants: dict[str, list[str]] = {}  # each question's texts (OPENINGS, CLOSINGS)
        self.run_number = 0
        self.sql: Counter[str] | None = None  # counting while not None (SqlCounter)
        self.express: Any = None  # the bot's ExpressStore (PostgreSQL), which counts its own
        self.deadline: float = time.perf_counter() + args.max_seconds

    def expect_answers(self) -> None:
        """The escaped title each question's answer starts with; stop if one is unanswered."""
        from bot.channels.telegram_format import escape
        from bot.knowledge.answer import Outcome

        if self.titles:
            return
        from bot.knowledge.service import KnowledgeService
        from bot.paths import content_dir

        answerer = KnowledgeService(content_dir()).answerer  # the content the bot loads
        for question in QUESTIONS:
            result = answerer.answer(question, default_language="nl")
            if result.outcome is not Outcome.ANSWER or result.entry is None:
                raise SystemExit(f"not answered ({result.outcome.value}): {question!r}")
            title = escape(result.entry.text("nl")[0])
            variants = []
            for text in (f"{o}{question}{c}" for o in OPENINGS for c in CLOSINGS):
                found = answerer.answer(text, default_language="nl")
                if found.outcome is Outcome.ANSWER and found.entry is result.entry:
                    variants.append(text)
                    self.titles[text] = title
            self.variants[question] = variants

    def text(self, person: int, number: int) -> str:
        """Person ``person``'s question ``number``: a different question each time, and
        around it an opening and a closing that vary with the person and the run."""
        variants = self.variants[QUESTIONS[(person + number) % len(QUESTIONS)]]
        return variants[(person * 7 + number * 3 + self.run_number * 11) % len(variants)]

    def workload(self, people: int, *, again: bool = False) -> list[tuple[int, str]]:
        """(user id, question) round-robin over new people: everyone's first, then second...
        With ``again``, the people of the run before, who are known by now."""
        if not again:
            self.run_number += 1
        base = FIRST_PERSON * self.run_number
        count = self.args.questions
        return [
            (base + person, self.text(person, number))
            for number in range(count)
            for person in range(people)
        ]

    async def measure(
        self,
        variant: str,
        concurrency: int,
        people: list[tuple[int, str]],
        *,
        paced: bool,
        echo: bool = False,
    ) -> Run:
        run = Run(self.backend, variant, concurrency)
        await self.fake.load(people)
        timeout = max(30.0, self.remaining())
        self.sql = None if echo else run.sql
        express = 0 if self.express is None else self.express.statements
        began, cpu = time.perf_counter(), time.process_time()
        self.fake.go(paced=paced, timeout=timeout)
        try:
            records = await self.fake.done()
        finally:
            self.sql = None
        if self.express is not None and not echo:
            # The express path's statements go to the driver, past the listeners.
            run.sql["statement"] += self.express.statements - express
        run.cpu_seconds = time.process_time() - cpu
        wall = time.perf_counter() - began
        run.fake_cpu_seconds = records["fake_cpu"]
        run.partial = records["timed_out"]
        self.check(run, people, records, echo=echo)
        if not run.seconds:
            run.seconds = wall
        return run

    def check(
        self, run: Run, people: list[tuple[int, str]], records: dict[str, Any], *, echo: bool
    ) -> None:
        """Match each chat's replies to its updates, in order; count what is wrong. The
        bot's reply starts with the answer's title, the echo bot's is the question."""
        asked: dict[int, list[str]] = defaultdict(list)
        for user, question in people:
            asked[user].append(question)
        delivered: dict[int, list[float | None]] = defaultdict(list)
        for _uid, chat, at in sorted(records["updates"]):
            delivered[chat].append(at)
        sends: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
        for chat, at, status, text in records["sends"]:
            sends[chat].append((at, status, text))
        run.errors += sum(records["other_calls"].values())
        run.errors += sum(len(v) for chat, v in sends.items() if chat not in delivered)
        last_reply = 0.0
        for chat, times in delivered.items():
            replies = sends.get(chat, [])
            run.errors += abs(len(replies) - len(times))
            for question, start, (at, status, text) in zip(
                asked[chat], times, replies, strict=False
            ):
                expected = question if echo else self.titles[question]
                if start is None or status != 200 or not text.startswith(expected):
                    run.errors += 1
                    continue
                run.updates += 1
                run.latencies.append(at - start)
                last_reply = max(last_reply, at)
        first = min((t for v in delivered.values() for t in v if t is not None), default=0.0)
        if run.updates and last_reply > first:
            run.seconds = last_reply - first

    def remaining(self) -> float:
        return self.deadline - time.perf_counter()


async def start_bot(settings: Any) -> App:
    from bot.app import App
    from bot.channels.telegram import TelegramChannel

    channel = TelegramChannel(settings)
    app = App(settings, channels={"telegram": channel})
    await app.start(scheduler=False, sender=False)
    return app


def count_sql(bench: Bench, app: App) -> None:
    """Count, while ``bench.sql`` is set (the measured runs), what the bot asks of its
    database: statements (``before_cursor_execute``; on SQLite that includes the
    ``BEGIN IMMEDIATE`` the engine sends itself), commits, transaction begins and pool
    checkouts, and the pool's pings (the dialect's ``do_ping``, wrapped). On PostgreSQL
    asyncpg sends BEGIN and COMMIT as round trips of their own and a ping is one more;
    the statement listener sees none of them. A transaction in AUTOCOMMIT is counted
    apart: asyncpg sends no BEGIN or COMMIT for it. The express path (PostgreSQL) sends
    its two statements on the driver's connection, without a transaction, past these
    listeners: its own count (``ExpressStore.statements``) is added per run."""
    from sqlalchemy import event

    assert app.engine is not None and app.services is not None
    engine = app.engine.sync_engine
    bench.express = app.services.express

    def counter(kind: str) -> Any:
        def count(*_args: Any, **_kwargs: Any) -> None:
            if bench.sql is not None:
                bench.sql[kind] += 1

        return count

    def transaction(kind: str) -> Any:
        def count(conn: Any) -> None:
            # A connection in AUTOCOMMIT (the outbox's "sent" DELETE) still fires the
            # events, but asyncpg then sends no BEGIN, COMMIT or ROLLBACK.
            if bench.sql is not None:
                autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
                bench.sql[f"autocommit {kind}" if autocommit else kind] += 1

        return count

    event.listen(engine, "before_cursor_execute", counter("statement"))
    for kind in ("begin", "commit", "rollback"):
        event.listen(engine, kind, transaction(kind))
    event.listen(engine.pool, "checkout", counter("checkout"))
    ping, count_ping = engine.dialect.do_ping, counter("ping")

    def counted_ping(dbapi_connection: Any) -> Any:
        count_ping()
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]


def round_trips(backend: str, sql: Counter[str]) -> int:
    """Database round trips: on PostgreSQL statements + BEGIN + COMMIT + ROLLBACK +
    pings; on SQLite calls into the driver's thread (statements,
    BEGIN IMMEDIATE among them, + commits + rollbacks)."""
    ends = sql["commit"] + sql["rollback"]
    if backend == "sqlite":
        return sql["statement"] + ends
    return sql["statement"] + sql["begin"] + ends + sql["ping"]


async def bench_echo(bench: Bench, concurrency: int, paced: bool) -> list[Run]:
    """The bare python-telegram-bot echo bot (tests/helpers/bare_ptb_echo.py) on the
    same fake, at the same concurrency, with the same workload."""
    if str(_common.REPO) not in sys.path:
        sys.path.append(str(_common.REPO))
    from tests.helpers.bare_ptb_echo import BareEchoBot

    echo = BareEchoBot(bench.fake.base_url, bench.fake.token, concurrency)
    await echo.start()
    try:
        warm = await bench.measure(
            "warm-up", concurrency, bench.workload(WARMUP_PEOPLE), paced=False, echo=True
        )
        if warm.errors:
            print(f"bare PTB warm-up: {warm.errors} errors", file=sys.stderr)
        return await measure_variants(bench, concurrency, paced, echo=True)
    finally:
        await echo.stop()


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Run]:
    runs: list[Run] = []
    fake = FakeProcess()
    try:
        await fake.start()
        bench = Bench(args, backend, fake)
        with _common.temp_database(backend, args.pg_url) as db:
            key = _common.new_data_key()
            paced_at = min(args.concurrency)
            for concurrency in args.concurrency:
                if bench.remaining() <= 0:  # only notes the runs left out
                    runs += await measure_variants(bench, concurrency, paced_at == concurrency)
                    continue
                settings = _common.bench_settings(
                    db,
                    data_key=key,
                    flood_limit_per_minute=1_000_000_000,
                    telegram_bot_token=fake.token,
                    telegram_api_base_url=fake.base_url,
                    telegram_concurrent_updates=concurrency,
                )
                bench.expect_answers()
                if not args.no_echo:
                    runs += await bench_echo(bench, concurrency, paced_at == concurrency)
                app = await start_bot(settings)
                try:
                    count_sql(bench, app)
                    warm = await bench.measure(
                        "warm-up", concurrency, bench.workload(WARMUP_PEOPLE), paced=False
                    )
                    if warm.errors:
                        print(f"warm-up: {warm.errors} errors", file=sys.stderr)
                    runs += await measure_variants(bench, concurrency, paced_at == concurrency)
                    if args.profile and concurrency == args.concurrency[0]:
                        await profile_burst(bench, concurrency)
                finally:
                    await app.stop()
    finally:
        await fake.close()
    return runs


async def measure_variants(
    bench: Bench, concurrency: int, paced: bool, *, echo: bool = False
) -> list[Run]:
    args = bench.args
    runs: list[Run] = []
    prefix = ECHO if echo else ""
    variants = [(f"{prefix}burst, concurrency {concurrency}", False, args.people)]
    if paced and args.paced:
        variants.append((f"{prefix}one at a time", True, max(1, args.paced // args.questions)))
    for _ in range(args.repeat):
        for variant, one_by_one, people in variants:
            if bench.remaining() <= 0:
                runs.append(Run(bench.backend, variant, concurrency, partial=True))
                continue
            work = bench.workload(people)
            runs.append(
                await bench.measure(variant, concurrency, work, paced=one_by_one, echo=echo)
            )
            if not echo and not one_by_one and bench.remaining() > 0:
                # The same people once more: every update a plain question from
                # someone known (no first contact), the express path's case.
                again = bench.workload(people, again=True)
                runs.append(await bench.measure(variant + KNOWN, concurrency, again, paced=False))
    return runs


async def profile_burst(bench: Bench, concurrency: int) -> None:
    """One more burst run under a sampling profiler; prints where the bot's time goes.

    pyinstrument (if installed) samples this thread's stack whatever task is
    running (``async_mode="disabled"``), so with many updates at once it shows
    what the event loop spends its time on: first a breakdown by part (each
    sample goes to the most specific part on its stack), then the call tree.
    The aiosqlite thread is not sampled. Without pyinstrument: cProfile. The people
    are those of the run before (known: the hot path, no first contacts).
    """
    work = bench.workload(bench.args.people, again=True)
    try:
        import pyinstrument
    except ImportError:
        await cprofile_burst(bench, concurrency, work)
        return
    sampler = pyinstrument.Profiler(async_mode="disabled", interval=0.0005)
    sampler.start()
    try:
        run = await bench.measure("profile", concurrency, work, paced=False)
    finally:
        sampler.stop()
    print(
        f"\n--- pyinstrument, one burst run at concurrency {concurrency} on {bench.backend} "
        f"({run.updates} updates, {run.rate:,.0f} updates/s under the profiler) ---"
    )
    root = sampler.last_session.root_frame() if sampler.last_session else None
    if root is not None:
        print(_common.table(["part", "s", "% of busy", "ms/update"], breakdown(root, run)))
    print(sampler.output_text(unicode=False, color=False, show_all=False))


async def cprofile_burst(bench: Bench, concurrency: int, work: list[tuple[int, str]]) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        await bench.measure("profile", concurrency, work, paced=False)
    finally:
        profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(30)
        print(f"\n--- cProfile, sorted by {order} ---")
        print(out.getvalue().strip())


IDLE = "idle: waiting for I/O (epoll)"
# (part, rank, test on function name and file path). A frame moves its samples
# to its part when the rank is at least that of the part it is called from, so
# PTB's own frames inside sendMessage stay "PTB sendMessage" while httpx's
# frames below them move to "httpx". Our code called back from SQLAlchemy
# (the encrypted column type) counts as database.
PARTS: list[tuple[str, int, Any]] = [
    (IDLE, 7, lambda fn, path: fn.endswith("poll") and path == "<built-in>"),
    ("SQLAlchemy + DB driver (main thread)", 6,
     lambda fn, path: any(s in path for s in ("/sqlalchemy/", "/aiosqlite/", "/asyncpg/"))),
    ("question answering (Answerer.answer)", 6,
     lambda fn, path: fn == "answer" and "/bot/knowledge/" in path),
    ("httpx/httpcore/anyio (HTTP client)", 6,
     lambda fn, path: any(s in path for s in ("/httpx/", "/httpcore/", "/anyio/", "/h11/"))),
    ("PTB sendMessage: request, Message.de_json", 5,
     lambda fn, path: fn == "send_message" and "/telegram/" in path),
    ("PTB getUpdates: request, Update.de_json", 5,
     lambda fn, path: fn == "get_updates" and "/telegram/" in path),
    ("our core: middleware, handlers, repositories", 4,
     lambda fn, path: ("/bot/" in path and "/bot/channels/" not in path) or "/handlers/" in path),
    ("our Telegram channel: process, _deliver, order", 3,
     lambda fn, path: "/bot/channels/" in path),
    ("PTB other: update fetcher, dispatch", 2, lambda fn, path: "/telegram/" in path),
    ("asyncio event loop", 1,
     lambda fn, path: "/asyncio/" in path or path.endswith("selectors.py")),
]  # fmt: skip


def breakdown(root: Any, run: Run) -> list[list[object]]:
    """Sampled time per part of the stack (see PARTS), most first."""
    seconds: Counter[str] = Counter()

    def walk(frame: Any, part: str, rank: int) -> None:
        fn, path = frame.function or "", frame.file_path or ""
        for name, level, test in PARTS:
            if test(fn, path):
                if level >= rank:
                    part, rank = name, level
                break
        children = frame.children
        seconds[part] += max(0.0, frame.time - sum(c.time for c in children))
        for child in children:
            walk(child, part, rank)

    walk(root, "other", 0)
    busy = sum(v for k, v in seconds.items() if k != IDLE) or 1.0
    rows: list[list[object]] = []
    for name, value in seconds.most_common():
        share = float("nan") if name == IDLE else value * 100 / busy
        rows.append([name, value, share, value * 1000 / max(1, run.updates)])
    return rows


def summarise(runs: list[Run], default_concurrency: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for (backend, variant), group in _common.grouped(
        runs, lambda r: (r.backend, r.variant)
    ).items():
        done = [r for r in group if r.updates]
        if not done:
            rows.append([backend, variant, 0, 0, *[float("nan")] * 6, "", "", 0, "", "time limit"])
            continue
        rate = _common.median([r.rate for r in done])
        burst = variant.startswith("burst")
        sql: list[object] = ["", ""]
        if not variant.startswith(ECHO):
            sql = [
                _common.median([r.sql["statement"] / r.updates for r in done]),
                _common.median([round_trips(backend, r.sql) / r.updates for r in done]),
            ]
        target = ""
        if burst and done[0].concurrency == default_concurrency:
            target = "yes" if rate >= TARGET_PER_SECOND else "NO"
        rows.append(
            [
                backend,
                variant,
                done[0].updates,
                len(done),
                rate,
                _common.median([_common.percentile(r.latencies, 0.50) * 1000 for r in done]),
                _common.median([_common.percentile(r.latencies, 0.99) * 1000 for r in done]),
                _common.median([r.cpu_seconds * 1000 / r.updates for r in done]),
                _common.median([r.fake_cpu_seconds * 1000 / r.updates for r in done]),
                _common.median([r.cpu_seconds / r.seconds for r in done]),
                *sql,
                sum(r.errors for r in group),
                target,
                "partial (time limit)" if any(r.partial for r in group) else "",
            ]
        )
    return rows


def side_by_side(runs: list[Run]) -> list[str]:
    """Issue 18's goals per backend and burst concurrency: the ratio to the echo bot of
    the same run, CPU per update and database round trips per plain question."""
    lines: list[str] = []
    groups = _common.grouped(
        [r for r in runs if r.updates and "burst" in r.variant],
        lambda r: (r.backend, r.concurrency),
    )
    for (backend, concurrency), group in groups.items():
        bot = [r for r in group if not r.variant.startswith(ECHO) and KNOWN not in r.variant]
        known = [r for r in group if KNOWN in r.variant]
        echo = [r for r in group if r.variant.startswith(ECHO)]
        head = f"{backend}, burst, concurrency {concurrency}:"
        if not bot:
            continue
        rate = _common.median([r.rate for r in bot])
        cpu = _common.median([r.cpu_seconds * 1000 / r.updates for r in bot])
        if echo:
            echo_rate = _common.median([r.rate for r in echo])
            echo_cpu = _common.median([r.cpu_seconds * 1000 / r.updates for r in echo])
            ratio = rate / echo_rate if echo_rate else float("nan")
            lines.append(
                f"{head} alliantiebot / bare PTB = {ratio * 100:.0f}% "
                f"(goal {GOAL_RATIO * 100:.0f}%): {rate:,.0f} vs {echo_rate:,.0f} updates/s; "
                f"{'met' if ratio >= GOAL_RATIO else 'NOT met'}"
            )
            lines.append(
                f"{head} bot CPU {cpu:.2f} ms/update (goal <= {GOAL_CPU_MS} ms: "
                f"{'met' if cpu <= GOAL_CPU_MS else 'NOT met'}), "
                f"bare PTB {echo_cpu:.2f} ms/update ({cpu / echo_cpu:.1f}x)"
            )
        per = {
            kind: _common.median([r.sql[kind] / r.updates for r in bot])
            for kind in ("statement", "begin", "commit", "rollback", "checkout", "ping")
        }
        auto = _common.median([r.sql["autocommit begin"] / r.updates for r in bot])
        trips = _common.median([round_trips(backend, r.sql) / r.updates for r in bot])
        how = (
            "statements (BEGIN IMMEDIATE among them) + commits + rollbacks"
            if backend == "sqlite"
            else "statements + BEGIN + COMMIT + ROLLBACK + pings"
        )
        if known:
            known_trips = _common.median([round_trips(backend, r.sql) / r.updates for r in known])
            known_cpu = _common.median([r.cpu_seconds * 1000 / r.updates for r in known])
            lines.append(
                f"{head} known people (every update a plain question from someone who "
                f"wrote before): round trips {known_trips:.3f} per question "
                f"(goal <= {GOAL_ROUND_TRIPS}: "
                f"{'met' if known_trips <= GOAL_ROUND_TRIPS else 'NOT met'}), "
                f"bot CPU {known_cpu:.2f} ms/update"
            )
        lines.append(
            f"{head} per update (each person's first is a first contact): "
            f"{per['statement']:.2f} SQL statements, "
            f"{per['begin']:.2f} begins, {per['commit']:.2f} commits, "
            f"{per['rollback']:.2f} rollbacks, {auto:.2f} autocommit connections, "
            f"{per['checkout']:.2f} pool checkouts, {per['ping']:.2f} pings; "
            f"round trips = {how} = {trips:.3f} "
            f"(goal <= {GOAL_ROUND_TRIPS}: {'met' if trips <= GOAL_ROUND_TRIPS else 'NOT met'})"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=180)
    parser.add_argument("--people", type=int, default=200, help="private chats per run")
    parser.add_argument("--questions", type=int, default=5, help="questions per person")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[32, 1],
        help="comma-separated TELEGRAM_CONCURRENT_UPDATES values (default: 32,1)",
    )
    parser.add_argument(
        "--paced",
        type=int,
        default=300,
        help="updates in the one-at-a-time run (rounded down to whole people), "
        "with the lowest concurrency (0: none)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile one more burst run at the first concurrency (pyinstrument or cProfile)",
    )
    parser.add_argument(
        "--no-echo",
        action="store_true",
        help="leave out the bare python-telegram-bot echo bot (run before the bot, "
        "same fake, concurrency and workload)",
    )
    args = parser.parse_args(argv)
    _common.interruptible()
    _common.quiet_logging()
    from bot.settings import Settings

    default = Settings.model_fields["telegram_concurrent_updates"].default
    print(_common.machine_summary())
    print(
        f"{args.people} people x {args.questions} questions per burst run, "
        f"{args.paced} updates one at a time, median of {args.repeat} runs; "
        f"target >= {TARGET_PER_SECOND} updates/s at concurrency {default}"
    )
    backends = len(_common.backends(args.db))
    runs = _common.run_async(
        _common.over_backends(args, bench_backend),
        timeout=(args.max_seconds + 60) * backends + (120 if args.profile else 0),
    )
    headers = [
        "db", "variant", "updates", "runs", "updates/s", "p50 ms", "p99 ms",
        "bot CPU ms/upd", "fake CPU ms/upd", "bot CPU share", "SQL/upd", "DB trips/upd",
        "errors", "target", "note",
    ]  # fmt: skip
    print(_common.table(headers, summarise(runs, default)))
    print()
    print("\n".join(side_by_side(runs)))
    print(
        "\nBurst latency is mostly waiting in the queue (every update arrives at once); "
        "'one at a time' is the floor.\n'bot CPU share': this process's CPU seconds per "
        "wall second of the run (1.00 = one core busy). 'fake CPU ms/upd' is the same work "
        "in every run: when it rises, the machine is slower (shared), not the bot."
    )
    return 0 if all(r.errors == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
