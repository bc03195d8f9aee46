"""/kringen in the chat, on SQLite and PostgreSQL: a verbinder (``BOT_ADMINS`` =
console:verbinder1) composes the reflectiecirkels of a year from the partner list,
sees them with the organisations' names, asks for another arrangement, and saves
them with one agenda event per circle; earlier years are avoided; a stored year is
shown as it is; old and forged buttons, other people and group chats change nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from bot.agenda.model import Event
from bot.app import App
from bot.circles.rules import CircleRules, CircleRulesError
from bot.people.directory import Directory, Entry, directory
from handlers import circles as circles_handler
from tests.helpers.conversation import Person

# The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock).
PARTNERS = {o.name: o.id for o in directory().organisations}


@pytest.fixture
def lotte(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte")


async def stored_circles(app: App, year: int) -> list[list[str]]:
    assert app.services is not None
    async with app.services.work.begin() as db:
        return await db.circles.year(year)


async def events(app: App) -> list[Event]:
    assert app.services is not None
    async with app.services.work.begin() as db:
        return await db.agenda.all()


def shown(text: str) -> list[list[str]]:
    """The circles of a review, as organisation ids, from its "Kring N: ..." lines."""
    circles = []
    for line in text.splitlines():
        if line.startswith("Kring "):
            names = line.split(": ", 1)[1]
            found = [org for name, org in PARTNERS.items() if name in names.split(", ")]
            circles.append(sorted(found))
    return circles


async def compose_2027(lotte: Person) -> None:
    await lotte.send("/kringen")
    assert lotte.choices == ["2026", "2027", "Stoppen"]
    await lotte.press("2027")


async def test_the_circles_are_shown_with_names_and_saved_with_an_event_each(
    lotte: Person, app: App
) -> None:
    await compose_2027(lotte)

    review = lotte.text
    assert review.startswith(
        "Mijn voorstel voor de reflectiecirkels van 2027: 20 organisaties in 5 kringen."
    )
    circles = shown(review)
    assert len(circles) == 5 and all(len(c) == 4 for c in circles)
    assert sorted(itertools.chain(*circles)) == sorted(PARTNERS.values())
    assert "Geen enkel paar zat al eerder samen in een kring." in review
    assert lotte.choices == ["Opnieuw", "Opslaan", "Terug", "Stoppen"]
    assert await stored_circles(app, 2027) == []  # nothing stored before Opslaan

    await lotte.press("Opnieuw")
    assert lotte.last[0].text == "Hier is een andere indeling (nummer 1)."
    again = shown(lotte.text)
    assert sorted(again) != sorted(circles)

    await lotte.press("Opslaan")

    assert lotte.text.startswith("Opgeslagen: 5 reflectiecirkels voor 2027.")
    assert "De eerste is op dinsdag 9 februari 2027, 14.00–16.00." in lotte.text
    assert await stored_circles(app, 2027) == again  # what was shown, in its order
    saved = await events(app)
    assert [e.uid for e in saved] == [
        f"reflectiecirkel-2027-{n}@alliantiepg.nl" for n in range(1, 6)
    ]
    assert [e.start for e in saved] == [datetime(2027, 2, d, 14, 0) for d in (9, 16, 23)] + [
        datetime(2027, 3, 2, 14, 0),
        datetime(2027, 3, 9, 14, 0),
    ]
    first = saved[0]
    assert (first.kind, first.title, first.hosts) == (
        "reflectiecirkel",
        "Reflectiecirkel 1 (2027)",
        tuple(again[0]),
    )
    assert first.audience == "role:gangmaker,role:bestuurder," + ",".join(
        f"organisation:{org}" for org in again[0]
    )


async def test_pairs_of_earlier_years_are_not_put_together_again(lotte: Person, app: App) -> None:
    await compose_2027(lotte)
    await lotte.press("Opslaan")
    last_year = await stored_circles(app, 2027)

    await lotte.send("/kringen 2028")

    review = shown(lotte.text)
    met = {pair for circle in last_year for pair in itertools.combinations(circle, 2)}
    assert not any(pair in met for circle in review for pair in itertools.combinations(circle, 2))
    assert "Geen enkel paar zat al eerder samen in een kring." in lotte.text


async def test_a_repeated_pair_is_named_with_its_year(lotte: Person, app: App) -> None:
    assert app.services is not None
    ids = sorted(PARTNERS.values())
    async with app.services.work.begin() as db:  # 2027: ten circles of two (as if)
        await db.circles.save(2027, [ids[k : k + 2] for k in range(0, 20, 2)], datetime.now(UTC))
        # Four years of everyone with everyone but one pair: not every pair can be new.
        for year in (2023, 2024, 2025, 2026):
            await db.circles.save(year, [ids[:10], ids[10:]], datetime.now(UTC))

    await lotte.send("/kringen 2028")

    assert "Deze paren zaten al eerder samen" in lotte.text
    assert (
        "(2023, 2024, 2025, 2026, 2027)" in lotte.text or "(2023, 2024, 2025, 2026)" in lotte.text
    )


async def test_a_stored_year_is_shown_as_it_is(lotte: Person, app: App) -> None:
    await compose_2027(lotte)
    await lotte.press("Opslaan")
    saved = await stored_circles(app, 2027)

    await lotte.send("/kringen 2027")

    assert lotte.text.startswith("De reflectiecirkels van 2027 zijn al opgeslagen (5 kringen):")
    assert shown(lotte.text) == saved
    assert lotte.choices == ["Terug", "Stoppen"]
    await lotte.press("Terug")
    assert lotte.choices == ["2026", "2027", "Stoppen"]


async def test_a_year_saved_in_the_meantime_is_not_saved_over(lotte: Person, app: App) -> None:
    await compose_2027(lotte)
    assert app.services is not None
    async with app.services.work.begin() as db:  # circles compose --save, meanwhile
        await db.circles.save(2027, [sorted(PARTNERS.values())[:4]], datetime.now(UTC))

    await lotte.press("Opslaan")

    assert lotte.last[0].text.startswith("De kringen van dit jaar zijn net door iemand anders")
    assert len(await stored_circles(app, 2027)) == 1
    assert await events(app) == []


async def test_stoppen_stores_nothing_and_old_buttons_change_nothing(
    lotte: Person, app: App
) -> None:
    await compose_2027(lotte)
    save = lotte.find_choice("Opslaan")
    assert save is not None
    await lotte.press("Stoppen")
    assert lotte.text == "Gestopt. Ik heb niets opgeslagen."
    await lotte.press(save.action)  # the old Opslaan
    assert "werkt niet meer" in lotte.text
    assert await stored_circles(app, 2027) == []

    await compose_2027(lotte)
    save = lotte.find_choice("Opslaan")
    assert save is not None
    await lotte.press("Opslaan")
    await lotte.press(save.action)  # a second press
    assert "werkt niet meer" in lotte.text
    assert len(await events(app)) == 5


async def test_only_verbinders_and_only_in_a_private_chat(lotte: Person, app: App) -> None:
    anna = Person(app)
    await anna.send("/kringen")
    assert anna.text == "Dit kunnen alleen de verbinders van de Alliantie doen."

    await compose_2027(lotte)
    save = lotte.find_choice("Opslaan")
    assert save is not None
    await anna.press(save.action)  # someone else presses (or forges) the button
    assert anna.text == "Dit kunnen alleen de verbinders van de Alliantie doen."
    assert await stored_circles(app, 2027) == []

    in_group = Person(app, user_id="verbinder1", chat_id="groep-1", private=False)
    await in_group.send("/kringen")
    assert in_group.text.startswith("Kringen samenstellen doe je in een privégesprek met mij.")


async def test_a_year_can_be_typed_and_a_wrong_one_is_asked_again(lotte: Person) -> None:
    await lotte.send("/kringen")
    await lotte.send("2040")
    assert "Typ een jaar van 2026 tot en met 2031." in lotte.text
    await lotte.send("2029")
    assert lotte.text.startswith("Mijn voorstel voor de reflectiecirkels van 2029")


async def test_wishes_that_cannot_be_kept_and_broken_rules_are_said(
    lotte: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = sorted(PARTNERS.values())
    # Everyone apart from the first: it cannot be in any circle.
    apart = tuple((ids[0], other) for other in ids[1:])
    monkeypatch.setattr(circles_handler, "current_rules", lambda override: CircleRules(apart))
    await lotte.send("/kringen 2027")
    assert lotte.last[0].text.startswith("Ik kan niet alle wensen 'niet samen met' houden: ")
    assert lotte.choices == ["2026", "2027", "Stoppen"]

    def broken(override: object) -> CircleRules:
        raise CircleRulesError(["circles.yaml: apart #1: unknown organisation 'x'"])

    monkeypatch.setattr(circles_handler, "current_rules", broken)
    await lotte.send("/kringen 2027")
    assert lotte.last[0].text.startswith("Het bestand met de wensen voor de kringen klopt niet.")


async def test_opnieuw_says_so_when_there_is_no_other_composition(
    lotte: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    four = Directory((), tuple(Entry(f"org-{n}", f"Organisatie {n}") for n in range(4)))
    monkeypatch.setattr(circles_handler, "directory", lambda override: four)
    await lotte.send("/kringen 2027")
    assert "Kring 1: Organisatie 0, Organisatie 1, Organisatie 2, Organisatie 3" in lotte.text

    await lotte.press("Opnieuw")  # four organisations make one circle, whatever the seed

    assert lotte.last[0].text == "Ik vind geen andere indeling die even goed is. Dit is de beste."
    assert lotte.choices == ["Opnieuw", "Opslaan", "Terug", "Stoppen"]


async def test_in_english(app: App) -> None:
    lotte = Person(app, user_id="verbinder1", display_name="Lotte", language_code="en")
    await lotte.send("/kringen 2027")
    assert lotte.text.startswith(
        "My proposal for the reflectiecirkels of 2027: 20 organisations in 5 circles."
    )
    assert "Circle 1: " in lotte.text and "No pair sat together in a circle before." in lotte.text
    assert lotte.choices == ["Again", "Save", "Back", "Stop"]
    await lotte.press("Save")
    assert lotte.text.startswith("Saved: 5 reflectiecirkels for 2027.")
    assert "The first is on Tuesday 9 February 2027, 14:00–16:00." in lotte.text
