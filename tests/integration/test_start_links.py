"""/start through the whole bot: the menu from the registrations, and a deep link
that no command registered gets the ordinary welcome."""

from __future__ import annotations

from bot.app import App
from bot.core.messages import Choice, PressOutcome
from tests.helpers.conversation import Person

MENU = (
    Choice("Stel een vraag", "menu:vraag"),
    Choice("Vul je spinnenweb in", "menu:spinnenweb"),
    Choice("Wat kan ik hier?", "menu:help"),
    Choice("Taal / Language", "menu:taal"),
    Choice("Bekijk de agenda", "menu:agenda"),
)


async def test_start_shows_the_registered_menu_and_ignores_an_unknown_link(app: App) -> None:
    anna = Person(app)
    await anna.send("/start")  # the first one also offers /profiel (once)
    welcome = await anna.send("/start")
    assert welcome[-1].choices == MENU
    for payload in ("onbekend", "help", "stop", "checkin-oud"):
        replies = await anna.send(f"/start {payload}")
        assert [(r.text, r.choices) for r in replies] == [(r.text, r.choices) for r in welcome], (
            payload
        )
    (stale,) = await anna.press("menu:onbekend")
    assert stale.press_outcome is PressOutcome.STALE and stale.choices == MENU
    assert (await anna.press("menu:start"))[-1].choices == MENU
