"""The express path on PostgreSQL: a plain question in two statements, no transaction.

Most messages are a question outside any conversation: the handler reads the
knowledge and writes nothing. For those a unit of work costs five round trips (BEGIN,
the dedupe record with the person's turn, the person and their conversation, the held
reply, COMMIT). Here it is two, on one pooled connection and outside any transaction:

1. ``_Link.read``: the person, their ``turn`` and whether they are in a conversation
   in this chat; for someone new, the person as ``identify`` would create them.
2. ``_Link.write``, once the handler has answered: one statement that counts the
   person's turn only if it is still the one read and they are still in no
   conversation here (someone new: creates their row and its audit record, only if
   nobody did meanwhile); only then records the update as handled (dedupe); only for a
   new record holds the reply for the channel (the outbox row, as
   :meth:`bot.outbox.queue.Outbox.hold` does); and deletes sent replies waiting for it
   (:meth:`bot.outbox.queue.Outbox.carry`).

Why this is safe beside the units of work of other messages of the same person, on
this worker or another: every unit of work that handles a person's message counts
their turn in their row as it takes the turn (``users.turn``, in the dedupe record's
statement), and holds that row lock until it commits. The UPDATE of step 2 waits for
such a lock and then reads the newest row: when another message was handled since
step 1, or is being handled, it matches nothing, nothing is written, and the message
goes the usual way (:func:`bot.core.middleware.express`). So each message still sees
what the person's earlier ones left, in order, as with the turn alone.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    String,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.core.context import CHANGED, DUPLICATE, HELD, QUEUED, Seen, Sender, Written
from bot.outbox.queue import PENDING, Outbox, Outgoing, deciding_values
from bot.storage.dialect import table_of
from bot.storage.models import AuditLog, ConversationState, OutboxMessage, ProcessedEvent, User
from bot.storage.repositories.users import LAST_SEEN_RESOLUTION, contact_changes, new_person

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
_COLUMNS = tuple(column.name for column in table_of(User).columns)
_ROW = "o_"  # the prefix of the outbox row's parameters
_NEW = "u_"  # the prefix of a new person's columns
# A new person's row: every column but its id, given (new_person, the columns' defaults),
# since column defaults computed by SQLAlchemy at execution do not reach the driver.
_GIVEN = tuple(name for name in _COLUMNS if name != "id")
CREATED = "user.created"  # the audit action of a new person, as identify records it
_NEW_USER: Callable[[], User] = User.__mapper__.class_manager.new_instance
_TURN = _COLUMNS.index("turn")
# A column's default where it has a plain one (a new person's columns not given).
_DEFAULTS: dict[str, Any] = {
    column.name: getattr(column.default, "arg", None)
    if column.default is not None and column.default.is_scalar
    else None
    for column in table_of(User).columns
}


def _user(columns: tuple[Any, ...]) -> User:
    """A User with these columns, as the ORM would load one but without a session: no
    attribute events on the way in (User(**columns) cost ten times more)."""
    user = _NEW_USER()
    user.__dict__.update(zip(_COLUMNS, columns, strict=True))
    return user


def _in_conversation(user: Any, chat: Any) -> Any:
    state = table_of(ConversationState)
    return exists().where(state.c.user_id == user, state.c.chat_id == chat)


@functools.cache
def _read() -> Any:
    users = table_of(User)
    chat = bindparam("chat_id", type_=String())
    return select(*users.columns, _in_conversation(users.c.id, chat).label("here")).where(
        users.c.platform == bindparam("platform", type_=String()),
        users.c.platform_user_id == bindparam("platform_user_id", type_=String()),
    )


def _counted() -> Any:
    """Someone known: their turn counted, only if it is still the one read and they
    are in no conversation in the chat."""
    users = table_of(User)
    return (
        update(users)
        .where(
            users.c.id == bindparam("g_user", type_=users.c.id.type),
            users.c.turn == bindparam("g_turn", type_=users.c.turn.type),
            ~_in_conversation(users.c.id, bindparam("g_chat", type_=String())),
        )
        .values(
            turn=users.c.turn + 1,
            last_seen_at=bindparam("g_seen_at", type_=users.c.last_seen_at.type),
        )
        .returning(users.c.id)
        .cte("counted")
    )


def _created() -> Any:
    """Someone new: their row, only if nobody created it meanwhile (then its audit
    record, as ``identify`` writes it)."""
    return created_insert(pg_insert).cte("counted")


def created_insert(insert: Callable[[Any], Any]) -> Any:
    """:func:`_created` as a statement of its own, with the dialect's ``insert``."""
    users = table_of(User)
    return (
        insert(users)
        .values(**{name: bindparam(_NEW + name, type_=users.c[name].type) for name in _GIVEN})
        .on_conflict_do_nothing(index_elements=["platform", "platform_user_id"])
        .returning(users.c.id)
    )


@functools.cache
def _write(new: bool) -> Any:
    events, outbox, audit = (
        table_of(ProcessedEvent),
        table_of(OutboxMessage),
        table_of(AuditLog),
    )
    person = _created() if new else _counted()
    recorded = (
        pg_insert(events)
        .from_select(
            ["platform", "event_id", "at"],
            select(
                bindparam("e_platform", type_=events.c.platform.type),
                bindparam("e_event", type_=events.c.event_id.type),
                bindparam("e_at", type_=events.c.at.type),
            ).select_from(person),
        )
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(events.c.id)
        .cte("recorded")
    )
    # Every parameter is named apart from the columns of ``users``: beside the UPDATE
    # (``counted``) one named after its column would become one of its SET values.
    values = deciding_values(_ROW)
    rows: Any = recorded
    if new:  # the reply's person is the row just made
        values["user_id"] = person.c.id
        rows = recorded.join(person, true())
    held = (
        pg_insert(outbox)
        .from_select(
            list(values), select(*(v.label(k) for k, v in values.items())).select_from(rows)
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(outbox.c.id, outbox.c.status)
        .cte("held")
    )
    # Sent replies of other chats waiting to be deleted (Outbox.carry): gone with this
    # statement, whatever the rest of it does.
    settled = (
        delete(outbox)
        .where(outbox.c.id == any_(bindparam("o_done", type_=ARRAY(BigInteger()))))
        .cte("settled")
    )
    statement = select(
        select(func.count()).select_from(person).scalar_subquery().label("counted"),
        select(func.count()).select_from(recorded).scalar_subquery().label("recorded"),
        select(held.c.id).scalar_subquery().label("id"),
        select(held.c.status).scalar_subquery().label("status"),
    ).add_cte(settled)
    if new:
        audited = (
            pg_insert(audit)
            .from_select(
                ["at", "actor_user_id", "action", "detail"],
                select(
                    bindparam("e_at", type_=audit.c.at.type),
                    person.c.id,
                    literal(CREATED, type_=audit.c.action.type),
                    bindparam("e_platform", type_=audit.c.detail.type),
                ).select_from(person),
            )
            .cte("audited")
        )
        statement = statement.add_cte(audited)
    return statement


def compile_once(statement: Any, dialect: Dialect) -> tuple[Any, tuple[str, ...], dict[str, Any]]:
    """``statement`` compiled for ``dialect`` with positional parameters: the compiled
    form, the parameters' names in order, and the values of those it binds itself.
    Refuses a statement whose column defaults SQLAlchemy would compute at execution:
    nothing computes them past its execution."""
    compiled = statement.compile(dialect=dialect)
    computed = [c.name for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
    if computed:
        raise TypeError(f"express statement needs column defaults given: {computed}")
    fixed = {
        name: bind.effective_value
        for bind, name in compiled.bind_names.items()
        if not bind.required
    }
    return compiled, tuple(compiled.positiontup or ()), fixed


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement compiled once for asyncpg and run on the driver's own connection: the
    same SQL that SQLAlchemy would send, without its per-statement execution machinery
    (a quarter of a millisecond of CPU for each statement, more than the round trip
    itself here; the benchmark in docs/performance.md §14b). The values are plain: the
    columns here need no conversion for asyncpg (UTCDateTime's check is that datetimes
    are aware, and the ones given here are the clock's)."""

    sql: str
    names: tuple[str, ...]  # the parameters in the order of $1, $2, ...
    fixed: dict[str, Any]  # those the statement binds itself (its constants)

    @classmethod
    def of(cls, statement: Any, dialect: Dialect) -> _Compiled:
        compiled, names, fixed = compile_once(statement, dialect)
        return cls(str(compiled), names, fixed)

    def args(self, params: dict[str, Any]) -> list[Any]:
        fixed = self.fixed
        return [params[name] if name in params else fixed[name] for name in self.names]


@functools.cache
def _closed() -> tuple[type[BaseException], ...]:
    """What a connection closed under the bot raises in the driver: the statement went
    nowhere (or its answer was lost: the dedupe record then keeps the second try from
    answering twice), and the unit of work tries on a fresh connection. (asyncpg is
    imported here, on PostgreSQL only.)"""
    import asyncpg

    errors = asyncpg.exceptions
    return (
        errors.ConnectionDoesNotExistError,
        errors.InterfaceError,
        errors.PostgresConnectionError,
        errors.OperatorInterventionError,  # a killed backend, a shutdown
        OSError,
        ConnectionError,
    )


class ExpressStore:
    """:class:`bot.core.context.Express` on PostgreSQL (bot.app wires it there only)."""

    def __init__(self, engine: Callable[[], AsyncEngine], outbox: Outbox, lease: timedelta):
        # Read at each message, as the units of work read their session factory.
        self.engine = engine
        self.outbox = outbox
        self.lease = lease
        self._compiled: dict[tuple[str, int], Any] = {}
        # The statements by name, and how one is compiled for the driver (the SQLite
        # store, bot/storage/express_sqlite.py, has its own).
        self.statement_kinds: tuple[dict[str, Callable[[], Any]], Callable[..., Any]] = (
            _STATEMENTS,
            _Compiled.of,
        )
        # Statements sent so far: they bypass SQLAlchemy's events, so whoever counts
        # round trips (the Telegram benchmark, tests) adds these.
        self.statements = 0

    def compiled(self, name: str, dialect: Dialect) -> Any:
        """Statement ``name`` compiled for ``dialect``, once (a ``_Compiled`` here)."""
        key = (name, id(dialect))
        found = self._compiled.get(key)
        if found is None:
            statements, compile_for = self.statement_kinds
            found = self._compiled[key] = compile_for(statements[name](), dialect)
        return found

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[_Link]:
        """A pooled connection for one message (checked out as any other: pinged when it
        sat idle, bot/storage/ping.py). Statements on it run in autocommit: nothing
        here opens a transaction."""
        self.outbox.carrying(True)
        try:
            async with self.engine().connect() as connection:
                raw = await connection.get_raw_connection()
                yield _Link(self, connection, raw.driver_connection)
        finally:
            self.outbox.carrying(False)

    def changed(self, seen: Seen) -> bool:
        return tuple(getattr(seen.user, name) for name in _COLUMNS) != seen.columns


class _Link:
    def __init__(self, store: ExpressStore, connection: AsyncConnection, driver: Any) -> None:
        self.store = store
        self.connection = connection
        self.driver = driver

    async def _fetch(self, name: str, params: dict[str, Any]) -> Any:
        """The one row of statement ``name``; None when the connection was closed
        under us (it is then dropped from the pool)."""
        statement = self.store.compiled(name, self.connection.dialect)
        self.store.statements += 1
        try:
            return await self.driver.fetchrow(statement.sql, *statement.args(params))
        except _closed() as exc:
            log.info("database connection was closed (%s); handled again", type(exc).__name__)
            await self.connection.invalidate()
            return _GONE

    async def read(
        self, platform: str, platform_user_id: str, chat_id: str, sender: Sender
    ) -> Seen | None:
        params = {"platform": platform, "platform_user_id": platform_user_id, "chat_id": chat_id}
        row = await self._fetch("read", params)
        if row is _GONE:
            return None
        if row is None:
            return self._newcomer(platform, platform_user_id, sender)
        columns = tuple(row[: len(_COLUMNS)])
        user = _user(columns)
        if contact_changes(
            user,
            display_name=sender.display_name,
            private_chat_id=sender.private_chat_id,
            admin=sender.admin,
        ):
            return None  # identify writes to them: the unit of work does it
        return Seen(user, turn=columns[_TURN], in_conversation=row["here"], columns=columns)

    def _newcomer(self, platform: str, platform_user_id: str, sender: Sender) -> Seen:
        """Someone new, as UserRepo.get_or_create would create them (not stored yet)."""
        given = new_person(
            platform,
            platform_user_id,
            self.store.outbox.clock.now(),
            language=sender.language,
            display_name=sender.display_name,
            private_chat_id=sender.private_chat_id,
            admin=sender.admin,
        )
        columns = tuple(given.get(name, _DEFAULTS[name]) for name in _COLUMNS)
        return Seen(_user(columns), turn=0, in_conversation=False, columns=columns, new=True)

    async def write(
        self, seen: Seen, chat_id: str, event: tuple[str, str], reply: Outgoing
    ) -> Written | None:
        store = self.store
        now = store.outbox.clock.now()
        params = {
            _ROW + name: value for name, value in store.outbox.held(reply, store.lease).items()
        }
        params.update(e_platform=event[0], e_event=event[1], e_at=now)
        params.update(person_params(seen, chat_id, now))
        params["o_done"] = done = store.outbox.carry()
        try:
            row = await self._fetch("write new" if seen.new else "write", params)
        except BaseException:
            store.outbox.carried(done, deleted=False)
            raise
        store.outbox.carried(done, deleted=row is not _GONE)
        if row is _GONE:
            return None
        if not row["counted"]:
            return Written(CHANGED)
        if not row["recorded"] or row["id"] is None:
            return Written(DUPLICATE)
        return Written(QUEUED if row["status"] == PENDING else HELD, row["id"])


def person_params(seen: Seen, chat_id: str, now: datetime) -> dict[str, Any]:
    """The write's parameters about the person: someone new's columns; or who they are,
    their turn as read and when they were last seen (coarsely, as UserRepo does: not
    every message moves it)."""
    if seen.new:
        return {_NEW + name: getattr(seen.user, name) for name in _GIVEN}
    seen_at = seen.user.last_seen_at
    return {
        "g_user": seen.user.id,
        "g_turn": seen.turn,
        "g_chat": chat_id,
        "g_seen_at": now if now - seen_at >= LAST_SEEN_RESOLUTION else seen_at,
    }


_GONE = object()  # what _Link._fetch answers for a connection closed under it
_STATEMENTS: dict[str, Callable[[], Any]] = {
    "read": _read,
    "write": functools.partial(_write, False),
    "write new": functools.partial(_write, True),
}
