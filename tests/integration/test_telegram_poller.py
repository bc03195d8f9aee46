"""Two polling workers on one bot token: one elected poller (issue 18).

Telegram allows one getUpdates consumer per token: a second one ends the first one's
long poll with 409 Conflict (the fake does the same). On PostgreSQL the workers elect
one poller per token (an advisory lock from the bot's id, bot/scheduling/leader.py);
the other runs everything else, is ready (/readyz), and takes over when the poller is
killed with ``kill -9``. Real worker processes (``tests/helpers/workers.py``) against
one fake Bot API. SQLite is one process: no election, so PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.app import App
from bot.settings import Settings
from tests.helpers.fake_telegram import Call, FakeBotApi
from tests.helpers.workers import Worker, shared_settings, workers

LEADS = "leads and polls Telegram"
READY = "WORKER READY"
FIRST_USER = 7000
TAKEOVER = 30  # seconds: the bound for another worker to start polling

WORKER = """
import asyncio, json, logging, sys
from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.scheduling import leader
from bot.settings import Settings

leader.RETRY_SECONDS = leader.CHECK_SECONDS = 0.2
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(name)s: %(message)s")
logging.getLogger(leader.__name__).setLevel(logging.INFO)


async def main():
    settings = Settings(_env_file=None, **json.loads(sys.argv[1]))
    channel = TelegramChannel(settings)
    app = App(settings, channels={channel.name: channel})
    await app.start(http=True, scheduler=False, sender=True)
    print("WORKER READY", app.http.bound_port, flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
"""


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.05)


def _port(worker: Worker) -> int:
    line = next(line for line in worker.lines if line.startswith(READY))
    return int(line.split()[-1])


async def _readyz(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/readyz") as response,
    ):
        return response.status, await response.json()


def _conflicts(fake: FakeBotApi) -> list[Call]:
    return [call for call in fake.calls_of("getUpdates") if call.status == 409]


def _answers(fake: FakeBotApi, users: range) -> Counter[int]:
    return Counter({user: len(fake.sent(user)) for user in users})


async def test_one_of_two_polling_workers_polls_and_the_other_takes_over_after_a_kill_9(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("one poller per token is elected on PostgreSQL; SQLite is one process")
    async with FakeBotApi() as fake:
        settings = make_settings(
            database_url=database_url,
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
        )
        app = App(settings)  # migrates the database; no channel of its own
        await app.start(scheduler=False, sender=False)
        try:
            values: dict[str, object] = {
                **shared_settings(settings),
                "telegram_bot_token": fake.token,
                "telegram_api_base_url": fake.base_url,
                "http_port": 0,
                "outbox_poll_interval": 0.2,
            }
            async with workers(WORKER, [json.dumps(values, default=str)], 2) as started:
                await _until(lambda: all(w.said(READY) for w in started), 60)
                leaders = [w for w in started if w.said(LEADS)]
                assert len(leaders) == 1, [w.lines[-5:] for w in started]
                old = leaders[0]
                (other,) = [w for w in started if w is not old]

                # Both ready: the one that does not poll is not "not connected".
                for worker in started:
                    status, body = await _readyz(_port(worker))
                    assert status == 200, body
                    assert body["channels"]["telegram"]["connected"] is True

                first = range(FIRST_USER, FIRST_USER + 10)
                for user in first:
                    fake.message(user, "/help")
                await _until(lambda: all(_answers(fake, first).values()), 60)
                await _until(lambda: fake.pending_updates == [], 30)
                # One poller: no getUpdates was ended by another one.
                assert _conflicts(fake) == []

                killed_at = time.monotonic()
                os.kill(old.process.pid, signal.SIGKILL)
                await old.process.wait()
                second = range(FIRST_USER + 10, FIRST_USER + 20)
                for user in second:
                    fake.message(user, "/help")
                await _until(lambda: all(_answers(fake, second).values()), TAKEOVER)
                await _until(lambda: fake.pending_updates == [], 30)
                await fake.wait_idle(quiet=0.5)

                assert other.said(LEADS) == 1, other.lines[-5:]
                everyone = range(FIRST_USER, FIRST_USER + 20)
                assert _answers(fake, everyone) == Counter(dict.fromkeys(everyone, 1))
                # The only conflict: the killed worker's long poll, still open at the
                # fake, ended by the new poller's first getUpdates (Telegram does so).
                assert all(call.at < killed_at for call in _conflicts(fake))
                assert len(_conflicts(fake)) <= 1
        finally:
            await app.stop()
