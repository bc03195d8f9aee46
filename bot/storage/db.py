"""Engine, sessions and migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.settings import ConfigError

log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x616C6C69  # "alli": the advisory lock id for migrations
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailable(Exception):
    """The database could not be reached."""


def sync_url(async_url: str) -> str:
    """The same database through a synchronous driver (for APScheduler's job store)."""
    url = make_url(async_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite").render_as_string(hide_password=False)
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction begins, so
    # SAVEPOINT works (SQLAlchemy's documented recipe for pysqlite/aiosqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the one writer work at once; busy_timeout waits
    # for a lock instead of failing when the scheduler's own connection writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that
    # reads and then writes fails at once with "database is locked" when
    # another connection wrote in between, instead of waiting busy_timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Never put SQL parameters (names, encrypted health data) in error messages or logs.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_unavailable(exc: BaseException) -> bool:
    """True when an error means the database is down or unreachable, not a bug."""
    if isinstance(exc, DatabaseUnavailable | OSError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and isinstance(exc.orig, OSError | ConnectionError)


async def wait_until_reachable(engine: AsyncEngine, patience: float) -> None:
    """Connect once, retrying with backoff for ``patience`` seconds."""
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
            if loop.time() + delay > deadline:
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1]
                raise DatabaseUnavailable(reason[0] if reason else type(exc).__name__) from exc
            log.warning("database not reachable yet, retrying in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the Alembic migrations on the async engine's own connection."""

    def _run(connection: Any) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several workers may start at once: one migrates, the others wait.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Any) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


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
