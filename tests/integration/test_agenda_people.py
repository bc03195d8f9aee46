"""/agenda deelnemers on SQLite and PostgreSQL: the verbinders and an event's hosts see
who is coming (counts and names, the waitlist in order, someone without a name) and get
a CSV; others, groups and forged or stale buttons are refused."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.core.messages import PressOutcome
from bot.storage.models import AuditLog
from tests.helpers.conversation import Person
from tests.integration.test_agenda_ask import BESTUURDERS
from tests.integration.test_agenda_chat import LEERATELIER, add, answer

SMALL = replace(LEERATELIER, capacity=1)  # hosts: hogeschool-leiden, reos


async def set_user(app: App, user_id: str, **values: object) -> None:
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", user_id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)


async def with_answers(app: App) -> None:
    """Anna has the seat, Bob waits, Carla maybe, a nameless person cannot come."""
    await add(app, SMALL)
    await add(app, BESTUURDERS)
    for user_id, name, label in (
        ("anna", "Anna", "Ik kom"),
        ("bob", "Bob", "Ik kom"),
        ("carla", "Carla", "Misschien"),
        ("dirk", None, "Ik kan niet"),
    ):
        await answer(Person(app, user_id=user_id, display_name=name), SMALL.title, label)
    await set_user(app, "dirk", display_name=None)


def event_id(person: Person) -> str:
    """The event id of the CSV button last shown."""
    csv_button = next(
        c for r in person.last for c in r.choices if (c.action or "").startswith("agp:csv:")
    )
    return (csv_button.action or "").rpartition(":")[2]


def verbinder(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Verbinder")


async def test_a_verbinder_sees_counts_and_names(app: App) -> None:
    await with_answers(app)
    v = verbinder(app)

    await v.send("/agenda deelnemers")
    assert v.last[0].text == "Van welke activiteit wil je zien wie er komen?"
    assert v.choices == [f"{SMALL.title} (12-3-2026)", f"{BESTUURDERS.title} (20-5-2026)"]

    await v.press(f"{SMALL.title} (12-3-2026)")
    text = v.text
    assert "Ik kom: 1 · Misschien: 1 · Ik kan niet: 1 · Wachtlijst: 1" in text
    assert "Komen (1):\n- Anna" in text
    assert "Op de wachtlijst (1):\n1. Bob" in text
    assert "Misschien (1):\n- Carla" in text
    assert "Kunnen niet (1):\n- iemand zonder naam" in text
    assert v.choices == ["CSV", "Andere activiteit"]

    await v.press("Andere activiteit")
    assert v.choices[0] == f"{SMALL.title} (12-3-2026)"
    await v.press(f"{BESTUURDERS.title} (20-5-2026)")
    assert "Nog niemand heeft gereageerd." in v.text


async def test_the_csv_has_every_answer_in_local_time(app: App) -> None:
    await with_answers(app)
    await set_user(app, "carla", display_name="=HYPERLINK(1)")
    v = verbinder(app)
    await v.send("/agenda deelnemers")
    await v.press(f"{SMALL.title} (12-3-2026)")

    shown = event_id(v)
    replies = await v.press("CSV")

    document = replies[0].document
    assert document is not None and document.filename == "deelnemers-leeratelier-samen-leren.csv"
    rows = list(csv.reader(Path(document.path).read_text(encoding="utf-8").splitlines()))
    # the clock is 2026-01-05 09:00 UTC: 10:00 in Amsterdam
    assert rows == [
        ["naam", "antwoord", "wachtlijstplek", "geantwoord op"],
        ["Anna", "ja", "", "2026-01-05 10:00"],
        ["Bob", "ja", "1", "2026-01-05 10:00"],
        ["'=HYPERLINK(1)", "misschien", "", "2026-01-05 10:00"],
        ["iemand zonder naam", "nee", "", "2026-01-05 10:00"],
    ]
    assert app.services is not None
    async with app.services.sessions() as session:
        details = (
            await session.execute(
                select(AuditLog.detail).where(AuditLog.action == "agenda.attendees_csv")
            )
        ).scalars()
        assert list(details) == [f"event={shown}"]  # who took a list, no names


async def test_a_host_sees_only_the_events_of_their_organisation(app: App) -> None:
    await with_answers(app)
    reos = Person(app, user_id="rita", display_name="Rita")
    await reos.send("/start")
    await set_user(app, "rita", organisation="reos")

    await reos.send("/agenda deelnemers")
    assert reos.choices == [f"{SMALL.title} (12-3-2026)"]
    assert app.services is not None
    async with app.services.work.begin() as db:
        other = next(e for e in await db.agenda.all() if e.uid == BESTUURDERS.uid)

    for action in (f"agp:show:{other.id}", f"agp:csv:{other.id}"):
        replies = await reos.press(action)
        assert replies[0].press_outcome is PressOutcome.STALE
        assert "alleen voor de verbinders en de organisatoren" in reos.text
        assert replies[0].document is None

    await reos.send("/agenda deelnemers")
    await reos.press(f"{SMALL.title} (12-3-2026)")
    assert "- Anna" in reos.text


async def test_others_get_a_clear_no(app: App) -> None:
    await with_answers(app)
    anna = Person(app)

    await anna.send("/agenda deelnemers")
    assert "voor de verbinders en voor wie een activiteit organiseert" in anna.text
    assert anna.choices == []

    replies = await anna.press("agp:show:1")
    assert replies[0].press_outcome is PressOutcome.STALE
    assert "Anna" not in anna.text and "Bob" not in anna.text


async def test_not_in_a_group(app: App) -> None:
    await with_answers(app)
    in_group = Person(app, user_id="verbinder1", private=False, chat_id="g1")

    await in_group.send("/agenda deelnemers")
    assert "alleen in een privégesprek" in in_group.text
    await in_group.press("agp:show:1")
    assert "alleen in een privégesprek" in in_group.text
    assert "Bob" not in in_group.text


async def test_forged_and_stale_buttons_are_refused(app: App) -> None:
    await with_answers(app)
    v = verbinder(app)
    await v.send("/start")
    for action in ("agp:show:abc", "agp:show:99999", "agp:nope:1", "agp:show:1:2", "agp:show:"):
        replies = await v.press(action)
        assert replies[0].press_outcome is PressOutcome.STALE, action
        assert "Deze activiteit ken ik niet (meer)" in v.text, action
