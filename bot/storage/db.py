"""Engine, sessions and migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import ast
import asyncio
import functools
import logging
import math
import re
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from bot.paths import private_file
from bot.settings import ConfigError
from bot.storage.ping import ping_after_idle

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x616C6C69  # "alli": the advisory lock id for migrations
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Seconds to connect, to wait for a pooled connection or a lock, and for one statement
# (DB_TIMEOUT_SECONDS): a person waits seconds for "try again later", not minutes.
DEFAULT_TIMEOUT = 5.0


class DatabaseUnavailable(Exception):
    """The database could not be reached."""


def sync_url(async_url: str) -> str:
    """The same database through a synchronous driver (for APScheduler's job store)."""
    url = make_url(async_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite").render_as_string(hide_password=False)
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _sqlite_connect(timeout: float) -> Any:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        prepare_sqlite(dbapi_connection, timeout)

    return connect


def prepare_sqlite(dbapi_connection: Any, timeout: float) -> None:
    """Every SQLite connection of the bot: its engine's and the express path's
    (bot/storage/express_sqlite.py)."""
    # Let SQLAlchemy, not the driver, decide when a transaction begins, so
    # SAVEPOINT works (SQLAlchemy's documented recipe for pysqlite/aiosqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the one writer work at once; busy_timeout waits
    # for a lock (the scheduler's own connection writing) instead of failing
    # at once, and fails after ``timeout`` instead of waiting for ever.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that
    # reads and then writes fails at once with "database is locked" when
    # another connection wrote in between, instead of waiting busy_timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> AsyncEngine:
    """The service's engine. Every wait is bounded by ``timeout`` seconds, on the
    client's side: asyncpg's ``command_timeout`` also ends a statement whose bytes
    never reach a hung server (a stalled proxy, a frozen host), where a server-side
    ``statement_timeout`` would never fire."""
    # Never put SQL parameters (names, encrypted health data) in error messages or logs.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database).expanduser())  # 0600, in a 0700 folder
            kwargs.setdefault("pool_timeout", timeout)  # a file has a queue pool
        kwargs.setdefault("connect_args", {"timeout": timeout})
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_connect(timeout))
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_timeout", timeout)
    kwargs.setdefault("connect_args", {"timeout": timeout, "command_timeout": timeout})
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_after_idle(engine)  # not a ping per checkout: see bot/storage/ping.py
    return engine


def create_job_store_engine(async_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Engine:
    """The same database through a synchronous driver, for APScheduler's job store,
    which only ever uses it from its own threads (see bot/scheduling/scheduler.py).

    libpq bounds connecting (``connect_timeout``, whole seconds, at least 2) and the
    server bounds each statement (``statement_timeout``); a statement stuck on the
    network is cut by the scheduler's watchdog, since libpq has no client-side limit.
    """
    url = sync_url(async_url)
    if make_url(url).get_backend_name() == "sqlite":
        # ``timeout`` is sqlite3's busy timeout: how long to wait for the write lock.
        return create_sync_engine(url, connect_args={"timeout": timeout}, hide_parameters=True)
    return create_sync_engine(
        url,
        connect_args={
            "connect_timeout": max(2, math.ceil(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        },
        hide_parameters=True,
        pool_pre_ping=True,
        pool_timeout=timeout,
        pool_size=2,
        max_overflow=2,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_unavailable(exc: BaseException) -> bool:
    """True when an error means the database is down or unreachable, not a bug."""
    if isinstance(exc, DatabaseUnavailable | OSError | ConnectionError):
        return True
    if is_stale_connection(exc):
        return True
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and isinstance(exc.orig, OSError | ConnectionError)


def is_stale_connection(exc: BaseException) -> bool:
    """True when a pooled connection turned out to be closed by the server (see
    bot/storage/ping.py): SQLAlchemy has marked the pool's connections stale."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's "database or disk is full" (SQLITE_FULL): the file cannot
    grow. It is also :func:`is_unavailable` (an OperationalError): the person is told
    to try again, and the transaction is rolled back, so nothing is half written."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    return "database or disk is full" in str(orig)


def disk_full_line(url: str, exc: BaseException) -> str:
    """The operator's one line about a full disk: which file, and what is free."""
    path = sqlite_file(url)
    where = describe(url)
    free = ""
    if path is not None:
        try:
            mib = shutil.disk_usage(path.resolve().parent).free / 2**20
            free = f", {mib:.0f} MiB free on its disk"
        except OSError:
            pass
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
    return (
        f"the database is full: {where} cannot grow ({reason[0] if reason else 'SQLITE_FULL'}"
        f"{free}); messages get 'try again' and nothing is written until there is space"
    )


# PostgreSQL's answers that waiting will not change: the database does not exist
# (3D000), the role or password is wrong (class 28).
PERMANENT_SQLSTATES = ("3D000", "28000", "28P01")


def is_permanent(exc: BaseException) -> bool:
    """True when connecting failed for a reason that retrying will not fix: a missing
    database, wrong credentials, a host name that does not resolve."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        if getattr(current, "sqlstate", None) in PERMANENT_SQLSTATES:
            return True
        orig = getattr(current, "orig", None)
        todo += [
            orig if isinstance(orig, BaseException) else None,
            current.__cause__,
            current.__context__,
        ]
    return False


async def wait_until_reachable(engine: AsyncEngine, patience: float) -> None:
    """Connect once, retrying with backoff for ``patience`` seconds; at once when the
    reason is permanent (a missing database, wrong credentials, an unknown host)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    delay = 0.2
    while True:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        except Exception as exc:
            if not is_unavailable(exc) and not isinstance(exc, DBAPIError):
                raise
            if is_permanent(exc) or loop.time() + delay > deadline:
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1]
                raise DatabaseUnavailable(reason[0] if reason else type(exc).__name__) from exc
            log.warning("database not reachable yet, retrying in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, connect_timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Apply the Alembic migrations on a connection of the async engine's database.

    On PostgreSQL that is a connection of its own without the statement timeout: a
    migration may rewrite a large table, and a worker waits on the advisory lock
    while another one migrates. Connecting is still bounded by ``connect_timeout``.
    """

    def _run(connection: Any) -> None:
        from alembic import command

        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    # The usual start: one SELECT, and alembic is not even imported (it costs about
    # 0.15 s and 11 MiB with mako and pygments) unless the files do not say the head
    # plainly (then alembic reads them: head_revision).
    if revision == "head" and await current_revision(engine) == (
        declared_head() or head_revision()
    ):
        return
    if engine.dialect.name != "postgresql":
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        return
    unbounded = create_async_engine(
        engine.url,
        poolclass=NullPool,
        hide_parameters=True,
        connect_args={"timeout": connect_timeout, "command_timeout": None},
    )
    try:
        async with unbounded.begin() as conn:
            # Several workers may start at once: one migrates, the others wait.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await conn.run_sync(_run)
    finally:
        await unbounded.dispose()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision in the database's ``alembic_version`` table (None: no migration
    was applied). Read with one SELECT, without importing alembic; alembic's own
    answer (an error) only when the table holds more than one revision."""

    def _current(connection: Any) -> str | None:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        if len(rows) <= 1:
            return str(rows[0][0]) if rows else None
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


VERSION_TABLE = "alembic_version"  # alembic's default, which env.py keeps
# A revision file's own lines, as alembic's template writes them:
# ``revision = "0010"`` or ``revision: str = "0010"``, the same for down_revision.
_REVISION_LINE = re.compile(
    r"^(revision|down_revision)[ \t]*(?::[^=\n]*)?=[ \t]*(.+?)[ \t]*(?:#.*)?$", re.MULTILINE
)
# The files alembic reads as revisions (alembic.script.base._only_source_rev_file).
_REVISION_FILE = re.compile(r"(?!\.#|__init__).*\.py$")


@functools.cache
def declared_head() -> str | None:
    """The newest migration, read from the text of the files in ``migrations/versions``
    without importing them or alembic: each file's ``revision`` and ``down_revision``;
    the head is the one revision no other file names as its down revision.

    None when the files do not say it plainly (a file without those lines, a value
    that is not a plain string, a merge, two heads): then alembic reads them.
    tests/unit/test_migration_head.py checks it against alembic's own head.
    """
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").iterdir():
        if not path.is_file() or not _REVISION_FILE.match(path.name):
            continue
        values: dict[str, object] = {}
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            try:
                values.setdefault(name, ast.literal_eval(value))
            except (ValueError, SyntaxError):
                return None
        revision, down = values.get("revision"), values.get("down_revision", ...)
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None
        revisions.add(revision)
        if down is not None:
            downs.add(down)
    heads = revisions - downs
    if len(heads) != 1 or not downs <= revisions:
        return None
    return heads.pop()


@functools.cache
def head_revision() -> str:
    """The newest migration this code knows (read once: the files do not change)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in the package")
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {revision.revision for revision in script.walk_revisions()}


def revision_problem(revision: str) -> str | None:
    """None when ``revision`` is this version's newest; otherwise why it is not."""
    head = head_revision()
    if revision == head:
        return None
    if revision not in known_revisions():
        return (
            f"the database is at revision {revision}, which this version does not know "
            f"(its newest is {head}): a newer alliantiebot migrated it; use that version"
        )
    return (
        f"the database is at revision {revision} and this version's newest is {head}: run "
        "`alliantiebot db upgrade` first (the bot also migrates when it starts)"
    )


def require_head(revision: str) -> None:
    """For commands that only read: the tables must be the ones this code knows."""
    problem = revision_problem(revision)
    if problem is not None:
        raise ConfigError(f"DATABASE_URL: {problem}")


def require_known(revision: str) -> None:
    """Before migrating: a revision from a newer version cannot be upgraded from."""
    if revision not in known_revisions():
        require_head(revision)


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL, as written (None for another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def describe(url: str) -> str:
    """The database in a message: its SQLite file, or PostgreSQL's name and server."""
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    parsed = make_url(url)
    return f"database {parsed.database} on {parsed.host or 'localhost'}:{parsed.port or 5432}"


def unreachable(exc: DatabaseUnavailable) -> ConfigError:
    """The one line the CLI prints when the database cannot be reached at start."""
    return ConfigError(f"DATABASE_URL: cannot reach the database ({exc})")


@asynccontextmanager
async def connected(url: str, patience: float) -> AsyncIterator[AsyncEngine]:
    """An engine on a reachable database at the newest migration, disposed afterwards."""
    engine = create_engine(url)
    try:
        try:
            await wait_until_reachable(engine, patience)
        except DatabaseUnavailable as exc:
            raise unreachable(exc) from None
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def existing(url: str, patience: float) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine on a database that exists and has alliantiebot's tables, with its
    revision; for commands that must not create or migrate one (``db current``,
    ``content gaps``, ``keys status``). A missing SQLite file or a database without a
    migration is a ConfigError, and nothing is created: no file, no folder."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise ConfigError(
            f"DATABASE_URL: no database at {path}; create it with `alliantiebot db upgrade` "
            "(or start the bot), or point DATABASE_URL at the bot's database"
        )
    async with connected(url, patience) as engine:
        revision = await current_revision(engine)
        if revision is None:
            raise ConfigError(
                f"DATABASE_URL: {describe(url)} has no tables of alliantiebot (no migration "
                "was applied); set it up with `alliantiebot db upgrade`"
            )
        yield engine, revision


class NotUpgraded(Exception):
    """The bot's database is at an older revision, and the command only reads."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"the database is at revision {revision}, this version needs "
            f"{head_revision()}: run alliantiebot db upgrade (or start the bot)"
        )


@asynccontextmanager
async def command_transaction(
    url: str, patience: float, *, reads_only: bool
) -> AsyncIterator[AsyncSession]:
    """One transaction on the bot's own database, for a CLI command (``broadcast``,
    ``events``): never a new database (see :func:`existing`). One the bot has not
    upgraded yet is upgraded first, which is safe while the bot runs (it migrates
    the same way); a command that only reads is refused instead (:class:`NotUpgraded`)."""
    async with existing(url, patience) as (engine, revision):
        if revision != head_revision():
            if reads_only:
                raise NotUpgraded(revision)
            await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            yield session
