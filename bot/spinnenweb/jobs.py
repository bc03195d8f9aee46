"""Scheduled work of the check-in, referenced as ``bot.spinnenweb.jobs:<name>``.

Job arguments are ids only: the job store is not encrypted, so the wish the
person wrote is read (and decrypted) from the check-in when the job runs.
"""

from __future__ import annotations

import logging

from bot.core.messages import Reply
from bot.outbox.queue import Outgoing
from bot.scheduling import runtime
from bot.storage.repositories.checkins import CheckinRepo
from bot.storage.repositories.users import UserRepo

log = logging.getLogger(__name__)


async def wish_followup(user_id: int, checkin_id: int) -> None:
    """Two weeks after a check-in: one friendly question about the veranderwens."""
    services = runtime.services()
    async with services.sessions() as session, session.begin():
        user = await UserRepo(session).get(user_id)
        if user is None or not user.messages_enabled or not user.active:
            log.info("wish follow-up skipped: recipient gone, stopped or inactive")
            return
        if user.private_chat_id is None:
            log.info("wish follow-up skipped: no private chat known")
            return
        record = await CheckinRepo(session, services.cipher).get(user_id, checkin_id)
        wish = record.reflection.get("wish", "").strip() if record is not None else ""
        if not wish:
            log.info("wish follow-up skipped: the check-in or its wish is gone")
            return
        text = services.texts.get(user.language, "checkin.wish_question", wish=wish)
        await services.outbox.enqueue(
            [
                Outgoing(
                    key=f"job:wish:{user_id}:{checkin_id}",
                    platform=user.platform,
                    chat_id=user.private_chat_id,
                    reply=Reply(text=text),
                    user_id=user.id,
                    kind="reminder",
                )
            ],
            session=session,
        )
