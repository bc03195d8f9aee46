"""Other commands in the middle of a check-in do not lose it."""

from __future__ import annotations

from tests.helpers.conversation import Person


async def _to_question_three(bot: Person) -> None:
    await bot.send("/spinnenweb")
    await bot.press("Ja, bewaar mijn antwoorden")
    await bot.press("Kort (6 vragen)")
    await bot.press("6")
    await bot.press("7")
    assert "Vraag 3 van 6" in bot.text


async def test_switching_language_mid_check_in_keeps_it(bot: Person) -> None:
    await _to_question_three(bot)
    await bot.send("/taal")
    await bot.press("English")
    assert "from now on I will talk English" in bot.text
    await bot.send("5")  # still the answer to question 3
    assert "Question 4 of 6" in bot.text


async def test_forget_me_answered_no_returns_to_the_check_in(bot: Person) -> None:
    await _to_question_three(bot)
    await bot.send("/vergeetmij")
    await bot.press("Nee, niet verwijderen")
    assert "ik heb niets verwijderd" in bot.text.lower()
    await bot.send("8")
    assert "Vraag 4 van 6" in bot.text


async def test_forget_me_with_an_unclear_answer_also_keeps_the_check_in(bot: Person) -> None:
    await _to_question_three(bot)
    await bot.send("/vergeetmij")
    await bot.send("misschien")
    await bot.send("8")
    assert "Vraag 4 van 6" in bot.text


async def test_a_question_while_paused_is_answered_and_the_check_in_waits(bot: Person) -> None:
    await _to_question_three(bot)
    await bot.send("pauze")
    await bot.send("Wat is Positieve Gezondheid?")
    assert "Bron:" in bot.text
    await bot.send("/spinnenweb")
    await bot.press("Verder gaan")
    assert "Vraag 3 van 6" in bot.text
