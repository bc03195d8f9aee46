"""/agenda plan in the chat, on SQLite and PostgreSQL: a verbinder (``BOT_ADMINS`` =
console:verbinder1) chooses the series and the year, sees the proposal with Dutch dates,
changes a date, a theme and a title, removes one, and saves; saving again adds nothing;
old and forged buttons, other people and group chats change nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.agenda.model import Event, EventData
from bot.agenda.series import SeriesRules, SeriesRulesError
from bot.app import App
from bot.core.clock import FrozenClock
from handlers import agenda_plan
from tests.helpers.agenda import add
from tests.helpers.conversation import Person

# The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock).
UIDS = [f"leeratelier-2027-{m}@alliantiepg.nl" for m in ("03", "06", "11")]


@pytest.fixture
def lotte(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte")


async def stored(app: App) -> list[Event]:
    assert app.services is not None
    async with app.services.work.begin() as db:
        return await db.agenda.all()


async def plan_2027(lotte: Person) -> None:
    await lotte.send("/agenda plan")
    assert lotte.choices == ["Leerateliers", "Gangmakersbijeenkomsten", "Stoppen"]
    await lotte.press("Leerateliers")
    assert lotte.choices == ["2026", "2027", "Terug", "Stoppen"]
    await lotte.press("2027")


async def test_the_proposal_is_shown_with_dutch_dates_and_saved(lotte: Person, app: App) -> None:
    await plan_2027(lotte)

    review = lotte.last[-1].text
    assert review.startswith("Mijn voorstel voor Leerateliers in 2027:")
    assert (
        "1. Leeratelier Positieve Gezondheid\n"
        "   donderdag 25 maart 2027, 15.00–17.00\n"
        "   Hogeschool Leiden"
    ) in review
    assert "2. Leeratelier Positieve Gezondheid\n   dinsdag 15 juni 2027, 15.00–17.00" in review
    assert "3. Leeratelier Positieve Gezondheid\n   donderdag 18 november 2027" in review
    assert lotte.choices == ["Wijzig 1", "Wijzig 2", "Wijzig 3", "Opslaan", "Terug", "Stoppen"]
    assert await stored(app) == []  # nothing stored before Opslaan

    await lotte.press("Opslaan")

    assert lotte.text == (
        "Opgeslagen: 3 in de agenda (Leerateliers, 2027). Iedereen ziet ze nu met /agenda."
    )
    events = await stored(app)
    assert [e.uid for e in events] == UIDS
    assert events[0].start == datetime(2027, 3, 25, 15, 0)
    assert {(e.address, e.hosts, e.audience, e.zone) for e in events} == {
        ("Hogeschool Leiden", ("hogeschool-leiden",), "all", "Europe/Amsterdam")
    }


async def test_planning_again_shows_them_stored_and_saves_nothing_twice(
    lotte: Person, app: App
) -> None:
    await plan_2027(lotte)
    await lotte.press("Opslaan")
    first = await stored(app)

    await plan_2027(lotte)

    assert lotte.last[-1].text.count("(staat al in de agenda, dit verander ik hier niet)") == 3
    assert "Er is niets voor te stellen" in lotte.last[-1].text
    assert lotte.choices == ["Terug", "Stoppen"]
    assert await stored(app) == first


async def test_a_date_a_theme_and_a_title_are_changed_and_one_removed(
    lotte: Person, app: App
) -> None:
    await plan_2027(lotte)

    await lotte.press("Wijzig 2")
    assert lotte.choices == ["Andere datum", "Thema", "Titel", "Weghalen", "Terug", "Stoppen"]
    await lotte.press("Andere datum")
    assert "Zonder tijd blijft het 15.00" in lotte.text
    await lotte.send("di 22 juni")
    assert lotte.last[0].text == "Nummer 2 is aangepast."
    assert "2. Leeratelier Positieve Gezondheid\n   dinsdag 22 juni 2027, 15.00–17.00" in lotte.text

    await lotte.press("Wijzig 1")
    await lotte.press("Thema")
    assert "De titel wordt dan: Leeratelier: …" in lotte.text
    await lotte.send("Veerkracht")
    assert "1. Leeratelier: Veerkracht\n" in lotte.text

    await lotte.press("Wijzig 3")
    await lotte.press("Andere datum")
    await lotte.send("11-11 19:30 tot 21:30")  # a time range typed: its own end
    assert "donderdag 11 november 2027, 19.30–21.30" in lotte.text
    await lotte.press("Wijzig 3")
    await lotte.press("Titel")
    await lotte.send("Leeratelier 15: mentale gezondheid")

    await lotte.press("Wijzig 2")
    await lotte.press("Weghalen")
    assert lotte.last[0].text == "Nummer 2 is weggehaald uit het voorstel."
    assert lotte.choices == ["Wijzig 1", "Wijzig 2", "Opslaan", "Terug", "Stoppen"]
    await lotte.press("Opslaan")

    assert lotte.text.startswith("Opgeslagen: 2 in de agenda")
    events = await stored(app)
    assert [(e.uid, e.title, e.start, e.end) for e in events] == [
        (UIDS[0], "Leeratelier: Veerkracht", datetime(2027, 3, 25, 15), datetime(2027, 3, 25, 17)),
        (
            UIDS[2],
            "Leeratelier 15: mentale gezondheid",
            datetime(2027, 11, 11, 19, 30),
            datetime(2027, 11, 11, 21, 30),
        ),
    ]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        # the same words as /agenda beheer (and the composer)
        ("do 15 juni", "15 juni 2027 is een dinsdag, geen donderdag. Typ de datum nog eens"),
        ("volgende maand misschien", "Die datum begrijp ik niet."),
        ("3 maart 2026 15:00", "Die datum ligt niet in 2027. Typ een datum in 2027."),
        ("25-3", "Op donderdag 25 maart 2027 is er al een in de agenda of in dit voorstel."),
    ],
)
async def test_a_date_that_cannot_be_is_refused_and_asked_again(
    lotte: Person, app: App, typed: str, said: str
) -> None:
    await plan_2027(lotte)
    await lotte.press("Wijzig 2")
    await lotte.press("Andere datum")

    await lotte.send(typed)

    assert said in lotte.last[0].text
    assert lotte.choices == ["Terug", "Stoppen"]  # still asking for the date
    await lotte.press("Terug")
    await lotte.press("Terug")
    assert "dinsdag 15 juni 2027" in lotte.text  # unchanged


async def test_a_day_with_a_leeratelier_already_moves_a_week(lotte: Person, app: App) -> None:
    await add(
        app,
        EventData(
            uid="extra@x",
            kind="leeratelier",
            title="Extra leeratelier",
            start=datetime(2027, 6, 15, 10, 0),
            end=datetime(2027, 6, 15, 12, 0),
            zone="Europe/Amsterdam",
        ),
    )
    await plan_2027(lotte)
    assert (
        "2. Leeratelier Positieve Gezondheid\n   dinsdag 22 juni 2027, 15.00–17.00\n"
        "   Hogeschool Leiden\n"
        "   (een week verschoven: op dinsdag 15 juni 2027 is er al een)"
    ) in lotte.text


async def test_stoppen_stores_nothing_and_old_buttons_change_nothing(
    lotte: Person, app: App
) -> None:
    await plan_2027(lotte)
    save = lotte.find_choice("Opslaan")
    assert save is not None
    await lotte.press("Stoppen")
    assert lotte.text == "Gestopt. Ik heb niets opgeslagen."

    await lotte.press(save.action)  # the old Opslaan
    assert "werkt niet meer" in lotte.text
    assert await stored(app) == []

    await plan_2027(lotte)
    save = lotte.find_choice("Opslaan")
    assert save is not None
    await lotte.press("Opslaan")
    await lotte.press(save.action)  # a second press
    assert "werkt niet meer" in lotte.text
    assert len(await stored(app)) == 3


async def test_only_verbinders_and_only_in_a_private_chat(lotte: Person, app: App) -> None:
    anna = Person(app)
    await anna.send("/agenda plan")
    assert anna.text == "Dit kunnen alleen de verbinders van de Alliantie doen."

    await plan_2027(lotte)
    save = lotte.find_choice("Opslaan")
    assert save is not None
    await anna.press(save.action)  # someone else presses (or forges) the button
    assert anna.text == "Dit kunnen alleen de verbinders van de Alliantie doen."
    assert await stored(app) == []

    in_group = Person(app, user_id="verbinder1", chat_id="groep-1", private=False)
    await in_group.send("/agenda plan")
    assert in_group.text.startswith("Plannen doe je in een privégesprek met mij.")


async def test_a_year_can_be_typed(lotte: Person, app: App) -> None:
    await lotte.send("/agenda plan")
    await lotte.press("Leerateliers")
    await lotte.send("2040")
    assert "Typ een jaar van 2026 tot en met 2031." in lotte.text
    await lotte.send("2028")
    assert lotte.last[-1].text.startswith("Mijn voorstel voor Leerateliers in 2028:")
    assert "donderdag 23 maart 2028, 15.00–17.00" in lotte.text


async def test_without_usable_rules_it_says_so(
    lotte: Person, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(override: object) -> SeriesRules:
        raise SeriesRulesError(["agenda_series.yaml: leeratelier: weekday 'x' is not a day"])

    monkeypatch.setattr(agenda_plan, "current_rules", broken)
    await lotte.send("/agenda plan")
    assert lotte.text.startswith("De regels voor het plannen kloppen niet.")

    monkeypatch.setattr(agenda_plan, "current_rules", lambda override: SeriesRules({}))
    await lotte.send("/agenda plan")
    assert lotte.text.startswith("Er zijn nog geen regels om een jaar te plannen.")
    assert lotte.choices == []


async def test_a_date_saved_in_the_meantime_is_not_saved_over(lotte: Person, app: App) -> None:
    await plan_2027(lotte)
    await add(  # events plan --save, or another verbinder, while Lotte looks
        app,
        EventData(
            uid=UIDS[0],
            kind="leeratelier",
            title="Leeratelier: al gepland",
            start=datetime(2027, 3, 18, 15, 0),
            end=datetime(2027, 3, 18, 17, 0),
            zone="Europe/Amsterdam",
        ),
    )

    await lotte.press("Opslaan")

    assert lotte.text.startswith("Opgeslagen: 2 in de agenda")
    events = await stored(app)
    assert (events[0].uid, events[0].title, events[0].sequence) == (
        UIDS[0],
        "Leeratelier: al gepland",
        0,
    )
    assert [e.uid for e in events] == UIDS


async def test_the_series_and_the_year_can_be_given_with_the_command(
    lotte: Person, app: App
) -> None:
    await lotte.send("/agenda plan leerateliers 2027")
    assert lotte.last[-1].text.startswith("Mijn voorstel voor Leerateliers in 2027:")
    await lotte.press("Opslaan")
    assert [e.uid for e in await stored(app)] == UIDS

    await lotte.send("/agenda plan leeratelier")
    assert lotte.choices == ["2026", "2027", "Terug", "Stoppen"]

    await lotte.send("/agenda plan bestuurders 2027")
    assert lotte.last[0].text == (
        'Voor "bestuurders" zijn er geen regels om te plannen. Er zijn regels voor: '
        "Leerateliers, Gangmakersbijeenkomsten."
    )
    assert lotte.choices == ["Leerateliers", "Gangmakersbijeenkomsten", "Stoppen"]


EXAMPLES = re.compile(r"bijvoorbeeld: (.+), of (.+?)\.( Zonder|$)")


@pytest.mark.parametrize(
    ("now", "year"),
    [
        (datetime(2026, 1, 5, 9, tzinfo=UTC), 2027),
        (datetime(2027, 1, 4, 9, tzinfo=UTC), 2027),  # "do 16 maart" was refused then
        (datetime(2027, 11, 17, 9, tzinfo=UTC), 2027),  # the last date is next week
        (datetime(2029, 6, 1, 9, tzinfo=UTC), 2030),
        (datetime(2031, 2, 28, 23, tzinfo=UTC), 2032),
    ],
)
@pytest.mark.parametrize("which", [0, 1])
async def test_every_example_date_shown_is_taken(
    lotte: Person, clock: FrozenClock, now: datetime, year: int, which: int
) -> None:
    """The examples come from the clock and the plan: typed as shown, each is taken,
    in any year (a fixed "do 16 maart" is refused in a year where 16 March is no
    Thursday), in the date step and in its "I do not understand" answer."""
    clock.set(now)
    await lotte.send(f"/agenda plan leerateliers {year}")
    numbers = [c for c in lotte.choices if c.startswith("Wijzig")]
    for button in numbers:
        await lotte.press(button)
        await lotte.press("Andere datum")
        asked = EXAMPLES.search(lotte.text)
        assert asked is not None, lotte.text
        await lotte.send("morgen misschien")
        again = EXAMPLES.search(lotte.last[0].text)
        assert again is not None and again.group(1, 2) == asked.group(1, 2)

        await lotte.send(asked.group(1 + which))

        assert lotte.last[0].text == f"Nummer {button.split()[1]} is aangepast.", lotte.text
        assert str(year) in lotte.text
