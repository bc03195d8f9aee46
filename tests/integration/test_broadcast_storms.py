"""429 and 403 storms from the fake Bot API, through the real Telegram channel."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from bot.broadcast.engine import BroadcastEngine
from bot.core.clock import FrozenClock
from bot.outbox.sender import OutboxSender
from bot.settings import Settings
from bot.storage.models import User
from bot.storage.repositories.announcements import DONE, AnnouncementRepo, Counts
from tests.helpers.broadcast_people import add_people, announce, person
from tests.helpers.fake_telegram import FakeBotApi
from tests.helpers.telegram_bot import running_bot

FIRST = 5000
PEOPLE = 20


def _delivered(fake: FakeBotApi) -> Counter[int]:
    return Counter(
        c.chat_id
        for c in fake.calls_of("sendMessage")
        if c.ok and isinstance(c.chat_id, int) and c.chat_id >= FIRST
    )


async def test_storms_of_429_and_403(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    clock = FrozenClock(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))  # 11:00 in Amsterdam
    async with running_bot(make_settings, clock=clock, database_url=database_url) as bot:
        services = bot.app.services
        assert services is not None
        await add_people(
            services.sessions,
            [
                person(
                    i,
                    platform="telegram",
                    platform_user_id=str(FIRST + i),
                    private_chat_id=str(FIRST + i),
                )
                for i in range(PEOPLE)
            ],
        )
        async with services.work.begin() as repos:
            made = await announce(repos.announcements, clock.now())
        fake = bot.fake
        for i in range(5):  # five people blocked the bot
            fake.fail_blocked(FIRST + i)
        for i in (5, 6):  # two are gone
            fake.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=FIRST + i)
        fake.fail_flood(retry_after=3, times=6)  # then a storm of 429s for anyone
        fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=FIRST + 19)
        engine = BroadcastEngine(
            services.sessions, services.outbox, services.texts, clock, interval=0.0
        )
        sender = OutboxSender(services.outbox, bot.app.channels, before_claim=[engine.tick])
        await sender.drain()
        first = _delivered(fake)
        assert len(first) < PEOPLE - 7  # the 429s are waiting
        clock.advance(seconds=3)
        await sender.drain()
        clock.advance(seconds=60)  # the 502's backoff
        await sender.drain()
        await engine.tick()
        delivered = _delivered(fake)
        assert set(delivered) == {FIRST + i for i in range(7, PEOPLE)}
        assert set(delivered.values()) == {1}  # none twice
        async with services.sessions() as session:
            view = await AnnouncementRepo(session).get(made)
            assert view is not None and view.status == DONE
            assert view.counts == Counts(delivered=PEOPLE - 7, blocked=7)
            inactive = await session.scalars(
                select(User.private_chat_id).where(User.active.is_(False))
            )
            assert sorted(inactive) == [str(FIRST + i) for i in range(7)]
