"""/agenda in the chat, on SQLite and PostgreSQL: the cards (date in Dutch and English,
place, hosts, buttons), the .ics file, RSVP until the deadline, the waitlist with
promotion (also two people at once for the last seat), forged and stale buttons,
/agenda mijn, and the answers in /mijngegevens and gone after /vergeetmij."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import icalendar
from sqlalchemy import func, select

from bot.agenda.model import EventData
from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.storage.models import AgendaFeedToken, AgendaRsvp, Base, OutboxMessage, User
from tests.helpers.agenda import add, cancel
from tests.helpers.conversation import Person

# The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock).
LEERATELIER = EventData(
    uid="leeratelier-2026-03@alliantiepg.nl",
    kind="leeratelier",
    title="Leeratelier: samen leren",
    start=datetime(2026, 3, 12, 19, 30),
    end=datetime(2026, 3, 12, 21, 30),
    zone="Europe/Amsterdam",
    address="Hogeschool Leiden, Zernikedreef 11",
    online_url="https://example.org/meet",
    hosts=("hogeschool-leiden", "reos"),
)
GANGMAKERS = EventData(
    uid="gangmakers-2026-02@alliantiepg.nl",
    kind="gangmakers",
    title="Gangmakers overleg",
    start=datetime(2026, 2, 3, 14, 0),
    end=datetime(2026, 2, 3, 16, 0),
    zone="Europe/Amsterdam",
    audience="role:gangmaker",
)
YES, MAYBE, NO, ICS = "Ik kom", "Misschien", "Ik kan niet", "Zet in mijn agenda"


async def rsvps(app: App) -> list[tuple[str, str, int | None]]:
    """(person, answer, waitlist position) of every RSVP, by person."""
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(User.platform_user_id, AgendaRsvp.answer, AgendaRsvp.waitlist_position)
            .join(User, User.id == AgendaRsvp.user_id)
            .order_by(User.platform_user_id)
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def card_of(person: Person, title: str) -> Reply:
    return next(r for r in person.last if r.text.startswith(title))


async def press_on(person: Person, title: str, label: str) -> list[Reply]:
    """Press ``label`` on the card of ``title`` (after /agenda)."""
    card = card_of(person, title)
    return await person.press(next(c.action for c in card.choices if c.label == label))


async def answer(person: Person, title: str, label: str) -> str:
    await person.send("/agenda")
    await press_on(person, title, label)
    return person.text


async def test_agenda_shows_a_card_per_event_for_this_person(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await add(app, GANGMAKERS)  # for gangmakers only: Anna is none

    replies = await bot.send("/agenda")

    assert len(replies) == 2
    card = card_of(bot, LEERATELIER.title)
    assert "donderdag 12 maart 2026, 19.30–21.30" in card.text
    assert "Hogeschool Leiden, Zernikedreef 11" in card.text
    assert "Hogeschool Leiden, Reos" in card.text  # the hosts by name
    assert "Gangmakers overleg" not in bot.text
    assert [c.label for c in card.choices] == [YES, MAYBE, NO, ICS, "Open de online link"]
    assert card.choices[-1].url == "https://example.org/meet"


async def test_a_gangmaker_sees_the_gangmaker_meeting_first(app: App) -> None:
    await add(app, LEERATELIER)
    await add(app, GANGMAKERS)
    gert = Person(app, user_id="gert", display_name="Gert")
    await gert.send("/start")
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", "gert")
        assert user is not None
        user.roles = "gangmaker"
    await gert.send("/agenda")
    assert [r.text.splitlines()[0] for r in gert.last[1:]] == [
        "Gangmakers overleg",
        LEERATELIER.title,
    ]
    assert "dinsdag 3 februari 2026, 14.00–16.00" in gert.text


async def test_agenda_in_english(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await bot.send("/language en")
    await bot.send("/agenda")
    assert "Thursday 12 March 2026, 19:30–21:30" in bot.text
    assert [c.label for c in card_of(bot, LEERATELIER.title).choices][:4] == [
        "I'll come",
        "Maybe",
        "I can't",
        "Add to my calendar",
    ]


async def test_no_events_is_said_kindly(bot: Person, app: App) -> None:
    await add(app, GANGMAKERS)
    await bot.send("/agenda")
    assert bot.text == "Er staan nu geen activiteiten voor je in de agenda. Kijk later nog eens!"
    await bot.send("/agenda mijn")
    assert "nog niet gereageerd" in bot.text


async def test_the_calendar_button_sends_the_event_as_an_ics_file(bot: Person, app: App) -> None:
    event = await add(app, LEERATELIER)
    await bot.send("/agenda")
    replies = await press_on(bot, LEERATELIER.title, ICS)
    document = replies[0].document
    assert document is not None and document.filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(document.path.read_bytes())
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == event.uid
    assert vevent.decoded("DTSTART") == datetime(2026, 3, 12, 18, 30, tzinfo=UTC)
    assert await rsvps(app) == []  # a file is no answer


async def test_an_answer_can_change_and_mijn_lists_it(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    assert "Fijn dat je komt" in await answer(bot, LEERATELIER.title, YES)
    assert await rsvps(app) == [("anna", "yes", None)]
    await bot.send("/agenda")
    assert "Jij komt." in card_of(bot, LEERATELIER.title).text
    await bot.send("/agenda mijn")
    assert "Leeratelier: samen leren, donderdag 12 maart 2026, 19.30–21.30: Jij komt." in bot.text

    assert "misschien" in await answer(bot, LEERATELIER.title, MAYBE)
    await bot.send("/agenda mijn")
    assert "Jij komt misschien." in bot.text
    assert "Jammer" in await answer(bot, LEERATELIER.title, NO)
    assert await rsvps(app) == [("anna", "no", None)]
    await bot.send("/agenda mijn")
    assert "Jij kunt niet." in bot.text  # a no is listed too: the person did answer


async def test_after_the_deadline_an_answer_cannot_change(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    deadline = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    event = await add(app, replace(LEERATELIER, rsvp_deadline=deadline))
    await answer(bot, LEERATELIER.title, YES)
    clock.advance(days=64)  # 2026-03-10 09:00: before the deadline still
    await bot.press(f"ag:m:{event.id}")
    assert await rsvps(app) == [("anna", "maybe", None)]
    clock.advance(hours=4)  # past it
    await bot.press(f"ag:n:{event.id}")
    assert "niet meer veranderen" in bot.text
    assert await rsvps(app) == [("anna", "maybe", None)]


async def test_a_full_event_has_a_waitlist_and_a_freed_seat_goes_to_the_first(
    app: App,
) -> None:
    event = await add(app, replace(LEERATELIER, capacity=1))
    anna, bob, carla = (
        Person(app, user_id=name, display_name=name.title()) for name in ("anna", "bob", "carla")
    )
    await answer(anna, event.title, YES)
    assert "wachtlijst" in await answer(bob, event.title, YES)
    assert "nummer 1" in bob.text
    assert "nummer 2" in await answer(carla, event.title, YES)
    await carla.send("/agenda mijn")
    assert "Je staat op de wachtlijst (plek 2)." in carla.text
    assert "nummer 2" in await answer(carla, event.title, YES)  # the same again: same place

    await answer(anna, event.title, NO)  # her seat goes to Bob

    assert await rsvps(app) == [("anna", "no", None), ("bob", "yes", None), ("carla", "yes", 2)]
    assert await promoted_messages(app) == [("bob", "Goed nieuws")]
    await bob.send("/agenda mijn")
    assert "Jij komt." in bob.text
    await carla.send("/agenda mijn")
    assert "(plek 1)" in carla.text
    await answer(anna, event.title, YES)  # full again: she waits behind Carla
    assert "nummer 2" in anna.text
    await answer(carla, event.title, MAYBE)  # leaving the waitlist frees no seat
    assert await promoted_messages(app) == [("bob", "Goed nieuws")]
    await anna.send("/agenda mijn")
    assert "(plek 1)" in anna.text


async def promoted_messages(app: App) -> list[tuple[str, str]]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.payload).where(
                    OutboxMessage.key.like("agenda-promoted:%")
                )
            )
        ).all()
    return [
        (chat, str(app.services.cipher.decrypt(payload)["text"])[:11]) for chat, payload in rows
    ]


async def test_my_answers_are_not_shown_in_a_group(app: App) -> None:
    await add(app, LEERATELIER)
    anna = Person(app)
    await answer(anna, LEERATELIER.title, YES)
    in_group = Person(app, private=False, chat_id="g1")
    replies = await in_group.send("/agenda mijn")
    assert replies[0].private_invite is not None
    assert LEERATELIER.title not in in_group.text


async def test_the_menu_opens_the_agenda(bot: Person, app: App) -> None:
    await add(app, LEERATELIER)
    await bot.send("/start")
    await bot.press("Bekijk de agenda")
    assert "donderdag 12 maart 2026, 19.30–21.30" in bot.text


async def test_two_at_once_cannot_both_get_the_last_seat(app: App) -> None:
    event = await add(app, replace(LEERATELIER, capacity=1))
    people = [Person(app, user_id=f"p{i}", display_name=f"P{i}") for i in range(4)]
    for person in people:
        await person.send("/agenda")
    await asyncio.gather(*(press_on(p, event.title, YES) for p in people))
    answers = await rsvps(app)
    assert [a for _, a, _ in answers] == ["yes"] * 4
    assert sorted(position or 0 for _, _, position in answers) == [0, 1, 2, 3]


async def test_forged_stale_and_cancelled_buttons_store_nothing(bot: Person, app: App) -> None:
    event = await add(app, LEERATELIER)
    hidden = await add(app, GANGMAKERS)  # not for Anna
    await bot.send("/agenda")
    for forged in (
        "ag:y:999999",
        "ag:y:abc",
        "ag:y:-1",
        "ag:x:1",
        f"ag:y:{event.id}:1",
        "ag:y:" + "9" * 40,
        f"ag:y:{hidden.id}",
        f"ag:ics:{hidden.id}",
        "ag",
    ):
        await bot.press(forged)
        assert "ken ik niet" in bot.text, forged
    await cancel(app, event.uid)
    await bot.press(f"ag:y:{event.id}")
    assert bot.text == "Leeratelier: samen leren gaat niet door. Ik heb niets opgeschreven."
    assert await rsvps(app) == []


async def test_a_past_event_takes_no_answer(bot: Person, app: App, clock: FrozenClock) -> None:
    event = await add(app, LEERATELIER)
    clock.advance(days=90)
    await bot.press(f"ag:y:{event.id}")
    assert "al voorbij" in bot.text
    assert await rsvps(app) == []


async def _user_id(app: App, name: str) -> int:
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", name)
        assert user is not None
        return user.id


async def _rows_of(app: App, uid: int) -> list[tuple[str, str]]:
    """(table, column) of every row in every table that refers to the person by id."""
    user_columns = [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
        or (table.name, column.name) == ("users", "id")
    ]
    assert app.services is not None
    found = []
    async with app.services.sessions() as session:
        for table, column in user_columns:
            count = await session.scalar(
                select(func.count()).select_from(table).where(column == uid)
            )
            found += [(table.name, column.name)] * int(count or 0)
    return found


async def test_rsvps_and_feed_tokens_are_exported_and_forgotten(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    event = await add(app, replace(LEERATELIER, capacity=1))
    bob = Person(app, user_id="bob", display_name="Bob")
    await answer(bot, event.title, YES)
    await answer(bob, event.title, YES)  # waits
    anna = await _user_id(app, "anna")
    assert app.services is not None
    async with app.services.work.begin() as db:
        db.session.add(AgendaFeedToken(user_id=anna, token_hash="a" * 64, created_at=clock.now()))

    replies = await bot.send("/mijngegevens")
    assert replies[0].document is not None
    data: dict[str, Any] = json.loads(replies[0].document.path.read_text(encoding="utf-8"))
    assert data["agenda_rsvps"] == [
        {
            "event": event.uid,
            "title": event.title,
            "answer": "yes",
            "waitlist_position": None,
            "answered_at": clock.now().isoformat(),
            "reminders_muted": False,
        }
    ]
    assert data["agenda_feed_tokens"] == [
        {"created_at": clock.now().isoformat(), "revoked_at": None}
    ]
    assert {t for t, _ in await _rows_of(app, anna)} >= {"agenda_rsvps", "agenda_feed_tokens"}

    await bot.send("/vergeetmij")
    await bot.press("Ja, verwijder alles")
    assert await _rows_of(app, anna) == []
    assert await rsvps(app) == [("bob", "yes", None)]  # her seat went to Bob
    assert await promoted_messages(app) == [("bob", "Goed nieuws")]
    assert "Jij komt." in (await bob.send("/agenda mijn"))[0].text
