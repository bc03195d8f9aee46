"""Calendar feeds over the HTTP server, on SQLite and PostgreSQL: the public webcal
feed, a person's feed by their token (/agendafeed), revoking it, and cancelled events
as STATUS:CANCELLED. Every feed is read back with icalendar and recurring-ical-events."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import icalendar
import pytest
import recurring_ical_events
from sqlalchemy import select, update

from bot.agenda.model import EventData
from bot.app import App
from bot.core.clock import FrozenClock
from bot.settings import Settings
from bot.storage.models import AgendaFeedToken, User
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BASE = "https://bot.example.org"
LINK = re.compile(r"https://bot\.example\.org(/agenda/([0-9a-f]{40})\.ics)")


def event(uid: str, audience: str = "all", day: int = 10) -> EventData:
    return EventData(
        uid=uid,
        kind="leeratelier",
        title=f"Leeratelier {uid}",
        start=datetime(2027, 1, day, 19, 30),
        end=datetime(2027, 1, day, 21, 0),
        zone="Europe/Amsterdam",
        address="Stadhuis Leiden",
        audience=audience,
    )


EVENTS = (
    event("public@x"),
    event("gangmakers@x", "role:gangmaker", 11),
    event("leiden@x", "gemeente:leiden", 12),
    event("reos@x", "organisation:reos", 13),
    event("cancelled@x", day=14),
    replace(  # over a week ago: still in the feeds
        event("recent@x"), start=datetime(2026, 11, 24, 10, 0), end=datetime(2026, 11, 24, 11, 0)
    ),
    replace(  # over more than 30 days ago: no longer in any feed
        event("long-ago@x"), start=datetime(2026, 9, 1, 10, 0), end=datetime(2026, 9, 1, 11, 0)
    ),
)


@pytest.fixture
async def served(make_settings: Callable[..., Settings], database_url: str) -> AsyncIterator[App]:
    settings = make_settings(database_url=database_url, http_port=0, public_base_url=BASE)
    app = App(settings, clock=FrozenClock(NOW), channels={"recording": RecordingChannel()})
    await app.start(http=True, scheduler=False, sender=False)
    assert app.services is not None
    async with app.services.work.begin() as db:
        for data in EVENTS:
            await db.agenda.save(data, NOW)
        await db.agenda.cancel("cancelled@x", NOW)
    try:
        yield app
    finally:
        await app.stop()


async def fetch(app: App, path: str) -> tuple[int, str, bytes]:
    assert app.http is not None and app.http.bound_port
    url = f"http://127.0.0.1:{app.http.bound_port}{path}"
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


def statuses(body: bytes) -> dict[str, str]:
    """UID → STATUS, read with icalendar; recurring-ical-events must see the same UIDs."""
    calendar = icalendar.Calendar.from_ical(body)
    found = {str(e["uid"]): str(e["status"]) for e in calendar.walk("VEVENT")}
    between = recurring_ical_events.of(calendar).between(datetime(2026, 1, 1), datetime(2028, 1, 1))
    assert {str(e["uid"]) for e in between} == set(found)
    return found


async def feed_link(person: Person) -> tuple[str, str]:
    """(path, token) of the link /agendafeed shows."""
    await person.send("/agendafeed")
    found = LINK.search(person.text)
    assert found is not None, person.text
    assert f"webcal://bot.example.org{found.group(1)}" in person.text
    return found.group(1), found.group(2)


async def set_profile(app: App, user_id: str, **values: object) -> None:
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        await session.execute(update(User).where(User.platform_user_id == user_id).values(**values))


async def test_the_public_feed_has_public_events_and_cancelled_ones(served: App) -> None:
    status, content_type, body = await fetch(served, "/agenda.ics")
    assert status == 200
    assert content_type == "text/calendar; charset=utf-8"
    assert statuses(body) == {
        "public@x": "CONFIRMED",
        "cancelled@x": "CANCELLED",
        "recent@x": "CONFIRMED",
    }
    calendar = icalendar.Calendar.from_ical(body)
    vevent = next(e for e in calendar.walk("VEVENT") if e["uid"] == "public@x")
    assert vevent["dtstart"].dt.tzinfo is not None
    assert vevent["dtstart"].dt.hour == 19 and vevent["dtstart"].dt.minute == 30


async def test_a_personal_feed_shows_the_events_for_that_person(served: App) -> None:
    anna, bob = Person(served, user_id="anna"), Person(served, user_id="bob")
    anna_path, _ = await feed_link(anna)
    bob_path, _ = await feed_link(bob)
    await set_profile(served, "anna", roles="gangmaker", gemeente="Leiden", organisation="REOS")

    status, content_type, body = await fetch(served, anna_path)
    assert (status, content_type) == (200, "text/calendar; charset=utf-8")
    assert statuses(body) == {
        "public@x": "CONFIRMED",
        "gangmakers@x": "CONFIRMED",
        "leiden@x": "CONFIRMED",
        "reos@x": "CONFIRMED",
        "cancelled@x": "CANCELLED",
        "recent@x": "CONFIRMED",
    }
    status, _, body = await fetch(served, bob_path)
    assert status == 200
    assert statuses(body) == {
        "public@x": "CONFIRMED",
        "cancelled@x": "CANCELLED",
        "recent@x": "CONFIRMED",
    }


async def test_a_verbinders_feed_has_every_event(served: App) -> None:
    vera = Person(served, user_id="vera")
    path, _ = await feed_link(vera)
    await set_profile(served, "vera", roles="verbinder")  # no gemeente, no organisation

    status, _, body = await fetch(served, path)

    assert status == 200
    assert set(statuses(body)) == {
        "public@x",
        "gangmakers@x",
        "leiden@x",
        "reos@x",
        "cancelled@x",
        "recent@x",
    }


async def test_only_the_hash_of_the_token_is_stored(served: App) -> None:
    _, token = await feed_link(Person(served))
    assert served.services is not None
    async with served.services.sessions() as session:
        stored = (await session.execute(select(AgendaFeedToken))).scalars().all()
    assert [row.token_hash for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert len(token) * 4 >= 128


async def test_unknown_and_malformed_tokens_get_a_bare_404(served: App) -> None:
    path, token = await feed_link(Person(served))
    assert (await fetch(served, path))[0] == 200
    unknown = "/agenda/" + "0" * 40 + ".ics"
    upper = f"/agenda/{token.upper()}.ics"
    for path in (unknown, upper, "/agenda/nope.ics", "/agenda/.ics", "/agenda/x/y.ics"):
        status, _, body = await fetch(served, path)
        assert status == 404, path
        assert b"VCALENDAR" not in body and b"token" not in body.lower()


async def test_a_new_link_revokes_the_old_one(served: App) -> None:
    anna = Person(served)
    old, _ = await feed_link(anna)
    new, _ = await feed_link(anna)
    assert "Je oude link werkt niet meer." in anna.text
    assert (await fetch(served, old))[0] == 404
    assert (await fetch(served, new))[0] == 200


async def test_agendafeed_stop_revokes_the_link(served: App) -> None:
    anna = Person(served)
    path, _ = await feed_link(anna)
    await anna.send("/agendafeed stop")
    assert anna.text.startswith("Je agenda-link werkt niet meer.")
    assert (await fetch(served, path))[0] == 404
    await anna.send("/agendafeed stop")
    assert anna.text.startswith("Je hebt geen agenda-link.")


async def test_agendafeed_in_a_group_makes_no_link(served: App) -> None:
    group = Person(served, chat_id="group-1", private=False)
    replies = await group.send("/agendafeed")
    assert LINK.search(group.text) is None
    invites = [r.private_invite for r in replies if r.private_invite is not None]
    assert [i.start_payload for i in invites] == ["agendafeed"]
    assert served.services is not None
    async with served.services.sessions() as session:
        assert (await session.execute(select(AgendaFeedToken))).first() is None


async def test_without_a_public_address_the_bot_says_so(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    app = App(make_settings(database_url=database_url), clock=FrozenClock(NOW))
    await app.start(scheduler=False, sender=False)
    try:
        person = Person(app)
        await person.send("/agendafeed")
        assert "geen openbaar adres" in person.text
        assert LINK.search(person.text) is None
    finally:
        await app.stop()
