"""One AsyncIOScheduler with a persistent SQLAlchemy job store on the bot's database.

Why these choices (from APScheduler 3.11's docs and source):
- the job store keeps jobs across restarts; the table is created by our
  Alembic migration, so two workers starting at once do not race on DDL;
- job functions are referenced as ``module:function`` with plain arguments,
  so a stored job can be loaded by a new process;
- ``misfire_grace_time`` is set on purpose (default 6 hours, ``MISFIRE_GRACE_SECONDS``):
  APScheduler's default of 1 s silently drops a reminder that fell due while
  the bot was down; ``coalesce`` runs a job that missed several runs once;
- times are kept in UTC and shown in the configured zone.

The job store is synchronous (SQLAlchemy's sync engine): its calls are short
and happen when jobs are added or fall due, not for each incoming message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import create_engine

log = logging.getLogger(__name__)
JOBS_TABLE = "apscheduler_jobs"
RESCAN_SECONDS = 60


class Scheduler:
    """A thin wrapper that keeps APScheduler's API out of the handlers."""

    def __init__(self, sync_db_url: str, *, misfire_grace_seconds: int, timezone: str) -> None:
        self.timezone = timezone
        connect_args: dict[str, Any] = {}
        if sync_db_url.startswith("sqlite"):
            connect_args["timeout"] = 15  # wait for the async engine's write lock
        self._engine = create_engine(
            sync_db_url, connect_args=connect_args, hide_parameters=True, pool_pre_ping=True
        )
        self._aps = AsyncIOScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self._engine, tablename=JOBS_TABLE),
                "local": MemoryJobStore(),  # this process's own ticks, never shared
            },
            job_defaults={
                "misfire_grace_time": misfire_grace_seconds,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
        )

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def start(self, *, paused: bool = False) -> None:
        """Start inside the running event loop.

        ``paused``: this process only adds and removes jobs in the shared store and
        never runs them (a worker with RUN_SCHEDULER=false). A running scheduler
        looks at the store at least every ``RESCAN_SECONDS``, so a job that another
        process added is found even when nothing else would wake it.
        """
        self._aps.start(paused=paused)
        if not paused:
            self._aps.add_job(
                _rescan, "interval", seconds=RESCAN_SECONDS, id="rescan", jobstore="local"
            )

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
        self._engine.dispose()

    def once(self, job_id: str, func: str, run_at: datetime, **kwargs: Any) -> None:
        """Run ``func`` (``module:function``) once at ``run_at`` (aware datetime)."""
        if run_at.tzinfo is None:
            raise ValueError("run_at must be timezone-aware")
        self._aps.add_job(
            func,
            DateTrigger(run_date=run_at.astimezone(UTC)),
            id=job_id,
            kwargs=kwargs,
            replace_existing=True,
        )

    def cron(
        self, job_id: str, func: str, *, misfire_grace_seconds: int | None = None, **fields: Any
    ) -> None:
        """Run ``func`` on a cron schedule read in the configured zone."""
        options: dict[str, Any] = {}
        if misfire_grace_seconds is not None:
            options["misfire_grace_time"] = misfire_grace_seconds
        self._aps.add_job(
            func,
            CronTrigger(timezone=self.timezone, **fields),
            id=job_id,
            replace_existing=True,
            **options,
        )

    def remove(self, job_id: str) -> bool:
        job = self._aps.get_job(job_id, jobstore="default")
        if job is None:
            return False
        job.remove()
        return True

    def remove_prefix(self, prefix: str) -> int:
        removed = 0
        for job in self._aps.get_jobs(jobstore="default"):
            if job.id.startswith(prefix):
                job.remove()
                removed += 1
        return removed

    def jobs_with_prefix(self, prefix: str) -> list[tuple[str, datetime | None]]:
        """(job id, next run in UTC) of the jobs whose id starts with ``prefix``."""
        return [
            (job.id, job.next_run_time)
            for job in self._aps.get_jobs(jobstore="default")
            if job.id.startswith(prefix)
        ]

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs(jobstore="default")]


def _rescan() -> None:
    """Nothing: running at all makes the scheduler look at the shared store again."""
