"""The durable outbox: one row per (message, recipient), written before sending.

Enqueueing is idempotent on ``key``; claiming hands rows to one sender at a
time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update that only
one writer can win everywhere) under a lease, so a crashed sender's rows are
picked up again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    LargeBinary,
    ScalarSelect,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.core.clock import Clock
from bot.core.messages import (
    Choice,
    Document,
    Image,
    PressOutcome,
    PrivateChatInvite,
    Reply,
    ShareLink,
)
from bot.crypto import Cipher, DecryptionError
from bot.storage.dialect import insert_for, is_postgresql, table_of, upsert
from bot.storage.models import OutboxMessage, UTCDateTime
from bot.storage.repositories.users import UserRepo

log = logging.getLogger(__name__)
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
OPEN = (PENDING, SENDING)
# Written into the SQL, not bound: SQLite uses the partial index on a chat's unsent rows
# (ix_outbox_chat_open, "WHERE status IN ('pending', 'sending')") only when it can see
# that the query asks for those statuses; with bound parameters it scanned the table.
OPEN_SQL: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in OPEN]
# The kind of a reply held for the channel that handles the update (durable replies).
# Delivered replies are deleted, not kept as "sent": the outbox holds them only until
# they are out, so that a crash cannot lose them.
REPLY = "reply"
# Seconds a report of sent replies waits for an express write under way to delete them
# along with its own statement (Outbox.carry), before it deletes them itself.
CARRY_WAIT = 0.05
# Written into the SQL for the partial index ix_outbox_reply_waiting, as OPEN_SQL above.
REPLY_SQL: ColumnElement[str] = literal_column(f"'{REPLY}'")
PENDING_SQL: ColumnElement[str] = literal_column(f"'{PENDING}'")


_ROW_COLUMNS = (
    "key",
    "platform",
    "chat_id",
    "user_id",
    "payload",
    "kind",
    "next_attempt_at",
    "created_at",
    "announcement_id",
    "lease_until",
)


def _row_values(*, decided: bool, prefix: str = "") -> dict[str, Any]:
    """The VALUES of one outbox row as bound parameters named after the columns (after
    ``prefix``); the status, attempts and lease too unless ``decided`` (then the INSERT
    decides them)."""
    table = table_of(OutboxMessage)
    names = _ROW_COLUMNS if decided else (*_ROW_COLUMNS, "status", "attempts")
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in names}


@functools.cache
def _plain_insert(postgresql: bool) -> Any:
    """One row, skipped when its key is stored already (a redelivery). Built once per
    database, as :func:`deciding_insert`: this runs for every reply."""
    table = table_of(OutboxMessage)
    insert = insert_for(postgresql)
    return (
        insert(table)
        .values(**_row_values(decided=False))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )


def deciding_values(prefix: str = "") -> dict[str, Any]:
    """The columns of a reply row that decides itself whether it waits (as
    :func:`deciding_insert`), by name: bound parameters named as :meth:`Outbox.held`'s
    keys after ``prefix``, and the decisions; for the express path's INSERT ... SELECT
    too (bot.storage.express)."""
    table = table_of(OutboxMessage)
    waiting = exists().where(
        table.c.platform == bindparam(f"{prefix}w_platform", type_=String()),
        table.c.chat_id == bindparam(f"{prefix}w_chat_id", type_=String()),
        table.c.status.in_(OPEN_SQL),
    )
    values = _row_values(decided=True, prefix=prefix)
    values.update(
        status=case((waiting, PENDING), else_=SENDING),
        attempts=case((waiting, 0), else_=1),
        lease_until=case((waiting, null()), else_=values["lease_until"]),
    )
    return values


@functools.cache
def deciding_insert(postgresql: bool) -> Any:
    """One reply row that decides itself whether it waits: ``pending`` (queued, for the
    sender) when earlier messages to its chat (``w_platform``, ``w_chat_id``) are
    unsent, else ``sending`` under the lease ``lease_until``, held for the channel."""
    table = table_of(OutboxMessage)
    insert = insert_for(postgresql)
    return (
        insert(table)
        .values(**deciding_values())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id, table.c.status)
    )


@functools.cache
def _delete_rows() -> Any:
    table = table_of(OutboxMessage)
    return delete(table).where(table.c.id.in_(bindparam("ids", expanding=True)))


def _waiting(chats: Collection[tuple[str, str]]) -> Any:
    """Whether any of ``chats`` has unsent messages."""
    return exists().where(
        or_(*(and_(OutboxMessage.platform == p, OutboxMessage.chat_id == c) for p, c in chats)),
        OutboxMessage.status.in_(OPEN_SQL),
    )


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The payload of a row: what the channel needs to draw the reply. Fields at their
    defaults are left out, so a plain text reply is stored as it always was."""
    data: dict[str, Any] = {"text": reply.text}
    if reply.choices:
        # A link button adds its url: [label, "", url]; a plain one stays [label, action].
        data["choices"] = [
            [c.label, c.action] if c.url is None else [c.label, c.action, c.url]
            for c in reply.choices
        ]
    if reply.image:
        data["image"] = [str(reply.image.path), reply.image.alt]
    if reply.document:
        data["document"] = [str(reply.document.path), reply.document.filename]
    if reply.press_outcome is not PressOutcome.ACCEPTED:
        data["press_outcome"] = reply.press_outcome.value
    if reply.private_invite:
        data["private_invite"] = [
            reply.private_invite.start_payload,
            reply.private_invite.button_label,
        ]
    if reply.share_link:
        data["share_link"] = [reply.share_link.start_payload, reply.share_link.label]
    if reply.choice_numbers is not None:
        data["choice_numbers"] = list(reply.choice_numbers)
    if reply.edit_of is not None:
        data["edit_of"] = reply.edit_of
    if reply.markup:
        data["markup"] = True
    return data


def reply_from_json(data: dict[str, Any]) -> Reply:
    """A stored payload as a reply; rows written before a field existed lack it and
    get its default."""
    image = data.get("image")
    document = data.get("document")
    invite = data.get("private_invite")
    numbers = data.get("choice_numbers")
    share = data.get("share_link")
    return Reply(
        text=data.get("text", ""),
        choices=tuple(Choice(*choice) for choice in data.get("choices", [])),
        image=Image(Path(image[0]), image[1]) if image else None,
        document=Document(Path(document[0]), document[1]) if document else None,
        press_outcome=PressOutcome(data.get("press_outcome", PressOutcome.ACCEPTED)),
        private_invite=PrivateChatInvite(invite[0], invite[1]) if invite else None,
        choice_numbers=tuple(numbers) if numbers is not None else None,
        share_link=ShareLink(share[0], share[1]) if share else None,
        edit_of=data.get("edit_of"),
        markup=bool(data.get("markup", False)),
    )


def _served(
    platforms: Sequence[str],
    only_chats: Mapping[str, Collection[str]],
    row: type[OutboxMessage] = OutboxMessage,
) -> ColumnElement[bool]:
    """Rows for these platforms, and for one named in ``only_chats`` only its chats
    (``row``: the outbox or an alias of it)."""
    everywhere = [p for p in platforms if p not in only_chats]
    parts: list[ColumnElement[bool]] = []
    if everywhere:
        parts.append(row.platform.in_(everywhere))
    parts += [
        and_(row.platform == p, row.chat_id.in_(list(only_chats[p])))
        for p in platforms
        if p in only_chats
    ]
    return or_(*parts)


def _first_open(row: type[OutboxMessage]) -> ScalarSelect[int]:
    """The id of the first unsent row of ``row``'s chat (``row``: the outbox or an alias
    of it), as a correlated scalar subquery. PostgreSQL turns a NOT EXISTS into an
    anti-join, and without fresh statistics (right after a broadcast) it joined every
    pending row with every other: 117 s at 20,000. This form is one probe of
    ix_outbox_chat_open per row asked about, on either database."""
    earlier = aliased(OutboxMessage)
    return (
        select(func.min(earlier.id))
        .where(
            earlier.platform == row.platform,
            earlier.chat_id == row.chat_id,
            earlier.status.in_(OPEN_SQL),
        )
        .correlate_except(earlier)  # to ``row`` also when it is two queries out
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to enqueue. ``key`` makes enqueueing the same thing twice a no-op."""

    key: str
    platform: str
    chat_id: str
    reply: Reply
    user_id: int | None = None
    kind: str = "message"
    not_before: datetime | None = None
    announcement_id: int | None = None  # the announcement this row delivers, for its counts


@dataclass(slots=True)
class Claimed:
    id: int
    platform: str
    chat_id: str
    user_id: int | None
    reply: Reply
    attempts: int
    kind: str


@dataclass
class Outbox:
    sessions: async_sessionmaker[AsyncSession]
    cipher: Cipher
    clock: Clock
    on_enqueue: list[Callable[[], None]] = field(default_factory=list)
    # SQLite has one writer: the outbox's own transactions take turns with the
    # messages' (the same lock as UnitOfWork's), instead of sleeping in SQLite's
    # busy handler while a message's transaction holds the file, or making it sleep.
    write_lock: asyncio.Lock | None = None
    # Sent rows not deleted yet, and the turn of the one DELETE at a time (settle).
    _unsettled: set[int] = field(default_factory=set, init=False, repr=False)
    _settle_turn: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    # Sent rows a DELETE in flight is deleting, with what it comes to (True: deleted).
    _in_flight: dict[int, asyncio.Future[bool]] = field(
        default_factory=dict, init=False, repr=False
    )
    # Express writes under way (bot.storage.express), which may carry that DELETE in
    # their own statement, and what wakes a report waiting for one of them.
    _carriers: int = field(default=0, init=False, repr=False)
    _carried: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    @contextlib.asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the outbox's own, after its turn at the write lock."""
        lock = self.write_lock or contextlib.nullcontext()
        async with lock, self.sessions() as session, session.begin():
            yield session

    async def enqueue(self, items: Sequence[Outgoing], session: AsyncSession | None = None) -> int:
        """Store messages for delivery; returns how many were new.

        Pass ``session`` to enqueue inside the caller's transaction, so the
        messages exist exactly when the caller's change is committed.
        """
        if not items:
            return 0
        now = self.clock.now()
        # One reply sent to many (an announcement, a reminder) is the same object in
        # every item: it is encrypted once per call, and its rows share the ciphertext.
        sealed: dict[int, bytes] = {}
        rows = [self._row(item, now, sealed) for item in items]
        if session is None:
            async with self._begin() as own:
                count = await self._insert_rows(own, rows)
        else:
            count = await self._insert_rows(session, rows)
        self.wake()
        return count

    def _row(self, item: Outgoing, now: datetime, sealed: dict[int, bytes]) -> dict[str, Any]:
        """The columns of a new pending row for ``item``; ``sealed`` holds the payloads
        encrypted so far in this call, by the reply's identity."""
        payload = sealed.get(id(item.reply))
        if payload is None:
            payload = sealed[id(item.reply)] = self.cipher.encrypt(reply_to_json(item.reply))
        return {
            "key": item.key,
            "platform": item.platform,
            "chat_id": item.chat_id,
            "user_id": item.user_id,
            "payload": payload,
            "kind": item.kind,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": item.not_before or now,
            "created_at": now,
            "announcement_id": item.announcement_id,
        }

    async def enqueue_for(
        self, platform: str, platform_user_id: str, items: Sequence[Outgoing], delay: float = 0.0
    ) -> int:
        """Enqueue replies made outside a transaction (the crisis reply, an error),
        not before ``delay`` seconds, with their person when the database knows
        them: every row then carries its person, for /mijngegevens and /vergeetmij."""
        not_before = self.clock.now() + timedelta(seconds=delay)
        async with self._begin() as session:
            person = await UserRepo(session).find(platform, platform_user_id)
            user_id = person.id if person is not None else None
            return await self.enqueue(
                [replace(item, user_id=user_id, not_before=not_before) for item in items],
                session=session,
            )

    async def enqueue_to(
        self,
        session: AsyncSession,
        people: Select[Any, Any, Any],
        key_prefix: str,
        reply: Reply,
        kind: str = "message",
    ) -> int:
        """One reply to many people in one ``INSERT ... SELECT``, in the caller's
        transaction: ``people`` selects (user id, platform, chat id) and each row's key
        is ``key_prefix`` followed by the user id (an existing key is left alone). The
        reply is encrypted once and every row carries that ciphertext. Returns how many
        rows were new. For fan-outs too large to build in Python row by row (the
        agenda's reminders); call :meth:`wake` after the commit."""
        now = self.clock.now()
        payload = self.cipher.encrypt(reply_to_json(reply))
        chosen = people.subquery()
        user_id, platform, chat_id = list(chosen.c)[:3]
        source = select(
            literal(key_prefix, String()) + cast(user_id, String()),
            platform,
            chat_id,
            user_id,
            literal(payload, LargeBinary()),
            literal(kind, String()),
            literal(PENDING, String()),
            literal(0, Integer()),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        ).where(true())  # SQLite: an upsert's SELECT needs a WHERE clause
        columns = [
            "key",
            "platform",
            "chat_id",
            "user_id",
            "payload",
            "kind",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
        ]
        stmt = (
            upsert(session)(OutboxMessage)
            .from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result = await session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def _insert_rows(self, session: AsyncSession, rows: list[dict[str, Any]]) -> int:
        # One statement, the rows as executemany parameters (SQLAlchemy batches them
        # as "insertmanyvalues"); RETURNING counts what was new, as executemany's
        # rowcount is not reliable. Building a VALUES clause per chunk cost ~90%.
        stmt = (
            upsert(session)(OutboxMessage)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxMessage.id)
        )
        return len((await session.execute(stmt, rows)).all())

    @staticmethod
    async def _take(
        session: AsyncSession, ids: Sequence[int], token: str, lease_until: datetime
    ) -> None:
        """Mark rows as claimed under ``token``."""
        await session.execute(
            update(OutboxMessage)
            # By id alone: the rows are ours already (locked on PostgreSQL, and SQLite's
            # transaction holds the write lock). Repeating the due condition here made
            # SQLite answer the OR from the status index, a scan of every pending row
            # per batch (20,000 rows: 360 deliveries/s instead of thousands).
            .where(OutboxMessage.id.in_(ids))
            .values(
                status=SENDING,
                claim_token=token,
                lease_until=lease_until,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )

    async def _answering(
        self,
        session: AsyncSession,
        limit: int,
        now: datetime,
        platforms: Sequence[str] | None,
        only_chats: Mapping[str, Collection[str]] | None,
        postgres: bool,
    ) -> list[int]:
        """Up to ``limit`` rows that are due and first in a chat where a reply waits
        (queued behind earlier rows, see :meth:`hold`): a broadcast row ahead of the
        reply, or the reply itself once it is first. Without this, a reply asked
        during a broadcast to thousands waited behind its chat's broadcast row, and
        that row waited its turn behind the thousands (issue 18).

        The query starts from the waiting replies (the partial index
        ix_outbox_reply_waiting, empty but for them) and asks, per reply, for its
        chat's first open row (one probe of ix_outbox_chat_open) and whether that row
        is pending and due (a primary key lookup). It names no outer outbox row to
        scan: SQLite without statistics (it never has any here) answered ``id IN
        (...)`` or a join by walking ix_outbox_due over every due row."""
        waiting = aliased(OutboxMessage)
        first = aliased(OutboxMessage)
        first_due = (
            select(first.id)
            .where(
                first.id == _first_open(waiting),
                first.status == PENDING,
                first.next_attempt_at <= now,
            )
            .scalar_subquery()
        )
        query = (
            select(first_due)
            .where(waiting.kind == REPLY_SQL, waiting.status == PENDING_SQL)
            .order_by(waiting.id)
            .limit(limit)
        )
        if platforms is not None:
            query = query.where(_served(platforms, only_chats or {}, waiting))
        found = (await session.execute(query)).scalars()
        ids = list(dict.fromkeys(i for i in found if i is not None))  # two replies, one chat
        if ids and postgres:
            # Lock them: another sender may have taken one since. A locked row is read
            # in its newest version, so its status is asked here, not in the WHERE: with
            # the status and time there, PostgreSQL without fresh statistics walked
            # ix_outbox_due over every due row (7 ms at 20,000) instead of the key.
            locked = (
                select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.next_attempt_at)
                .where(OutboxMessage.id.in_(ids))
                .with_for_update(skip_locked=True)
            )
            rows = (await session.execute(locked)).all()
            taken = {r.id for r in rows if r.status == PENDING and r.next_attempt_at <= now}
            ids = [i for i in ids if i in taken]
        return ids

    @staticmethod
    async def _due(
        session: AsyncSession,
        limit: int,
        now: datetime,
        platforms: Sequence[str] | None,
        only_chats: Mapping[str, Collection[str]] | None,
        postgres: bool,
    ) -> list[int]:
        """Up to ``limit`` rows first in their chat: those whose lease ran out, then
        the due pending ones by ``next_attempt_at``."""
        first_in_chat = OutboxMessage.id == _first_open(OutboxMessage)
        pending_due = and_(
            OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now, first_in_chat
        )
        lease_expired = and_(
            OutboxMessage.status == SENDING, OutboxMessage.lease_until < now, first_in_chat
        )
        if platforms is not None:
            mine = _served(platforms, only_chats or {})
            pending_due, lease_expired = and_(pending_due, mine), and_(lease_expired, mine)
        # Two simple queries, not one with OR: with the OR, PostgreSQL sorted every due
        # row to return a batch (4 ms at 10,000 pending, 27 ms at 50,000).
        ids: list[int] = []
        for condition, order in (
            (lease_expired, OutboxMessage.lease_until),
            (pending_due, OutboxMessage.next_attempt_at),
        ):
            query = (
                select(OutboxMessage.id)
                .where(condition)
                .order_by(order, OutboxMessage.id)
                .limit(limit - len(ids))
            )
            if postgres:
                query = query.with_for_update(skip_locked=True)
            ids += list((await session.execute(query)).scalars())
            if len(ids) >= limit:
                break
        return ids

    async def claim(
        self,
        limit: int,
        lease: timedelta,
        platforms: Sequence[str] | None = None,
        only_chats: Mapping[str, Collection[str]] | None = None,
    ) -> list[Claimed]:
        """Take up to ``limit`` due rows for delivery under a lease.

        ``platforms``: only rows for these channels (the ones this process runs).
        ``only_chats``: for a platform named here, only rows to these chats (a
        terminal serves one person: the others' rows wait for their own terminal).
        A row is due only when no earlier row to the same chat is still unsent, so
        one chat's messages go out strictly in order (at most one per chat in a
        batch), while different chats go in parallel. The chats where a reply waits
        come first (see :meth:`_answering`), and first in the returned batch; then
        rows whose lease ran out, then the other due rows by ``next_attempt_at``.
        """
        if platforms is not None and not platforms:
            return []
        now = self.clock.now()
        token = str(uuid.uuid4())
        async with self._begin() as session:
            postgres = is_postgresql(session)
            # The chats where a reply waits come first (issue 18). They are taken before
            # the rest is looked for, so those queries pass them by as they are (a NOT IN
            # of them there made PostgreSQL sort every due row: 180 ms at 20,000).
            answered = await self._answering(session, limit, now, platforms, only_chats, postgres)
            if answered:
                await self._take(session, answered, token, now + lease)
            ids: list[int] = []
            if len(answered) < limit:
                ids = await self._due(
                    session, limit - len(answered), now, platforms, only_chats, postgres
                )
            if ids:
                await self._take(session, ids, token, now + lease)
            elif not answered:
                return []
            result = await session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.platform,
                    OutboxMessage.chat_id,
                    OutboxMessage.user_id,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                    OutboxMessage.kind,
                )
                .where(OutboxMessage.claim_token == token)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            )
            claimed, unreadable = [], []
            for r in result:
                try:
                    reply = reply_from_json(self.cipher.decrypt(r.payload))
                except DecryptionError:
                    unreadable.append(r.id)  # a key was removed: this row can never be sent
                    continue
                claimed.append(
                    Claimed(
                        id=r.id,
                        platform=r.platform,
                        chat_id=r.chat_id,
                        user_id=r.user_id,
                        reply=reply,
                        attempts=r.attempts,
                        kind=r.kind,
                    )
                )
            if answered:  # those first in the batch, too: the sender sends it in groups
                first = set(answered)
                claimed.sort(key=lambda row: row.id not in first)
            if unreadable:
                log.error(
                    "%d outbox rows cannot be decrypted with DATA_KEY; marked failed",
                    len(unreadable),
                )
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(unreadable))
                    .values(status=FAILED, claim_token=None, last_error="cannot decrypt")
                )
            return claimed

    async def hold(
        self, session: AsyncSession, items: Sequence[Outgoing], lease: timedelta
    ) -> tuple[list[int | None], bool]:
        """Store the replies of the update being handled, in its transaction.

        Normally they are held for the channel that handles the update (status
        ``sending`` under a lease): it sends them at once and reports back with
        :meth:`settle`; if the process dies first, the lease runs out and the
        sender delivers them. When earlier messages to the same chat are still
        waiting, the replies queue behind them instead (``True`` is returned): the
        sender delivers them all, in order. Returns the row ids (None for a key
        stored before: a redelivered update) and whether they were queued.
        """
        if not items:
            return [], False
        now = self.clock.now()
        postgresql = is_postgresql(session)
        lease_until = now + lease
        sealed: dict[int, bytes] = {}
        rows = [self._row(item, now, sealed) for item in items]
        chats = {(item.platform, item.chat_id) for item in items}
        ids: list[int | None] = []
        queued: bool | None = None
        if len(chats) == 1:
            # The usual case: the first row decides in its own INSERT whether earlier
            # messages to the chat wait (one round trip); the rest follow it.
            first = self._deciding(rows.pop(0), items[0], lease_until)
            found = (await session.execute(deciding_insert(postgresql), first)).first()
            ids.append(None if found is None else found.id)
            if found is not None:
                queued = found.status == PENDING
        if queued is None:  # several chats, or stored before (a redelivery): ask alone
            queued = bool((await session.execute(select(_waiting(chats)))).scalar_one())
        for values in rows:
            if queued:
                values["lease_until"] = None
            else:  # held for the channel, as if claimed by it
                values.update(status=SENDING, attempts=1, lease_until=lease_until)
            found = (await session.execute(_plain_insert(postgresql), values)).first()
            ids.append(None if found is None else found.id)
        return ids, queued

    def held(self, item: Outgoing, lease: timedelta) -> dict[str, Any]:
        """The parameters of :func:`deciding_values` for one reply held for the channel
        under ``lease`` from now (the express path's row)."""
        now = self.clock.now()
        return self._deciding(self._row(item, now, {}), item, now + lease)

    @staticmethod
    def _deciding(row: dict[str, Any], item: Outgoing, lease_until: datetime) -> dict[str, Any]:
        values = {k: v for k, v in row.items() if k not in ("status", "attempts")}
        values.update(lease_until=lease_until, w_platform=item.platform, w_chat_id=item.chat_id)
        return values

    async def _delete_done(self, ids: Collection[int]) -> None:
        """Delete rows that are out, together with those other replies reported while
        the last DELETE ran (a group commit): one at a time, so under load one
        DELETE serves many replies, and alone it is one DELETE at once. Returns once
        ``ids`` are deleted; raises, leaving them for the next DELETE, when it failed.
        On PostgreSQL it is committed by itself (no BEGIN and COMMIT round trips), and
        while express writes are under way the next one carries it in its own
        statement instead (:meth:`carry`): no round trip of its own at all."""
        mine = set(ids)
        self._unsettled |= mine
        await self._wait_for_a_carrier(mine)
        while True:
            flying = {self._in_flight[i] for i in mine if i in self._in_flight}
            if flying:  # being deleted: see how that went (a failure puts them back)
                await asyncio.wait([asyncio.shield(f) for f in flying])
                continue
            async with self._settle_turn:
                if any(i in self._in_flight for i in mine):
                    continue  # taken by an express write while this one waited
                if not mine & self._unsettled:
                    return  # a DELETE that ran while this one waited took them along
                batch = self._take_unsettled()
                try:
                    await self._delete_rows(batch)
                except BaseException:
                    self.carried(batch, deleted=False)
                    raise
                self.carried(batch, deleted=True)
                return

    async def _delete_rows(self, ids: list[int]) -> None:
        if self.write_lock is not None:  # SQLite: in turn with the other writers
            async with self._begin() as session:
                await session.execute(_delete_rows(), {"ids": ids})
        else:
            async with self.sessions() as session:
                connection = await session.connection(
                    execution_options={"isolation_level": "AUTOCOMMIT"}
                )
                await connection.execute(_delete_rows(), {"ids": ids})

    async def _wait_for_a_carrier(self, mine: set[int]) -> None:
        """While express writes are under way, give one of them up to ``CARRY_WAIT``
        seconds to take ``mine`` along (a settle waits for it; the reply is out
        already). With none under way, at once (one message at a time: no waiting)."""
        deadline = asyncio.get_running_loop().time() + CARRY_WAIT
        while self._carriers and mine & self._unsettled:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            self._carried.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._carried.wait(), left)

    def carrying(self, under_way: bool) -> None:
        """An express write starts (True) or is over (False): see :meth:`carry`."""
        self._carriers += 1 if under_way else -1
        if not self._carriers:
            self._carried.set()  # nobody left to carry: reports waiting delete now

    def carry(self) -> list[int]:
        """For an express write about to run its statement: the sent rows waiting to
        be deleted, which it deletes in the same statement; report with
        :meth:`carried`. Nothing while a DELETE of their own runs (it takes them)."""
        if not self._unsettled or self._settle_turn.locked():
            return []
        return self._take_unsettled()

    def _take_unsettled(self) -> list[int]:
        """Every sent row waiting to be deleted, now in flight (see :meth:`carried`)."""
        batch, self._unsettled = sorted(self._unsettled), set()
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        for row in batch:
            self._in_flight[row] = done
        self._carried.set()
        return batch

    def carried(self, batch: list[int], *, deleted: bool) -> None:
        """How the statement that took ``batch`` (:meth:`carry`) went: not deleted, they
        are put back for the next DELETE (the reports waiting for them run it)."""
        if not batch:
            return
        done = self._in_flight[batch[0]]
        for row in batch:
            self._in_flight.pop(row, None)
        if not deleted:
            self._unsettled.update(batch)
        if not done.done():
            done.set_result(deleted)

    def wake(self) -> None:
        """Tell this process's sender that rows are waiting (call it once they are
        committed: a sender that looks earlier finds nothing and waits a poll)."""
        for callback in self.on_enqueue:
            callback()

    async def settle(
        self,
        *,
        sent: Sequence[int] = (),
        deferred: Sequence[int] = (),
        retry_after: float = 0.0,
        failed: Sequence[int] = (),
    ) -> None:
        """The channel's report on held replies: ``sent`` ones are deleted (they were
        kept only until out), and so are ``failed`` ones (the platform refused them
        for good); ``deferred`` ones go to the sender, not before ``retry_after``
        seconds."""
        done = [*sent, *failed]
        if not (done or deferred):
            return
        now = self.clock.now()
        if done and not deferred:  # the usual report: "sent"
            await self._delete_done(done)
            return
        async with self._begin() as session:
            if done:
                await session.execute(
                    delete(OutboxMessage)
                    .where(OutboxMessage.id.in_(done))
                    .execution_options(synchronize_session=False)
                )
            if deferred:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(list(deferred)))
                    .values(
                        status=PENDING,
                        lease_until=None,
                        claim_token=None,
                        attempts=0,
                        next_attempt_at=now + timedelta(seconds=max(retry_after, 0.0)),
                    )
                    .execution_options(synchronize_session=False)
                )
        if deferred:
            self.wake()

    async def cancel_for_user(
        self, session: AsyncSession, user_id: int, kinds: Sequence[str] | None = None
    ) -> int:
        """Cancel everything not yet sent to a person (after /stop or deletion)."""
        stmt = (
            update(OutboxMessage)
            .where(OutboxMessage.user_id == user_id, OutboxMessage.status == PENDING)
            .values(status=CANCELLED)
        )
        if kinds is not None:
            stmt = stmt.where(OutboxMessage.kind.in_(list(kinds)))
        result = await session.execute(stmt.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def prune(self, session: AsyncSession, finished_before: datetime) -> int:
        """Delete sent, failed and cancelled rows created before ``finished_before``."""
        result = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_([SENT, FAILED, CANCELLED]),
                OutboxMessage.created_at < finished_before,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def counts(self) -> dict[str, int]:
        async with self.sessions() as session:
            result = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return {status: int(count) for status, count in result.all()}

    async def oldest_due(self) -> datetime | None:
        """When the longest-waiting pending row was due to go (its ``next_attempt_at``),
        among those due now; None when none is (for the metrics' age gauge)."""
        async with self.sessions() as session:
            stmt = select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= self.clock.now()
            )
            oldest: datetime | None = (await session.execute(stmt)).scalar_one()
            return oldest
