"""One APScheduler with a persistent SQLAlchemy job store on the bot's database.

Why these choices (from APScheduler 3.11's docs and source):
- the job store keeps jobs across restarts; the table is created by our
  Alembic migration, so two workers starting at once do not race on DDL;
- job functions are referenced as ``module:function`` with plain arguments,
  so a stored job can be loaded by a new process;
- ``misfire_grace_time`` is set on purpose (default 6 hours, ``MISFIRE_GRACE_SECONDS``):
  APScheduler's default of 1 s silently drops a reminder that fell due while
  the bot was down; ``coalesce`` runs a job that missed several runs once;
- times are kept in UTC and shown in the configured zone.

Each job this process runs is counted for ``/metrics`` (bot/metrics.py) by a
listener: ok, error or missed, and how late it ran (the seconds from its scheduled
time to its end: our jobs take milliseconds, so this is nearly all waiting).

**The job store never runs on the event loop.** It is synchronous (SQLAlchemy's
sync engine), so a hung database would freeze every conversation, the crisis
reply included, if it ran there. The scheduler runs in its own thread
(``BackgroundScheduler``): its rescans, due-job lookups and updates happen there.
The async job functions still run on the bot's event loop, handed over by
:class:`LoopExecutor`. Adding, removing and listing jobs run in a small thread
pool of their own and are awaited with a time limit. Each job-store call has a
deadline: a watchdog cuts the store's connections when a call outlives it,
because libpq cannot time out a statement whose bytes never reach the server.

**Job state is pickled** by APScheduler, so whoever can write the jobs table could
run code in the bot. Loading goes through :class:`JobStateUnpickler`, which only
knows the trigger, date and zone classes a job needs, and job arguments must be
plain values (ids, keys, short strings). See docs/operations.md.

**One leader on PostgreSQL.** Every worker may start with the scheduler on: each
adds and removes jobs in the shared store, but only the holder of an advisory lock
runs them; the others keep their scheduler paused and take over when the leader
goes (bot/scheduling/leader.py). On SQLite the one process runs them
(bot/scheduling/single.py refuses a second).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import logging
import os
import pickle
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor, run_coroutine_job, run_job
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import iscoroutinefunction_partial
from sqlalchemy import Engine, event

from bot import metrics
from bot.scheduling.leader import Leadership
from bot.storage import db

log = logging.getLogger(__name__)
JOBS_TABLE = "apscheduler_jobs"
RESCAN_SECONDS: float = 60
T = TypeVar("T")


class SchedulerUnavailable(db.DatabaseUnavailable):
    """The job store did not answer in time (the database is down or hung)."""


# -- loading job state: a closed list of classes -------------------------------------

_ALLOWED: dict[str, frozenset[str]] = {
    "apscheduler.triggers.date": frozenset({"DateTrigger"}),
    "apscheduler.triggers.interval": frozenset({"IntervalTrigger"}),
    "apscheduler.triggers.cron": frozenset({"CronTrigger"}),
    "apscheduler.triggers.cron.fields": frozenset(
        {"BaseField", "WeekField", "DayOfMonthField", "DayOfWeekField", "MonthField"}
    ),
    "apscheduler.triggers.cron.expressions": frozenset(
        {
            "AllExpression",
            "RangeExpression",
            "MonthRangeExpression",
            "WeekdayRangeExpression",
            "WeekdayPositionExpression",
            "LastDayOfMonthExpression",
        }
    ),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "zoneinfo": frozenset({"ZoneInfo"}),
}


def _zoneinfo_getattr(obj: object, name: str) -> object:
    """The one ``getattr`` a pickled ZoneInfo needs (``ZoneInfo._unpickle``); any
    other would hand an attacker the attributes of the allowed classes."""
    if obj is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle  # type: ignore[attr-defined]
    raise pickle.UnpicklingError(f"job state may not look up {name!r}")


class JobStateUnpickler(pickle.Unpickler):
    """Loads APScheduler job state, refusing every class that is not on the list."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name == "getattr":
            return _zoneinfo_getattr
        if name in _ALLOWED.get(module, frozenset()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"job state may not contain {module}.{name}")


def load_job_state(data: bytes) -> dict[str, Any]:
    state = JobStateUnpickler(io.BytesIO(data)).load()
    if not isinstance(state, dict):
        raise pickle.UnpicklingError("job state is not a mapping")
    return state


def _plain(value: object, depth: int = 0) -> bool:
    """A job argument must be an id, a key, a short string, or a mapping of those."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, dict) and depth == 0:
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


# -- the job store: bounded calls, restricted loading ----------------------------------


class _Watchdog:
    """Cuts the job store's connections when a call outlives its deadline.

    libpq has no client-side statement timeout: a statement whose bytes never
    reach the server (a stalled proxy, a frozen host) waits for ever, and
    ``statement_timeout`` cannot fire on a server that never saw it. Shutting the
    socket down ends the wait with an error SQLAlchemy treats as a lost connection.
    SQLite connections are interrupted instead. Connections of other calls in
    flight at that moment are cut too: with a hung database those are stuck as well.
    """

    def __init__(self, engine: Engine, seconds: float) -> None:
        self.seconds = seconds
        self._connections: set[Any] = set()  # the pool's open DBAPI connections
        self._lock = threading.Lock()
        event.listen(engine, "connect", self._opened)
        event.listen(engine, "close", self._closed)
        event.listen(engine, "close_detached", self._closed_detached)

    def _opened(self, dbapi_connection: Any, _record: Any) -> None:
        with self._lock:
            self._connections.add(dbapi_connection)

    def _closed(self, dbapi_connection: Any, _record: Any) -> None:
        self._closed_detached(dbapi_connection)

    def _closed_detached(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._connections.discard(dbapi_connection)

    @contextmanager
    def bounded(self) -> Iterator[None]:
        done = threading.Event()

        def watch() -> None:
            while not done.wait(self.seconds):
                log.warning("job store call exceeded %.0fs: cutting its connections", self.seconds)
                self.cut()

        threading.Thread(target=watch, name="job-store-watchdog", daemon=True).start()
        try:
            yield
        finally:
            done.set()

    def cut(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                pgconn = getattr(connection, "pgconn", None)
                if pgconn is None:
                    connection.interrupt()  # sqlite3
                    continue
                with socket.socket(fileno=os.dup(pgconn.socket)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except Exception as exc:  # closed meanwhile: nothing to cut
                log.debug("could not cut a job store connection: %s", type(exc).__name__)


class GuardedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQLAlchemy job store with each call under the watchdog's
    deadline and job state loaded by :class:`JobStateUnpickler`."""

    def __init__(self, engine: Engine, watchdog: _Watchdog) -> None:
        super().__init__(engine=engine, tablename=JOBS_TABLE)
        self._watchdog = watchdog

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state = load_job_state(job_state)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def start(self, scheduler: Any, alias: str) -> None:
        with self._watchdog.bounded():
            super().start(scheduler, alias)

    def lookup_job(self, job_id: str) -> Job | None:
        with self._watchdog.bounded():
            return super().lookup_job(job_id)

    def get_due_jobs(self, now: datetime) -> list[Job]:
        with self._watchdog.bounded():
            return super().get_due_jobs(now)  # type: ignore[no-any-return]

    def get_next_run_time(self) -> datetime | None:
        with self._watchdog.bounded():
            return super().get_next_run_time()  # type: ignore[no-any-return]

    def get_all_jobs(self) -> list[Job]:
        with self._watchdog.bounded():
            return super().get_all_jobs()  # type: ignore[no-any-return]

    def add_job(self, job: Job) -> None:
        with self._watchdog.bounded():
            super().add_job(job)

    def update_job(self, job: Job) -> None:
        with self._watchdog.bounded():
            super().update_job(job)

    def remove_job(self, job_id: str) -> None:
        with self._watchdog.bounded():
            super().remove_job(job_id)

    def remove_all_jobs(self) -> None:
        with self._watchdog.bounded():
            super().remove_all_jobs()

    def shutdown(self) -> None:
        """The engine belongs to :class:`Scheduler`, which disposes of it."""


# -- running jobs on the bot's event loop ----------------------------------------------


class LoopExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs coroutine jobs on the bot's event loop from the scheduler's thread.

    APScheduler's own ``AsyncIOExecutor`` assumes the scheduler runs on the loop; this
    one hands the coroutine over with ``run_coroutine_threadsafe`` and reports the
    outcome back the same way. A plain function (the rescan tick) runs at once in
    the scheduler's thread: it must be trivial.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._pending: set[concurrent.futures.Future[Any]] = set()

    def shutdown(self, wait: bool = True) -> None:
        for future in list(self._pending):
            future.cancel()
        self._pending.clear()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if not iscoroutinefunction_partial(job.func):
            try:
                events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)
            return
        coro = run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        except RuntimeError:  # the loop is closed: the bot is stopping
            coro.close()
            self._run_job_error(job.id, *sys.exc_info()[1:])
            return
        self._pending.add(future)

        def done(finished: concurrent.futures.Future[Any]) -> None:
            self._pending.discard(finished)
            try:
                events = finished.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        future.add_done_callback(done)


class _Background(BackgroundScheduler):  # type: ignore[misc]
    """A failing job store must not end the scheduler's thread: APScheduler catches
    a failed due-job lookup but not a failed update after a run, which in a
    thread (unlike on the loop) would stop all scheduling silently."""

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except Exception as exc:
            log.warning(
                "scheduler: job store failed (%s); trying again in %ss",
                type(exc).__name__,
                self.jobstore_retry_interval,
            )
            return float(self.jobstore_retry_interval)


_JOB_OUTCOMES: dict[int, metrics.JobOutcome] = {
    EVENT_JOB_EXECUTED: "ok",
    EVENT_JOB_ERROR: "error",
    EVENT_JOB_MISSED: "missed",
}
JOB_EVENTS = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED


def count_job(job_event: JobExecutionEvent) -> None:
    """APScheduler's listener (in the scheduler's thread, or the loop's for a finished
    coroutine job): the job's outcome and, for one that ran, how late. The process's
    own rescan tick (the "local" store) is not a job anyone scheduled."""
    outcome = _JOB_OUTCOMES.get(job_event.code)
    if outcome is None or job_event.jobstore == "local":
        return
    metrics.job_run(outcome)
    if outcome != "missed":
        late = datetime.now(UTC) - job_event.scheduled_run_time
        metrics.job_lateness(late.total_seconds())


# -- the wrapper the bot uses -------------------------------------------------------------


class Scheduler:
    """A thin wrapper that keeps APScheduler's API out of the handlers.

    Its methods that touch the job store are coroutines: the work runs in the
    scheduler's own threads and is awaited for at most ``3 x timeout`` seconds,
    then :class:`SchedulerUnavailable` is raised (the work itself still finishes
    when the database answers, so a removal asked for by /stop is not lost).
    """

    def __init__(
        self,
        database_url: str,
        *,
        misfire_grace_seconds: int,
        timezone: str,
        timeout: float = db.DEFAULT_TIMEOUT,
    ) -> None:
        self.timezone = timezone
        self.timeout = timeout
        self._database_url = database_url
        self._engine = db.create_job_store_engine(database_url, timeout=timeout)
        self._watchdog = _Watchdog(self._engine, seconds=2 * timeout)
        self._aps = _Background(
            jobstores={
                "default": GuardedJobStore(self._engine, self._watchdog),
                "local": MemoryJobStore(),  # this process's own ticks, never shared
            },
            job_defaults={
                "misfire_grace_time": misfire_grace_seconds,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
            daemon=True,
        )
        self._aps.add_listener(count_job, JOB_EVENTS)
        # Not the loop's default executor: pictures and knowledge loading use that one.
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="job-store"
        )
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._runs_jobs = False  # started unpaused: runs jobs when (if elected) it leads
        self._leadership: Leadership | None = None
        # The crons the leader keeps in the store: (function, misfire grace, fields).
        self._leader_crons: dict[str, tuple[str, int | None, dict[str, Any]]] = {}

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    @property
    def leads(self) -> bool:
        """This process runs jobs: started unpaused and, on PostgreSQL, elected."""
        if self._leadership is not None:
            return self._leadership.leading
        return self._runs_jobs

    async def _call(self, what: str, work: Callable[[], T]) -> T:
        """Run ``work`` in the job store's pool; wait a bounded time for it."""
        future = asyncio.wrap_future(self._pool.submit(work))
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(future), 3 * self.timeout)
        except TimeoutError:
            log.warning("scheduler: %s got no answer from the job store in time", what)
            raise SchedulerUnavailable(f"{what}: no answer from the job store") from None
        except Exception as exc:
            log.warning("scheduler: %s failed (%s)", what, type(exc).__name__)
            raise

    async def start(self, *, paused: bool = False) -> None:
        """Start the scheduler's thread; jobs run on the running event loop.

        ``paused``: this process only adds and removes jobs in the shared store and
        never runs them (a worker with RUN_SCHEDULER=false). A running scheduler
        looks at the store at least every ``RESCAN_SECONDS``, so a job that another
        process added is found even when nothing else would wake it.

        On PostgreSQL an unpaused scheduler starts paused and campaigns for the lead
        (bot/scheduling/leader.py); it runs jobs while it leads. The first attempt is
        made before this returns, so a lone worker runs jobs at once.
        """
        self._aps.add_executor(LoopExecutor(asyncio.get_running_loop()), "default")
        rescan = RESCAN_SECONDS
        elect = not paused and self._engine.dialect.name == "postgresql"

        def start() -> None:
            self._aps.start(paused=paused or elect)
            if not paused:
                self._aps.add_job(
                    _rescan, "interval", seconds=rescan, id="rescan", jobstore="local"
                )

        await self._call("start", start)
        self._runs_jobs = not paused
        if elect:
            self._leadership = Leadership(
                self._database_url, timeout=self.timeout, on_lead=self._lead, on_follow=self._follow
            )
            await self._leadership.start()

    async def _lead(self) -> None:
        """Elected: run jobs, and put the leader's crons in the store (again)."""
        self._aps.resume()
        for job_id, (func, grace, fields) in list(self._leader_crons.items()):
            # A failure is logged by _call; the previous leader's copy still stands.
            with contextlib.suppress(Exception):
                await self.cron(job_id, func, misfire_grace_seconds=grace, **fields)

    def _follow(self) -> None:
        """No longer the leader: stop running jobs at once (still adding them)."""
        if self._aps.running:
            self._aps.pause()

    async def shutdown(self) -> None:
        """Let changes already asked for finish (bounded), then stop the thread.

        Stopping waits for a job-store call in progress, so it runs in a thread of
        its own and is waited for at most ``3 x timeout`` seconds. A leader pauses and
        lets go of its lock first, so another worker can take over at once."""
        if self._leadership is not None:
            try:
                await self._leadership.stop()
            except Exception as exc:
                log.warning("scheduler: giving up the lead failed (%s)", type(exc).__name__)
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=3 * self.timeout)

        def stop() -> None:
            if self._aps.running:
                self._aps.shutdown(wait=False)
            self._engine.dispose()

        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                stop()
                done.set_result(None)
            except BaseException as exc:
                done.set_exception(exc)

        threading.Thread(target=run, name="scheduler-stop", daemon=True).start()
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), 3 * self.timeout)
        except TimeoutError:
            log.warning("scheduler: the job store did not let it stop in time; left behind")
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def once(self, job_id: str, func: str, run_at: datetime, **kwargs: Any) -> None:
        """Run ``func`` (``module:function``) once at ``run_at`` (aware datetime).

        The arguments are stored (pickled) with the job: plain values only."""
        if run_at.tzinfo is None:
            raise ValueError("run_at must be timezone-aware")
        for name, value in kwargs.items():
            if not _plain(value):
                kind = type(value).__name__  # not the value: it could be personal
                raise TypeError(f"job argument {name!r} must be a plain value, not a {kind}")
        trigger = DateTrigger(run_date=run_at.astimezone(UTC))
        await self._call(
            f"adding {job_id}",
            lambda: self._aps.add_job(
                func, trigger, id=job_id, kwargs=kwargs, replace_existing=True
            ),
        )

    async def cron(
        self, job_id: str, func: str, *, misfire_grace_seconds: int | None = None, **fields: Any
    ) -> None:
        """Run ``func`` on a cron schedule read in the configured zone."""
        options: dict[str, Any] = {}
        if misfire_grace_seconds is not None:
            options["misfire_grace_time"] = misfire_grace_seconds
        trigger = CronTrigger(timezone=self.timezone, **fields)
        await self._call(
            f"adding {job_id}",
            lambda: self._aps.add_job(func, trigger, id=job_id, replace_existing=True, **options),
        )

    async def leader_cron(
        self, job_id: str, func: str, *, misfire_grace_seconds: int | None = None, **fields: Any
    ) -> None:
        """A cron job whoever runs the jobs keeps in the store (housekeeping): added now
        when this process runs jobs, and again each time it takes the lead."""
        self._leader_crons[job_id] = (func, misfire_grace_seconds, fields)
        if self.leads:
            await self.cron(job_id, func, misfire_grace_seconds=misfire_grace_seconds, **fields)

    async def remove(self, job_id: str) -> bool:
        def remove() -> bool:
            try:
                self._aps.remove_job(job_id, jobstore="default")
            except JobLookupError:
                return False
            return True

        return await self._call(f"removing {job_id}", remove)

    async def remove_prefix(self, prefix: str) -> int:
        def remove() -> int:
            removed = 0
            for job in self._aps.get_jobs(jobstore="default"):
                if job.id.startswith(prefix):
                    try:
                        self._aps.remove_job(job.id, jobstore="default")
                    except JobLookupError:
                        continue  # gone meanwhile (it ran)
                    removed += 1
            return removed

        return await self._call(f"removing {prefix}*", remove)

    async def list_jobs(self, prefix: str = "") -> list[tuple[str, datetime | None]]:
        """(job id, next run in UTC) of the jobs whose id starts with ``prefix``.

        There is no blocking variant, not even for tests: APScheduler holds its job
        store lock while its thread waits for the database, and on SQLite that wait
        can be for a transaction of a job running on this very loop. A loop blocked
        on that lock would never finish the transaction (the thread gives up after
        the busy timeout and retries ten seconds later)."""

        def listing() -> list[tuple[str, datetime | None]]:
            return [
                (job.id, job.next_run_time)
                for job in self._aps.get_jobs(jobstore="default")
                if job.id.startswith(prefix)
            ]

        return await self._call(f"listing {prefix}*", listing)

    async def job_ids(self) -> list[str]:
        """The ids of all stored jobs."""
        return [job_id for job_id, _ in await self.list_jobs()]


def _rescan() -> None:
    """Nothing: running at all makes the scheduler look at the shared store again."""
