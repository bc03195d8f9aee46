"""The narrow ports a handler reaches the world through, on :class:`Context`.

Handlers never touch a session, the scheduler, the filesystem or ``Services``
directly: they call these. The protocols are implemented outside the core
(``bot.scheduling.reminders``, ``bot.paths.OwnerFiles``, ``bot.outbox``,
``bot.knowledge.service``) and wired in by :mod:`bot.app`, so the core imports
no storage or feature module at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.knowledge.answer import Answer
    from bot.knowledge.content import Knowledge
    from bot.outbox.queue import Outgoing


# -- reminders ----------------------------------------------------------------------


class ReminderJobs(Protocol):
    """A person's scheduled messages in the scheduler's job store: the job ids
    (``user:<id>:<name>``) and the job functions are the implementation's own
    (``bot.scheduling.reminders.SchedulerReminders``)."""

    async def checkin_reminder(self, user_id: int, run_at: datetime, key: str) -> None: ...

    async def cancel_checkin_reminder(self, user_id: int) -> None: ...

    async def wish_followup(self, user_id: int, checkin_id: int, run_at: datetime) -> None: ...

    async def cancel_all(self, user_id: int) -> None: ...

    async def scheduled(self, user_id: int) -> list[tuple[str, datetime | None]]:
        """The person's jobs as (name without the ``user:<id>:`` prefix, next run)."""
        ...


@dataclass(frozen=True, slots=True)
class Reminders:
    """The reminders port: every change waits until the message's transaction is
    committed (on SQLite the job store needs the write lock the transaction holds,
    and a rolled-back message must not leave a job behind). ``available`` is False
    in a process without a scheduler."""

    jobs: ReminderJobs | None
    on_commit: Callable[[Callable[[], object]], None]

    @property
    def available(self) -> bool:
        return self.jobs is not None

    def checkin_reminder(self, user_id: int, run_at: datetime, key: str) -> None:
        """Remind the person of a new check-in at ``run_at`` (``key``: sent once)."""
        if (jobs := self.jobs) is not None:
            self.on_commit(lambda: jobs.checkin_reminder(user_id, run_at, key))

    def cancel_checkin_reminder(self, user_id: int) -> None:
        if (jobs := self.jobs) is not None:
            self.on_commit(lambda: jobs.cancel_checkin_reminder(user_id))

    def wish_followup(self, user_id: int, checkin_id: int, run_at: datetime) -> None:
        """Ask at ``run_at`` how the veranderwens of that check-in is going."""
        if (jobs := self.jobs) is not None:
            self.on_commit(lambda: jobs.wish_followup(user_id, checkin_id, run_at))

    def cancel_all(self, user_id: int) -> None:
        """Every scheduled message of the person (/stop, /vergeetmij)."""
        if (jobs := self.jobs) is not None:
            self.on_commit(lambda: jobs.cancel_all(user_id))

    async def scheduled(self, user_id: int) -> list[tuple[str, datetime | None]]:
        """What is scheduled for the person now (a read: no need to wait)."""
        return [] if self.jobs is None else await self.jobs.scheduled(user_id)


# -- the outbox ----------------------------------------------------------------------


class OutboxStore(Protocol):
    """The outbox as the port needs it (``bot.outbox.queue.Outbox``)."""

    async def enqueue(
        self, items: Sequence[Outgoing], session: AsyncSession | None = None
    ) -> int: ...

    async def cancel_for_user(
        self, session: AsyncSession, user_id: int, kinds: Sequence[str] | None = None
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class UnitOutbox:
    """The outbox inside this message's unit of work: what a handler queues or
    cancels is kept, or dropped, together with the rest of the message."""

    store: OutboxStore
    session: AsyncSession

    async def enqueue(self, items: Sequence[Outgoing]) -> int:
        return await self.store.enqueue(items, session=self.session)

    async def cancel_for(self, user_id: int) -> int:
        """Cancel everything not yet sent to the person; returns how many."""
        return await self.store.cancel_for_user(self.session, user_id)


# -- private files --------------------------------------------------------------------


class PrivateFiles(Protocol):
    """Generated files with a person's data (pictures, exports): created with mode
    0600 when opened, in owner-only folders, named by owner so they can be removed
    by owner (``bot.paths.OwnerFiles``). The blocking work runs in a thread."""

    async def picture(self, owner: int, name: str, draw: Callable[[Path], object]) -> Path:
        """Create ``<owner prefix><name>.png`` (0600, empty) and let ``draw`` write it."""
        ...

    async def export(self, owner: int, name: str, text: str) -> Path:
        """Write ``text`` to the export file ``<owner prefix><name>``."""
        ...

    async def remove_owner(self, owner: int) -> int:
        """Remove every file of ``owner``; returns how many."""
        ...

    async def remove_sent(self, platform: str, user_id: str, keep: Collection[Path]) -> int:
        """Remove the pictures and files the person sent (``MEDIA_DIR``), except those
        in ``keep``; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class Files:
    """The private-files port: files are made at once (the picture is shown in this
    very reply); removing a person's files waits until the message's transaction
    is committed, so a rolled-back /vergeetmij leaves the files with the data."""

    store: PrivateFiles
    on_commit: Callable[[Callable[[], object]], None]

    async def picture(self, owner: int, name: str, draw: Callable[[Path], object]) -> Path:
        """Create ``<owner prefix><name>.png`` (0600, empty) and let ``draw`` write it."""
        return await self.store.picture(owner, name, draw)

    async def export(self, owner: int, name: str, text: str) -> Path:
        """Write ``text`` (0600) to the export file ``<owner prefix><name>``."""
        return await self.store.export(owner, name, text)

    def remove_owner(self, owner: int) -> None:
        """Remove every file of ``owner``, after commit."""
        store = self.store
        self.on_commit(lambda: store.remove_owner(owner))

    def remove_sent(self, platform: str, user_id: str, keep: Collection[Path] = ()) -> None:
        """Remove what the person sent (pictures, files), after commit; ``keep``: files
        an announcement still needs."""
        store, kept = self.store, tuple(keep)
        self.on_commit(lambda: store.remove_sent(platform, user_id, kept))


# -- knowledge ------------------------------------------------------------------------


class KnowledgeBase(Protocol):
    """The curated knowledge as handlers use it (``bot.knowledge.service``)."""

    def answer(self, text: str, default_language: str) -> Answer: ...

    @property
    def loaded(self) -> Knowledge:
        """The entries as loaded now (a reload swaps them)."""
        ...

    async def reload_content(self) -> int:
        """Read content/ again (knowledge, sentences, spinnenweb); the entry count."""
        ...
