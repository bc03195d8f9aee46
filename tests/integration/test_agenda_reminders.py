"""The agenda's invitations, reminders, change and cancellation messages, on SQLite and
PostgreSQL: who gets what, once; the grace period after downtime; a restart; muting;
an edit that moves the reminders and says what changed; a cancellation; the DST switch.

The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock); the engine is driven by
the test (``run_once``), as the outbox sender drives it in the running bot."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.agenda.model import EventData
from bot.agenda.reminders import ReminderEngine, engine_for
from bot.app import App
from bot.core.clock import FrozenClock
from bot.settings import Settings
from bot.storage.models import AgendaReminder, User
from tests.helpers.agenda import add, messages, to_whom
from tests.helpers.conversation import Person

ZONE = "Europe/Amsterdam"
ATELIER = EventData(
    uid="leeratelier-2026-03@alliantiepg.nl",
    kind="leeratelier",
    title="Leeratelier: samen leren",
    start=datetime(2026, 3, 12, 19, 30),  # a Thursday, winter time (UTC+1)
    end=datetime(2026, 3, 12, 21, 30),
    zone=ZONE,
    address="Hogeschool Leiden",
)
YES, MAYBE, NO = "Ik kom", "Misschien", "Ik kan niet"
# content/agenda_reminders.yaml for a leeratelier: invite 28 days before at 10:00,
# reminders 7 and 1 day before at 10:00, and 2 hours before.
INVITE_AT = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)
WEEK_AT = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
DAY_AT = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
TWO_HOURS_AT = datetime(2026, 3, 12, 16, 30, tzinfo=UTC)


def engine(app: App) -> ReminderEngine:
    assert app.services is not None
    return engine_for(app.services)


async def rows(app: App) -> dict[str, str]:
    """name → status of every planned row but the meeting prompts (issue 16, their own
    tests: tests/integration/test_agenda_prompts.py)."""
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(AgendaReminder.name, AgendaReminder.status).where(
                AgendaReminder.kind != "prompt"
            )
        )
        return dict(found.all())  # type: ignore[arg-type]


async def answer(person: Person, label: str) -> None:
    await person.send("/agenda")
    card = next(r for r in person.last if r.text.startswith(ATELIER.title))
    await person.press(next(c.action for c in card.choices if c.label == label))


async def people(app: App, *names: str) -> list[Person]:
    found = [Person(app, user_id=name, display_name=name.title()) for name in names]
    for person in found:
        await person.send("/start")
    return found


async def test_a_new_event_is_planned_from_the_rules(app: App) -> None:
    await add(app, ATELIER)
    assert await engine(app).run_once() == (1, 0)
    assert await rows(app) == {
        "invite": "pending",
        "7d": "pending",
        "1d": "pending",
        "2h": "pending",
    }
    assert app.services is not None
    async with app.services.sessions() as session:
        planned = select(AgendaReminder.name, AgendaReminder.due_at).where(
            AgendaReminder.kind != "prompt"
        )
        due = dict((await session.execute(planned)).all())
    assert due == {"invite": INVITE_AT, "7d": WEEK_AT, "1d": DAY_AT, "2h": TWO_HOURS_AT}
    assert await engine(app).run_once() == (0, 0)  # nothing new, nothing due


async def test_the_invitation_goes_once_to_who_has_not_answered(
    app: App, clock: FrozenClock
) -> None:
    anna, bob, carla, dirk = await people(app, "anna", "bob", "carla", "dirk")
    await add(app, ATELIER)
    await answer(anna, NO)  # answered already: no invitation
    await carla.send("/agenda stil")  # no agenda messages
    await engine(app).run_once()
    clock.set(INVITE_AT - timedelta(minutes=1))
    await engine(app).run_once()
    assert await messages(app) == []
    clock.set(INVITE_AT)
    await engine(app).run_once()
    await engine(app).run_once()  # a second round sends nothing twice
    sent = await messages(app)
    assert sorted(m.chat for m in sent) == ["bob", "dirk"]
    assert sent[0].text.startswith("Uitnodiging: Leeratelier: samen leren")
    assert "donderdag 12 maart 2026, 19.30–21.30" in sent[0].text
    assert "Waar: Hogeschool Leiden" in sent[0].text
    assert list(sent[0].buttons) == [YES, MAYBE, NO]
    assert (await rows(app))["invite"] == "sent"
    # the invitation's button answers as the card's does
    await bob.press(next(m for m in sent if m.chat == "bob").buttons[YES])
    assert "Fijn dat je komt" in bob.text
    assert dirk.user_id == "dirk"


async def test_reminders_go_to_yes_and_maybe_not_no_waitlist_or_muted(
    app: App, clock: FrozenClock
) -> None:
    anna, bob, carla, dirk, eva = await people(app, "anna", "bob", "carla", "dirk", "eva")
    await add(app, replace(ATELIER, capacity=3))
    await answer(anna, YES)
    await answer(bob, MAYBE)
    await answer(carla, NO)
    await answer(eva, YES)  # seat 2 of 3 (a maybe takes none)
    await answer(dirk, YES)  # seat 3
    frank = (await people(app, "frank"))[0]
    await answer(frank, YES)  # the waitlist
    await eva.press(f"ag:mute:{(await _event_id(app))}")
    assert "geen herinneringen meer" in eva.text
    await engine(app).run_once()
    clock.set(DAY_AT)
    await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == ["anna", "bob", "dirk"]
    sent = [m for m in await messages(app) if m.text.startswith("Herinnering")]
    assert sent[0].text.startswith("Herinnering: Leeratelier: samen leren is morgen.")
    assert list(sent[0].buttons) == ["Ik kan toch niet", "Geen herinneringen meer hiervoor"]
    # the invitation and the 7-day reminder fell due days ago (the clock jumped):
    # past the grace period, skipped
    assert (await rows(app)) == {
        "invite": "skipped",
        "7d": "skipped",
        "1d": "sent",
        "2h": "pending",
    }
    # eva turns them on again; the 2-hour reminder reaches her
    await eva.press(f"ag:unmute:{await _event_id(app)}")
    assert "weer herinneringen" in eva.text
    clock.set(TWO_HOURS_AT)
    await engine(app).run_once()
    sent = [m for m in await messages(app) if "over 2 uur" in m.text]
    assert sorted(m.chat for m in sent) == ["anna", "bob", "dirk", "eva"]


async def _event_id(app: App) -> int:
    assert app.services is not None
    async with app.services.work.begin() as db:
        found = await db.agenda.get(ATELIER.uid)
        assert found is not None
        return found.id


async def test_down_through_the_due_time_within_grace_sends_once_after_restart(
    app: App, settings: Settings, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    (anna,) = await people(app, "anna")
    await add(app, ATELIER)
    await answer(anna, YES)
    await engine(app).run_once()  # planned while the bot runs; then it goes down
    await app.stop()
    clock.set(DAY_AT + timedelta(hours=1))  # back an hour after the 1-day reminder
    again = App(settings, clock=clock, channels=dict(app.channels))
    await again.start(scheduler=False, sender=False)
    try:
        await engine(again).run_once()
        await engine(again).run_once()
        assert await to_whom(again, "Herinnering") == ["anna"]
        # down through the 2-hour reminder and past the grace period (6 hours): the
        # event has begun by then anyway; skipped and logged, not sent
        clock.set(TWO_HOURS_AT + timedelta(hours=7))
        with caplog.at_level(logging.WARNING, logger="bot.agenda.reminders"):
            await engine(again).run_once()
        assert await to_whom(again, "Herinnering") == ["anna"]
        assert (await rows(again))["2h"] == "skipped"
        assert "skipped" in caplog.text
        assert "Leeratelier" not in caplog.text  # ids only in the log
    finally:
        await again.stop()


async def test_past_the_grace_period_a_reminder_is_skipped_not_sent(
    app: App, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    (anna,) = await people(app, "anna")
    await add(app, ATELIER)
    await answer(anna, YES)
    await engine(app).run_once()
    clock.set(WEEK_AT + timedelta(hours=6, minutes=1))  # the grace period is 6 hours
    with caplog.at_level(logging.WARNING, logger="bot.agenda.reminders"):
        await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == []
    assert (await rows(app))["7d"] == "skipped"
    assert "past the grace period" in caplog.text


async def test_an_edit_moves_the_reminders_and_says_what_changed(
    app: App, clock: FrozenClock
) -> None:
    anna, bob, carla = await people(app, "anna", "bob", "carla")
    await add(app, ATELIER)
    await answer(anna, YES)
    await answer(bob, MAYBE)
    await answer(carla, NO)
    await engine(app).run_once()
    await add(app, replace(ATELIER, title="Leeratelier: samen leren (thema bekend)"))
    await engine(app).run_once()
    assert await messages(app) == []  # a new title alone is not news
    later = replace(
        ATELIER,
        start=datetime(2026, 3, 19, 20, 0),
        end=datetime(2026, 3, 19, 22, 0),
        address="Stadhuis Leiden",
    )
    await add(app, later)
    await engine(app).run_once()
    changed = await messages(app)
    assert sorted(m.chat for m in changed) == ["anna", "bob"]
    text = changed[0].text
    assert text.startswith("Let op: Leeratelier: samen leren is veranderd.")
    assert "Het was: donderdag 12 maart 2026, 19.30–21.30." in text
    assert "Het is nu: donderdag 19 maart 2026, 20.00–22.00." in text
    assert "De plek was: Waar: Hogeschool Leiden" in text or "Hogeschool Leiden" in text
    assert "Stadhuis Leiden" in text
    assert list(changed[0].buttons) == ["Ik kan toch niet"]
    # the 1-day reminder moved with the event: nothing on the old day, one on the new
    clock.set(DAY_AT)
    await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == []
    clock.set(DAY_AT + timedelta(days=7))
    await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == ["anna", "bob"]
    # the change is said once
    await engine(app).run_once()
    assert await to_whom(app, "Let op") == ["anna", "bob"]


async def test_cancelling_sends_a_cancellation_and_no_more_reminders(
    app: App, clock: FrozenClock
) -> None:
    anna, bob, carla = await people(app, "anna", "bob", "carla")
    await add(app, replace(ATELIER, capacity=1))
    await answer(anna, YES)
    await answer(bob, YES)  # the waitlist hears it too
    await answer(carla, NO)
    await engine(app).run_once()
    assert app.services is not None
    async with app.services.work.begin() as db:
        await db.agenda.cancel(ATELIER.uid, clock.now())
    await engine(app).run_once()
    await engine(app).run_once()
    sent = await messages(app)
    assert sorted(m.chat for m in sent) == ["anna", "bob"]
    assert sent[0].text.startswith(
        "Leeratelier: samen leren (donderdag 12 maart 2026, 19.30–21.30) gaat niet door."
    )
    assert await rows(app) == {
        "invite": "dropped",
        "7d": "dropped",
        "1d": "dropped",
        "2h": "dropped",
        "cancelled": "sent",
    }
    clock.set(DAY_AT)
    await engine(app).run_once()
    assert len(await messages(app)) == 2


async def test_stopped_and_muted_people_get_no_reminders(app: App, clock: FrozenClock) -> None:
    anna, bob, carla = await people(app, "anna", "bob", "carla")
    await add(app, ATELIER)
    for person in (anna, bob, carla):
        await answer(person, YES)
    await bob.send("/stop")
    await carla.send("/agenda stil")
    assert "geen uitnodigingen en herinneringen" in carla.text
    await engine(app).run_once()
    clock.set(DAY_AT)
    await engine(app).run_once()
    assert await to_whom(app) == ["anna"]
    await carla.send("/agenda herinneringen aan")
    assert "weer uitnodigingen en herinneringen" in carla.text
    clock.set(TWO_HOURS_AT)
    await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == ["anna", "anna", "carla"]


async def test_the_day_before_an_event_after_the_spring_switch_is_at_10_local(
    app: App, clock: FrozenClock
) -> None:
    (anna,) = await people(app, "anna")
    monday = replace(
        ATELIER, start=datetime(2026, 3, 30, 19, 30), end=datetime(2026, 3, 30, 21, 30)
    )
    await add(app, monday)
    await answer(anna, YES)
    await engine(app).run_once()
    clock.set(datetime(2026, 3, 29, 7, 59, tzinfo=UTC))  # 09:59 summer time
    await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == []
    clock.set(datetime(2026, 3, 29, 8, 0, tzinfo=UTC))  # 10:00 summer time
    await engine(app).run_once()
    assert await to_whom(app, "Herinnering") == ["anna"]


async def test_many_recipients_go_out_in_batches_each_once(app: App, clock: FrozenClock) -> None:
    people_ = await people(app, *(f"p{i}" for i in range(7)))
    await add(app, ATELIER)
    for person in people_:
        await answer(person, YES)
    small = replace(engine(app), batch=3)
    await small.run_once()
    clock.set(DAY_AT)
    await small.run_once()
    await small.run_once()
    assert await to_whom(app, "Herinnering") == sorted(p.user_id for p in people_)


async def test_a_stale_mute_button_changes_nothing(app: App) -> None:
    (anna,) = await people(app, "anna")
    event = await add(app, ATELIER)
    await anna.press(f"ag:mute:{event.id}")  # never answered: nothing to mute
    assert "ken ik niet" in anna.text
    await anna.press("ag:mute:abc")
    assert "ken ik niet" in anna.text
    assert app.services is not None
    async with app.services.sessions() as session:
        muted = await session.scalar(
            select(User.agenda_muted).where(User.platform_user_id == "anna")
        )
    assert muted is False


async def test_a_raised_capacity_gives_seats_to_the_waitlist_who_are_told(app: App) -> None:
    anna, bob, carla = await people(app, "anna", "bob", "carla")
    await add(app, replace(ATELIER, capacity=1))
    for person in (anna, bob, carla):
        await answer(person, YES)  # bob and carla wait
    await carla.send("/stop")  # gets the seat, but no message
    await engine(app).run_once()
    await add(app, replace(ATELIER, capacity=3))
    await engine(app).run_once()
    assert await to_whom(app, "Goed nieuws") == ["bob"]
    await bob.send("/agenda mijn")
    assert "Jij komt." in bob.text
    assert "wachtlijst" not in bob.text


async def test_stil_uit_turns_reminders_on_and_an_unknown_word_says_what_there_is(
    app: App,
) -> None:
    (carla,) = await people(app, "carla")
    await carla.send("/agenda stil")
    assert "geen uitnodigingen en herinneringen" in carla.text
    await carla.send("/agenda stil uit")
    assert "weer uitnodigingen en herinneringen" in carla.text
    await carla.send("/agenda herinneringen uit")
    assert "geen uitnodigingen en herinneringen" in carla.text
    await carla.send("/agenda onzin")
    assert 'Dat ken ik niet na /agenda: "onzin"' in carla.text
    assert "/agenda herinneringen aan: weer wel" in carla.text
    await carla.send("/agenda hulp")
    assert carla.text.startswith("Dit kun je sturen:")
