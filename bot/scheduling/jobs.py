"""Job functions, referenced by the scheduler as ``bot.scheduling.jobs:<name>``.

(``remove_files`` lives in :mod:`bot.paths` with the private-files port; it is
imported here for housekeeping.)

They take plain arguments only and hand their messages to the outbox, which
does the delivery, rate limiting and retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.messages import Reply
from bot.core.middleware import PRUNE_EVENTS_AFTER
from bot.outbox.queue import Outgoing
from bot.paths import remove_files
from bot.scheduling import runtime

if TYPE_CHECKING:
    from bot.storage.models import User
    from bot.storage.repositories import Repos

log = logging.getLogger(__name__)


async def remind(
    user_id: int, message_key: str, key: str, params: dict[str, str] | None = None
) -> None:
    """Send the person the sentence ``message_key`` in their own language.

    ``key`` makes the delivery idempotent: a job that runs twice sends once.
    """

    async def compose(repos: Repos, user: User) -> str:
        return runtime.services().texts.get(user.language, message_key, **(params or {}))

    await send_to_person(user_id, key, f"reminder {key}", compose)


async def send_to_person(
    user_id: int, key: str, what: str, compose: Callable[[Repos, User], Awaitable[str | None]]
) -> None:
    """Load the person, skip if gone, stopped or without a private chat, and queue
    the text ``compose`` makes for them (None: nothing to send) in one transaction.

    ``key`` (as ``job:<key>``) makes the delivery idempotent: a job that runs twice
    sends once. ``what`` names the job in the log; the text is never logged.
    """
    services = runtime.services()
    async with services.work.begin() as repos:
        user = await repos.users.get(user_id)
        if user is None or not user.messages_enabled or not user.active:
            log.info("%s skipped: recipient gone, stopped or inactive", what)
            return
        if user.private_chat_id is None:
            log.info("%s skipped: no private chat known", what)
            return
        text = await compose(repos, user)
        if text is None:
            return
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
            session=repos.session,
        )


async def housekeeping() -> None:
    """Forget deduplication ids older than any platform would redeliver, finished
    outbox rows after a month (their content is no longer needed), check-ins and
    unanswered questions older than their retention periods, generated pictures
    and exports, and the pictures and files people sent (``MEDIA_DIR``) that no
    announcement still waiting to go out needs."""
    from dateutil.relativedelta import relativedelta  # once a day: not at every start

    services = runtime.services()
    settings = services.settings
    now = services.clock.now()
    async with services.work.begin() as repos:
        events = await repos.events.prune(now - PRUNE_EVENTS_AFTER)
        rows = await services.outbox.prune(repos.session, now - KEEP_FINISHED_FOR)
        checkins = await repos.checkins.prune(
            now - relativedelta(months=settings.checkin_retention_months)
        )
        questions = await repos.gaps.prune(now - timedelta(days=settings.unanswered_retention_days))
        needed = await repos.announcements.open_attachments()
    cutoff = now - timedelta(hours=settings.generated_file_hours)
    folders = (settings.image_dir, settings.export_dir, settings.media_dir)
    # Pictures and files people sent go too, except one an announcement still needs.
    files = await asyncio.to_thread(remove_files, folders, older_than=cutoff, keep=needed)
    log.info(
        "housekeeping: pruned %d event ids, %d outbox rows, %d check-ins, "
        "%d unanswered questions, %d files",
        events,
        rows,
        checkins,
        questions,
        files,
    )


KEEP_FINISHED_FOR = timedelta(days=30)
HOUSEKEEPING_JOB = "housekeeping:daily"
HOUSEKEEPING_FUNC = "bot.scheduling.jobs:housekeeping"
