"""Every question not answered outright is recorded for ``content gaps`` (issue 12,
point 5): a "Bedoel je ...?" as well as an "I don't know". The text only, never who
asked; greetings, numbers, answers and what the safety layer answers are not recorded."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.storage.models import UnansweredQuestion
from tests.helpers.conversation import Person


async def _gaps(app: App) -> list[str]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = (await session.execute(select(UnansweredQuestion))).scalars()
        return [row.question for row in rows]


async def test_an_off_topic_question_gets_dont_know_and_a_person_and_is_recorded(
    bot: Person, app: App
) -> None:
    await bot.send("hoeveel kost een parkeervergunning")
    assert "geen goed antwoord" in bot.text and "info@alliantiepg.nl" in bot.text
    assert "Bedoel je" not in bot.text and "Misschien" not in bot.text
    assert bot.choices == []
    await bot.send("hoe laat is het?")
    assert bot.choices == []
    assert await _gaps(app) == ["hoeveel kost een parkeervergunning", "hoe laat is het?"]


async def test_a_question_back_is_recorded_too(bot: Person, app: App) -> None:
    await bot.send("samenwerking in de wijk")
    assert "Bedoel je" in bot.text
    assert await _gaps(app) == ["samenwerking in de wijk"]
    await bot.press("Iets anders")  # the same question: not recorded twice
    assert await _gaps(app) == ["samenwerking in de wijk"]


async def test_what_is_answered_otherwise_is_not_recorded(bot: Person, app: App) -> None:
    for text in (
        "wat is positieve gezondheid",  # answered
        "hoi",  # small talk
        "7",  # a number
        "hoeveel paracetamol mag ik per dag",  # the huisarts
        "ik voel me de laatste tijd zo eenzaam",  # warmth and help nearby
        "ik wil niet meer leven",  # crisis
        "hoort Katwijk bij de regio?",  # a fact
    ):
        await bot.send(text)
    assert await _gaps(app) == []
