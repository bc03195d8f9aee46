"""The reminders port (``bot.core.ports.ReminderJobs``) over the scheduler.

The one place that knows a person's job ids (``user:<id>:<name>``: /stop and
/vergeetmij remove them by that prefix, /mijngegevens lists them) and which job
function each runs. Job arguments are ids and keys only: the job store is not
encrypted.
"""

from __future__ import annotations

from datetime import datetime

from bot.scheduling.scheduler import Scheduler

REMINDER_JOB = "checkin-reminder"
WISH_JOB = "wish"
REMIND_FUNC = "bot.scheduling.jobs:remind"
WISH_FUNC = "bot.spinnenweb.jobs:wish_followup"
CHECKIN_REMINDER_TEXT = "checkin.reminder"


def person_prefix(user_id: int) -> str:
    """Every scheduled job of one person starts with this."""
    return f"user:{user_id}:"


def job_id(user_id: int, name: str) -> str:
    return f"{person_prefix(user_id)}{name}"


class SchedulerReminders:
    """A person's scheduled messages as jobs in the shared job store."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    async def checkin_reminder(self, user_id: int, run_at: datetime, key: str) -> None:
        await self._scheduler.once(
            job_id(user_id, REMINDER_JOB),
            REMIND_FUNC,
            run_at,
            user_id=user_id,
            message_key=CHECKIN_REMINDER_TEXT,
            key=key,
        )

    async def cancel_checkin_reminder(self, user_id: int) -> None:
        await self._scheduler.remove(job_id(user_id, REMINDER_JOB))

    async def wish_followup(self, user_id: int, checkin_id: int, run_at: datetime) -> None:
        await self._scheduler.once(
            job_id(user_id, WISH_JOB), WISH_FUNC, run_at, user_id=user_id, checkin_id=checkin_id
        )

    async def cancel_all(self, user_id: int) -> None:
        await self._scheduler.remove_prefix(person_prefix(user_id))

    async def scheduled(self, user_id: int) -> list[tuple[str, datetime | None]]:
        prefix = person_prefix(user_id)
        jobs = await self._scheduler.list_jobs(prefix)
        return [(name.removeprefix(prefix), at) for name, at in jobs]
