"""Hosts in turn in the chat, on SQLite and PostgreSQL: /agenda plan gangmakers shows
two hosts a meeting, a host is swapped (typed, with "did you mean"), Opslaan stores
the hosts, makes the offers and tells the hosts' people with a button "Wij kunnen
niet"; a decline asks the next in line, updates the event and tells the verbinders;
someone of another organisation, a forged or a second press changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.agenda.model import Event
from bot.app import App
from bot.core.messages import PressOutcome, Reply
from bot.outbox.queue import reply_from_json
from bot.people.directory import directory
from bot.storage.models import AgendaHostOffer, OutboxMessage
from tests.helpers.conversation import Person

# The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock).
HOSTS = re.compile(r"^   Gastheren: (.+) en (.+)$", re.MULTILINE)


def name(org: str) -> str:
    entry = directory().organisation(org)
    assert entry is not None
    return entry.name


def org_id(org_name: str) -> str:
    return next(e.id for e in directory().organisations if e.name == org_name)


@pytest.fixture
def lotte(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte")


async def person(app: App, who: str, **attrs: Any) -> Person:
    found = Person(app, user_id=who, display_name=who.title())
    await found.send("/start")
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", who)
        assert user is not None
        for key, value in attrs.items():
            setattr(user, key, value)
    return found


async def events(app: App) -> list[Event]:
    assert app.services is not None
    async with app.services.work.begin() as db:
        return [e for e in await db.agenda.all() if e.kind == "gangmakers"]


async def offers(app: App) -> list[tuple[int, str, str]]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = await session.execute(
            select(
                AgendaHostOffer.event_id, AgendaHostOffer.organisation, AgendaHostOffer.status
            ).order_by(AgendaHostOffer.id)
        )
        return [(e, o, s) for e, o, s in rows.all()]


async def queued(app: App, key: str) -> list[tuple[str, Reply]]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.payload)
            .where(OutboxMessage.kind == "agenda", OutboxMessage.key.startswith(key))
            .order_by(OutboxMessage.id)
        )
        return [
            (chat, reply_from_json(app.services.cipher.decrypt(payload)))
            for chat, payload in rows.all()
        ]


def refused(who: Person) -> bool:
    return any(r.press_outcome is PressOutcome.STALE for r in who.last)


async def plan_and_swap(lotte: Person) -> tuple[str, str, str]:
    """Plan 2027, swap the first host of meeting 1 for an organisation typed with a
    typo; (the new host, the other host, the host swapped out)."""
    await lotte.send("/agenda plan gangmakers 2027")
    review = lotte.last[-1].text
    assert review.startswith("Mijn voorstel voor Gangmakersbijeenkomsten in 2027:")
    assert "1. Gangmakersbijeenkomst\n   dinsdag 9 februari 2027, 13.30–16.00" in review
    pairs = HOSTS.findall(review)
    assert len(pairs) == 4 and all(a != b for a, b in pairs)
    assert len({n for pair in pairs for n in pair}) == 8  # 20 partners: nobody twice
    first, second = pairs[0]
    new = next(o for o in ("reos", "dsv", "marente") if name(o) not in (first, second))

    await lotte.press("Wijzig 1")
    assert f"Wissel {first}" in lotte.choices and f"Wissel {second}" in lotte.choices
    await lotte.press(f"Wissel {first}")
    assert lotte.text == f"Welke organisatie wordt gastheer in plaats van {first}? Typ de naam."
    await lotte.send(name(new) + "x")
    assert lotte.last[0].text.startswith(f'De organisatie "{name(new)}x" ken ik niet. Bedoel je')
    assert f'"{name(new)}"' in lotte.last[0].text
    await lotte.send(second)
    assert (
        lotte.last[0].text == f"{second} is al gastheer van nummer 1. Kies een andere organisatie."
    )
    await lotte.send(new.upper())  # the id, any case
    assert lotte.last[0].text == f"Bij nummer 1 is {name(new)} nu gastheer in plaats van {first}."
    assert "1. Gangmakersbijeenkomst\n   dinsdag 9 februari 2027" in lotte.text
    assert f"   Gastheren: {name(new)} en {second}" in lotte.text
    return new, org_id(second), org_id(first)


async def test_swap_save_ask_and_decline(lotte: Person, app: App) -> None:
    new, second, old = await plan_and_swap(lotte)
    host = await person(app, "hanna", organisation=new)
    other = await person(app, "gert", organisation=old)  # swapped out: not asked
    assert await events(app) == []  # nothing stored before Opslaan

    await lotte.press("Opslaan")

    assert lotte.text == (
        "Opgeslagen: 4 in de agenda (Gangmakersbijeenkomsten, 2027). Iedereen ziet ze nu met "
        "/agenda.\nIk heb de gastheren gevraagd. Zij kunnen laten weten als ze niet kunnen; "
        "dan vraag ik de volgende."
    )
    stored = await events(app)
    assert [len(e.hosts) for e in stored] == [2, 2, 2, 2]
    assert stored[0].hosts == (new, second)
    asked = await offers(app)
    assert sorted(asked) == sorted((e.id, h, "asked") for e in stored for h in e.hosts)
    messages = await queued(app, "agenda-host-asked:")
    assert [chat for chat, _ in messages] == ["hanna"]  # the only one of a host organisation
    message = messages[0][1]
    assert message.text.startswith(
        f"{name(new)} is gastheer van de Gangmakersbijeenkomst op dinsdag 9 februari 2027"
    )
    assert f"samen met {name(second)}" in message.text
    [button] = message.choices
    assert button.label == "Wij kunnen niet" and button.action.startswith("ho:no:")

    # someone of another organisation, a forged and a broken button: nothing changes
    await other.press(button.action)
    assert refused(other)
    assert other.text == (
        f"Deze vraag is voor {name(new)}. Alleen iemand van {name(new)} kan daarop antwoorden. "
        "Er is niets veranderd."
    )
    for forged in ("ho:no:999999", "ho:no:abc", "ho:yes:1", "ho:no:" + "9" * 30):
        await host.press(forged)
        assert refused(host) and host.text == "Deze knop ken ik niet. Er is niets veranderd."
    assert await offers(app) == asked

    await host.press(button.action)

    assert not refused(host)
    following = org_id(re.search(r"Ik vraag nu (.+) om gastheer", host.text).group(1))  # type: ignore[union-attr]
    assert following not in (new, second)  # not one hosting it (the next in line)
    changed = (await events(app))[0]
    assert changed.hosts == (following, second)
    assert changed.sequence == stored[0].sequence + 1  # the reminder engine follows
    now = await offers(app)
    assert (changed.id, new, "declined") in now and (changed.id, following, "asked") in now
    told = await queued(app, "agenda-host-declined:")
    assert [chat for chat, _ in told] == ["verbinder1"]
    assert told[0][1].text == (
        f"{name(new)} kan geen gastheer zijn van de Gangmakersbijeenkomst op dinsdag 9 februari "
        f"2027, 13.30–16.00. Ik heb {name(following)} gevraagd."
    )

    await host.press(button.action)  # a second press
    assert refused(host)
    assert host.text == (
        "Hierop is al geantwoord voor de Gangmakersbijeenkomst. Er is niets veranderd."
    )
    assert await offers(app) == now


async def test_the_next_in_line_is_asked_and_told(lotte: Person, app: App) -> None:
    """The organisation that takes over gets the question too, and can decline in turn."""
    new, second, _ = await plan_and_swap(lotte)
    await person(app, "hanna", organisation=new)
    await lotte.press("Opslaan")
    [(_, message)] = await queued(app, "agenda-host-asked:")
    hanna = Person(app, user_id="hanna", display_name="Hanna")
    await hanna.press(message.choices[0].action)
    following = (await events(app))[0].hosts[0]

    # someone of the next organisation had no /start yet: now one joins and declines
    piet = await person(app, "piet", organisation=following)
    offer = next(
        i
        for i, (_, org, status) in enumerate(await offers(app), start=1)
        if org == following and status == "asked"
    )
    ids = await _offer_ids(app)
    await piet.press(f"ho:no:{ids[offer - 1]}")

    assert not refused(piet)
    hosts = (await events(app))[0].hosts
    assert hosts[1] == second and hosts[0] not in (new, following, second)
    told = await queued(app, "agenda-host-declined:")
    assert len(told) == 2


async def _offer_ids(app: App) -> list[int]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = await session.execute(select(AgendaHostOffer.id).order_by(AgendaHostOffer.id))
        return [i for (i,) in rows.all()]


async def test_leerateliers_show_no_hosts_to_swap(lotte: Person, app: App) -> None:
    await lotte.send("/agenda plan leerateliers 2027")
    assert "Gastheren" not in lotte.text
    await lotte.press("Wijzig 1")
    assert not any(c.startswith("Wissel") for c in lotte.choices)
    await lotte.press("Terug")
    await lotte.press("Opslaan")
    assert "gastheren gevraagd" not in lotte.text
    assert await offers(app) == []
