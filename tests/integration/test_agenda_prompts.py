"""The prompts around a gangmaker meeting and after a leeratelier, on SQLite and
PostgreSQL: who gets which prompt when (content/agenda_prompts.yaml), the checklist
with only what is open, the inbreng reminder only to who brought nothing, the digest
with names, "wat neem je mee?" to who came, quiet hours, /stop and muting.

The bot's clock starts at 2026-01-05 09:00 UTC; the engine is driven by the test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.agenda.model import EventData
from bot.agenda.reminders import ReminderEngine, engine_for
from bot.app import App
from bot.broadcast.quiet import QuietHours
from bot.core.clock import FrozenClock
from bot.storage.models import AgendaReminder, User
from tests.helpers.agenda import add, messages, to_whom
from tests.helpers.conversation import Person

ZONE = "Europe/Amsterdam"
MEETING = EventData(
    uid="gangmakers-2026-03@alliantiepg.nl",
    kind="gangmakers",
    title="Gangmakersbijeenkomst",
    start=datetime(2026, 3, 26, 14, 0),  # a Thursday; winter time until 29 March
    end=datetime(2026, 3, 26, 16, 0),
    zone=ZONE,
    hosts=("reos", "marente"),
    audience="role:gangmaker",
)
ATELIER = EventData(
    uid="leeratelier-2026-03@alliantiepg.nl",
    kind="leeratelier",
    title="Leeratelier",
    start=datetime(2026, 3, 12, 15, 0),
    end=datetime(2026, 3, 12, 17, 0),
    zone=ZONE,
)


def local(day: int, month: int = 3, hour: int = 10) -> datetime:
    """``hour`` o'clock local time (winter time, UTC+1) on a day of 2026."""
    return datetime(2026, month, day, hour - 1, 0, tzinfo=UTC)


CHECKLIST_AT = local(5)  # 21 days before, 10:00
NUDGE_AT = local(12)  # 14 days before
INBRENG_AT = local(16)  # 10 days before
INBRENG_REMINDER_AT = local(20)  # 6 days before
DIGEST_AT = local(24)  # 2 days before
MEENEMEN_AT = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # the day after, 10:00 local


async def person(app: App, name: str, **values: object) -> Person:
    found = Person(app, user_id=name, display_name=name.title())
    await found.send("/start")
    assert app.services is not None
    if values:
        async with app.services.sessions() as session, session.begin():
            changed = update(User).where(User.platform_user_id == name).values(**values)
            await session.execute(changed)
    return found


async def cast(app: App) -> dict[str, Person]:
    """Two hosts (of Reos and Marente, gangmakers), two other gangmakers, a verbinder,
    an inwoner."""
    return {
        "rik": await person(app, "rik", organisation="reos", roles="gangmaker"),
        "mia": await person(app, "mia", organisation="marente", roles="gangmaker"),
        "gijs": await person(app, "gijs", roles="gangmaker"),
        "gerda": await person(app, "gerda", roles="gangmaker"),
        "vera": await person(app, "vera", roles="verbinder"),
        "ina": await person(app, "ina"),
    }


def engine(app: App, **changes: object) -> ReminderEngine:
    assert app.services is not None
    return replace(engine_for(app.services), **changes)  # type: ignore[arg-type]


async def at(app: App, clock: FrozenClock, moment: datetime, **changes: object) -> None:
    clock.set(moment)
    await engine(app, **changes).run_once()


async def test_the_hosts_checklist_and_its_nudge_ask_only_what_is_open(
    app: App, clock: FrozenClock
) -> None:
    people = await cast(app)
    await add(app, MEETING)
    await at(app, clock, clock.now())
    await at(app, clock, CHECKLIST_AT)
    assert await to_whom(app, "Jullie organiseren") == ["mia", "rik"]
    sent = next(m for m in await messages(app) if m.chat == "rik" and "organiseren" in m.text)
    assert "Gangmakersbijeenkomst (donderdag 26 maart 2026, 14.00–16.00)" in sent.text
    assert list(sent.buttons) == [
        "✓ Een zaal is geregeld",
        "✓ De agenda van de bijeenkomst is geregeld",
        "✓ De tekst van de uitnodiging is geregeld",
    ]
    assert sent.buttons["✓ Een zaal is geregeld"].endswith(":zaal")
    assert app.services is not None
    async with app.services.work.begin() as db:
        event = await db.agenda.get(MEETING.uid)
        assert event is not None
        await db.prompts.mark_done(event.id, "zaal", 1, clock.now())
    await at(app, clock, NUDGE_AT)
    nudges = [m for m in await messages(app) if "en jullie organiseren het" in m.text]
    assert sorted(m.chat for m in nudges) == ["mia", "rik"]
    assert "Een zaal" not in nudges[0].text
    assert "De agenda van de bijeenkomst" in nudges[0].text
    assert people["gijs"].user_id == "gijs"


async def test_no_nudge_when_everything_is_done(app: App, clock: FrozenClock) -> None:
    await cast(app)
    await add(app, MEETING)
    await at(app, clock, CHECKLIST_AT)
    assert app.services is not None
    async with app.services.work.begin() as db:
        event = await db.agenda.get(MEETING.uid)
        assert event is not None
        for item in ("zaal", "agenda", "uitnodiging"):
            await db.prompts.mark_done(event.id, item, 1, clock.now())
    await at(app, clock, NUDGE_AT)
    assert [m for m in await messages(app) if "en jullie organiseren het" in m.text] == []
    async with app.services.sessions() as session:
        status = await session.scalar(
            select(AgendaReminder.status).where(AgendaReminder.name == "checklist_nudge")
        )
    assert status == "sent"  # done: nothing was needed


async def test_inbreng_goes_to_the_gangmakers_and_its_reminder_only_to_who_did_not(
    app: App, clock: FrozenClock
) -> None:
    await cast(app)
    await add(app, MEETING)
    await at(app, clock, INBRENG_AT)
    assert await to_whom(app, "Binnenkort is") == ["gerda", "gijs", "mia", "rik"]
    sent = next(m for m in await messages(app) if m.text.startswith("Binnenkort is"))
    assert list(sent.buttons) == ["Ik wil iets inbrengen"]
    assert app.services is not None
    async with app.services.work.begin() as db:
        event = await db.agenda.get(MEETING.uid)
        assert event is not None
        gijs = await db.users.find("console", "gijs")
        rik = await db.users.find("console", "rik")
        assert gijs is not None and rik is not None
        await db.prompts.add_answer(event.id, gijs.id, "inbreng", "Eenzaamheid", False, clock.now())
        await db.prompts.add_answer(event.id, rik.id, "inbreng", "Wijkteams", False, clock.now())
        await db.prompts.add_answer(event.id, rik.id, "inbreng", "Jongeren", False, clock.now())
    await at(app, clock, INBRENG_REMINDER_AT)
    assert await to_whom(app, "Nog even: wil je iets inbrengen") == ["gerda", "mia"]
    await at(app, clock, DIGEST_AT)
    assert await to_whom(app, "Dit is ingebracht") == ["mia", "rik", "vera"]
    digest = next(m for m in await messages(app) if m.text.startswith("Dit is ingebracht"))
    assert "3 keer, door 2 mensen" in digest.text
    assert "Gijs:\n- Eenzaamheid" in digest.text
    assert "Rik:\n- Wijkteams\n- Jongeren" in digest.text
    assert list(digest.buttons) == ["Als CSV-bestand"]


async def test_wat_neem_je_mee_goes_to_who_came_the_day_after(app: App, clock: FrozenClock) -> None:
    people = await cast(app)
    await add(app, ATELIER)
    await people["ina"].send("/agenda")
    card = next(r for r in people["ina"].last if r.text.startswith("Leeratelier"))
    await people["ina"].press(next(c.action for c in card.choices if c.label == "Ik kom"))
    await people["gijs"].send("/agenda")
    card = next(r for r in people["gijs"].last if r.text.startswith("Leeratelier"))
    await people["gijs"].press(next(c.action for c in card.choices if c.label == "Misschien"))
    await at(app, clock, datetime(2026, 3, 13, 8, 59, tzinfo=UTC))
    assert await to_whom(app, "Dank je wel dat je er was") == []
    await at(app, clock, datetime(2026, 3, 13, 9, 0, tzinfo=UTC))
    assert await to_whom(app, "Dank je wel dat je er was") == ["ina"]
    sent = next(m for m in await messages(app) if m.chat == "ina" and "er was" in m.text)
    assert list(sent.buttons) == ["Ik deel wat ik meeneem"]


async def test_prompts_wait_for_the_end_of_the_quiet_hours_reminders_do_not(
    app: App, clock: FrozenClock
) -> None:
    await cast(app)
    await add(app, MEETING)
    assert app.services is not None
    zone = app.services.settings.zone
    quiet = QuietHours.parse("09:00-12:00", zone)
    await at(app, clock, INBRENG_AT, quiet=quiet)  # 10:00 local: quiet
    assert await to_whom(app, "Binnenkort is") == []
    await at(app, clock, local(16, hour=12), quiet=quiet)  # the quiet hours are over
    assert await to_whom(app, "Binnenkort is") == ["gerda", "gijs", "mia", "rik"]


async def test_stopped_and_muted_people_get_no_prompts(app: App, clock: FrozenClock) -> None:
    people = await cast(app)
    await add(app, MEETING)
    await people["gijs"].send("/stop")
    await people["gerda"].send("/agenda stil")
    await at(app, clock, INBRENG_AT)
    assert await to_whom(app, "Binnenkort is") == ["mia", "rik"]


async def test_a_cancelled_meeting_drops_its_prompts(app: App, clock: FrozenClock) -> None:
    await cast(app)
    await add(app, MEETING)
    await at(app, clock, clock.now())
    assert app.services is not None
    async with app.services.work.begin() as db:
        await db.agenda.cancel(MEETING.uid, clock.now())
    await at(app, clock, clock.now())
    for moment in (CHECKLIST_AT, INBRENG_AT, DIGEST_AT, MEENEMEN_AT + timedelta(hours=1)):
        await at(app, clock, moment)
    assert await messages(app) == []


async def test_what_people_take_home_goes_to_the_group_only_when_shared(
    app: App, clock: FrozenClock
) -> None:
    people = await cast(app)
    await add(app, ATELIER)
    for name in ("ina", "gijs"):
        await people[name].send("/agenda")
        card = next(r for r in people[name].last if r.text.startswith("Leeratelier"))
        await people[name].press(next(c.action for c in card.choices if c.label == "Ik kom"))
    assert app.services is not None
    async with app.services.work.begin() as db:
        event = await db.agenda.get(ATELIER.uid)
        ina = await db.users.find("console", "ina")
        gijs = await db.users.find("console", "gijs")
        assert event is not None and ina is not None and gijs is not None
        await db.prompts.add_answer(event.id, ina.id, "meenemen", "Luisteren", True, clock.now())
        await db.prompts.add_answer(event.id, gijs.id, "meenemen", "Mijn buurt", False, clock.now())
    await at(app, clock, datetime(2026, 3, 16, 9, 0, tzinfo=UTC))  # 4 days after, 10:00
    group = [m for m in await messages(app) if m.text.startswith("Dit nemen jullie mee")]
    assert sorted(m.chat for m in group) == ["gijs", "ina"]
    assert "- Ina: Luisteren" in group[0].text
    assert "Mijn buurt" not in group[0].text
    (for_vera,) = [m for m in await messages(app) if m.text.startswith("Dit nemen de deelnemers")]
    assert for_vera.chat == "vera"
    assert "- Ina (gedeeld met de groep): Luisteren" in for_vera.text
    assert "- Gijs (alleen voor de verbinders): Mijn buurt" in for_vera.text
