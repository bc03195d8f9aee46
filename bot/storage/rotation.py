"""Re-encrypt all stored data with the newest data key (``alliantiebot keys rotate``).

Every encrypted column is read in batches ordered by id, one transaction per
batch. A value the newest key alone can read is skipped, so a second run (after
an interruption) only does what is left. A value is written back only if it is
still the one that was read (compare and set): a running bot may change a row
meanwhile, and then the new value is read again. When every table is done, the
record of keys that data may still need (see :mod:`bot.storage.keycheck`) is
reduced to the newest key, so the older keys can be dropped from ``DATA_KEY``.

Works on SQLite and PostgreSQL while the bot runs; it never logs or prints
content.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import Cipher, DecryptionError
from bot.storage.keycheck import KeyRecord, keys_in_use, record_keys_in_use, verify_data_key
from bot.storage.models import (
    AgendaPoll,
    AgendaPromptAnswer,
    Base,
    Checkin,
    ConversationState,
    OutboxMessage,
)

# Every encrypted column (bot_meta's check value is rotated by verify_data_key).
# tests/integration/test_key_rotation.py checks that no binary column is missing.
_TABLES = Base.metadata.tables
ENCRYPTED: tuple[tuple[Table, str], ...] = (
    (_TABLES[ConversationState.__tablename__], "data"),
    (_TABLES[Checkin.__tablename__], "payload"),
    (_TABLES[OutboxMessage.__tablename__], "payload"),
    (_TABLES[AgendaPromptAnswer.__tablename__], "payload"),
    (_TABLES[AgendaPoll.__tablename__], "payload"),
)
DEFAULT_BATCH = 500
_RETRIES = 5  # a row the bot keeps changing while we look at it


class Outcome(enum.Enum):
    CURRENT = "current"  # already under the newest key
    ROTATED = "rotated"
    UNREADABLE = "unreadable"  # no key in DATA_KEY fits: left as it is
    GONE = "gone"  # deleted meanwhile
    BUSY = "busy"  # kept changing: left for the next run


@dataclass
class TableReport:
    table: str
    total: int
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    @property
    def seen(self) -> int:
        return sum(self.counts.values())


@dataclass
class RotationReport:
    tables: list[TableReport]
    newest: str
    complete: bool  # every readable value is under the newest key; the record was reduced
    still_needed: set[str] = field(default_factory=set)  # older keys that stay recorded

    def count(self, outcome: Outcome) -> int:
        return sum(t.counts[outcome] for t in self.tables)


async def _rotate_row(
    session: AsyncSession,
    cipher: Cipher,
    column: Column[bytes],
    row_id: int,
    token: bytes | None,
) -> Outcome:
    table, id_column = column.table, column.table.c.id
    for _ in range(_RETRIES):
        if token is None:
            return Outcome.GONE
        if cipher.is_current(token):
            return Outcome.CURRENT
        try:
            rotated = cipher.rotate(token)
        except DecryptionError:
            return Outcome.UNREADABLE
        result = await session.execute(
            update(table)
            .where(id_column == row_id, column == token)
            .values({column.name: rotated})
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            return Outcome.ROTATED
        # Changed (or deleted) by the bot after we read it: look again.
        token = (
            await session.execute(select(column).where(id_column == row_id))
        ).scalar_one_or_none()
    return Outcome.BUSY


async def _rotate_table(
    sessions: async_sessionmaker[AsyncSession],
    cipher: Cipher,
    table: Table,
    column_name: str,
    batch_size: int,
    progress: Callable[[str], None],
) -> TableReport:
    column: Column[bytes] = table.c[column_name]
    id_column = table.c.id
    async with sessions() as session:
        total = int(
            (await session.execute(select(func.count()).where(column.is_not(None)))).scalar_one()
        )
    report = TableReport(table.name, total)
    last_id = 0
    while True:
        async with sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(id_column, column)
                    .where(id_column > last_id, column.is_not(None))
                    .order_by(id_column)
                    .limit(batch_size)
                )
            ).all()
            outcomes = [
                await _rotate_row(session, cipher, column, int(row_id), token)
                for row_id, token in rows
            ]
        if not rows:
            break
        for outcome in outcomes:  # counted only once the batch is committed
            report.counts[outcome] += 1
        last_id = int(rows[-1][0])
        progress(f"{table.name}: {report.seen}/{max(report.total, report.seen)}")
    if report.seen == 0:
        progress(f"{table.name}: 0/0")
    return report


async def rotate_all(
    sessions: async_sessionmaker[AsyncSession],
    cipher: Cipher,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[str], None] = lambda line: None,
) -> RotationReport:
    """Re-encrypt every encrypted value with the newest key; see the module docstring.

    Raises ConfigError (from the start check) when ``DATA_KEY`` lacks a key that data
    may still be encrypted with: then nothing can be rotated.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    await verify_data_key(sessions, cipher)  # also records the newest key
    async with sessions() as session:
        before = await keys_in_use(session)
    if before is None:  # verify_data_key writes it; without it nothing can be said
        raise RuntimeError("no record of the keys in use after the key check")
    reports = [
        await _rotate_table(sessions, cipher, table, column, batch_size, progress)
        for table, column in ENCRYPTED
    ]
    complete = all(r.counts[Outcome.BUSY] == 0 for r in reports)
    if complete:
        async with sessions() as session, session.begin():
            now = await keys_in_use(session, lock=True)
            if now is None:
                raise RuntimeError("the record of the keys in use disappeared")
            # A worker that started meanwhile with another key first may have written
            # rows with it after we passed them: that key stays recorded.
            newest = cipher.newest_fingerprint
            keep = {fp: seq for fp, seq in now.keys.items() if fp == newest or seq > before.seq}
            await record_keys_in_use(session, KeyRecord(now.seq, keep))
        still_needed = set(keep) - {newest}
    else:
        still_needed = set(before.keys) - {cipher.newest_fingerprint}
    return RotationReport(reports, cipher.newest_fingerprint, complete, still_needed)
