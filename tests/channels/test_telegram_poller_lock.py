"""The elected Telegram poller when its lock is lost (PostgreSQL; issue 18).

A worker whose lock connection fails (the database away, say) is told it no longer
leads. Nobody else can take the lock while the database is away, and no poller at all
would leave even a crisis message unanswered; so it polls on, until Telegram says
another getUpdates runs on the token (409: another worker took the lock and polls).
Then it stops polling, and is still ready (it campaigns to take over again).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
import pytest

from bot.core.clock import FrozenClock
from bot.settings import Settings
from tests.helpers.fake_telegram import FakeBotApi
from tests.helpers.telegram_bot import running_bot

ANNA = 5201

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def _another_poll(fake: FakeBotApi) -> None:
    """One getUpdates from elsewhere on the same token (a second poller)."""
    body = json.dumps({"timeout": 1, "limit": 1})
    headers = {"Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{fake.token}/getUpdates", data=body, headers=headers) as r,
    ):
        await r.read()


async def test_a_poller_that_lost_its_lock_polls_on_until_another_poller_shows(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite is one process: no poller election")
    async with running_bot(make_settings, clock=clock, database_url=database_url) as tg:
        channel = tg.channel
        assert channel.election is not None and channel.election.leading
        assert channel.poller is not None and channel.poller.running

        channel._follow()  # what the election calls when the lock's connection fails
        assert len(await tg.say(ANNA, "/help")) == 1  # still polling: still answered
        assert channel.poller.running and channel.connected

        async with asyncio.timeout(30):  # a guard, not a speed target
            while channel.poller.running:
                await _another_poll(tg.fake)
        assert channel.connected  # a follower that campaigns is ready
        assert not channel.poller.running  # the updates are left to the other poller
