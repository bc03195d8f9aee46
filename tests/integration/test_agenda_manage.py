"""/agenda beheer in the chat, on SQLite and PostgreSQL: a verbinder (``BOT_ADMINS`` =
console:verbinder1) adds an event step by step with typed Dutch dates and a preview,
changes one and cancels one; the checks (end before start, past, wrong weekday, unknown
gemeente, the same kind at the same time) answer at the step and store nothing; only
verbinders, only in a private chat; stop, back and old buttons."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.agenda.model import CANCELLED, CHANGED, EventData
from bot.app import App
from bot.storage.models import AuditLog
from tests.helpers.agenda import add
from tests.helpers.agenda import every_event as events
from tests.helpers.conversation import Person, typed_in_console

# The bot's clock starts at Monday 2026-01-05 09:00 UTC (FrozenClock).
STORED = EventData(
    uid="leeratelier-2026-03@alliantiepg.nl",
    kind="leeratelier",
    title="Leeratelier: samen leren",
    start=datetime(2026, 3, 12, 19, 30),
    end=datetime(2026, 3, 12, 21, 30),
    zone="Europe/Amsterdam",
    address="Hogeschool Leiden",
    hosts=("hogeschool-leiden",),
)
UID = re.compile(r"leeratelier-20260312-[0-9a-f]{8}@alliantiepg\.nl")


def verbinder(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte")


async def answer(person: Person, *steps: str) -> None:
    """Type each step, or press it when it starts with "!"."""
    for step in steps:
        if step.startswith("!"):
            assert person.find_choice(step[1:]) is not None, (step, person.choices)
            await person.press(step[1:])
        else:
            await person.send(step)


async def to_when(lotte: Person, title: str = "Leeratelier 13: samen met inwoners") -> None:
    await answer(lotte, "/agenda beheer", "!Nieuwe activiteit", "!Leeratelier", title)
    assert "Wanneer is het?" in lotte.text


async def test_a_verbinder_adds_an_event_step_by_step(app: App, bot: Person) -> None:
    lotte = verbinder(app)
    await to_when(lotte)
    await answer(lotte, "do 12 maart 19.30")
    assert "Het begint op donderdag 12 maart 2026, 19.30" in lotte.text
    # the default length of a leeratelier: two and a half hours
    await answer(lotte, "!Tot 22.00 (2 uur en 30 minuten)")
    await answer(lotte, "Hogeschool Leiden, Zernikedreef 11 https://example.org/meet")
    assert "Dit zijn de organisaties die ik ken: Hecht GGD Hollands Midden, Reos" in lotte.text
    await answer(lotte, "hogeschool leidn")
    assert 'Bedoel je "Hogeschool Leiden"?' in lotte.text
    await answer(lotte, "Hogeschool Leiden en reos", "!Iedereen", "40")

    # the preview: the card as people see it in /agenda, and the other fields
    card = lotte.last[1]
    assert card.text.splitlines()[0] == "Leeratelier 13: samen met inwoners"
    assert "Wanneer: donderdag 12 maart 2026, 19.30–22.00" in card.text
    assert "Waar: Hogeschool Leiden, Zernikedreef 11" in card.text
    assert "Online: https://example.org/meet" in card.text
    assert "Georganiseerd door: Hogeschool Leiden, Reos" in card.text
    # no answer buttons on a preview (a press would answer for the verbinder)
    assert [c.label for c in card.choices] == ["Open de online link"]
    assert "Soort: Leeratelier\nVoor wie: Iedereen\nPlaatsen: 40" in lotte.last[2].text
    assert lotte.choices[-3:] == ["Opslaan", "Wijzigen", "Stoppen"]
    assert await events(app) == []  # nothing stored before Opslaan

    await answer(lotte, "!Opslaan")
    assert lotte.text.startswith("Opgeslagen: Leeratelier 13: samen met inwoners")
    (event,) = await events(app)
    assert UID.fullmatch(event.uid), event.uid
    assert (event.start, event.end) == (datetime(2026, 3, 12, 19, 30), datetime(2026, 3, 12, 22))
    assert (event.address, event.online_url) == (
        "Hogeschool Leiden, Zernikedreef 11",
        "https://example.org/meet",
    )
    assert event.hosts == ("hogeschool-leiden", "reos")
    assert (event.audience, event.capacity, event.sequence) == ("all", 40, 0)

    await bot.send("/agenda")  # Anna sees it
    assert "Leeratelier 13: samen met inwoners" in bot.text

    await lotte.press("Opslaan")  # the old button: nothing twice
    assert "Deze knop werkt niet meer" in lotte.text
    assert len(await events(app)) == 1


async def test_one_line_with_an_end_and_a_typed_audience(app: App, bot: Person) -> None:
    lotte = verbinder(app)
    await to_when(lotte, "Gangmakers overleg")
    await answer(lotte, "12-3 19:30 tot 21:30")  # the end typed: no question about it
    assert "Waar is het?" in lotte.text
    await answer(lotte, "!Geen plaats", "!Geen organisaties")
    await answer(lotte, "role:gangmaker,gemeente:leidn")  # an unknown gemeente
    assert 'Dit ken ik niet: "leidn"' in lotte.text
    assert 'Bedoel je "gemeente:leiden"?' in lotte.text
    assert "Voor wie is het?" in lotte.text  # still at the step
    await answer(lotte, "topic:nieuws")
    assert "niet voor activiteiten" in lotte.text
    await answer(lotte, "role:gangmaker,gemeente:leiden", "!Geen maximum")
    assert "Voor wie: Rol: Gangmakers · Gemeente: Leiden" in lotte.text
    assert "Plaats: nog geen" in lotte.text
    await answer(lotte, "!Opslaan")
    (event,) = await events(app)
    assert event.audience == "role:gangmaker,gemeente:leiden"
    assert (event.end, event.capacity) == (datetime(2026, 3, 12, 21, 30), None)
    await bot.send("/agenda")  # Anna is no gangmaker
    assert "Gangmakers overleg" not in bot.text


async def test_checks_answer_at_the_step_and_store_nothing(app: App) -> None:
    await add(app, STORED)
    lotte = verbinder(app)
    await to_when(lotte)

    await answer(lotte, "12-3 19.30 tot 18.00")
    assert "Het einde (donderdag 12 maart 2026, 18.00) ligt voor het begin" in lotte.text
    await answer(lotte, "3 januari 2026 10:00")  # two days ago
    assert "is al voorbij" in lotte.text
    await answer(lotte, "wo 12 maart 19.30")  # 12 March 2026 is a Thursday
    assert "12 maart 2026 is een donderdag, geen woensdag" in lotte.text
    await answer(lotte, "12 maart")
    assert "Hoe laat begint het?" in lotte.text
    await answer(lotte, "zo 29 maart 2:30")  # the hour the clocks skip
    assert "bestaat niet" in lotte.text
    await answer(lotte, "volgende maand ergens")
    assert "Die datum begrijp ik niet" in lotte.text
    await answer(lotte, "do 12 maart 19.30 tot 21.30")  # the stored leeratelier's time
    assert "Er is al een Leeratelier op donderdag 12 maart 2026, 19.30" in lotte.text
    assert "Leeratelier: samen leren" in lotte.text
    assert "Wanneer is het?" in lotte.last[-1].text  # still at the step

    await answer(lotte, "volgende week dinsdag 14:00")  # 13 January: on to the end
    await answer(lotte, "12.00")
    assert "Het einde (dinsdag 13 januari 2026, 12.00) ligt voor het begin" in lotte.text
    await answer(lotte, "16.30", "!Geen plaats", "!Geen organisaties", "!Iedereen", "nul")
    assert "Typ het aantal plaatsen als getal" in lotte.text
    await answer(lotte, "!Geen maximum", "!Opslaan")
    assert [e.start for e in await events(app)] == [
        datetime(2026, 1, 13, 14, 0),
        STORED.start,
    ]


async def test_a_verbinder_changes_an_event(app: App) -> None:
    stored = await add(app, STORED)
    lotte = verbinder(app)
    await answer(lotte, "/agenda beheer", "!Activiteit wijzigen")
    assert "1. Leeratelier: samen leren, donderdag 12 maart 2026, 19.30–21.30" in lotte.text
    await answer(lotte, "1")  # typed, as the number on the button
    assert "als je opslaat" in lotte.text
    assert f"Kenmerk: {STORED.uid}" in lotte.text
    await answer(lotte, "!Wijzigen", "!Datum en tijd")
    assert "Nu: donderdag 12 maart 2026, 19.30–21.30" in lotte.text
    await answer(lotte, "do 19 maart 19:30 tot 21:30")  # back to the preview
    assert "Wanneer: donderdag 19 maart 2026, 19.30–21.30" in lotte.text
    await answer(lotte, "!Wijzigen", "!Titel", "Leeratelier 13: samen leren")
    await answer(lotte, "!Opslaan")
    assert "De wijziging is opgeslagen" in lotte.text
    (event,) = await events(app)
    assert (event.uid, event.id) == (stored.uid, stored.id)
    assert (event.title, event.start) == (
        "Leeratelier 13: samen leren",
        datetime(2026, 3, 19, 19, 30),
    )
    assert (event.sequence, event.status) == (1, CHANGED)
    assert event.hosts == STORED.hosts  # what was not asked stays


async def test_an_event_under_way_can_get_a_new_title(app: App) -> None:
    # 09:00-12:00 in Amsterdam on the bot's first day: it began an hour ago
    now = datetime(2026, 1, 5, 9, 0)
    await add(app, replace(STORED, start=now, end=now.replace(hour=12)))
    lotte = verbinder(app)
    await answer(lotte, "/agenda beheer", "!Activiteit wijzigen", "!1", "!Wijzigen", "!Titel")
    await answer(lotte, "Leeratelier: nu bezig", "!Opslaan")
    assert "De wijziging is opgeslagen" in lotte.text  # the start did not move: not "past"
    await answer(lotte, "/agenda beheer", "!Activiteit wijzigen", "!1", "!Wijzigen")
    await answer(lotte, "!Datum en tijd", "vandaag 9:30 tot 12:00")  # moving it is checked
    assert "is al voorbij" in lotte.text
    (event,) = await events(app)
    assert (event.title, event.start) == ("Leeratelier: nu bezig", now)


async def test_the_place_takes_an_address_a_link_or_both(app: App) -> None:
    lotte = verbinder(app)
    await to_when(lotte)
    await answer(lotte, "12-3 19:30 tot 21:30", "https://a.example/1 https://b.example/2")
    assert "maar één online link" in lotte.text
    await answer(lotte, "Zernikedreef 11 www.example.org")
    assert "Die link klopt niet" in lotte.text
    await answer(lotte, "https://example.org/meet", "!Geen organisaties", "!Iedereen")
    await answer(lotte, "!Geen maximum", "!Opslaan")
    (event,) = await events(app)
    assert (event.address, event.online_url) == (None, "https://example.org/meet")


async def test_saving_an_event_unchanged_changes_nothing(app: App) -> None:
    await add(app, STORED)
    lotte = verbinder(app)
    await answer(lotte, "/agenda beheer", "!Activiteit wijzigen", "!1", "!Opslaan")
    assert "Er was niets veranderd" in lotte.text
    (event,) = await events(app)
    assert event.sequence == 0


async def test_a_verbinder_cancels_an_event(app: App, bot: Person) -> None:
    await add(app, STORED)
    lotte = verbinder(app)
    await answer(lotte, "/agenda beheer", "!Activiteit afzeggen", "!1")
    assert (
        "Wil je Leeratelier: samen leren (donderdag 12 maart 2026, 19.30–21.30) echt" in lotte.text
    )
    assert (await events(app))[0].status != CANCELLED
    await answer(lotte, "!Ja, zeg af")
    assert lotte.text == "Leeratelier: samen leren is afgezegd."
    (event,) = await events(app)
    assert (event.status, event.sequence) == (CANCELLED, 1)
    await bot.send("/agenda")
    assert "Leeratelier: samen leren" not in bot.text


async def test_no_events_to_change_is_said(app: App) -> None:
    lotte = verbinder(app)
    await answer(lotte, "/agenda beheer", "!Activiteit afzeggen")
    assert "geen activiteiten" in lotte.text
    assert "Nieuwe activiteit" in lotte.choices


async def test_an_old_button_changes_nothing(app: App) -> None:
    lotte = verbinder(app)
    await answer(lotte, "/agenda beheer", "!Nieuwe activiteit")
    old = lotte.find_choice("Iets anders")
    assert old is not None
    await answer(lotte, "!Leeratelier")
    await lotte.press(old.action)  # a second choice of the kind, from the old prompt
    assert "hoort bij een eerdere stap" in lotte.text
    await answer(lotte, "Titel")
    assert "Wanneer is het?" in lotte.text  # the flow went on where it was


async def test_stop_and_back_typed(app: App) -> None:
    lotte = verbinder(app)
    await to_when(lotte)
    await answer(lotte, "terug")
    assert "Wat is de titel?" in lotte.text
    await answer(lotte, "terug")
    assert "Wat voor activiteit is het?" in lotte.text
    await answer(lotte, "stop")
    assert lotte.text == "Gestopt. Er is niets opgeslagen of veranderd."
    await answer(lotte, "do 12 maart 19.30")  # no longer the flow's: a question to the bot
    assert await events(app) == []


async def test_only_verbinders_and_only_in_a_private_chat(app: App, bot: Person) -> None:
    await bot.send("/agenda beheer")
    assert "Wat wil je doen met de agenda?" not in bot.text
    assert bot.last[0].text == bot.app.services.texts.get("nl", "errors.forbidden")  # type: ignore[union-attr]

    lotte = verbinder(app)
    await to_when(lotte)
    forged = lotte.find_choice("Stoppen")
    assert forged is not None
    await bot.press(forged.action)  # Anna presses Lotte's button: refused, audited
    assert "Gestopt" not in bot.text
    assert app.services is not None
    async with app.services.sessions() as session:
        audited = (await session.execute(select(AuditLog.detail))).scalars().all()
    assert "command=agendabeheer" in audited
    assert "button=agendabeheer" in audited

    group = Person(app, user_id="verbinder1", chat_id="groep-1", private=False)
    await group.send("/agenda beheer")
    assert "privégesprek" in group.text
    assert group.last[0].private_invite is not None


async def test_in_the_terminal_a_typed_number_of_seats_is_seats(app: App) -> None:
    """The console numbers its buttons; at the seats, "2" is two seats, not the second
    button (Terug), and "0" is Geen maximum."""
    lines = ["/agenda beheer", "1", "Iets anders", "Wandeling", "do 12 maart 10:00 tot 11:00"]
    lines += ["Geen plaats", "Geen organisaties", "Iedereen", "2", "Opslaan"]
    printed = await typed_in_console(app, lines, user="verbinder1")
    assert "Opgeslagen: Wandeling" in printed
    (event,) = await events(app)
    assert event.capacity == 2
    lines = ["/agenda beheer", "Activiteit wijzigen", "1", "Wijzigen", "Plaatsen", "0"]
    await typed_in_console(app, [*lines, "Opslaan"], user="verbinder1")
    (event,) = await events(app)
    assert event.capacity is None


async def test_in_english(app: App) -> None:
    lotte = verbinder(app)
    await lotte.send("/language en")
    await answer(lotte, "/agenda beheer", "!New event", "!Something else", "Walk")
    await answer(lotte, "thu 12 march 10:00")
    assert "It starts on Thursday 12 March 2026, 10:00" in lotte.text
    assert "Until 11:00 (1 h)" in lotte.choices


# -- the blind user test: examples that work, one error, what was read, Dutch words ---------


async def test_the_examples_shown_work_and_what_was_read_is_said(app: App) -> None:
    """On Monday 5 January 2026 the example is Thursday 15 January: a real date."""
    lotte = verbinder(app)
    await to_when(lotte)
    shown = lotte.text.splitlines()
    assert "donderdag 15 januari 19.30" in shown
    assert "15-1 19:30 tot 21:30" in shown
    await answer(lotte, "donderdag 15 januari 19.30")  # the example, as shown
    assert "Het begint op donderdag 15 januari 2026, 19.30" in lotte.text
    await answer(lotte, "2 uur later")
    assert lotte.last[0].text == "Dus: donderdag 15 januari 2026, 19.30–21.30."
    assert "Waar is het?" in lotte.text
    await answer(lotte, "!Terug", "donderdag 15 januari 19.30", "half tien 's avonds")
    assert lotte.last[0].text == "Dus: donderdag 15 januari 2026, 19.30–21.30."
    await answer(lotte, "!Terug", "15-1 19:30 tot 01:00")  # past midnight
    assert (
        lotte.last[0].text
        == "Dus: donderdag 15 januari 2026, 19.30 – vrijdag 16 januari 2026, 01.00."
    )
    await answer(lotte, "!Geen plaats", "!Geen organisaties", "!Iedereen", "max 12")
    assert "Plaatsen: 12" in lotte.text
    await answer(lotte, "!Opslaan")
    (event,) = await events(app)
    assert (event.end, event.capacity) == (datetime(2026, 1, 16, 1, 0), 12)


async def test_a_date_not_understood_is_said_once(app: App) -> None:
    lotte = verbinder(app)
    await to_when(lotte)
    await answer(lotte, "kerstavond")
    assert lotte.last[0].text == "Die datum begrijp ik niet."
    assert lotte.text.count("donderdag 15 januari 19.30") == 1  # the examples, once
    await answer(lotte, "30 februari 14:00")
    assert lotte.last[0].text == "30 februari bestaat niet: februari 2026 heeft 28 dagen."
    await answer(lotte, "wo 15 januari 19.30")
    assert lotte.last[0].text.startswith("15 januari 2026 is een donderdag, geen woensdag.")
    assert "Bijvoorbeeld: 13 maart" not in lotte.text
    await answer(lotte, "volgende week donderdag 's avonds om 8 uur")
    assert "Het begint op donderdag 15 januari 2026, 20.00" in lotte.text


async def test_hosts_are_suggested_by_a_part_of_their_name(app: App) -> None:
    lotte = verbinder(app)
    await to_when(lotte)
    await answer(lotte, "15-1 19:30 tot 21:30", "!Geen plaats", "Hogeschool Leiden en GGD")
    assert 'De organisatie "GGD" ken ik niet.' in lotte.text
    assert 'Bedoel je "Hecht GGD Hollands Midden"?' in lotte.text
    assert "Wel herkend: Hogeschool Leiden." in lotte.text
    await answer(lotte, "Hogeschool Leiden en Hecht GGD Hollands Midden")
    assert "Voor wie is het?" in lotte.text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("alleen gangmakers", "role:gangmaker"),
        ("gangmakers", "role:gangmaker"),
        ("voor bestuurders", "role:bestuurder"),
        ("Gangmakers en bestuurders", "role:gangmaker,role:bestuurder"),
        ("alleen rol:gangmaker, gemeente:leiden", "role:gangmaker,gemeente:leiden"),
    ],
)
async def test_the_audience_in_the_words_people_use(app: App, typed: str, stored: str) -> None:
    lotte = verbinder(app)
    await to_when(lotte)
    await answer(lotte, "15-1 19:30 tot 21:30", "!Geen plaats", "!Geen organisaties")
    assert "rol:gangmaker" in lotte.text and "role:" not in lotte.text
    await answer(lotte, "de vrijwilligers")
    assert 'Dit ken ik niet: "de vrijwilligers"' in lotte.text
    assert "iedereen, een rol (gangmakers, of rol:gangmaker)" in lotte.text
    for word in ("all (", "topic:", "groups", "role:"):
        assert word not in lotte.text, word
    await answer(lotte, typed, "12 mensen")
    assert "Plaatsen: 12" in lotte.text
    await answer(lotte, "!Opslaan")
    (event,) = await events(app)
    assert event.audience == stored
