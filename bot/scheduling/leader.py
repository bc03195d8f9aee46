"""One scheduler leader among the workers on PostgreSQL: a session-level advisory lock.

Every worker may start with ``RUN_SCHEDULER=true``; all of them add and remove jobs in
the shared job store, but only the holder of ``pg_try_advisory_lock(LEADER_LOCK)`` runs
them. The lock is held on a connection of its own, outside every pool, kept open for
as long as this worker leads: PostgreSQL frees the lock when that connection ends, so
a worker killed with ``kill -9`` (its socket closed by the kernel) hands over at once,
and one whose host vanished hands over when the server's TCP keepalives give up on it
(set on the connection: about 20 s). A follower tries again every ``RETRY_SECONDS``,
so another worker takes over well within 30 s.

The same election serves other single-holder duties with a lock id of their own
(``lock``): the outbox's one sender per platform (bot/outbox/sender.py).

The leader checks its connection every ``CHECK_SECONDS`` with ``SELECT 1``, bounded on
the client's side (asyncpg's ``command_timeout``: a server that never answers counts
as gone). On an error it pauses at once, drops the connection and becomes a follower:
better no leader for a few seconds than two. Everything here runs on the event loop
through asyncpg and never blocks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
LEADER_LOCK = 0x616C6C53  # "allS": the advisory lock id of the scheduler's leader
# How often a follower tries to take the lock, and a leader checks its connection
# (module constants, so a test can make them quick).
RETRY_SECONDS: float = 5.0
CHECK_SECONDS: float = 2.0
# The server gives up on a silent client after idle + interval x count seconds, and
# on unacknowledged data after the user timeout: then the lock is free again.
KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "20000",
    "application_name": "alliantiebot scheduler leader",
}


class Leadership:
    """Campaigns for the lead, and calls ``on_lead`` when this worker takes it and
    ``on_follow`` (at once, synchronously) when it loses it. :meth:`start` makes the
    first attempt itself, so a lone worker leads when it returns.

    ``lock``, ``role`` and ``duty`` name the election (the scheduler's by default):
    the advisory lock id, the name in the log lines and in ``pg_stat_activity``, and
    what a leader does ("<role>: this worker (pid N) leads and <duty>")."""

    def __init__(
        self,
        database_url: str,
        *,
        timeout: float,
        on_lead: Callable[[], Awaitable[None]],
        on_follow: Callable[[], None],
        lock: int = LEADER_LOCK,
        role: str = "scheduler",
        duty: str = "runs the jobs",
    ) -> None:
        self.timeout = timeout
        self.lock, self.role, self.duty = lock, role, duty
        self._on_lead = on_lead
        self._on_follow = on_follow
        self._engine: AsyncEngine = create_async_engine(
            make_url(database_url).set(drivername="postgresql+asyncpg"),
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={
                "timeout": timeout,
                "command_timeout": timeout,
                "server_settings": {
                    **KEEPALIVES,
                    "application_name": f"alliantiebot {role} leader",
                },
            },
        )
        self._conn: AsyncConnection | None = None
        self._leading = False
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self._leading

    async def backend_pid(self) -> int | None:
        """The server process of the lock's connection (for operators and tests)."""
        if self._conn is None:
            return None
        pid = (await self._conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return int(pid)

    async def start(self) -> None:
        await self._step()
        self._task = asyncio.create_task(self._campaign(), name=f"{self.role}-leader")

    async def stop(self) -> None:
        """Stop campaigning and end the connection, which frees the lock at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop("this worker stops")
        await self._engine.dispose()

    async def _campaign(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS if self._leading else RETRY_SECONDS)
            try:
                await self._step()
            except Exception:  # never end the campaign: the next step tries again
                log.exception("%s leader election failed", self.role)

    async def _step(self) -> None:
        if self._leading:
            if not await self._alive():
                await self._drop("its lock connection failed", broken=True)
            return
        if not await self._try_lock():
            return
        self._leading = True
        log.info("%s: this worker (pid %d) leads and %s", self.role, os.getpid(), self.duty)
        await self._on_lead()

    async def _try_lock(self) -> bool:
        try:
            async with asyncio.timeout(2 * self.timeout):
                if self._conn is None:
                    conn = await self._engine.connect()
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                got = await self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock}
                )
                return bool(got.scalar_one())
        except Exception as exc:
            log.debug("%s: could not try the leader lock (%s)", self.role, type(exc).__name__)
            await self._close(broken=True)
            return False

    async def _alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            async with asyncio.timeout(2 * self.timeout):
                await self._conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning(
                "%s: the leader lock's connection failed (%s)", self.role, type(exc).__name__
            )
            return False
        return True

    async def _drop(self, why: str, *, broken: bool = False) -> None:
        """Pause first (no moment with two leaders running jobs), then let go."""
        was_leading, self._leading = self._leading, False
        if was_leading:
            self._on_follow()
            log.info("%s: this worker (pid %d) stopped leading: %s", self.role, os.getpid(), why)
        await self._close(broken=broken)

    async def _close(self, *, broken: bool = False) -> None:
        """End the connection: politely, or (broken, or no answer in time) by
        dropping the socket without a goodbye."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if not broken:
            try:
                async with asyncio.timeout(self.timeout):
                    await conn.close()
                return
            except Exception as exc:
                log.debug("%s: closing the leader lock failed (%s)", self.role, type(exc).__name__)
        with contextlib.suppress(Exception):
            await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()
