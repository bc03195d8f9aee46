"""The express path on SQLite: a plain question in one read and one short transaction.

What :mod:`bot.storage.express` does on PostgreSQL in two statements, SQLite does in a
read and one transaction of its own: SQLite has no data-modifying CTEs, so the turn,
the dedupe record and the held reply are three statements between ``BEGIN IMMEDIATE``
and ``COMMIT`` (someone new: their row and its audit record instead of the turn).

**One hand-over each.** The statements are SQLAlchemy's, compiled once, with each
parameter's and result column's conversion (SQLite keeps datetimes as text). They run
on a ``sqlite3`` connection of the store's own, in a thread of its own: the read is
one hand-over to that thread and the whole write transaction another. Through
aiosqlite every statement, BEGIN and COMMIT is a hand-over of its own, and each costs
more CPU than SQLite takes to run the statement.

**Why it is safe.** SQLite has one writer, and the process's transactions take turns
on the outbox's write lock (``Outbox.write_lock``); the write here takes it too. SQLite's
units of work do not count the person's turn in their row (PostgreSQL's do), so the
UPDATE compares the whole row with the one read: it matches only when nothing of the
person changed and they are still in no conversation in the chat. The handler read
nothing else (``ctx.db`` is closed to it), so its answer is the one the unit of work
would give now. Otherwise, for a duplicate, and on any SQLite error, the transaction
rolls back and the message goes the usual way (:func:`bot.core.middleware.express`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, String, bindparam, insert, literal, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.core.context import CHANGED, DUPLICATE, HELD, QUEUED, Seen, Written
from bot.outbox.queue import PENDING, Outbox, Outgoing, deciding_insert
from bot.storage import db
from bot.storage.dialect import table_of
from bot.storage.express import (
    _COLUMNS,
    _GONE,
    CREATED,
    ExpressStore,
    _in_conversation,
    _Link,
    _read,
    compile_once,
    created_insert,
    person_params,
)
from bot.storage.models import AuditLog, User
from bot.storage.repositories.events import record

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
T = TypeVar("T")
_READ = "r_"  # the prefix of the person's columns as read


def _counted_as_read() -> Any:
    """Someone known: their turn counted, only if their row is still exactly as read
    and they are in no conversation in the chat. SQLite's units of work do not count
    the turn (their transactions take turns in the process), so the row itself is
    compared: the handler read nothing else (``ctx.db`` is closed to it)."""
    users = table_of(User)
    return (
        update(users)
        .where(
            users.c.id == bindparam("g_user", type_=users.c.id.type),
            *(
                # Named apart from the columns: an UPDATE takes those as SET values.
                users.c[name].is_not_distinct_from(bindparam(_READ + name, type_=column.type))
                for name, column in users.c.items()
                if name != "id"
            ),
            ~_in_conversation(users.c.id, bindparam("g_chat", type_=String())),
        )
        .values(
            turn=users.c.turn + 1,
            last_seen_at=bindparam("g_seen_at", type_=users.c.last_seen_at.type),
        )
        .returning(users.c.id)
    )


def _audited() -> Any:
    audit = table_of(AuditLog)
    return insert(audit).values(
        at=bindparam("e_at", type_=audit.c.at.type),
        actor_user_id=bindparam("a_user", type_=audit.c.actor_user_id.type),
        action=literal(CREATED, type_=audit.c.action.type),
        detail=bindparam("e_platform", type_=audit.c.detail.type),
    )


_STATEMENTS: dict[str, Callable[[], Any]] = {
    "read": _read,
    "counted": _counted_as_read,
    "created": functools.partial(created_insert, sqlite_insert),
    "recorded": functools.partial(record, False, False),
    "audited": _audited,
    "held": functools.partial(deciding_insert, False),
}


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement compiled once for SQLite, with each parameter's and each result
    column's conversion as SQLAlchemy would apply it (public ``bind_processor`` and
    ``result_processor`` of the dialect's form of each type)."""

    sql: str
    names: tuple[str, ...]  # the parameters in the order of the ? marks
    fixed: dict[str, Any]  # those the statement binds itself (its constants)
    binds: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    columns: dict[str, int]  # result column name -> position

    @classmethod
    def of(cls, statement: Any, dialect: Dialect) -> _Prepared:
        compiled, names, fixed = compile_once(statement, dialect)
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        kinds, keys = _result_columns(statement)
        results = tuple(
            kind.dialect_impl(dialect).result_processor(dialect, None) for kind in kinds
        )
        columns = {key: position for position, key in enumerate(keys)}
        return cls(str(compiled), names, fixed, binds, results, columns)

    def args(self, params: dict[str, Any]) -> list[Any]:
        fixed = self.fixed
        values = [params[name] if name in params else fixed[name] for name in self.names]
        return [
            v if convert is None else convert(v)
            for v, convert in zip(values, self.binds, strict=True)
        ]

    def row(self, raw: Sequence[Any]) -> _Row:
        return _Row(
            tuple(
                v if convert is None else convert(v)
                for v, convert in zip(raw, self.results, strict=True)
            ),
            self.columns,
        )


def _result_columns(statement: Any) -> tuple[list[Any], list[str]]:
    """The types and names of what ``statement`` returns: a SELECT's columns, or what an
    INSERT or UPDATE returns (nothing for one without RETURNING)."""
    if isinstance(statement, Select):
        selected = list(statement.selected_columns)
        return [c.type for c in selected], [str(c.key) for c in selected]
    described = statement.returning_column_descriptions
    return [d["type"] for d in described], [d["name"] for d in described]


class _Row(tuple[Any, ...]):
    """A result row read by position, by slice or by column name (as asyncpg's)."""

    columns: dict[str, int]

    def __new__(cls, values: tuple[Any, ...], columns: dict[str, int]) -> _Row:
        row = super().__new__(cls, values)
        row.columns = columns
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.columns[key])
        return tuple.__getitem__(self, key)


class SqliteExpressStore(ExpressStore):
    """:class:`bot.core.context.Express` on SQLite (bot.app wires it there).

    Its statements run on a connection of its own, in a thread of its own: the read is
    one hand-over to that thread, and the whole write transaction another (through
    aiosqlite each statement, BEGIN and COMMIT are a hand-over of their own, and each
    costs more CPU than SQLite takes to run the statement). The connection follows the
    engine the sessions use (a test may swap it)."""

    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        outbox: Outbox,
        lease: timedelta,
        write_lock: asyncio.Lock,
        timeout: float,
    ) -> None:
        super().__init__(engine, outbox, lease)
        self.write_lock = write_lock
        self.timeout = timeout
        self.statement_kinds = (_STATEMENTS, _Prepared.of)
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="express")
        self._connection: sqlite3.Connection | None = None  # in that thread only
        self._database = ("", False)

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[_SqliteLink]:
        yield _SqliteLink(self)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` on the store's connection, in its thread."""
        url = self.engine().url
        # As SQLAlchemy's SQLite dialects read a URL: a path, or with ?uri=true a URI.
        database = (url.database or "", url.query.get("uri") in ("true", "1"))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._on, database, work)

    def _on(self, database: tuple[str, bool], work: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None or self._database != database:
            self._close()
            path, uri = database
            connection = sqlite3.connect(path, timeout=self.timeout, uri=uri)
            db.prepare_sqlite(connection, self.timeout)
            self._connection, self._database = connection, database
        return work(self._connection)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        """Close the connection and end the thread (bot.app, at stop)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)


class _SqliteLink(_Link):
    store: SqliteExpressStore

    def __init__(self, store: SqliteExpressStore) -> None:
        self.store = store

    async def _fetch(self, name: str, params: dict[str, Any]) -> Any:
        """The read: no lock (WAL lets it read beside the one writer)."""
        statement = self.store.compiled(name, self.store.engine().dialect)
        args = statement.args(params)
        self.store.statements += 1
        try:
            rows = await self.store.run(lambda c: c.execute(statement.sql, args).fetchall())
        except sqlite3.Error as exc:
            log.info("express read failed (%s); handled again", type(exc).__name__)
            return _GONE  # the unit of work meets it as it does
        return statement.row(rows[0]) if rows else None

    async def write(
        self, seen: Seen, chat_id: str, event: tuple[str, str], reply: Outgoing
    ) -> Written | None:
        store = self.store
        now = store.outbox.clock.now()
        params = store.outbox.held(reply, store.lease)
        params.update(e_platform=event[0], e_at=now)
        # The dedupe record's parameters, as the unit of work's statement names them.
        params.update(ev_platform=event[0], ev_event_id=event[1], ev_at=now)
        params.update(person_params(seen, chat_id, now))
        if not seen.new:
            params.update(
                (_READ + name, value)
                for name, value in zip(_COLUMNS, seen.columns, strict=True)
                if name != "id"
            )
        dialect = store.engine().dialect
        steps = {name: store.compiled(name, dialect) for name in _WRITES}
        async with store.write_lock:
            try:
                written, sent = await store.run(
                    functools.partial(_transaction, steps, params, seen.new)
                )
            except sqlite3.Error as exc:  # busy beyond the timeout, a full disk...
                log.info("express write failed (%s); handled again", type(exc).__name__)
                return None  # the unit of work meets it as it does
        store.statements += sent
        return written


_WRITES = ("created", "audited", "counted", "recorded", "held")


def _transaction(
    steps: dict[str, _Prepared], params: dict[str, Any], new: bool, connection: sqlite3.Connection
) -> tuple[Written, int]:
    """In the store's thread: the write, committed only when the reply is held; and
    the number of statements sent (BEGIN and COMMIT or ROLLBACK among them)."""
    sent = 0

    def run(name: str) -> list[_Row]:
        nonlocal sent
        sent += 1
        step = steps[name]
        return [step.row(r) for r in connection.execute(step.sql, step.args(params)).fetchall()]

    connection.execute("BEGIN IMMEDIATE")
    written = Written(CHANGED)
    try:
        written = _steps(run, params, new)
    finally:
        keep = written.outcome in (HELD, QUEUED)
        connection.execute("COMMIT" if keep else "ROLLBACK")
    return written, sent + 2


def _steps(run: Callable[[str], list[_Row]], params: dict[str, Any], new: bool) -> Written:
    if new:
        person = run("created")
        if not person:  # created meanwhile: the unit of work finds them
            return Written(CHANGED)
        params["user_id"] = params["a_user"] = person[0][0]
        run("audited")
    elif not run("counted"):
        return Written(CHANGED)
    if not run("recorded"):
        return Written(DUPLICATE)
    held = run("held")
    if not held:
        return Written(DUPLICATE)
    outbox_id, status = held[0]
    return Written(QUEUED if status == PENDING else HELD, outbox_id)
