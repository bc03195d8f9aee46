"""Shared helpers for the benchmarks: throw-away databases, settings, statistics, tables.

Every benchmark works on a database of its own that is removed afterwards: a
SQLite file in a temporary directory, or a fresh PostgreSQL database created
on the server given by ``--pg-url`` and dropped (``WITH (FORCE)``) at the end,
even when the run fails or hits its time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.app import App
    from bot.broadcast.audience import Audience
    from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DB_PREFIX = "bench_alliantie_"
T = TypeVar("T")
K = TypeVar("K")


def add_common_arguments(parser: argparse.ArgumentParser, *, max_seconds: float) -> None:
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgresql", "both"],
        default="sqlite",
        help="database backend to measure (default: sqlite)",
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="an existing PostgreSQL database to connect to while creating and "
        f"dropping the throw-away one (default: {DEFAULT_PG_URL})",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement; the median is reported"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=max_seconds,
        help=f"stop measuring after this long, per backend (default: {max_seconds:g})",
    )


def backends(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


async def over_backends(
    args: argparse.Namespace, bench: Callable[[argparse.Namespace, str], Awaitable[list[T]]]
) -> list[T]:
    """Run ``bench`` for each backend chosen with ``--db``, one after the other."""
    runs: list[T] = []
    for backend in backends(args.db):
        runs += await bench(args, backend)
    return runs


@dataclass
class TempDatabase:
    """A throw-away database: its user-facing URL and a scratch directory."""

    backend: str
    url: str
    workdir: Path


def _pg_admin(pg_url: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
    )


@contextlib.contextmanager
def temp_database(backend: str, pg_url: str = DEFAULT_PG_URL) -> Iterator[TempDatabase]:
    """Create a fresh, empty database and remove it (and the scratch dir) afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="alliantie-bench-"))
    name = None
    try:
        if backend == "sqlite":
            yield TempDatabase(backend, f"sqlite:///{workdir / 'bench.db'}", workdir)
            return
        from sqlalchemy.engine import make_url

        name = f"{DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with _pg_admin(pg_url) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(drivername="postgresql", database=name)
        yield TempDatabase(backend, url.render_as_string(hide_password=False), workdir)
    finally:
        if name is not None:
            with _pg_admin(pg_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


def drop_stale_databases(pg_url: str = DEFAULT_PG_URL) -> list[str]:
    """Drop databases of this benchmark suite whose creating process is gone.

    Only names this module creates (``bench_alliantie_<pid>_<hex>``) are
    touched, and only when no process with that id is alive on this machine.
    """
    dropped = []
    with _pg_admin(pg_url) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (DB_PREFIX + "%",)
            )
        ]
        for name in names:
            pid = name.removeprefix(DB_PREFIX).partition("_")[0]
            if not pid.isdigit() or _alive(int(pid)):
                continue
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
    return dropped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def interruptible() -> None:
    """Let SIGTERM and SIGINT unwind a synchronous run, so cleanup still happens.

    A process started in the background by a shell inherits an ignored SIGINT;
    run_all.py stops an overrunning benchmark with SIGTERM.
    """

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def run_async(main: Coroutine[Any, Any, T], timeout: float) -> T:
    """``asyncio.run`` with a hard time limit; SIGTERM or SIGINT cancel the run.

    Cancelling (rather than raising KeyboardInterrupt from a signal handler,
    which SQLAlchemy's greenlet bridge can turn into an ordinary error that the
    bot's error middleware then answers) unwinds every ``finally``: the app is
    stopped and the temporary database dropped.
    """

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        return await asyncio.wait_for(main, timeout=timeout)

    try:
        return asyncio.run(guarded())
    except (asyncio.CancelledError, TimeoutError) as exc:
        reason = "time limit" if isinstance(exc, TimeoutError) else "signal"
        print(f"stopped early ({reason}); temporary databases removed", file=sys.stderr)
        raise SystemExit(130) from None


def new_data_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def bench_settings(db: TempDatabase, **overrides: Any) -> Settings:
    """Settings for a benchmark: no .env, a temporary key, files in the scratch dir."""
    from bot.settings import Settings

    values: dict[str, Any] = {
        "database_url": db.url,
        "data_key": new_data_key(),
        "data_key_file": db.workdir / "data.key",
        "image_dir": db.workdir / "images",
        "log_level": "WARNING",
        "db_startup_timeout": 10.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def quiet_logging() -> None:
    """Warnings and errors only, so a table is not drowned in log lines."""
    from bot.logging_setup import configure

    configure("WARNING")
    # A library that sets its own logger to DEBUG when imported (bm25s does)
    # bypasses the root logger's level; the handler's level still applies.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)


# -- statistics and output ----------------------------------------------------
def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of unsorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def grouped(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """Items by key, the keys in the order they first appear (a table's row order)."""
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table (also valid Markdown), numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str], numeric: Sequence[bool]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]
    out = [line(list(headers), [False] * len(headers))]
    out.append(
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if n else "-" * (w + 2)
            for w, n in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    out += [line(r, numeric) for r in cells]
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def rss_mib() -> float:
    """This process's resident memory (VmRSS), in MiB."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def telegram_people(
    first: int, count: int, when: datetime, gemeente: str | None = None
) -> list[dict[str, Any]]:
    """Rows for ``users``: ``count`` Telegram people with private chats ``first``..."""
    return [
        {
            "platform": "telegram",
            "gemeente": gemeente,
            "platform_user_id": str(first + i),
            "private_chat_id": str(first + i),
            "language": "nl",
            "roles": "",
            "topics_off": "",
            "messages_enabled": True,
            "active": True,
            "created_at": when,
            "last_seen_at": when,
        }
        for i in range(count)
    ]


async def insert_people(
    app: App, first: int, count: int, *, gemeente: str | None = None
) -> list[int]:
    """``count`` Telegram people with chats ``first``... in the app's database (5,000
    rows a statement): their user ids, in the order of their chats."""
    from sqlalchemy import insert, select

    from bot.storage.models import User

    if count <= 0:
        return []
    when = datetime(2026, 1, 5, tzinfo=UTC)
    rows = telegram_people(first, count, when, gemeente)
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        for start in range(0, count, 5000):
            await session.execute(insert(User), rows[start : start + 5000])
        query = (
            select(User.platform_user_id, User.id)
            .where(User.platform == "telegram")
            .where(User.platform_user_id.in_([r["platform_user_id"] for r in rows]))
        )
        found = {int(chat): user_id for chat, user_id in await session.execute(query)}
    return [found[chat] for chat in sorted(found)]


async def announce(app: App, text: str, audience: Audience | None = None) -> None:
    """An urgent announcement (topic ``nieuws``), due now; ``audience``: everyone."""
    from bot.broadcast.audience import Audience

    assert app.services is not None
    now = app.services.clock.now()
    async with app.services.work.begin() as repos:
        await repos.announcements.create(
            created_by=None,
            audience=audience or Audience(everyone=True),
            topic="nieuws",
            text=text,
            attachment=None,
            urgent=True,
            send_at=now,
            report_to=None,
            now=now,
        )


class ErrorCount(logging.Handler):
    """Counts ERROR (and worse) log records while it is added to a logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def machine_summary() -> str:
    """One line about the interpreter and SQLite, printed above each table."""
    return (
        f"python {platform.python_version()} ({sys.executable}), sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )


def spawn_fake(target: Callable[[Any], None]) -> tuple[Any, Any]:
    """Start ``target(conn)`` (a benchmark's fake Bot API) in a process of its own
    ("spawn": nothing of this process is copied, so its CPU time is its own), with this
    repository on its path for ``tests.helpers``. Returns this side's end of the pipe
    and the process; the caller stops it."""
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    if str(REPO) not in sys.path:
        sys.path.append(str(REPO))  # the child gets this path: tests.helpers
    process = context.Process(target=target, args=(child,), name="fake-bot-api", daemon=True)
    process.start()
    child.close()
    return conn, process
