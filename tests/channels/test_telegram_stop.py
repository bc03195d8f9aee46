"""A stop (SIGTERM) under load loses no Telegram update (issue 18, "Backpressure").

Updates whose handler blocks (inside the core's transaction, as on a stuck database)
are still in hand when the stop's grace (``STOP_GRACE_SECONDS``, short here) runs out,
and are cancelled. They must not have been confirmed to Telegram: polling confirms only
up to the oldest unfinished update, the webhook answers 503 for them. A new app on the
same database and the same fake Telegram then answers every update exactly once: the
unfinished ones because Telegram sends them again, the finished ones once because the
dedupe drops them when they come again.

The real App and python-telegram-bot against the fake Bot API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from bot.core.clock import FrozenClock
from bot.core.messages import Incoming, Reply
from bot.settings import Settings
from tests.helpers.fake_telegram import FakeBotApi
from tests.helpers.telegram_bot import TelegramBot, free_port, running_bot

SLOW = (5101, 5102, 5103)  # their /help blocks until the stop gives up on it
QUICK = (5104, 5105)  # answered at once, after the slow ones came in
GRACE = 0.5
SECRET = "stop-secret"

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def block_help_of(tg: TelegramBot, users: tuple[int, ...]) -> None:
    """/help of ``users`` blocks until the stop gives up on it; everything else runs as
    usual. On PostgreSQL it blocks inside the core's transaction (after the dedupe
    record, which the cancel rolls back), as on a stuck database. SQLite has one
    writer, so a blocked transaction would hold up the quick updates too: there it
    blocks in front of the core. Only this app is changed."""
    blocked = {str(user) for user in users}
    if tg.app.settings.is_sqlite:
        handle = tg.channel._handle
        assert handle is not None

        async def held(incoming: Incoming) -> list[Reply]:
            if incoming.user_id in blocked:
                await asyncio.Event().wait()  # never: the stop cancels it
            return await handle(incoming)

        tg.channel._handle = held
        return
    dispatcher = tg.app.dispatcher
    assert dispatcher is not None
    command = dispatcher.router.find("help")
    assert command is not None
    real = command.handler

    async def slow(msg: Incoming, ctx: Any) -> list[Reply]:
        if msg.user_id in blocked:
            await asyncio.Event().wait()  # never: the stop cancels it
        return await real(msg, ctx)

    object.__setattr__(command, "handler", slow)  # a frozen dataclass


def polled_after(fake: FakeBotApi, updates: list[dict[str, Any]]) -> bool:
    """A getUpdates came after the one that delivered the last of ``updates``."""
    wanted = {int(u["update_id"]) for u in updates}
    polls = fake.calls_of("getUpdates")
    for number, call in enumerate(polls):
        if call.ok:
            wanted -= {int(u["update_id"]) for u in call.result or []}
        if not wanted:
            return len(polls) > number + 1
    return False


async def answered_once(tg: TelegramBot, users: tuple[int, ...]) -> None:
    fake = tg.fake
    await fake.wait_until(lambda: all(len(fake.sent(u)) >= 1 for u in users), timeout=30)
    await fake.wait_until(lambda: fake.pending_updates == [], timeout=30)
    await fake.wait_idle(quiet=0.5)
    assert {u: len(fake.sent(u)) for u in users} == dict.fromkeys(users, 1)


async def test_a_stop_under_load_loses_no_polled_update(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with FakeBotApi() as fake:
        async with running_bot(
            make_settings,
            clock=clock,
            fake=fake,
            database_url=database_url,
            stop_grace_seconds=GRACE,
        ) as tg:
            block_help_of(tg, SLOW)
            slow = [fake.message(user, "/help") for user in SLOW]
            for update in slow:
                await fake.wait_until(lambda u=update: tg.channel.started[u["update_id"]] == 1)
            quick = [fake.message(user, "/help") for user in QUICK]
            for update in quick:
                await tg.channel.wait_finished(update["update_id"])
            # The poller asks again after the quick ones: that getUpdates must not confirm
            # the slow ones (the quick ones it may not confirm either: they are above).
            await fake.wait_until(lambda: polled_after(fake, quick))
            await tg.app.stop()
            assert all(fake.sent(user) == [] for user in SLOW)
            kept = {int(u["update_id"]) for u in fake.pending_updates}
            assert {int(u["update_id"]) for u in slow} <= kept
        async with running_bot(
            make_settings, clock=clock, fake=fake, database_url=database_url
        ) as again:
            await answered_once(again, SLOW + QUICK)


def _post_all(fake: FakeBotApi, updates: list[dict[str, Any]]) -> list[asyncio.Future[int]]:
    return [asyncio.ensure_future(fake.post_webhook(u, secret=SECRET)) for u in updates]


def _webhook_bot(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    database_url: str,
    fake: FakeBotApi,
    **overrides: Any,
) -> contextlib.AbstractAsyncContextManager[TelegramBot]:
    port = free_port()
    return running_bot(
        make_settings,
        clock=clock,
        http=True,
        fake=fake,
        database_url=database_url,
        http_port=port,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret=SECRET,
        **overrides,
    )


async def test_a_stop_under_load_answers_503_for_unfinished_webhook_updates(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    """Telegram forgets an update answered 200: the stopping worker answers 503 for the
    ones it gives up, and Telegram sends them again (here: to the next worker)."""
    async with FakeBotApi() as fake:
        async with _webhook_bot(
            make_settings, clock, database_url, fake, stop_grace_seconds=GRACE
        ) as tg:
            block_help_of(tg, SLOW)
            slow = [fake.message(user, "/help", enqueue=False) for user in SLOW]
            quick = [fake.message(user, "/help", enqueue=False) for user in QUICK]
            slow_posts = _post_all(fake, slow)
            for update in slow:
                await fake.wait_until(lambda u=update: tg.channel.started[u["update_id"]] == 1)
            assert await asyncio.gather(*_post_all(fake, quick)) == [200, 200]
            assert not any(post.done() for post in slow_posts)
            await tg.app.stop()
            assert await asyncio.gather(*slow_posts) == [503, 503, 503]
            assert all(fake.sent(user) == [] for user in SLOW)
        async with _webhook_bot(make_settings, clock, database_url, fake):
            # Telegram sends the refused ones again, and (unsure) a quick one too.
            again = _post_all(fake, [*slow, quick[0]])
            assert await asyncio.gather(*again) == [200, 200, 200, 200]
            await fake.wait_idle(quiet=0.5)
            users = SLOW + QUICK
            assert {u: len(fake.sent(u)) for u in users} == dict.fromkeys(users, 1)
