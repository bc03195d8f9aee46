"""Ping a pooled PostgreSQL connection only when it has been idle a while.

SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip before every
message, and on the hot path two (the message's transaction and the settle after the
send). A connection handed back a moment ago is almost always still there; one that
sat idle (a quiet night, a PostgreSQL restart in between) is the one to check. So the
ping runs only after ``idle`` seconds in the pool; a dead one raises
``DisconnectionError`` and the pool replaces it at once, as with ``pool_pre_ping``.

What the ping no longer catches (a connection killed while the bot was busy) fails
its first statement as a disconnect: SQLAlchemy then marks every connection of the
pool older than that moment stale, so each is replaced at its next checkout, and the
message middleware handles the message once more (``bot.core.middleware.unit_of_work``).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

PING_AFTER_IDLE = 1.0
"""Seconds a connection may sit in the pool and still be used without a ping."""

_IDLE_SINCE = "alliantiebot_idle_since"


def ping_after_idle(engine: AsyncEngine, idle: float | None = None) -> None:
    """Install the idle-aware ping on ``engine``'s pool (in place of ``pool_pre_ping``):
    after ``idle`` seconds, by default :data:`PING_AFTER_IDLE` as it is at checkout."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        limit = PING_AFTER_IDLE if idle is None else idle
        if since is None or time.monotonic() - since < limit:
            return  # new, or handed back a moment ago
        try:
            # Within the pool's checkout, on SQLAlchemy's greenlet: the async driver's
            # ping can be awaited from here, as pool_pre_ping's is.
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("connection lost while idle in the pool") from exc
        if alive is False:
            raise DisconnectionError("connection lost while idle in the pool")

    event.listen(sync_engine, "checkin", checkin)
    event.listen(sync_engine, "checkout", checkout)
