"""Two bot workers on PostgreSQL against one: Telegram updates handled per second.

Issue 18's goal: two workers handle at least 1.6 times the updates per second of one,
on this machine's two cores.

The deployment recipe (compose.yaml, docs/operations.md "Scaling out") runs several
workers in Telegram's webhook mode behind a load balancer that passes each update to
one of them, round robin, all on one PostgreSQL database. This benchmark builds the
same thing on one machine:

- **Workers**: ``--workers`` (2) real ``alliantiebot run`` processes (``python -m bot
  run``), each with its HTTP server on a port of its own, the same
  ``TELEGRAM_WEBHOOK_SECRET``, the scheduler and the outbox sender on (they elect their
  leaders as in production), on one throw-away PostgreSQL database (created, migrated
  once by this process, dropped at the end). A worker counts as started when its
  ``/readyz`` answers 200.
- **Telegram and the load balancer**: this process runs the fake Bot API of the tests
  (``tests/helpers/fake_telegram.py``, through ``benchmarks/_bench_fake.py``) and posts
  the updates to the workers' webhooks as Telegram and a round-robin load balancer
  would: at most ``--connections`` (40, Telegram's default ``max_connections``)
  requests at once, each to the next worker in turn. A worker answers once it has
  handled the update, so those 40 bound the updates in flight over all workers, as
  with Telegram. A 503 (a worker at its bound of updates in flight, or stopping) is
  posted again, to the next worker, after 50 ms.

The workload is bench_telegram.py's: ``--people`` (200) new people each asking
``--questions`` (5) questions the knowledge base answers, round robin over the people,
all available at once (a burst); each update must get exactly one reply in its chat,
in order, starting with the expected answer's title. Throughput = answered updates /
(last reply - first post). Latency: from the post of the update to the reply's arrival
at the fake.

Variants, each ``--repeat`` (3) times, interleaved (1, 2, 1, 2, ...) so that both see
the same machine: **1 worker** (the load balancer posts to the first worker only; the
others run idle beside it) and **N workers** (round robin over all). The summary
prints the ratio of the medians and whether it meets 1.6. CPU per update: each
worker's user + system time (``/proc/<pid>/stat``) over the run, and the PostgreSQL
server's backends connected to the benchmark's database (``pg_stat_activity``; a
backend that ends during the run is missed), divided by the updates. This process (the
fake and the load balancer) shares the same two cores; its CPU is printed too.

Usage::

    .venv/bin/python benchmarks/bench_workers.py                     # 200 x 5, 3 repeats
    .venv/bin/python benchmarks/bench_workers.py --quick             # smoke: 40 x 5, once
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _common
from bench_telegram import Bench, Run

if TYPE_CHECKING:
    import aiohttp
    from _bench_fake import BenchFake

GOAL_RATIO = 1.6
WEBHOOK_PATH = "/telegram/webhook"
SECRET = "bench-workers-webhook-secret"
WARMUP_PEOPLE = 20  # x --questions updates over all workers, not counted
RETRY_503 = 0.05  # seconds before a refused update is posted again
READY_SECONDS = 120.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the workers ------------------------------------------------------------------
@dataclass
class Worker:
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    def cpu_seconds(self) -> float:
        return process_cpu(self.process.pid)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        with Path(f"/proc/{pid}/stat").open(encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_env(db: _common.TempDatabase, key: str, fake: BenchFake, port: int) -> dict[str, str]:
    """The environment of one worker: what compose.yaml sets, pointed at the fake."""
    from bot.settings import Settings

    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    files = db.workdir
    env.update(
        {
            "PYTHONPATH": str(_common.REPO),
            "ENVIRONMENT": "production",
            "DATABASE_URL": db.url,
            "DATA_KEY": key,
            "DATA_KEY_FILE": str(files / "data.key"),
            "IMAGE_DIR": str(files / "images"),  # one volume for all workers, as in compose
            "EXPORT_DIR": str(files / "exports"),
            "MEDIA_DIR": str(files / "media"),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "RUN_SCHEDULER": "true",
            "RUN_OUTBOX_SENDER": "true",
            "ALLOW_CONSOLE": "false",
            "LOG_LEVEL": "WARNING",
            # The benchmark's people ask faster than a person would.
            "FLOOD_LIMIT_PER_MINUTE": "1000000000",
        }
    )
    return env


@contextlib.asynccontextmanager
async def running_workers(
    count: int, db: _common.TempDatabase, key: str, fake: BenchFake
) -> AsyncIterator[list[Worker]]:
    """``count`` ``alliantiebot run`` processes in webhook mode, ready; stopped after
    (SIGTERM, then SIGKILL after 20 s)."""
    started: list[Worker] = []
    try:
        for number in range(count):
            port = free_port()
            log = db.workdir / f"worker-{number}.log"
            with log.open("wb") as out:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    cwd=db.workdir,  # no .env there
                    env=worker_env(db, key, fake, port),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            started.append(Worker(port, process, log))
        await asyncio.gather(*(ready(w) for w in started))
        yield started
    finally:
        for worker in started:
            if worker.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                await asyncio.wait_for(worker.process.wait(), 20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()
                await worker.process.wait()


async def ready(worker: Worker) -> None:
    """Wait until the worker's /readyz answers 200 (or it exits: then show its log)."""
    import aiohttp

    url = f"http://127.0.0.1:{worker.port}/readyz"
    deadline = time.monotonic() + READY_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if worker.process.returncode is not None:
                break
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    tail = worker.log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"worker on port {worker.port} not ready:\n{tail}")


# -- PostgreSQL's share --------------------------------------------------------------
def backend_cpu(pg_url: str, database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``database``."""
    with _common._pg_admin(pg_url) as conn:
        pids = [
            int(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]
    return {pid: process_cpu(pid) for pid in pids}


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# -- the load balancer -------------------------------------------------------------
@dataclass
class Posting:
    refused: int = 0  # 503s, posted again
    failed: int = 0  # anything else but 200


async def post_all(
    fake: BenchFake,
    session: aiohttp.ClientSession,
    targets: Sequence[str],
    connections: int,
) -> Posting:
    """Post the staged updates as Telegram through a round-robin load balancer would:
    ``connections`` at once, each to the next target; a refused one again later."""
    updates = deque(fake.staged)
    fake.staged = []
    turn = itertools.cycle(targets)
    tally = Posting()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def lane() -> None:
        while updates:
            update = updates.popleft()
            fake.delivered.setdefault(update["update_id"], time.monotonic())
            async with session.post(
                next(turn), data=json.dumps(update), headers=headers
            ) as response:
                await response.read()
                status = response.status
            if status == 503:
                tally.refused += 1
                await asyncio.sleep(RETRY_503)
                updates.appendleft(update)
            elif status != 200:
                tally.failed += 1

    await asyncio.gather(*(lane() for _ in range(connections)))
    return tally


@dataclass
class WorkerRun(Run):
    workers: int = 0
    worker_cpu: float = 0.0
    db_cpu: float = 0.0
    refused: int = 0
    load: float = 0.0  # the machine's 1-minute load average at the end of the run
    out_of_order: int = 0  # replies answered in another order than asked (see check)
    per_worker_cpu: list[float] = field(default_factory=list)


async def measure(
    bench: Bench,
    fake: BenchFake,
    session: aiohttp.ClientSession,
    workers: list[Worker],
    used: int,
    people: int,
    db_name: str,
) -> WorkerRun:
    args = bench.args
    work = bench.workload(people)
    updates = fake.stage(work)
    run = WorkerRun(bench.backend, f"{used} worker{'s' if used > 1 else ''}", 0, workers=used)
    cpu_before = [w.cpu_seconds() for w in workers]
    db_before = backend_cpu(args.pg_url, db_name)
    began = time.process_time()
    posting = await post_all(fake, session, [w.url for w in workers[:used]], args.connections)
    try:
        await asyncio.wait_for(fake.finished.wait(), timeout=max(30.0, bench.remaining()))
    except TimeoutError:
        run.partial = True
    await asyncio.sleep(0.2)  # an extra reply would show up here
    run.fake_cpu_seconds = time.process_time() - began
    run.per_worker_cpu = [w.cpu_seconds() - b for w, b in zip(workers, cpu_before, strict=True)]
    run.worker_cpu = sum(run.per_worker_cpu)
    run.db_cpu = cpu_between(db_before, backend_cpu(args.pg_url, db_name))
    run.refused = posting.refused
    run.load = os.getloadavg()[0]
    records = fake.records(updates)
    records["other_calls"].pop("getMe", None)  # the workers' token checks (/readyz)
    check(run, work, records, bench.titles)
    run.errors += posting.failed
    return run


def check(
    run: WorkerRun, work: list[tuple[int, str]], records: dict[str, Any], titles: dict[str, str]
) -> None:
    """Each update must get exactly one reply in its chat that starts with its answer's
    title. Order is counted apart (``out_of_order``): behind a round-robin load balancer
    one person's quick messages may reach two workers, and the person's turn makes them
    wait for each other but not keep their order (docs/operations.md). A reply is
    paired with the earliest update of its chat whose answer it is."""
    asked: dict[int, list[str]] = defaultdict(list)
    for user, question in work:
        asked[user].append(titles[question])
    posted: dict[int, list[float | None]] = defaultdict(list)
    for _uid, chat, at in sorted(records["updates"]):
        posted[chat].append(at)
    replies: dict[int, list[tuple[float, int, str]]] = defaultdict(list)
    for chat, at, status, text in records["sends"]:
        replies[chat].append((at, status, text))
    run.errors += sum(records["other_calls"].values())
    run.errors += sum(len(v) for chat, v in replies.items() if chat not in posted)
    first = min((t for v in posted.values() for t in v if t is not None), default=0.0)
    last = 0.0
    for chat, expected in asked.items():
        open_ = list(zip(expected, posted[chat], strict=True))
        got = replies.get(chat, [])
        run.errors += abs(len(got) - len(expected))
        for position, (at, status, text) in enumerate(got):
            match = next((i for i, (title, _) in enumerate(open_) if text.startswith(title)), None)
            if status != 200 or match is None:
                run.errors += 1
                continue
            if position < len(expected) and not text.startswith(expected[position]):
                run.out_of_order += 1
            _, start = open_.pop(match)
            if start is None:
                run.errors += 1
                continue
            run.updates += 1
            run.latencies.append(at - start)
            last = max(last, at)
    if run.updates and last > first:
        run.seconds = last - first


async def bench_postgresql(args: argparse.Namespace) -> list[WorkerRun]:
    import aiohttp

    if str(_common.REPO) not in sys.path:
        sys.path.append(str(_common.REPO))  # tests.helpers, for the fake
    from _bench_fake import BenchFake
    from sqlalchemy.engine import make_url

    from bot.app import App

    runs: list[WorkerRun] = []
    fake = BenchFake()
    await fake.start()
    try:
        with _common.temp_database("postgresql", args.pg_url) as db:
            key = _common.new_data_key()
            # Migrate once here (workers starting together would race on it) and learn
            # the expected answers' titles.
            app = App(_common.bench_settings(db, data_key=key))
            await app.start(scheduler=False, sender=False)
            bench = Bench(args, "postgresql", fake)  # type: ignore[arg-type]
            try:
                bench.expect_answers()
            finally:
                await app.stop()
            db_name = str(make_url(db.url).database)
            async with (
                running_workers(args.workers, db, key, fake) as workers,
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=args.connections),
                    timeout=aiohttp.ClientTimeout(total=60),
                ) as session,
            ):
                warm = await measure(
                    bench, fake, session, workers, len(workers), WARMUP_PEOPLE, db_name
                )
                if warm.errors:
                    print(f"warm-up: {warm.errors} errors", file=sys.stderr)
                for _ in range(args.repeat):
                    for used in (1, len(workers)):
                        if bench.remaining() <= 0:
                            runs.append(WorkerRun("postgresql", "", 0, workers=used, partial=True))
                            continue
                        runs.append(
                            await measure(bench, fake, session, workers, used, args.people, db_name)
                        )
    finally:
        await fake.stop()
    return runs


# -- the report ---------------------------------------------------------------------
def summarise(runs: list[WorkerRun]) -> list[list[object]]:
    rows: list[list[object]] = []
    for used, group in _common.grouped(runs, lambda r: r.workers).items():
        done = [r for r in group if r.updates]
        if not done:
            rows.append([used, 0, 0, *[float("nan")] * 9, 0, 0, "time limit"])
            continue
        rows.append(
            [
                used,
                done[0].updates,
                len(done),
                _common.median([r.rate for r in done]),
                ", ".join(f"{r.rate:,.0f}" for r in done),
                _common.median([_common.percentile(r.latencies, 0.50) * 1000 for r in done]),
                _common.median([_common.percentile(r.latencies, 0.99) * 1000 for r in done]),
                _common.median([r.worker_cpu * 1000 / r.updates for r in done]),
                _common.median([r.db_cpu * 1000 / r.updates for r in done]),
                _common.median([r.fake_cpu_seconds * 1000 / r.updates for r in done]),
                _common.median([r.worker_cpu / r.seconds for r in done]),
                ", ".join(f"{r.load:.1f}" for r in done),
                sum(r.errors for r in group),
                sum(r.out_of_order for r in group),
                ("partial (time limit)" if any(r.partial for r in group) else "")
                + (
                    f"{sum(r.refused for r in group)} posts refused (503)"
                    if any(r.refused for r in group)
                    else ""
                ),
            ]
        )
    return rows


def verdict(runs: list[WorkerRun], workers: int) -> str:
    one = [r.rate for r in runs if r.workers == 1 and r.updates]
    many = [r.rate for r in runs if r.workers == workers and r.updates]
    if not one or not many:
        return "ratio: not measured (no complete runs)"
    ratio = _common.median(many) / _common.median(one)
    pairs = [m.rate / o.rate for o, m in _pairs(runs, workers)]
    spread = (
        f"; per pair (a 1-worker run and the {workers}-worker run right after it) "
        f"{', '.join(f'{p:.2f}' for p in pairs)}, median {_common.median(pairs):.2f}"
        if pairs
        else ""
    )
    return (
        f"{workers} workers / 1 worker = {ratio:.2f}x (goal >= {GOAL_RATIO}x on "
        f"{os.cpu_count()} CPUs): {_common.median(many):,.0f} vs {_common.median(one):,.0f} "
        f"updates/s (medians){spread}; {'met' if ratio >= GOAL_RATIO else 'NOT met'}"
    )


def _pairs(runs: list[WorkerRun], workers: int) -> list[tuple[WorkerRun, WorkerRun]]:
    """Each 1-worker run with the N-worker run right after it."""
    done = [r for r in runs if r.updates]
    return [(a, b) for a, b in itertools.pairwise(done) if a.workers == 1 and b.workers == workers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=_common.DEFAULT_PG_URL)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (>= 2)")
    parser.add_argument("--people", type=int, default=200, help="new people per run")
    parser.add_argument("--questions", type=int, default=5, help="questions per person")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant")
    parser.add_argument(
        "--connections", type=int, default=40, help="webhook requests at once (Telegram: 40)"
    )
    parser.add_argument("--max-seconds", type=float, default=360, help="stop measuring after")
    parser.add_argument("--quick", action="store_true", help="40 people, one repeat (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.repeat = 40, 1
    if args.workers < 2:
        parser.error("--workers: at least 2")
    _common.interruptible()
    _common.quiet_logging()
    _common.drop_stale_databases(args.pg_url)
    print(_common.machine_summary())
    print(
        f"PostgreSQL, webhook mode; {args.people} people x {args.questions} questions per run, "
        f"{args.connections} webhook requests at once, {args.repeat} runs of each variant "
        "(interleaved), median reported"
    )
    runs = _common.run_async(bench_postgresql(args), timeout=args.max_seconds + 240)
    headers = [
        "workers", "updates", "runs", "updates/s", "each run", "p50 ms", "p99 ms",
        "workers CPU ms/upd", "PG CPU ms/upd", "fake+LB CPU ms/upd", "workers CPU share",
        "load avg", "errors", "out of order", "note",
    ]  # fmt: skip
    print(_common.table(headers, summarise(runs)))
    print()
    print(verdict(runs, args.workers))
    for run in runs:
        if run.updates and run.workers > 1:
            shares = ", ".join(f"{c * 1000 / run.updates:.1f}" for c in run.per_worker_cpu)
            print(f"  {run.workers} workers, CPU ms/update per worker: {shares}")
    print(
        "\nworkers CPU: all worker processes together; PG CPU: the PostgreSQL backends of "
        "the benchmark's database; fake+LB: this process. All share the same cores.\n"
        "workers CPU share: the workers' CPU seconds per second of the run (2.00 = both "
        "cores); load avg: the machine's 1-minute load average after each run (others' jobs "
        "included).\n"
        "out of order: replies in a chat in another order than the questions (one person's "
        "messages on two workers; not an error, see docs/operations.md)."
    )
    return 0 if runs and all(r.errors == 0 and not r.partial for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
