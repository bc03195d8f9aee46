"""A whole gangmaker year on a fake clock, on SQLite and PostgreSQL (issue 16):

the year planned (``events plan gangmakers``: four meetings, two hosts each in turn)
→ the hosts' checklist and its nudge → "wat wil je
inbrengen?" and its reminder → the digest → the invitation and the reminders → the
meeting → "wat neem je mee?" → the next meeting; with the bot restarted half-way
through. Every prompt and reminder goes to the people it is for, exactly once.

The clock moves a day at a time, looking at 10:00 and 12:00 local time (when the
rules make things due), as the outbox sender's rounds would."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.agenda.plan_cli import propose, save
from bot.agenda.reminders import engine_for
from bot.app import App
from bot.core.clock import FrozenClock
from bot.outbox.queue import reply_from_json
from bot.settings import Settings
from bot.storage.models import AgendaReminder, OutboxMessage, User
from tests.helpers.conversation import Person

ZONE = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)


async def plan_the_year(app: App, settings: Settings) -> list[tuple[str, ...]]:
    """Plan and store 2027's gangmaker meetings as the command does; their hosts."""
    assert app.services is not None
    async with app.services.work.begin() as db:
        proposal = await propose(settings, db.agenda, "gangmakers", 2027, START)
        await save(db.agenda, proposal.items, START)
    assert len(proposal.items) == 4
    return [item.data.hosts for item in proposal.items]


async def join(app: App, organisations: set[str]) -> dict[str, Person]:
    """A gangmaker of each host organisation, one without an organisation (gijs), and a
    verbinder (vera)."""
    values: dict[str, dict[str, str]] = {
        f"g-{o}": {"roles": "gangmaker", "organisation": o} for o in organisations
    }
    values["gijs"] = {"roles": "gangmaker"}
    values["vera"] = {"roles": "verbinder"}
    people = {}
    assert app.services is not None
    for name, columns in values.items():
        person = Person(app, user_id=name, display_name=name.title())
        await person.send("/start")
        people[name] = person
        async with app.services.sessions() as session, session.begin():
            await session.execute(
                update(User).where(User.platform_user_id == name).values(**columns)
            )
    return people


async def queued(app: App) -> list[tuple[str, str]]:
    """(key, chat) of every agenda message in the outbox."""
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(OutboxMessage.key, OutboxMessage.chat_id).where(OutboxMessage.kind == "agenda")
        )
        return [(k, c) for k, c in found.all()]


async def live_rows(app: App) -> list[tuple[int, str, str, int]]:
    """(id, name, status, recipients) of every planned row."""
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(
                AgendaReminder.id,
                AgendaReminder.name,
                AgendaReminder.status,
                AgendaReminder.recipients,
            )
        )
        return [(i, n, s, r) for i, n, s, r in found.all()]


async def answer_prompts(app: App, people: dict[str, Person], seen: set[str]) -> None:
    """Each gangmaker answers what the bot asked them since the last look: the hosts tick
    off the room, rik and pim bring a theme in; everyone says yes to an invitation."""
    assert app.services is not None
    for key, chat in await queued(app):
        if key in seen:
            continue
        seen.add(key)
        async with app.services.sessions() as session:
            payload = await session.scalar(
                select(OutboxMessage.payload).where(OutboxMessage.key == key)
            )
        assert payload is not None
        reply = reply_from_json(app.services.cipher.decrypt(payload))
        actions = {c.label: c.action for c in reply.choices if c.action}
        person = people[chat]
        if "✓ Een zaal is geregeld" in actions:
            await person.press(actions["✓ Een zaal is geregeld"])
        if "Ik wil iets inbrengen" in actions and chat == "gijs":
            await person.press(actions["Ik wil iets inbrengen"])
            await person.send(f"Thema van {chat}: samen met inwoners")
        if "Ik kom" in actions:
            await person.press(actions["Ik kom"])
        if "Ik deel wat ik meeneem" in actions and chat == "gijs":
            await person.press(actions["Ik deel wat ik meeneem"])
            await person.send(f"{chat} neemt mee: vragen stellen werkt")
            await person.press("Ja, met mijn naam")


async def test_a_gangmaker_year_sends_every_prompt_once(
    app: App, settings: Settings, clock: FrozenClock
) -> None:
    clock.set(START)
    hosts = await plan_the_year(app, settings)
    assert all(len(pair) == 2 for pair in hosts)
    organisations = {o for pair in hosts for o in pair}
    assert len(organisations) == 8  # nobody hosts twice before everyone has hosted
    people = await join(app, organisations)
    gangmakers = len(organisations) + 1
    seen: set[str] = set()
    running = app
    restarted = False
    day = START.astimezone(ZONE).date()
    try:
        while day <= date(2027, 12, 31):
            for hour in (10, 12):
                clock.set(datetime.combine(day, time(hour), tzinfo=ZONE).astimezone(UTC))
                assert running.services is not None
                await engine_for(running.services).run_once()
                await answer_prompts(running, people, seen)
            if day == date(2027, 7, 1) and not restarted:  # a restart half-way
                await running.stop()
                running = App(settings, clock=clock, channels=dict(app.channels))
                await running.start(scheduler=False, sender=False)
                for person in people.values():
                    person.app = running
                restarted = True
            day += timedelta(days=1)

        keys = await queued(running)
        rows = await live_rows(running)
    finally:
        if running is not app:
            await running.stop()

    # every row of every meeting went out (none skipped: the bot was never down long)
    by_name = Counter(name for _, name, _, _ in rows)
    assert by_name == Counter(
        {
            name: 4
            for name in (
                "invite",
                "7d",
                "1d",
                "2h",
                "checklist",
                "checklist_nudge",
                "inbreng",
                "inbreng_reminder",
                "digest",
                "meenemen",
                "meenemen_gedeeld",
                "meenemen_verbinders",
            )
        }
    )
    assert {status for _, _, status, _ in rows} == {"sent"}
    # exactly once: one message per row and person, and each row reached its people
    per_row_person = Counter((key.split(":")[1], chat) for key, chat in keys)
    assert set(per_row_person.values()) == {1}
    reached = Counter(key.split(":")[1] for key, _ in keys)
    count = {str(i): (name, recipients) for i, name, _, recipients in rows}
    expected = {
        "checklist": 2,  # the people of the two host organisations
        "checklist_nudge": 2,  # the room was ticked off, the rest is still open
        "inbreng": gangmakers,  # every gangmaker
        "inbreng_reminder": gangmakers - 1,  # all but gijs, who brought something in
        "digest": 3,  # the two hosts and the verbinder
        "invite": gangmakers,
        "7d": gangmakers,
        "1d": gangmakers,
        "2h": gangmakers,
        "meenemen": gangmakers,  # all said yes
        "meenemen_gedeeld": gangmakers,  # gijs's answer, shared with the group
        "meenemen_verbinders": 1,  # to vera
    }
    for row, (name, recipients) in count.items():
        assert reached.get(row, 0) == recipients, name
        assert recipients == expected[name], name
