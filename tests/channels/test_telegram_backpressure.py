"""Backpressure on Telegram: at most ``MAX_UPDATES_IN_FLIGHT`` updates are queued or being
handled per process. At the bound the webhook answers 503 (Telegram sends the update
again) and the poller waits before it fetches more; a stop (SIGTERM) finishes what is in
hand within ``STOP_GRACE_SECONDS`` and loses nothing.

The real App and python-telegram-bot against the fake Bot API, on SQLite and PostgreSQL.
Updates are held by a gate in front of the core, so the bound is reached without sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot.channels.telegram_updates import InFlightQueue
from bot.core.clock import FrozenClock
from bot.core.messages import Incoming, Reply
from bot.outbox.queue import SENT
from bot.settings import Settings
from bot.storage.models import OutboxMessage
from tests.channels.test_telegram import webhook_bot
from tests.helpers.fake_telegram import FakeBotApi
from tests.helpers.telegram_bot import TelegramBot, running_bot

ANNA, BOB, CAROL, DAVE, EVE = 4401, 4402, 4403, 4404, 4405
SECRET = "s3cret-token"
QUESTION = "Wat is positieve gezondheid?"

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def hold(tg: TelegramBot) -> asyncio.Event:
    """Every update waits in front of the core until the returned gate is set."""
    gate = asyncio.Event()
    handle = tg.channel._handle
    assert handle is not None

    async def held(incoming: Incoming) -> list[Reply]:
        await gate.wait()
        return await handle(incoming)

    tg.channel._handle = held
    return gate


def update_id(update: dict[str, Any]) -> int:
    return int(update["update_id"])


def pending_ids(fake: FakeBotApi) -> set[int]:
    """Updates Telegram still keeps: not yet confirmed by a later getUpdates."""
    return {int(u["update_id"]) for u in fake.pending_updates}


@pytest.fixture
async def webhook_tg(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> AsyncIterator[TelegramBot]:
    async with webhook_bot(
        make_settings,
        clock,
        database_url,
        "/telegram/webhook",
        telegram_webhook_secret=SECRET,
        max_updates_in_flight=2,
    ) as tg:
        yield tg


async def test_the_webhook_answers_503_at_the_bound_and_accepts_again_after(
    webhook_tg: TelegramBot,
) -> None:
    tg, fake = webhook_tg, webhook_tg.fake
    gate = hold(tg)
    first = fake.message(ANNA, "/help", enqueue=False)
    second = fake.message(BOB, "/help", enqueue=False)
    third = fake.message(CAROL, "/help", enqueue=False)
    # Each request is answered once its update is finished (200 confirms it).
    posts = [asyncio.ensure_future(fake.post_webhook(u, secret=SECRET)) for u in (first, second)]
    await fake.wait_until(lambda: tg.channel.started[update_id(second)] == 1)

    # Two in hand: the third is refused, and Telegram will send it again.
    assert await fake.post_webhook(third, secret=SECRET) == 503
    assert tg.channel.started[update_id(third)] == 0
    assert not any(post.done() for post in posts)

    gate.set()
    assert await asyncio.gather(*posts) == [200, 200]
    await fake.wait_until(lambda: tg.channel.updates.in_flight == 0)
    assert await fake.post_webhook(third, secret=SECRET) == 200
    for user in (ANNA, BOB, CAROL):
        assert len(fake.sent(user)) == 1, user
    assert all(tg.channel.finished[update_id(u)] == 1 for u in (first, second, third))


async def test_the_poller_waits_at_the_bound_and_nothing_is_lost(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, max_updates_in_flight=2
    ) as tg:
        fake, queue = tg.fake, tg.channel.updates
        gate = hold(tg)
        updates = [fake.message(user, "/help") for user in (ANNA, BOB, CAROL, DAVE)]
        await fake.wait_until(lambda: queue.waiting == 1)

        # The poller holds the third update and waits for room: no getUpdates is open,
        # and what it holds is not confirmed, so Telegram keeps it.
        polls = fake.calls_of("getUpdates")
        assert all(call.status != 0 for call in polls)
        assert queue.in_flight == 2
        assert {update_id(u) for u in updates[2:]} <= pending_ids(fake)
        assert [tg.channel.started[update_id(u)] for u in updates[2:]] == [0, 0]
        late = fake.message(EVE, "/help")  # fed while the poller waits: answered after

        gate.set()
        for update in [*updates, late]:
            await tg.channel.wait_finished(update_id(update))
        await fake.wait_until(lambda: not pending_ids(fake))
        for user in (ANNA, BOB, CAROL, DAVE, EVE):
            assert len(fake.sent(user)) == 1, user
        assert all(tg.channel.finished[update_id(u)] == 1 for u in [*updates, late])


async def test_stop_finishes_what_is_in_hand_within_the_grace(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    """The reply sits out a 6 s flood wait: longer than the poller's own stop deadline
    (STOP_SECONDS, 4 s), within the configured grace. Stop waits for it."""
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, stop_grace_seconds=30
    ) as tg:
        fake = tg.fake
        fake.fail_flood("sendMessage", retry_after=6, times=1, chat_id=ANNA)
        update = fake.message(ANNA, QUESTION)
        await fake.wait_for("sendMessage", 1, chat_id=ANNA)  # the 429: mid-update now
        await tg.app.stop()
        sent = fake.sent(ANNA)
        assert len(sent) == 1
        assert tg.channel.finished[update_id(update)] == 1
        assert not tg.channel.connected


async def test_stop_past_the_grace_leaves_the_reply_in_the_outbox(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    """A reply that waits out a 25 s flood wait is not waited for with a short grace:
    stop returns, and the reply stays in the outbox for the sender after the restart."""
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, stop_grace_seconds=0.5
    ) as tg:
        fake = tg.fake
        fake.fail_flood("sendMessage", retry_after=25, times=1, chat_id=ANNA)
        fake.message(ANNA, QUESTION)
        await fake.wait_for("sendMessage", 1, chat_id=ANNA)
        async with asyncio.timeout(20):  # a guard; without the grace stop takes 25 s
            await tg.app.stop()
        assert fake.sent(ANNA) == []  # cancelled in its flood wait
        async with tg.services.sessions() as session:
            rows = list((await session.execute(select(OutboxMessage))).scalars())
        waiting = [row for row in rows if row.chat_id == str(ANNA) and row.status != SENT]
        assert len(waiting) == 1


async def test_the_stop_signal_and_task_done_pass_the_bound() -> None:
    """Only updates count towards the bound: the library's stop signal always goes in,
    and an update that is finished (not merely taken out) makes room for the next."""
    queue = InFlightQueue(1)
    first = Update(update_id=1)
    await queue.put(first)
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait(Update(update_id=2))
    stop_signal = object()
    await queue.put(stop_signal)  # does not wait
    assert queue.in_flight == 2
    waiting = asyncio.ensure_future(queue.put(Update(update_id=3)))
    await asyncio.sleep(0)
    assert queue.waiting == 1 and not waiting.done()
    assert queue.get_nowait() is first
    await asyncio.sleep(0)
    assert not waiting.done()  # taken out but not finished: still in flight
    queue.task_done()
    assert queue.get_nowait() is stop_signal
    queue.task_done()
    await waiting
    assert queue.in_flight == 1 and queue.waiting == 0
