"""Run every benchmark on SQLite and PostgreSQL, one after the other.

Each benchmark runs as its own process (so one's imports and caches do not
flatter the next) with the same ``--db``, ``--pg-url`` and ``--repeat``; its
table is printed as it finishes. ``bench_answer.py`` (question answering) and
``bench_chart.py`` (pictures) need no database and run once with their own
defaults. Those that take one database at a time (the chat under load, the
10-minute soak) run once per database; the two-worker benchmark is PostgreSQL
only. The results belong in docs/performance.md.

Usage::

    .venv/bin/python benchmarks/run_all.py                    # both databases
    .venv/bin/python benchmarks/run_all.py --db sqlite --quick
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

import _common

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "bench_messages.py",
    "bench_outbox.py",
    "bench_startup.py",
    "bench_checkin.py",
    "bench_telegram.py",
    "bench_broadcast.py",
    "bench_agenda.py",
    "bench_circles.py",
    "bench_slack.py",
    "bench_reply_in_broadcast.py",
)
ONE_DATABASE_AT_A_TIME = ("bench_chat_under_load.py", "bench_soak.py")
POSTGRESQL_ONLY = ("bench_workers.py",)
WITHOUT_DATABASE = ("bench_answer.py", "bench_chart.py", "bench_telegram_http.py")
# Smaller runs for a smoke test of the scripts themselves.
QUICK = {
    "bench_messages.py": ["--messages", "500"],
    "bench_outbox.py": ["--rows", "2000"],
    "bench_startup.py": [],
    "bench_checkin.py": ["--people", "10"],
    "bench_telegram.py": ["--people", "40", "--paced", "50"],
    "bench_answer.py": ["--questions", "200", "--scale", "2", "--builds", "1"],
    "bench_chart.py": ["--renders", "5"],
    "bench_telegram_http.py": ["--calls", "300", "--repeat", "1"],
    "bench_broadcast.py": ["--people", "300", "--limited", "0", "--enqueue", "2000"],
    "bench_agenda.py": ["--people", "500", "--events", "4", "--agenda-events", "60"],
    "bench_circles.py": ["--seeds", "3", "--baseline", "100"],
    "bench_slack.py": ["--people", "20", "--events", "100"],
    "bench_reply_in_broadcast.py": ["--rows", "500"],
    "bench_chat_under_load.py": ["--quick"],
    "bench_soak.py": ["--minutes", "1", "--warmup", "0.25"],
    "bench_workers.py": ["--quick"],
}
PER_BENCHMARK_TIMEOUT = 1_200.0


def run(cmd: list[str]) -> int:
    """Run one benchmark; past the timeout stop it with SIGTERM, so it still cleans up."""
    with subprocess.Popen(cmd) as child:
        try:
            return child.wait(timeout=PER_BENCHMARK_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
            return -1


def command(name: str, args: argparse.Namespace, db: str | None = None) -> list[str]:
    """The command line for one benchmark: the database options for those that use one
    (``db`` for those that take one at a time), the repeat count, and the small sizes
    with ``--quick``."""
    cmd = [sys.executable, str(HERE / name)]
    if name in BENCHMARKS:
        cmd += ["--db", args.db, "--pg-url", args.pg_url]
        if args.quick:
            cmd += ["--repeat", "2" if name == "bench_startup.py" else "1"]
        elif args.repeat is not None:
            cmd += ["--repeat", str(args.repeat)]
    elif name in ONE_DATABASE_AT_A_TIME:
        cmd += ["--db", db or "postgresql", "--pg-url", args.pg_url]
    elif name in POSTGRESQL_ONLY:
        cmd += ["--pg-url", args.pg_url]
        if args.repeat is not None and not args.quick:
            cmd += ["--repeat", str(args.repeat)]
    if args.quick:
        cmd += QUICK[name]
    return cmd


def commands(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """Every benchmark to run, in order, with its command line."""
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    planned = [(name, command(name, args)) for name in BENCHMARKS]
    for name in ONE_DATABASE_AT_A_TIME:
        planned += [(name, command(name, args, db)) for db in databases]
    if args.db != "sqlite":
        planned += [(name, command(name, args)) for name in POSTGRESQL_ONLY]
    planned += [(name, command(name, args)) for name in WITHOUT_DATABASE]
    return [(name, cmd) for name, cmd in planned if (HERE / name).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=_common.DEFAULT_PG_URL)
    parser.add_argument("--repeat", type=int, default=None, help="passed on to each benchmark")
    parser.add_argument("--quick", action="store_true", help="small runs, one repeat")
    args = parser.parse_args(argv)

    if args.db != "sqlite":
        for name in _common.drop_stale_databases(args.pg_url):
            print(f"dropped {name}, left behind by a benchmark that was killed")
    failed = []
    for name, cmd in commands(args):
        print(f"\n## {name}\n$ {' '.join(cmd)}", flush=True)
        began = time.perf_counter()
        code = run(cmd)
        print(f"({name}: exit {code}, {time.perf_counter() - began:.0f} s)", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
