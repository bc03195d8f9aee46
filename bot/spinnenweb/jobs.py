"""Scheduled work of the check-in, referenced as ``bot.spinnenweb.jobs:<name>``.

Job arguments are ids only: the job store is not encrypted, so the wish the
person wrote is read (and decrypted) from the check-in when the job runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.scheduling import runtime
from bot.scheduling.jobs import send_to_person

if TYPE_CHECKING:
    from bot.storage.models import User
    from bot.storage.repositories import Repos

log = logging.getLogger(__name__)


async def wish_followup(user_id: int, checkin_id: int) -> None:
    """Two weeks after a check-in: one friendly question about the veranderwens."""

    async def compose(repos: Repos, user: User) -> str | None:
        record = await repos.checkins.get(user_id, checkin_id)
        wish = record.reflection.get("wish", "").strip() if record is not None else ""
        if not wish:
            log.info("wish follow-up skipped: the check-in or its wish is gone")
            return None
        return runtime.services().texts.get(user.language, "checkin.wish_question", wish=wish)

    await send_to_person(user_id, f"wish:{user_id}:{checkin_id}", "wish follow-up", compose)
