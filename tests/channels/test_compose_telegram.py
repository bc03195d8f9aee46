"""/bericht on Telegram (the real python-telegram-bot against the fake Bot API): the
steps as inline keyboards, the preview with its link button and unsubscribe tap as
Telegram shows them, and a second "Versturen" on the old keyboard sends nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FrozenClock
from bot.settings import Settings
from bot.storage.models import Announcement
from tests.helpers.fake_telegram import Call
from tests.helpers.telegram_bot import TelegramBot, running_bot

LOTTE, ANNA = 4301, 4302  # a verbinder (BOT_ADMINS), and someone who is not


@pytest.fixture
async def tg(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> AsyncIterator[TelegramBot]:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, bot_admins=f"telegram:{LOTTE}"
    ) as bot:
        yield bot


def plain(call: Call) -> str:
    assert isinstance(call.result, dict), call.summary()
    return str(call.result.get("text") or call.result.get("caption") or "")


def buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def data_of(call: Call, label: str) -> str:
    return next(str(b["callback_data"]) for b in buttons(call) if b["text"] == label)


async def stored(tg: TelegramBot) -> list[Announcement]:
    async with tg.services.sessions() as session:
        return list((await session.execute(select(Announcement))).scalars())


async def test_bericht_on_telegram_shows_the_preview_as_sent_and_sends_once(
    tg: TelegramBot,
) -> None:
    sent = await tg.say(LOTTE, "/bericht")
    assert tg.t("compose.everyone") in [b["text"] for b in buttons(sent[-1])]
    await tg.press(LOTTE, tg.t("compose.everyone"))
    await tg.press(LOTTE, tg.t("compose.next"))
    await tg.press(LOTTE, tg.t("compose.topics.nieuws"))
    await tg.say(LOTTE, "Leeratelier op 3 april <Leiden> & meer")
    await tg.press(LOTTE, tg.t("compose.extra_link"))
    sent = await tg.say(LOTTE, "https://www.alliantiepg.nl/agenda Naar de agenda")
    intro, shown, counts, confirm = sent
    assert plain(intro) == tg.t("compose.preview")
    assert plain(shown) == "Leeratelier op 3 april <Leiden> & meer"  # escaped, shown as typed
    assert [(b["text"], b.get("url"), b.get("callback_data")) for b in buttons(shown)] == [
        ("Naar de agenda", "https://www.alliantiepg.nl/agenda", None),
        (tg.t("announce.unsubscribe", topic="nieuws"), None, "afmelden:0"),
    ]
    # Lotte is the only one here, on Telegram.
    who, count = plain(counts).split("\n")
    assert who.startswith(tg.t("compose.preview_for", audience="")) and len(who) > 6
    assert count == tg.t("compose.count", total=1, platforms="Telegram 1")
    send = data_of(confirm, tg.t("compose.send_now"))
    sent = await tg.press(LOTTE, tg.t("compose.send_now"))
    assert plain(sent[0]) == tg.t("compose.created_now", id=1, total=1)
    assert len(await stored(tg)) == 1
    # The same button again, on the old keyboard: it was sent already; nothing more stored.
    _, sent = await tg.callback(LOTTE, send, message_id=int(confirm.result["message_id"]))
    assert plain(sent[0]) == tg.t("compose.already_sent", id=1)
    assert len(await stored(tg)) == 1


async def test_someone_else_is_refused_and_a_forged_press_does_nothing(tg: TelegramBot) -> None:
    sent = await tg.say(ANNA, "/bericht")
    assert plain(sent[-1]) == tg.t("errors.forbidden")
    sent = await tg.say(ANNA, "/start")
    _, sent = await tg.callback(ANNA, "bc:abc:2:s", message_id=int(sent[-1].result["message_id"]))
    assert plain(sent[0]) == tg.t("errors.forbidden")
    assert await stored(tg) == []
