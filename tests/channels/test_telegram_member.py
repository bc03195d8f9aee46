"""Blocking the bot on Telegram: a ``my_chat_member`` update of the person's private
chat marks them inactive at once (nothing is queued for them any more), unblocking
active again; a group's ``my_chat_member`` is not about a person. The real App and
python-telegram-bot against the fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FrozenClock
from bot.scheduling import jobs
from bot.settings import Settings
from bot.storage.models import OutboxMessage, User
from bot.storage.repositories import Repos
from tests.helpers.telegram_bot import TelegramBot, running_bot

ANNA = 4301
GROUP = -1004301

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def tg(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> AsyncIterator[TelegramBot]:
    async with running_bot(make_settings, clock=clock, database_url=database_url) as bot:
        yield bot


def member_update(
    tg: TelegramBot, user_id: int, old: str, new: str, *, chat: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What Telegram sends when ``user_id`` changes the bot's status in ``chat`` (their
    private chat unless given): ``kicked`` when they block it, ``member`` after."""
    person = {"id": user_id, "is_bot": False, "first_name": "Anna"}
    bot_user = {
        "id": tg.fake.bot_id,
        "is_bot": True,
        "first_name": tg.fake.first_name,
        "username": tg.fake.username,
    }

    def status(name: str) -> dict[str, Any]:
        extra = {"until_date": 0} if name == "kicked" else {}
        return {"status": name, "user": bot_user, **extra}

    update = tg.fake.add_update(
        {
            "my_chat_member": {
                "chat": chat or {"id": user_id, "type": "private", "first_name": "Anna"},
                "from": person,
                "date": int(time.time()),
                "old_chat_member": status(old),
                "new_chat_member": status(new),
            }
        }
    )
    return update


async def feed(tg: TelegramBot, update: dict[str, Any]) -> None:
    await tg.channel.wait_finished(int(update["update_id"]))


async def queued_for(tg: TelegramBot, user_id: int) -> int:
    async with tg.services.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == user_id)
        )
    return int(count or 0)


async def remind(user_id: int, key: str) -> None:
    """A scheduled message to the person, as the reminder jobs send one."""

    async def compose(_repos: Repos, _user: User) -> str:
        return "Denk aan de bijeenkomst"

    await jobs.send_to_person(user_id, key, "test reminder", compose)


async def test_blocking_marks_the_person_inactive_at_once_and_unblocking_active_again(
    tg: TelegramBot,
) -> None:
    await tg.say(ANNA, "/start")
    anna = await tg.user(ANNA)
    assert anna.active is True
    tg.fake.clear_calls()

    await feed(tg, member_update(tg, ANNA, "member", "kicked"))
    blocked = await tg.user(ANNA)
    assert blocked.active is False and blocked.blocked_at is not None
    assert tg.fake.sent(ANNA) == []  # no reply to a block
    await remind(anna.id, "after-block")
    assert await queued_for(tg, anna.id) == 0  # nothing is queued for them

    await feed(tg, member_update(tg, ANNA, "kicked", "member"))
    back = await tg.user(ANNA)
    assert back.active is True and back.blocked_at is None
    assert tg.fake.sent(ANNA) == []
    await remind(anna.id, "after-unblock")
    assert await queued_for(tg, anna.id) == 1


async def test_a_group_that_removes_the_bot_is_not_a_person_blocking_it(
    tg: TelegramBot,
) -> None:
    await tg.say(ANNA, "/start")
    group = {"id": GROUP, "type": "group", "title": "Gangmakers"}
    await feed(tg, member_update(tg, ANNA, "member", "kicked", chat=group))
    assert (await tg.user(ANNA)).active is True


async def test_a_block_by_someone_the_bot_never_met_is_ignored(tg: TelegramBot) -> None:
    await feed(tg, member_update(tg, ANNA, "member", "kicked"))
    async with tg.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    assert tg.fake.sent(ANNA) == []
