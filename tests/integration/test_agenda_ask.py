"""Asking in plain text when the next event is, on SQLite and PostgreSQL: the date comes
from the agenda (for this person, in the question's language, with the card's buttons),
none planned is said honestly, a what-is question still gets the curated content, and
the crisis check stays first."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from bot.agenda.model import EventData
from bot.app import App
from bot.storage.models import AgendaRsvp
from tests.helpers.conversation import Person
from tests.integration.test_agenda_chat import GANGMAKERS, LEERATELIER, add, cancel

# The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock).
LATER = replace(
    LEERATELIER,
    uid="leeratelier-2026-06@alliantiepg.nl",
    title="Leeratelier: zomer",
    start=datetime(2026, 6, 18, 15, 0),
    end=datetime(2026, 6, 18, 17, 0),
)
BESTUURDERS = EventData(
    uid="bestuurders-2026@alliantiepg.nl",
    kind="bestuurders",
    title="Bestuurdersbijeenkomst 2026",
    start=datetime(2026, 5, 20, 13, 0),
    end=datetime(2026, 5, 20, 17, 0),
    zone="Europe/Amsterdam",
    address="Stadhuis Leiden",
)


async def make_gangmaker(app: App, user_id: str, roles: str = "gangmaker") -> None:
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", user_id)
        assert user is not None
        user.roles = roles


async def test_the_next_leeratelier_comes_from_the_agenda(bot: Person, app: App) -> None:
    await add(app, LATER)
    await add(app, LEERATELIER)
    await add(app, BESTUURDERS)  # another kind, sooner than the June leeratelier

    replies = await bot.send("Wanneer is het volgende leeratelier?")

    assert replies[0].text == "Dit is het volgende leeratelier in de agenda:"
    card = replies[1]
    assert card.text.startswith(LEERATELIER.title)
    assert "donderdag 12 maart 2026, 19.30–21.30" in card.text
    assert "Hogeschool Leiden, Zernikedreef 11" in card.text
    assert [c.label for c in card.choices][:4] == [
        "Ik kom",
        "Misschien",
        "Ik kan niet",
        "Zet in mijn agenda",
    ]
    assert "Daarna staat er nog 1 in de agenda." in replies[2].text  # singular
    assert "Bestuurdersbijeenkomst" not in bot.text
    assert "juni" not in bot.text  # only the next one as a card

    await bot.press("Ik kom")  # the card's button is the agenda's own
    assert app.services is not None
    async with app.services.sessions() as session:
        answers = (await session.execute(select(AgendaRsvp.answer))).scalars().all()
    assert answers == ["yes"]


async def test_typos_and_english_are_understood(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await add(app, BESTUURDERS)

    await bot.send("wanneer is t volgnde leeratelier")
    assert "donderdag 12 maart 2026" in bot.text

    await bot.send("next learning studio")
    assert "This is the next leeratelier" in bot.text
    assert "Thursday 12 March 2026, 19:30–21:30" in bot.text
    assert "I'll come" in bot.choices

    await bot.send("wnr is de volgende bestuurders bijeenkomst?")
    assert "woensdag 20 mei 2026, 13.00–17.00" in bot.text
    assert "Stadhuis Leiden" in bot.text


async def test_none_planned_is_said_honestly_without_a_static_date(bot: Person, app: App) -> None:
    await add(app, BESTUURDERS)  # another kind only

    await bot.send("is er binnenkort een leeratelier?")

    assert "Er staat nu nog geen volgend leeratelier in de agenda." in bot.text
    assert "info@alliantiepg.nl" in bot.text
    assert "2021" not in bot.text and "maart" not in bot.text  # no date from the content


async def test_a_cancelled_event_is_not_the_next_one(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await cancel(app, LEERATELIER.uid)

    await bot.send("wanneer is het volgende leeratelier")

    assert "geen volgend leeratelier" in bot.text


async def test_only_events_this_person_may_see(app: App) -> None:
    await add(app, GANGMAKERS)  # for gangmakers only
    anna = Person(app)
    await anna.send("wanneer komen de gangmakers weer samen?")
    # not "none planned": there is one, for gangmakers (who it is for, not its details)
    assert anna.text == (
        "De volgende gangmakersbijeenkomst is alleen voor gangmakers. Ben je gangmaker? "
        "Vraag een verbinder om je rol: mail info@alliantiepg.nl."
    )
    assert "Gangmakers overleg" not in anna.text and "februari" not in anna.text

    gert = Person(app, user_id="gert", display_name="Gert")
    await gert.send("/start")
    await make_gangmaker(app, "gert")
    await gert.send("Wanneer is de volgende gangmakersbijeenkomst?")
    assert "Gangmakers overleg" in gert.text
    assert "dinsdag 3 februari 2026, 14.00–16.00" in gert.text


async def test_the_whole_agenda_on_request(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await add(app, BESTUURDERS)

    await bot.send("wat staat er op de agenda?")

    assert bot.last[0].text == "Dit komt er als eerste aan in de agenda:"
    assert [r.text.splitlines()[0] for r in bot.last[1:3]] == [
        LEERATELIER.title,
        BESTUURDERS.title,
    ]


async def test_what_a_leeratelier_is_still_comes_from_the_content(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)

    await bot.send("wat is een leeratelier eigenlijk?")

    assert bot.last[0].text.startswith(("Wat zijn de leerateliers?", "Overzicht: alle 12"))
    assert "In een leeratelier" in bot.text  # the curated answer
    assert LEERATELIER.title not in bot.text
    assert "Ik kom" not in bot.choices


async def test_the_crisis_check_stays_first(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)

    await bot.send("wanneer is het volgende leeratelier, ik wil niet meer leven")

    assert "113" in bot.text
    assert LEERATELIER.title not in bot.text


async def test_a_verbinder_sees_every_event(app: App) -> None:
    await add(app, GANGMAKERS)  # for gangmakers only; a verbinder manages it
    vera = Person(app, user_id="vera", display_name="Vera")
    await vera.send("/start")
    await make_gangmaker(app, "vera", roles="verbinder")

    await vera.send("wanneer komen de gangmakers weer samen?")
    assert "Gangmakers overleg" in vera.text
    assert "dinsdag 3 februari 2026, 14.00–16.00" in vera.text
    await vera.press("Zet in mijn agenda")  # the button checks the audience too
    assert "ken ik niet" not in vera.text

    await vera.send("/agenda")
    assert "Gangmakers overleg" in vera.text


async def test_one_more_and_several_more_in_english(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await add(app, LATER)

    await bot.send("When is the next learning studio?")
    assert "After that, 1 more is in the agenda." in bot.text

    await add(
        app,
        replace(
            LATER, uid="third@x", start=datetime(2026, 9, 1, 15, 0), end=datetime(2026, 9, 1, 17, 0)
        ),
    )
    await bot.send("When is the next learning studio?")
    assert "After that, 2 more are in the agenda." in bot.text


async def test_the_blind_tests_questions_get_the_agenda(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await add(app, BESTUURDERS)

    for question in (
        "Is er in januari een leeratelier?",
        "Op welke datum is het volgende leerateljee",
        "leeratelier datum?",
    ):
        await bot.send(question)
        assert bot.last[0].text.endswith("Dit is het volgende leeratelier in de agenda:")
        assert "donderdag 12 maart 2026" in bot.text
        assert "info@" not in bot.text  # not the curated list of past leerateliers

    for question in (
        "Wat staat er de komende tijd gepland?",
        "Wat is er volgende maand te doen bij de alliantie?",
    ):
        await bot.send(question)
        assert bot.last[0].text == "Dit komt er als eerste aan in de agenda:", question
        assert [r.text.splitlines()[0] for r in bot.last[1:3]] == [
            LEERATELIER.title,
            BESTUURDERS.title,
        ]


async def test_a_typed_answer_without_a_card_asks_which_activity(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)

    for typed in ("Ik kom", "Misschien", "Ik kan niet"):
        await bot.send(typed)
        assert bot.text == "Op welke activiteit? Stuur /agenda en tik bij de activiteit op Ik kom."
        assert "Daar weet ik geen goed antwoord op" not in bot.text

    await bot.send("ik kom niet uit mijn bed")  # more than the answer: not this reply
    assert "Op welke activiteit?" not in bot.text
    assert app.services is not None
    async with app.services.sessions() as session:
        answers = (await session.execute(select(AgendaRsvp.answer))).scalars().all()
    assert answers == []  # nothing was answered


async def test_a_month_shows_the_one_in_that_month_or_says_there_is_none(
    bot: Person, app: App
) -> None:
    await add(app, LEERATELIER)  # March
    await add(app, LATER)  # June

    await bot.send("Is er in juni een leeratelier?")
    assert bot.last[0].text == "Dit is het volgende leeratelier in de agenda:"
    assert bot.last[1].text.startswith(LATER.title)

    await bot.send("Is er in januari een leeratelier?")
    assert bot.last[0].text == (
        "In januari staat er niets van in de agenda.\nDit is het volgende leeratelier in de agenda:"
    )
    assert bot.last[1].text.startswith(LEERATELIER.title)  # the next one instead
