"""Stray menu numbers in a real chat (issue 12, point 4): "4" after three options or
"9" after /start is never answered from the knowledge base."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.storage.models import UnansweredQuestion
from tests.helpers.conversation import Person, typed_in_console


async def _console(app: App, *lines: str) -> str:
    return await typed_in_console(app, lines)


def _t(app: App, key: str, language: str = "nl") -> str:
    assert app.services is not None
    return app.services.texts.get(language, key)


async def _gaps(app: App) -> list[str]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = (await session.execute(select(UnansweredQuestion))).scalars()
        return [row.question for row in rows]


async def test_a_number_the_menu_does_not_have_shows_the_menu_again(app: App) -> None:
    out = await _console(app, "/start", "9", "1")
    after = out.split("> 9\n", 1)[1].split("> 1\n", 1)
    assert after[0].startswith(_t(app, "fallback.pick_number"))
    assert "  1. Stel een vraag" in after[0] and "  4. Taal / Language" in after[0]
    assert "Bron:" not in out
    assert _t(app, "ask.intro").splitlines()[0] in after[1]  # "1" still chooses from it
    assert await _gaps(app) == []


async def test_a_number_after_three_topics_shows_the_three_again(app: App) -> None:
    out = await _console(app, "wat is positieve gezondheid", "4", "2")
    answer, rest = out.split("> 4\n", 1)
    topics = [line for line in answer.splitlines() if line.startswith(("  1. ", "  2. ", "  3. "))]
    assert len(topics) == 3 and "  4. " not in answer
    again, chosen = rest.split("> 2\n", 1)
    assert again.startswith(_t(app, "fallback.pick_number"))
    assert all(line in again for line in topics)
    assert "Bron:" not in again
    assert chosen.startswith(topics[1].removeprefix("  2. "))  # the second topic, shown


async def test_a_number_in_a_fresh_chat_says_what_to_type(bot: Person, app: App) -> None:
    await bot.send("9")
    assert bot.text.startswith(_t(app, "fallback.number"))
    assert _t(app, "fallback.number_menu") in bot.text
    assert bot.choices == [
        "Stel een vraag",
        "Vul je spinnenweb in",
        "Wat kan ik hier?",
        "Taal / Language",
        "Bekijk de agenda",
    ]
    assert "Bron:" not in bot.text
    assert await _gaps(app) == []


async def test_a_number_is_answered_in_the_persons_language(bot: Person, app: App) -> None:
    await bot.send("/taal en")
    await bot.send("4")
    assert bot.text.startswith(_t(app, "fallback.number", "en"))


async def test_113_after_a_list_is_still_113s_information(app: App) -> None:
    out = await _console(app, "/start", "113")
    assert "0800-0113" in out.split("> 113\n", 1)[1]
    assert _t(app, "fallback.pick_number") not in out


async def test_112_after_a_list_says_what_to_do_in_an_emergency(app: App) -> None:
    out = await _console(app, "/start", "112")
    after = out.split("> 112\n", 1)[1]
    assert _t(app, "safety.emergency") in after
    assert _t(app, "fallback.pick_number") not in out


async def test_a_crisis_with_a_number_gets_the_crisis_reply(bot: Person, app: App) -> None:
    await bot.send("/start")
    await bot.send("4 ik wil niet meer leven")
    assert bot.text == _t(app, "safety.crisis")
