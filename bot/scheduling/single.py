"""SQLite is single-process for the scheduler, and says so when a second one tries.

On SQLite only one process may run the scheduler's jobs: two would both send every
reminder, and the job store has no leader election (that is PostgreSQL's advisory
lock). The process that runs jobs on a SQLite file holds an exclusive, non-blocking
``flock`` on ``<database file>.scheduler.lock`` for as long as it lives; a second
one is refused with one :class:`ConfigError` line that names the file and what to
do. The operating system drops the lock when the process ends, even after
``kill -9``, so a crash never leaves a stale lock behind. PostgreSQL and an
in-memory SQLite database take no lock.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.paths import private_dir
from bot.settings import ConfigError

SUFFIX = ".scheduler.lock"


class SchedulerLock:
    """The held lock; :meth:`release` (idempotent) gives it up."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def lock_path(database_url: str) -> Path | None:
    """The lock file for a SQLite database file; None for PostgreSQL or in memory."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    if url.query.get("mode") == "memory":
        return None
    return Path(database).expanduser().absolute().with_name(Path(database).name + SUFFIX)


def acquire(database_url: str, *, runs_jobs: bool) -> SchedulerLock | None:
    """Take the lock when this process runs jobs on a SQLite file; None when there is
    nothing to lock. Raises :class:`ConfigError` when another process holds it."""
    path = lock_path(database_url)
    if not runs_jobs or path is None or sys.platform == "win32":
        return None
    import fcntl

    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        database = path.with_name(path.name.removesuffix(SUFFIX))
        raise ConfigError(
            f"RUN_SCHEDULER: another process{holder} already runs the scheduler on the "
            f"SQLite database {database} (lock file {path.name}); SQLite is single-process: "
            "set RUN_SCHEDULER=false on this process, or move to PostgreSQL "
            "(DATABASE_URL=postgresql://...) to run several workers"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    # Who holds it, for the refusal's message; the lock itself is the flock, not this.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return SchedulerLock(path, fd)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
