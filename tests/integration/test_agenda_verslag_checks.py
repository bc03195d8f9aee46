"""/agenda verslag after the blind test of issue 16: no report for a meeting that has
not begun, "1 persoon" rather than "1 mensen" (and in /agenda stemming "1 gangmaker",
"1 stem"), and no "choose from the list" when there is no list."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.core.clock import FrozenClock
from tests.helpers.agenda import add
from tests.helpers.conversation import Person
from tests.integration.test_agenda_answers import (
    GANGMAKERS,
    NOW,
    STARTED,
    gangmaker,
    person,
    queued,
)


async def _verbinder(app: App) -> Person:
    vera = Person(app, user_id="verbinder1", display_name="Vera")
    await vera.send("/start")
    return vera


async def test_no_report_for_a_meeting_that_has_not_begun(app: App, clock: FrozenClock) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    await gert.press(f"ag:y:{event.id}")
    vera = await _verbinder(app)
    await vera.send(f"/agenda verslag {GANGMAKERS.uid} https://example.org/v")
    assert "nog niet geweest" in vera.text
    assert "gaat naar" not in vera.text
    assert await queued(app, "verslag:") == []
    clock.set(STARTED + timedelta(minutes=1))
    await vera.send(f"/agenda verslag {GANGMAKERS.uid} https://example.org/v")
    assert "gaat naar 1 persoon." in vera.text
    await vera.send(f"/agenda verslag {GANGMAKERS.uid} https://example.org/v")
    assert "al gestuurd naar de 1 persoon" in vera.text
    assert "mensen" not in vera.text


async def test_two_people_are_mensen(app: App, clock: FrozenClock) -> None:
    event = await add(app, GANGMAKERS)
    for who in ("gert", "hanna"):
        await (await gangmaker(app, who)).press(f"ag:y:{event.id}")
    vera = await _verbinder(app)
    clock.set(STARTED + timedelta(days=1))
    await vera.send(f"/agenda verslag {GANGMAKERS.uid} https://example.org/v")
    assert "gaat naar 2 mensen." in vera.text


async def test_a_number_without_a_list_only_says_there_is_none(app: App) -> None:
    vera = await _verbinder(app)
    await vera.send("/agenda verslag 1 https://x.nl")
    assert "Er is nog geen bijeenkomst geweest" in vera.text
    assert "ken ik niet" not in vera.text
    assert len(vera.last) == 1


async def test_a_vote_for_one_gangmaker_with_one_vote_and_one_host_says_so(app: App) -> None:
    """The same kind of count in /agenda stemming: 1 gangmaker, 1 stem, 1 persoon."""
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", "gert")
        assert user is not None
        for theme in ("Eenzaamheid", "Jongeren"):
            await db.prompts.add_answer(event.id, user.id, "inbreng", theme, True, NOW)
    vera = await _verbinder(app)
    await vera.send("/agenda stemming")
    await vera.press(vera.choices[0])
    await vera.send("1 2")
    assert "naar 1 gangmaker. Versturen?" in vera.text
    await vera.press("Versturen")
    assert "verstuurd naar 1 gangmaker." in vera.text
    poll = await queued(app, "stemming:")
    await gert.press(next(iter(poll[0].buttons.values())))
    await person(app, "henk", organisation="hogeschool-leiden")
    await vera.send("/agenda stemming uitslag")
    assert "(1 stem):" in vera.text
    assert "naar 1 persoon van de gastorganisaties" in vera.text
