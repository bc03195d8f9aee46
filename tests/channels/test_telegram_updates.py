"""Reading Telegram updates: the event id that deduplicates them."""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram_updates import Me, UpdateReader


def update(update_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "Anna"},
                "text": "hallo",
            },
        },
        None,
    )


def test_the_event_id_holds_the_bots_id_so_two_bots_never_share_one() -> None:
    """Telegram numbers updates per bot: bot A's update 7 is not bot B's update 7."""
    first = UpdateReader(Me(username="a_bot", bot_id=111), lambda _: False)
    second = UpdateReader(Me(username="b_bot", bot_id=222), lambda _: False)
    one, other = first.to_incoming(update(7)), second.to_incoming(update(7))
    assert one is not None and other is not None
    assert one.event_id == "111:7" and other.event_id == "222:7"
    assert one.durable_replies and other.durable_replies
