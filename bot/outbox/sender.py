"""Delivers the outbox through the channel adapters.

Rows are claimed in batches and sent in small concurrent groups; each group's
outcome is written right after it is sent, so a crash repeats at most the
group that was in flight. Rate limits defer a row instead of blocking others.

**One sender per platform on PostgreSQL.** Several workers may run a sender (the
claim's SKIP LOCKED keeps them apart), but a platform's limits hold for its bot token,
not per process. So each sender campaigns for every platform it has a channel for
(``elect``: a session-level advisory lock per platform, bot/scheduling/leader.py) and
claims rows only for the platforms it leads: one process sends a platform's messages,
and its in-process :class:`~bot.outbox.ratelimit.RateLimiter` holds the limit for the
whole deployment. A sender that leads no platform still runs its ``before_claim`` work
(each claims under a lease or SKIP LOCKED) and waits. Losing the lead stops claiming
that platform at once, and rows of it still in hand go back unsent. SQLite has one
process: no election. Nor is there one for a channel that serves some chats only
(``only_chats``, the terminal): each of those sends its own person's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import zlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update

from bot import metrics
from bot.channels.base import Channel, DeliveryError
from bot.outbox.queue import FAILED, PENDING, REPLY, SENT, Claimed, Outbox
from bot.scheduling.leader import Leadership
from bot.storage.models import OutboxMessage
from bot.storage.repositories.users import UserRepo

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0
# Waiting this long for a rate limit inside a batch is fine; longer defers the row.
MAX_INLINE_WAIT = 1.0
# The advisory lock of a platform's sender: this base plus a stable hash of its name.
SENDER_LOCK_BASE = 0x616C6C4F << 32  # "allO", in the high half of a bigint lock id
NOT_LEADING = "another worker sends for this platform"


def sender_lock(platform: str) -> int:
    return SENDER_LOCK_BASE + zlib.crc32(platform.encode())


def backoff(attempts: int, base: float = 5.0) -> float:
    """Exponential backoff with jitter: about 5 s, 10 s, 20 s ... capped at an hour."""
    delay: float = min(base * 2.0 ** max(attempts - 1, 0), MAX_BACKOFF)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography


@dataclass(slots=True)
class Outcome:
    row: Claimed
    message_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


class OutboxSender:
    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        *,
        batch_size: int = 100,
        concurrency: int = 50,
        max_attempts: int = 8,
        lease: timedelta = timedelta(minutes=2),
        poll_interval: float = 1.0,
        before_claim: Sequence[Callable[[], Awaitable[None]]] = (),
        elect: str | None = None,
        elect_timeout: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.channels = channels
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.lease = lease
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failing: str | None = None  # the error of the current outage, logged once
        outbox.on_enqueue.append(self._wake.set)
        # Work that must come before each claim (the announcement engine: quiet hours,
        # releasing due announcements); an error in it pauses delivery like an outage.
        self.before_claim: list[Callable[[], Awaitable[None]]] = list(before_claim)
        # ``elect``: a PostgreSQL URL; send only for the platforms this process leads.
        self.elect, self.elect_timeout = elect, elect_timeout
        self._elections: dict[str, Leadership] = {}
        self._led: set[str] = set()

    def _platforms(self) -> list[str]:
        """The platforms to claim rows for: every channel's, or with an election the
        ones this process leads."""
        if self.elect is None:
            return list(self.channels)
        only = self._only_chats()
        return [name for name in self.channels if name in self._led or name in only]

    async def _campaign(self) -> None:
        """Campaign for every platform with a channel here (a channel may come later);
        not for one that serves some chats only (a terminal: each sends its own)."""
        if self.elect is None:
            return
        only = self._only_chats()
        for name in list(self.channels):
            if name in self._elections or name in only:
                continue
            election = self._elections[name] = Leadership(
                self.elect,
                timeout=self.elect_timeout,
                on_lead=self._leader_of(name),
                on_follow=self._follower_of(name),
                lock=sender_lock(name),
                role=f"{name} outbox sender",
                duty=f"sends {name}'s messages",
            )
            await election.start()

    def _leader_of(self, name: str) -> Callable[[], Awaitable[None]]:
        async def lead() -> None:
            self._led.add(name)
            self._wake.set()

        return lead

    def _follower_of(self, name: str) -> Callable[[], None]:
        return lambda: self._led.discard(name)

    async def _resign(self) -> None:
        """End the campaigns: their connections close, the other workers take over."""
        elections, self._elections = self._elections, {}
        for election in elections.values():
            try:
                await election.stop()
            except Exception:
                log.exception("stopping an outbox sender election failed")
        self._led.clear()

    async def deliver_due(self) -> int:
        """Deliver one claimed batch; returns how many rows were handled."""
        # Only rows for the channels this process has: a worker without the row's
        # channel leaves it to one that has it, instead of putting it back for later.
        for work in self.before_claim:
            await work()
        await self._campaign()
        platforms = self._platforms()
        if not platforms:
            return 0
        rows = await self.outbox.claim(
            self.batch_size,
            self.lease,
            platforms=platforms,
            only_chats=self._only_chats(),
        )
        for start in range(0, len(rows), self.concurrency):
            group = rows[start : start + self.concurrency]
            outcomes = await asyncio.gather(*(self._send(row) for row in group))
            await self._record(outcomes)
        return len(rows)

    def _only_chats(self) -> dict[str, Collection[str]]:
        """Channels that serve some chats only (``only_chats``: the terminal, one
        person), so that another person's rows wait for their own terminal."""
        found = {}
        for name, channel in self.channels.items():
            chats: Collection[str] | None = getattr(channel, "only_chats", None)
            if chats is not None:
                found[name] = chats
        return found

    async def drain(self, max_rounds: int = 10_000) -> int:
        """Deliver until nothing is due (for tests, benchmarks and the CLI)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.deliver_due()
            if handled == 0:
                break
            total += handled
        return total

    async def _send(self, row: Claimed) -> Outcome:
        channel = self.channels.get(row.platform)
        if channel is None:
            return Outcome(row, error=f"no {row.platform} channel running", retry_after=60.0)
        wait = channel.limiter.delay(row.chat_id)
        if wait > MAX_INLINE_WAIT:
            return Outcome(row, error="rate limited here", retry_after=wait)
        await channel.limiter.acquire(row.chat_id)
        if row.platform in self._elections and row.platform not in self._led:
            return Outcome(row, error=NOT_LEADING, retry_after=0.0)  # back unsent, at once
        try:
            message_id = await channel.send(row.chat_id, row.reply)
        except DeliveryError as exc:
            return Outcome(
                row, error=exc.reason[:255], permanent=exc.permanent, retry_after=exc.retry_after
            )
        except Exception as exc:  # a bug or outage in the adapter: retry later
            log.warning("send to %s failed: %s", row.platform, type(exc).__name__)
            return Outcome(row, error=type(exc).__name__)
        return Outcome(row, message_id=message_id)

    async def _record(self, outcomes: list[Outcome]) -> None:
        """Write each row's outcome; once written, count the sent and failed ones."""
        failed = await self._write(outcomes)
        for outcome in outcomes:
            if outcome.error is None:
                metrics.outbox_sent(outcome.row.platform)
        for platform in failed:
            metrics.outbox_failed(platform)

    async def _write(self, outcomes: list[Outcome]) -> list[str]:
        """The outcomes in one transaction; returns the platforms of the rows given up."""
        now = self.outbox.clock.now()
        failed: list[str] = []
        async with self.outbox.sessions() as session, session.begin():
            # A held reply was kept only until it is out (see Outbox.hold).
            replies = [o.row.id for o in outcomes if o.error is None and o.row.kind == REPLY]
            if replies:
                await session.execute(
                    delete(OutboxMessage)
                    .where(OutboxMessage.id.in_(replies))
                    .execution_options(synchronize_session=False)
                )
            sent = [o for o in outcomes if o.error is None and o.row.kind != REPLY]
            if sent:
                await session.execute(
                    update(OutboxMessage).execution_options(synchronize_session=False),
                    [
                        {
                            "id": o.row.id,
                            "status": SENT,
                            "sent_at": now,
                            "platform_message_id": o.message_id,
                            "claim_token": None,
                            "lease_until": None,
                            "last_error": None,
                        }
                        for o in sent
                    ],
                )
            for outcome in outcomes:
                if outcome.error is None:
                    continue
                values: dict[str, object] = {
                    "claim_token": None,
                    "lease_until": None,
                    "last_error": outcome.error,
                }
                row = outcome.row
                if outcome.permanent:
                    values["status"] = FAILED
                    failed.append(row.platform)
                    if row.user_id is not None:
                        await UserRepo(session).mark_inactive(row.user_id, now)
                    log.info(
                        "recipient %s unreachable on %s; marked inactive", row.user_id, row.platform
                    )
                elif outcome.retry_after is not None:
                    # The platform's (or our) limit, not the message's fault.
                    values.update(
                        status=PENDING,
                        attempts=row.attempts - 1,
                        next_attempt_at=now + timedelta(seconds=outcome.retry_after),
                    )
                elif row.attempts >= self.max_attempts:
                    values["status"] = FAILED
                    failed.append(row.platform)
                    log.warning("outbox row %s failed after %s attempts", row.id, row.attempts)
                else:
                    values.update(
                        status=PENDING,
                        next_attempt_at=now + timedelta(seconds=backoff(row.attempts)),
                    )
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values)
                )
        return failed

    async def run(self) -> None:
        """Deliver forever; wakes at once when something is enqueued in this process."""
        while not self._stopping:
            # Cleared before the round: an enqueue or stop() during it is not lost.
            self._wake.clear()
            try:
                handled = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # One line per outage, not one per poll while the database is down.
                if self._failing != type(exc).__name__:
                    log.warning(
                        "outbox delivery paused: %s (logged once until it works again)",
                        type(exc).__name__,
                    )
                    self._failing = type(exc).__name__
                handled = 0
            else:
                if self._failing is not None:
                    log.warning("outbox delivery works again after %s", self._failing)
                    self._failing = None
            if handled:
                continue
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-sender")

    async def stop(self, grace: float = 5.0) -> None:
        """Let the batch in hand finish (so nothing is left mid-lease), then stop."""
        if self._task is None:
            await self._resign()
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._stopping = False
        await self._resign()
