"""The databases the suite runs against: SQLite always, PostgreSQL when reachable.

On a machine without PostgreSQL the PostgreSQL half of the suite is skipped
with the reason; with ``CI`` set it fails instead, so CI cannot pass by
skipping it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
TABLES = (
    "circles",
    "agenda_rsvps",
    "agenda_feed_tokens",
    "agenda_events",
    "checkins",
    "outbox",
    "announcements",
    "invite_uses",
    "invites",
    "group_links",
    "conversation_state",
    "audit_log",
    "processed_events",
    "users",
    "apscheduler_jobs",
    "bot_meta",
    "unanswered_questions",
)


def admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)


def _connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.database,
        connect_timeout=3,
        autocommit=True,
    )


def postgres_unavailable_reason() -> str | None:
    try:
        with _connect(admin_url()) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return (
            f"PostgreSQL not reachable at {admin_url()} ({type(exc).__name__}); "
            "start it or set TEST_POSTGRES_URL. CI runs these tests."
        )
    return None


def require_postgres() -> None:
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so PostgreSQL tests must run: {reason}")
    pytest.skip(reason)


# One round trip: empty the tables that exist (children before parents) and set
# every sequence back to 1. DELETE is several times faster than TRUNCATE on tables
# this small, and the suite empties them before every PostgreSQL test.
_EMPTY_SQL = """
DO $$
DECLARE name text;
BEGIN
  FOREACH name IN ARRAY ARRAY[TABLES] LOOP
    IF to_regclass(quote_ident(name)) IS NOT NULL THEN
      EXECUTE 'DELETE FROM ' || quote_ident(name);
    END IF;
  END LOOP;
  PERFORM setval(c.oid, 1, false)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND n.nspname = 'public';
END $$
""".replace("TABLES", ", ".join(f"'{table}'" for table in TABLES))


@dataclass
class PostgresDatabase:
    """A throw-away database on the local server, emptied before each test."""

    name: str
    url: str
    _conn: Any = None

    def truncate(self) -> None:
        """Empty every table and restart the ids (on one kept connection)."""
        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = _connect(self.url)
                self._conn.execute(_EMPTY_SQL)
                return
            except Exception:
                self.close()
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def create_postgres_database() -> Iterator[PostgresDatabase]:
    name = f"alliantiebot_test_{uuid.uuid4().hex[:10]}"
    admin = admin_url()
    with _connect(admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    database = PostgresDatabase(name=name, url=url)
    try:
        yield database
    finally:
        database.close()
        with _connect(admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
