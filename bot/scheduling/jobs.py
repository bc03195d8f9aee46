"""Job functions, referenced by the scheduler as ``bot.scheduling.jobs:<name>``.

They take plain arguments only and hand their messages to the outbox, which
does the delivery, rate limiting and retries.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.messages import Reply
from bot.core.middleware import PRUNE_EVENTS_AFTER
from bot.outbox.queue import Outgoing
from bot.scheduling import runtime
from bot.storage.repositories import EventRepo, UserRepo

log = logging.getLogger(__name__)


async def remind(
    user_id: int, message_key: str, key: str, params: dict[str, str] | None = None
) -> None:
    """Send the person the sentence ``message_key`` in their own language.

    ``key`` makes the delivery idempotent: a job that runs twice sends once.
    """
    services = runtime.services()
    async with services.sessions() as session, session.begin():
        user = await UserRepo(session).get(user_id)
        if user is None or not user.messages_enabled or not user.active:
            log.info("reminder %s skipped: recipient gone, stopped or inactive", key)
            return
        if user.private_chat_id is None:
            log.info("reminder %s skipped: no private chat known", key)
            return
        text = services.texts.get(user.language, message_key, **(params or {}))
        await services.outbox.enqueue(
            [
                Outgoing(
                    key=f"job:{key}",
                    platform=user.platform,
                    chat_id=user.private_chat_id,
                    reply=Reply(text=text),
                    user_id=user.id,
                    kind="reminder",
                )
            ],
            session=session,
        )


async def housekeeping() -> None:
    """Forget deduplication ids older than any platform would redeliver, and
    finished outbox rows after a month (their content is no longer needed)."""
    services = runtime.services()
    now = services.clock.now()
    async with services.sessions() as session, session.begin():
        events = await EventRepo(session).prune(now - PRUNE_EVENTS_AFTER)
        rows = await services.outbox.prune(session, now - KEEP_FINISHED_FOR)
    log.info("housekeeping: pruned %d event ids and %d outbox rows", events, rows)


KEEP_FINISHED_FOR = timedelta(days=30)
HOUSEKEEPING_JOB = "housekeeping:daily"
HOUSEKEEPING_FUNC = "bot.scheduling.jobs:housekeeping"
