"""Long polling that confirms to Telegram only the updates that are finished.

Telegram forgets every update below the ``offset`` of a getUpdates call: the offset is
the only confirmation there is. python-telegram-bot's ``Updater`` asks for the next
batch with the offset after the last update it fetched, so an update still being
handled is confirmed as soon as the next batch is asked for; a stop (or a crash) past
it loses it. This poller asks with the offset of the **oldest unfinished** update
instead (:class:`Offsets`): Telegram keeps that one and everything after it, sends the
ones in hand again with each answer (they are skipped: only updates newer than every
one seen are handed over), and after a stop or a crash the next poller (this worker
restarted, or another one) gets the unfinished ones again. The core's dedupe
(``processed_events``, rolled back with an unfinished update's transaction) makes
that redelivery safe.

- **Window.** getUpdates returns at most 100 updates from the offset, so at most 100
  updates past the oldest unfinished one reach this process. An update unfinished
  for longer than ``HOLD_SECONDS`` stops holding the offset (logged): a stuck update
  must not make the bot deaf.
- **No busy loop.** While updates are in hand Telegram answers a poll at once (it has
  them, and sends them again: read as JSON, they are not parsed again), so after each
  poll the poller waits until the oldest unfinished update and half of those in hand
  are finished (:meth:`Offsets.watch`), at most ``IDLE_SECONDS``; it long-polls only
  when nothing holds the offset.
- **Backpressure.** Handing an update over waits while ``MAX_UPDATES_IN_FLIGHT`` are in
  flight (:class:`~bot.channels.telegram_updates.InFlightQueue`); what waits is not
  confirmed.
- **Stop.** :meth:`Poller.stop` ends the poll; :meth:`Poller.confirm` (after the
  updates in hand had their grace) confirms up to the oldest unfinished one.
- **Pause.** :meth:`Poller.pause` ends polling at once (synchronously, for the
  election's ``on_follow``); updates in hand go on and are confirmed by whichever
  worker polls next.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.channels.telegram_http import DEFAULT_READ
from bot.channels.telegram_send import retry_seconds

log = logging.getLogger(__name__)

LIMIT = 100  # Telegram's most per getUpdates
IDLE_SECONDS = 0.5  # with updates in hand, poll at least this often for new ones
HOLD_SECONDS = 120.0  # an update unfinished for longer stops holding the offset
RETRY_SECONDS = 1.0  # after a failed poll; doubles, at most MAX_RETRY_SECONDS
MAX_RETRY_SECONDS = 30.0
CONFIRM_SECONDS = 1.0  # the final confirming getUpdates at stop


class Offsets:
    """Which updates this process took and has not finished; the offset to ask with."""

    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self.hold = hold
        self.next = 0  # one past the newest update seen (0: none yet)
        self._unfinished: dict[int, float] = {}  # update_id → when it was taken (monotonic)
        self._let_go: set[int] = set()
        self._moved = asyncio.Event()  # time to poll again (see watch)
        self._need = 1  # finished updates since watch() that make it time
        self._done = 0
        self._oldest_done = False

    def fresh(self, update_id: int) -> bool:
        """Newer than every update seen: not in hand, not finished."""
        return update_id >= self.next

    def taken(self, update_id: int) -> None:
        self._unfinished[update_id] = time.monotonic()
        self.next = max(self.next, update_id + 1)

    def finished(self, update_id: int) -> None:
        oldest = min(self._unfinished, default=None)
        self._unfinished.pop(update_id, None)
        self._let_go.discard(update_id)
        self._done += 1
        self._oldest_done = self._oldest_done or update_id == oldest
        if self._oldest_done and self._done >= self._need:
            self._moved.set()

    @property
    def unfinished(self) -> int:
        return len(self._unfinished)

    def offset(self) -> int:
        """The oldest unfinished update that still holds the offset, else one past the
        newest seen (0 before any: Telegram starts at its oldest unconfirmed)."""
        now = time.monotonic()
        for update_id in sorted(self._unfinished):
            if now - self._unfinished[update_id] < self.hold:
                return update_id
            if update_id not in self._let_go:
                self._let_go.add(update_id)
                log.warning(
                    "telegram: update %s unfinished after %s s; no longer held back from Telegram",
                    update_id,
                    self.hold,
                )
        return self.next

    def holding(self) -> bool:
        return self.offset() != self.next

    def watch(self) -> None:
        """From now on :meth:`wait_moved` counts finished updates (called before a poll,
        so one that finishes during the poll counts). It is time to poll again once the
        oldest unfinished update finished and half of those in hand now did: under load
        one getUpdates per many updates, not one per update (each would bring up to
        100 updates in hand again); with one in hand, as soon as it is done."""
        self._moved.clear()
        self._need = max(1, len(self._unfinished) // 2)
        self._done = 0
        self._oldest_done = False

    async def wait_moved(self, seconds: float) -> None:
        """Until it is time to poll again (see :meth:`watch`), at most ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._moved.wait()


class Poller:
    """getUpdates in a loop, handing new updates to ``queue`` (the application's)."""

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        *,
        timeout: int,
        allowed_updates: Sequence[str],
        on_error: Callable[[TelegramError], None],
        on_conflict: Callable[[], None] = lambda: None,
        offsets: Offsets | None = None,
    ) -> None:
        self.bot = bot
        self.queue = queue
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.on_error = on_error
        self.on_conflict = on_conflict  # Telegram says another poller runs on this token
        self.offsets = offsets or Offsets()
        self._task: asyncio.Task[None] | None = None
        self._ending: asyncio.Task[None] | None = None  # paused, perhaps not ended yet
        self._webhook_deleted = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="telegram-poller")

    def pause(self) -> None:
        """Stop polling now; a getUpdates under way is dropped (nothing it would have
        brought is confirmed)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            self._ending = task

    async def stop(self) -> None:
        """Stop polling, and wait until the loop has ended."""
        self.pause()
        task, self._ending = self._ending, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def confirm(self) -> None:
        """Tell Telegram which updates are done: everything below the oldest unfinished
        one. Best effort: a failure means finished updates come again, and the dedupe
        drops them."""
        if self.offsets.next == 0:
            return  # nothing taken: nothing to confirm
        try:
            async with asyncio.timeout(CONFIRM_SECONDS):
                await self.bot.get_updates(
                    offset=self.offsets.offset(),
                    limit=1,
                    timeout=dt.timedelta(0),
                    allowed_updates=self.allowed_updates,
                )
        except (TelegramError, TimeoutError) as exc:
            log.warning("telegram: last updates not confirmed (%s)", type(exc).__name__)
        if self.offsets.unfinished:
            log.info(
                "telegram: %d unfinished updates left to Telegram to send again",
                self.offsets.unfinished,
            )

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if not self._webhook_deleted:  # polling and a webhook exclude each other
                    await self.bot.delete_webhook()
                    self._webhook_deleted = True
                await self._poll()
                failures = 0
            except InvalidToken:
                log.error("telegram: the token was refused; polling stops")
                return
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except Conflict as exc:
                self.on_conflict()
                self.on_error(exc)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except TelegramError as exc:
                self.on_error(exc)
                failures += 1
                await asyncio.sleep(min(RETRY_SECONDS * 2.0 ** (failures - 1), MAX_RETRY_SECONDS))
                continue
            if self.offsets.holding():
                # Telegram would answer at once with the updates in hand: wait until
                # enough of them are done (or a short while, for new messages) instead.
                await self.offsets.wait_moved(IDLE_SECONDS)

    async def _poll(self) -> int:
        """One getUpdates; the new updates handed over. How many were new."""
        offsets = self.offsets
        offsets.watch()
        timeout = 0 if offsets.holding() else self.timeout
        # Telegram's JSON, not Updates: the ones in hand come again with every answer
        # while the offset waits for them, and python-telegram-bot's Update.de_json
        # (what get_updates does to each) cost about 0.6 ms an update. Only new ones
        # are made Updates. The request is get_updates's own (Bot._post, the same
        # parameters and errors), whose read timeout also adds the poll's timeout.
        found = await self.bot._post(
            "getUpdates",
            {
                "offset": offsets.offset() or None,
                "limit": LIMIT,
                "timeout": timeout,
                "allowed_updates": self.allowed_updates,
            },
            read_timeout=(DEFAULT_READ or 0) + timeout,
        )
        fresh = 0
        for data in found:
            update_id = int(data["update_id"])
            if not offsets.fresh(update_id):
                continue  # in hand or finished: sent again because the offset waits
            update = _update(data, self.bot)
            if update is None:  # not readable: taken and finished, so it holds nothing
                offsets.taken(update_id)
                offsets.finished(update_id)
                continue
            # Waits at MAX_UPDATES_IN_FLIGHT. Taken once it is in the queue (no await
            # between): cancelled while waiting, it was not taken and comes again.
            await self.queue.put(update)
            offsets.taken(update.update_id)
            fresh += 1
        return fresh


def _update(data: dict[str, object], bot: Bot) -> Update | None:
    """An update as python-telegram-bot's object; None (logged without content) when
    it cannot be read, so one bad update does not stop the poller."""
    try:
        return Update.de_json(data, bot)
    except Exception as exc:
        log.error(
            "telegram: update %s not readable (%s)", data.get("update_id"), type(exc).__name__
        )
        return None
