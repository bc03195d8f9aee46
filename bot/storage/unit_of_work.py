"""The one way into the database for a message or a scheduled job.

:meth:`UnitOfWork.begin` opens one transaction and hands out its repositories:
everything done through them is committed together when the block ends, or
rolled back when it raises. The middleware runs each message in one
(:func:`bot.core.middleware.unit_of_work`), and each scheduled job runs in one.
The core sees this class only through its protocol, ``bot.core.context.Transactions``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import Cipher
from bot.storage import db
from bot.storage.repositories import Repos

log = logging.getLogger(__name__)


class Source(Protocol):
    """Where the session factory and the cipher are kept (``Services``)."""

    sessions: async_sessionmaker[AsyncSession]
    cipher: Cipher


class UnitOfWork:
    def __init__(self, source: Source, *, write_lock: asyncio.Lock | None = None) -> None:
        # Read at every begin(), not copied: the process has one session factory,
        # and whoever swaps it (a test that takes the database away) swaps it here too.
        self.source = source
        # SQLite has one writer: transactions take turns in the process instead of
        # fighting over the file lock in SQLite's sleeping retry loop.
        self.write_lock = write_lock
        # A full disk is logged once (by error, naming the file), until a commit works.
        self.disk_full = False

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[Repos]:
        """One transaction, committed when the block ends, rolled back if it raises."""
        lock = self.write_lock or contextlib.nullcontext()
        try:
            async with lock, self.source.sessions() as session, session.begin():
                yield Repos(session, self.source.cipher)
        except Exception as exc:
            if db.is_disk_full(exc) and not self.disk_full:
                self.disk_full = True
                log.error("%s", db.disk_full_line(self._url(), exc))
            raise
        if self.disk_full:
            self.disk_full = False
            log.info("the database can be written again")

    def _url(self) -> str:
        bind = self.source.sessions.kw.get("bind")
        url = getattr(bind, "url", None)
        return "" if url is None else url.render_as_string(hide_password=True)

    def is_unavailable(self, exc: BaseException) -> bool:
        """True when an error means the database is down or unreachable, not a bug."""
        return db.is_unavailable(exc)

    def is_stale_connection(self, exc: BaseException) -> bool:
        """True when a pooled connection turned out to be closed by the server."""
        return db.is_stale_connection(exc)
