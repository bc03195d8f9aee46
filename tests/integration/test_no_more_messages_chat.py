"""In a real chat: a typed "no more messages" is no crisis and gets how to stop them;
a wish beside it still gets the crisis reply; text without words gets the person's
own language (docs/knowledge.md)."""

from __future__ import annotations

from bot.app import App
from tests.helpers.conversation import Person


def _t(app: App, key: str, language: str = "nl") -> str:
    assert app.services is not None
    return app.services.texts.get(language, key)


async def test_typing_the_unsubscribe_button_is_no_crisis(bot: Person, app: App) -> None:
    await bot.send("Geen berichten meer over de agenda")
    assert bot.text != _t(app, "safety.crisis")
    assert "/stop" in bot.text and "/profiel" in bot.text


async def test_no_more_messages_beside_a_wish_is_a_crisis(bot: Person, app: App) -> None:
    await bot.send("ik wil geen berichten meer, ik wil niks meer")
    assert bot.text == _t(app, "safety.crisis")


async def test_a_date_and_time_gets_the_dutch_reply_of_a_dutch_person(
    bot: Person, app: App
) -> None:
    await bot.send("13-03 10:00")
    assert bot.text.startswith(_t(app, "fallback.number"))


async def test_a_date_and_time_gets_the_english_reply_of_an_english_person(
    bot: Person, app: App
) -> None:
    await bot.send("/taal en")
    await bot.send("13-03 10:00")
    assert bot.text.startswith(_t(app, "fallback.number", "en"))
