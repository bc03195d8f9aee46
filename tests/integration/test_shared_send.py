"""Three outbox senders on one bot token stay within Telegram's limits together (issue 18).

On PostgreSQL every worker may run the outbox sender; one elected sender per platform
(an advisory lock, bot/outbox/sender.py and bot/scheduling/leader.py) claims that
platform's rows, so its in-process rate limiter holds the limit for the deployment.
SQLite is single-process, so this runs on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.messages import Reply
from bot.outbox.queue import SENT, Outgoing
from bot.settings import Settings
from bot.storage.models import OutboxMessage
from tests.helpers.fake_telegram import FakeBotApi
from tests.helpers.workers import Worker, shared_settings, workers

SQLITE = (
    "one elected sender per platform is PostgreSQL's advisory lock; SQLite runs one "
    "process, whose limiter is the only one"
)
MESSAGES = 600  # the number: at the channel's 28 a second about 21 s
LIMIT = 30  # Telegram: about 30 messages a second for one bot token
# Each worker keeps the Telegram channel's own limiter (OVERALL_RATE: 28 a second, no
# burst), which alone keeps every second within LIMIT; what is tested is that three
# processes together send no faster than one: without the election about 84 a second.
LEADS = "leads and sends telegram's messages"
FIRST_CHAT = 10_000

WORKER = """
import asyncio, json, logging, sys
from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.scheduling import leader
from bot.settings import Settings

leader.RETRY_SECONDS = leader.CHECK_SECONDS = 0.2
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(name)s: %(message)s")
logging.getLogger(leader.__name__).setLevel(logging.INFO)


class SendOnly(TelegramChannel):
    async def start(self, handle):  # only the outbox: no getUpdates from three pollers
        await self.application.initialize()


async def main():
    settings = Settings(_env_file=None, **json.loads(sys.argv[1]))
    channel = SendOnly(settings)
    app = App(settings, channels={channel.name: channel})
    await app.start(scheduler=False, sender=True)
    print("WORKER READY", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
"""


def _workers(
    values: dict[str, object], count: int
) -> contextlib.AbstractAsyncContextManager[list[Worker]]:
    return workers(WORKER, [json.dumps(values, default=str)], count)


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.05)


def _busiest_second(times: list[float]) -> int:
    """The most calls in any one second (sliding: every window [t, t + 1) that starts
    at a call)."""
    times = sorted(times)
    busiest, end = 0, 0
    for start, began in enumerate(times):
        while end < len(times) and times[end] < began + 1.0:
            end += 1
        busiest = max(busiest, end - start)
    return busiest


def test_busiest_second_counts_a_sliding_window() -> None:
    assert _busiest_second([]) == 0
    assert _busiest_second([0.0, 0.5, 0.99, 1.0, 1.4]) == 4  # 0.5 .. 1.4
    assert _busiest_second([0.0, 1.0, 2.0]) == 1


async def test_three_senders_deliver_600_within_telegrams_limit_and_survive_a_kill_9(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip(SQLITE)
    async with FakeBotApi() as fake:
        settings = make_settings(
            database_url=database_url,
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
        )
        app = App(settings)  # migrates the database, and enqueues; sends nothing itself
        await app.start(scheduler=False, sender=False)
        try:
            assert app.services is not None
            values: dict[str, object] = {
                **shared_settings(settings),
                "telegram_bot_token": fake.token,
                "telegram_api_base_url": fake.base_url,
                "run_outbox_sender": True,
                "outbox_lease_seconds": 5,  # a killed sender's rows come back soon
                "outbox_poll_interval": 0.2,
            }
            async with _workers(values, 3) as workers:
                await _until(lambda: all(w.said("WORKER READY") for w in workers), 60)
                leaders = [w for w in workers if w.said(LEADS)]
                assert len(leaders) == 1, [w.lines[-5:] for w in workers]
                old = leaders[0]

                chats = [FIRST_CHAT + i for i in range(MESSAGES)]
                await app.services.outbox.enqueue(
                    [
                        Outgoing(
                            key=f"shared:{chat}",
                            platform="telegram",
                            chat_id=str(chat),
                            reply=Reply(text=f"bericht {chat}"),
                        )
                        for chat in chats
                    ]
                )

                def sent() -> list[int]:
                    return [call.chat_id for call in fake.calls_of("sendMessage") if call.ok]

                # Midway the leader freezes (so what it had in flight is known), and
                # is killed; another worker takes over.
                await _until(lambda: len(sent()) >= MESSAGES // 3, 60)
                os.kill(old.process.pid, signal.SIGSTOP)
                await asyncio.sleep(1.0)  # its last requests are in
                before = set(sent())
                async with app.services.sessions() as session:
                    done = set(
                        (
                            await session.execute(
                                select(OutboxMessage.chat_id).where(OutboxMessage.status == SENT)
                            )
                        ).scalars()
                    )
                # Sent, but the sender froze before it wrote so: these may go twice.
                in_flight = {chat for chat in before if str(chat) not in done}
                os.kill(old.process.pid, signal.SIGKILL)
                await old.process.wait()

                async def all_sent() -> bool:
                    async with app.services.sessions() as session:
                        rows = (await session.execute(select(OutboxMessage.status))).scalars()
                        return all(status == SENT for status in rows)

                async with asyncio.timeout(120):
                    while not (set(sent()) == set(chats) and await all_sent()):
                        await asyncio.sleep(0.2)

                others = [w for w in workers if w is not old]
                assert sum(w.said(LEADS) for w in others) == 1, [w.lines[-5:] for w in others]
                assert old.said("stopped leading") == 0  # it never knew: it was killed
                counts = Counter(sent())
                assert set(counts) == set(chats)  # nothing lost
                twice = {chat for chat, n in counts.items() if n > 1}
                assert twice <= in_flight, (twice, in_flight)  # only what was in flight
                assert len(fake.calls_of("sendMessage")) == sum(counts.values())  # no errors
                times = [call.at for call in fake.calls_of("sendMessage")]
                assert _busiest_second(times) <= LIMIT
        finally:
            await app.stop()
