"""The invite's share link (``Reply.share_link``) as each channel renders it, and as
the outbox keeps it for a reply sent later."""

from __future__ import annotations

from typing import Any

from bot.channels.telegram_send import TelegramSender
from bot.channels.telegram_updates import Me
from bot.core.messages import Reply, ShareLink
from bot.outbox.queue import reply_from_json, reply_to_json

TOKEN = "0123456789abcdef0123456789abcdef01234567"
INVITE = Reply(text="Klaar.\n/code " + TOKEN, share_link=ShareLink(f"inv_{TOKEN}", "Link:"))


def _sender(username: str) -> TelegramSender:
    bot: Any = None  # text_of needs no API
    return TelegramSender(bot, Me(username))


def test_telegram_adds_the_deep_link_below_the_text() -> None:
    text = _sender("alliantiebot").text_of(INVITE)
    assert text == f"Klaar.\n/code {TOKEN}\n\nLink:\nhttps://t.me/alliantiebot?start=inv_{TOKEN}"


def test_without_a_username_or_a_link_the_text_stays_as_it_is() -> None:
    assert _sender("").text_of(INVITE) == INVITE.text
    assert _sender("alliantiebot").text_of(Reply(text=" hoi ")) == "hoi"


def test_the_outbox_keeps_the_share_link() -> None:
    assert reply_from_json(reply_to_json(INVITE)) == INVITE
    assert "share_link" not in reply_to_json(Reply(text="hoi"))
