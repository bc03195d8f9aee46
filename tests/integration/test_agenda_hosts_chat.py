"""Hosts in turn in the chat, on SQLite and PostgreSQL: /agenda plan gangmakers shows
two hosts a meeting, a host is swapped (typed, with "did you mean"), Opslaan stores
the hosts, makes the offers and tells the hosts' people with a button "Wij kunnen
niet"; a decline asks the next in line, updates the event and tells the verbinders;
someone of another organisation, a forged or a second press changes nothing."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.agenda.model import Event
from bot.agenda.rotation import months_of
from bot.agenda.series import HostRotation, SeriesRules, load_rules
from bot.app import App
from bot.core.messages import PressOutcome, Reply
from bot.outbox.queue import reply_from_json
from bot.people.directory import directory
from bot.storage.models import AgendaHostOffer, OutboxMessage
from handlers import agenda_hosts, agenda_plan
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
    assert sorted(asked) == sorted(
        [*((e.id, h, "asked") for e in stored for h in e.hosts), (stored[0].id, old, "swapped")]
    )
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
    assert following not in (new, second, old)  # not hosting it, not swapped out by Lotte
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
    first = (await events(app))[0].id
    ids = await _offer_ids(app)
    offer = next(
        i
        for i, row in zip(ids, await offers(app), strict=True)
        if row == (first, following, "asked")
    )
    await piet.press(f"ho:no:{offer}")

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


def rules_with(volunteers: list[str], not_in: dict[str, list[str]]) -> SeriesRules:
    """The content's rules, with the gangmakers' rotation replaced."""
    content = load_rules(Path("content"))
    rotation = HostRotation(
        tuple(volunteers), tuple((o, months_of(", ".join(m))) for o, m in not_in.items())
    )
    gangmakers = dataclasses.replace(content.rules["gangmakers"], rotation=rotation)
    return SeriesRules({**content.rules, "gangmakers": gangmakers})


async def test_not_in_a_month_holds_for_the_swap_and_the_next_in_line(
    lotte: Person, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five volunteers; Reos cannot in February. The plan and a swap leave Reos out of
    February, and after two declines the next in line is never Reos either."""
    volunteers = ["reos", "dsv", "marente", "kwadraad", "participe"]
    rules = rules_with(volunteers, {"reos": ["februari"]})
    monkeypatch.setattr(agenda_plan, "rules", lambda ctx: rules)
    monkeypatch.setattr(agenda_hosts, "current_rules", lambda override=None: rules)

    await lotte.send("/agenda plan gangmakers 2027")
    pairs = HOSTS.findall(lotte.last[-1].text)
    assert "Reos" not in pairs[0]
    assert {n for pair in pairs for n in pair} == {name(o) for o in volunteers}
    await lotte.press("Wijzig 1")
    await lotte.press(f"Wissel {pairs[0][0]}")
    await lotte.send("reos")
    assert lotte.last[0].text == ("Reos kan niet in februari. Kies een andere organisatie.")
    await lotte.press("Terug")
    await lotte.press("Terug")
    await lotte.press("Opslaan")
    first = (await events(app))[0]
    assert "reos" not in first.hosts

    # each host organisation of February declines in turn: never Reos, nobody twice
    seen = set(first.hosts)
    for n in range(3):
        event = (await events(app))[0]
        org = event.hosts[0]
        who = await person(app, f"p{n}", organisation=org)
        ids = await _offer_ids(app)
        rows = await offers(app)
        offer = next(i for i, row in zip(ids, rows, strict=True) if row == (event.id, org, "asked"))
        await who.press(f"ho:no:{offer}")
        hosts = (await events(app))[0].hosts
        assert "reos" not in hosts
        assert not set(hosts) - set(volunteers)
        seen |= set(hosts)
    # the five minus Reos: with everyone asked, the last decline leaves one host
    assert len((await events(app))[0].hosts) == 1
    assert "Er is nu niemand anders om te vragen" in who.text
    told = await queued(app, "agenda-host-declined:")
    assert "Er is niemand meer om te vragen" in told[-1][1].text


EIGHT = ["reos", "dsv", "marente", "kwadraad", "participe", "balans", "steenrots", "activite"]


async def test_the_next_in_line_hosts_no_other_meeting_that_year_when_one_can(
    lotte: Person, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nine volunteers, eight host in 2027: after a decline the ninth is asked, not one
    who hosts another meeting that year; once only those are left, the verbinders hear
    that the one asked hosts twice."""
    volunteers = [*EIGHT, "wijdezorg"]
    rules = rules_with(volunteers, {})
    monkeypatch.setattr(agenda_plan, "rules", lambda ctx: rules)
    monkeypatch.setattr(agenda_hosts, "current_rules", lambda override=None: rules)
    await lotte.send("/agenda plan gangmakers 2027")
    await lotte.press("Opslaan")
    stored = await events(app)
    busy = {h for e in stored for h in e.hosts}
    assert len(busy) == 8
    [free] = set(volunteers) - busy

    for n in range(2):
        event = (await events(app))[0]
        org = event.hosts[0]
        who = await person(app, f"p{n}", organisation=org)
        ids = await _offer_ids(app)
        rows = await offers(app)
        offer = next(i for i, row in zip(ids, rows, strict=True) if row == (event.id, org, "asked"))
        await who.press(f"ho:no:{offer}")
        following = (await events(app))[0].hosts[0]
        told = (await queued(app, "agenda-host-declined:"))[-1][1].text
        if n == 0:
            assert following == free  # the only one hosting nothing else in 2027
            assert "ook gastheer van een andere bijeenkomst" not in told
        else:
            assert following in busy  # nobody else is left
            assert told.endswith(
                f"Ik heb {name(following)} gevraagd. Let op: {name(following)} is dit jaar ook "
                "gastheer van een andere bijeenkomst. Er was niemand anders die kon."
            )


async def test_a_swap_to_a_host_of_another_meeting_is_taken_and_said(
    lotte: Person, app: App
) -> None:
    await lotte.send("/agenda plan gangmakers 2027")
    pairs = HOSTS.findall(lotte.last[-1].text)
    third = pairs[2][1]
    await lotte.press("Wijzig 1")
    await lotte.press(f"Wissel {pairs[0][0]}")
    await lotte.send(third)
    assert lotte.last[0].text == (
        f"Bij nummer 1 is {third} nu gastheer in plaats van {pairs[0][0]}.\n"
        f"Let op: {third} is dit jaar ook gastheer bij nummer 3."
    )
    assert f"   Gastheren: {third} en {pairs[0][1]}" in lotte.text

    await lotte.press("Wijzig 2")
    await lotte.press(f"Wissel {pairs[1][0]}")
    await lotte.send(pairs[3][0])  # hosting number 4 only: one other meeting
    assert lotte.last[0].text.endswith(
        f"Let op: {pairs[3][0]} is dit jaar ook gastheer bij nummer 4."
    )


async def test_one_host_alone_is_said_in_the_proposal(
    lotte: Person, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = rules_with(["reos"], {})
    monkeypatch.setattr(agenda_plan, "rules", lambda ctx: rules)
    await lotte.send("/agenda plan gangmakers 2027")
    review = lotte.last[-1].text
    alone = (
        "   Gastheren: Reos\n"
        "   Let op: maar een gastheer. Er is niemand anders die in deze maand kan."
    )
    assert review.count(alone) == 4

    rules = rules_with(["reos", "dsv", "marente"], {"dsv": ["februari"], "marente": ["februari"]})
    monkeypatch.setattr(agenda_plan, "rules", lambda ctx: rules)
    await lotte.send("/stop")
    await lotte.send("/agenda plan gangmakers 2027")
    review = lotte.last[-1].text
    assert review.count("Let op: maar een gastheer") == 1  # February only
