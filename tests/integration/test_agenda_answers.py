"""Answers to meeting prompts (issue 16), on SQLite and PostgreSQL: the repository
(answers encrypted at rest, checklists, polls with one changeable vote per person),
the buttons of the prompts (done, inbreng, meenemen, CSV, vote) with forged, stale and
not-allowed presses, the crisis check on typed answers, /agenda verslag, /agenda
stemming, and the answers in /mijngegevens and gone after /vergeetmij."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.agenda.model import EventData
from bot.agenda.reminders import engine_for
from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import PressOutcome
from bot.outbox.queue import reply_from_json
from bot.storage.models import AgendaPoll, AgendaPromptAnswer, AgendaVote, OutboxMessage
from tests.helpers.agenda import add, cancel
from tests.helpers.conversation import Person

# The bot's clock starts at 2026-01-05 09:00 UTC (FrozenClock).
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GANGMAKERS = EventData(
    uid="gangmakers-2026-02@alliantiepg.nl",
    kind="gangmakers",
    title="Gangmakers overleg",
    start=datetime(2026, 2, 3, 14, 0),
    end=datetime(2026, 2, 3, 16, 0),
    zone="Europe/Amsterdam",
    audience="role:gangmaker",
    hosts=("hogeschool-leiden", "reos"),
)


async def user_id(app: App, who: str) -> int:
    assert app.services is not None
    async with app.services.work.begin() as db:
        user = await db.users.find("console", who)
        assert user is not None
        return user.id


async def test_repository_answers_checklist_and_polls(app: App) -> None:
    event = await add(app, GANGMAKERS)
    anna, gert = Person(app), Person(app, user_id="gert", display_name="Gert")
    await anna.send("/start")
    await gert.send("/start")
    a, g = await user_id(app, "anna"), await user_id(app, "gert")
    assert app.services is not None
    async with app.services.work.begin() as db:
        await db.prompts.add_answer(event.id, g, "inbreng", "Eenzaamheid", True, NOW)
        await db.prompts.add_answer(event.id, a, "inbreng", "Wijkteams", False, NOW + timedelta(1))
        await db.prompts.add_answer(event.id, a, "meenemen", "Veel", True, NOW)
        await db.prompts.ensure_items(event.id, ["zaal", "agenda", "uitnodiging"])
        await db.prompts.ensure_items(event.id, ["zaal", "agenda", "uitnodiging"])
        assert await db.prompts.mark_done(event.id, "agenda", a, NOW)
        assert not await db.prompts.mark_done(event.id, "agenda", g, NOW)
        poll = await db.prompts.create_poll(event.id, ["Eenzaamheid", "Wijkteams"], a, NOW)
        assert await db.prompts.vote(poll, a, 1, NOW) is None
        assert await db.prompts.vote(poll, g, 1, NOW) is None
        assert await db.prompts.vote(poll, g, 2, NOW) == 1  # changed, not a second vote
    async with app.services.work.begin() as db:
        answers = await db.prompts.answers(event.id, "inbreng")
        assert [(x.name, x.text, x.share) for x in answers] == [
            ("Gert", "Eenzaamheid", True),
            ("Anna", "Wijkteams", False),
        ]
        assert await db.prompts.open_items(event.id, ["uitnodiging", "agenda", "zaal"]) == [
            "uitnodiging",
            "zaal",
        ]
        assert await db.prompts.results(poll) == [("Eenzaamheid", 1), ("Wijkteams", 1)]
        found = await db.prompts.poll(poll)
        assert found is not None and found.options == ("Eenzaamheid", "Wijkteams")
        assert await db.prompts.close_poll(poll, NOW)
        assert not await db.prompts.close_poll(poll, NOW)
        exported = await db.prompts.export(a)
        assert [x["text"] for x in exported["answers"]] == ["Veel", "Wijkteams"]
        assert exported["votes"][0]["option"] == "Eenzaamheid"
    async with app.services.sessions() as session:  # encrypted at rest
        payloads = list(await session.scalars(select(AgendaPromptAnswer.payload)))
        payloads += list(await session.scalars(select(AgendaPoll.payload)))
        assert payloads and all(b"Eenzaamheid" not in p and b"Wijkteams" not in p for p in payloads)


# -- helpers ------------------------------------------------------------------------------

LEERATELIER = EventData(
    uid="leeratelier-2026-01@alliantiepg.nl",
    kind="leeratelier",
    title="Leeratelier: samen leren",
    start=datetime(2026, 1, 20, 19, 30),
    end=datetime(2026, 1, 20, 21, 30),
    zone="Europe/Amsterdam",
)
STARTED = datetime(2026, 2, 3, 13, 30, tzinfo=UTC)  # the gangmakers meeting has begun
AFTER_ATELIER = datetime(2026, 1, 21, 9, 0, tzinfo=UTC)
CRISIS = "ik wil niet meer leven"


async def person(app: App, who: str, name: str | None = None, **attrs: Any) -> Person:
    """A person who said /start, with ``attrs`` set on their user row (roles, ...)."""
    found = Person(app, user_id=who, display_name=name or who.title())
    await found.send("/start")
    if attrs:
        assert app.services is not None
        async with app.services.work.begin() as db:
            user = await db.users.find("console", who)
            assert user is not None
            for key, value in attrs.items():
                setattr(user, key, value)
    return found


async def gangmaker(app: App, who: str, **attrs: Any) -> Person:
    return await person(app, who, roles="gangmaker", **attrs)


async def stored(app: App, event_id: int, prompt: str) -> list[tuple[str | None, str, bool]]:
    assert app.services is not None
    async with app.services.work.begin() as db:
        return [(a.name, a.text, a.share) for a in await db.prompts.answers(event_id, prompt)]


@dataclass(frozen=True)
class Sent:
    chat: str
    text: str
    buttons: dict[str, str]  # label → action


async def queued(app: App, key: str = "") -> list[Sent]:
    """The agenda messages queued whose key begins with ``key``, in order."""
    assert app.services is not None
    async with app.services.sessions() as session:
        found = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.payload)
                .where(OutboxMessage.kind == "agenda", OutboxMessage.key.startswith(key))
                .order_by(OutboxMessage.id)
            )
        ).all()
    sent = []
    for chat, payload in found:
        reply = reply_from_json(app.services.cipher.decrypt(payload))
        sent.append(
            Sent(chat, reply.text, {c.label: c.action or c.url or "" for c in reply.choices})
        )
    return sent


def refused(person: Person) -> bool:
    return any(r.press_outcome is PressOutcome.STALE for r in person.last)


# -- the hosts' checklist -------------------------------------------------------------------


async def test_a_host_marks_checklist_points_done_and_sees_what_is_open(app: App) -> None:
    event = await add(app, GANGMAKERS)
    host = await gangmaker(app, "hanna", organisation="reos")
    other = await gangmaker(app, "gert", organisation="libertas")
    assert app.services is not None
    async with app.services.work.begin() as db:
        await db.prompts.ensure_items(event.id, ["zaal", "agenda", "uitnodiging"])

    await host.press(f"pr:done:{event.id}:agenda")
    assert "is klaar" in host.text and "Nog te doen" in host.text
    assert len(host.choices) == 2  # a done button for each open point
    await host.press(host.last[0].choices[0].action or "")  # zaal, from the reply
    assert len(host.choices) == 1
    await host.press(f"pr:done:{event.id}:agenda")
    assert "stond al op klaar" in host.text

    await other.press(f"pr:done:{event.id}:uitnodiging")  # not a host
    assert refused(other) and "gastheren" in other.text
    for forged in (
        f"pr:done:{event.id}:koffie",
        "pr:done:abc:zaal",
        "pr:done:99999:zaal",
        f"pr:done:{event.id}",
        "pr:zzz:1",
    ):
        await host.press(forged)
        assert refused(host), forged
    async with app.services.work.begin() as db:
        open_ = await db.prompts.open_items(event.id, ["zaal", "agenda", "uitnodiging"])
    assert open_ == ["uitnodiging"]

    verbinder = Person(app, user_id="verbinder1", display_name="Vera")
    await verbinder.send("/start")
    await verbinder.press(f"pr:done:{event.id}:uitnodiging")
    assert "Alles voor Gangmakers overleg is geregeld" in verbinder.text
    await cancel(app, GANGMAKERS.uid)
    await host.press(f"pr:done:{event.id}:zaal")
    assert refused(host) and "gaat niet door" in host.text


# -- inbreng --------------------------------------------------------------------------------


async def test_a_gangmaker_brings_in_a_theme_and_can_add_another(app: App) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")

    await gert.press(f"pr:in:{event.id}")
    assert "Wat wil je inbrengen voor Gangmakers overleg?" in gert.text
    await gert.send("Eenzaamheid in de wijk")
    assert "Dank je wel" in gert.text
    await gert.press("Nog iets inbrengen")
    await gert.send("Hoe bereiken we jongeren?")
    await gert.send("Dit is geen inbreng meer")  # the flow is over: a question to the bot
    assert await stored(app, event.id, "inbreng") == [
        ("Gert", "Eenzaamheid in de wijk", True),
        ("Gert", "Hoe bereiken we jongeren?", True),
    ]


async def test_inbreng_only_for_the_audience_before_the_meeting(
    app: App, clock: FrozenClock
) -> None:
    event = await add(app, GANGMAKERS)
    anna = await person(app, "anna")  # not a gangmaker
    gert = await gangmaker(app, "gert")

    await anna.press(f"pr:in:{event.id}")
    assert refused(anna) and "niet voor jou" in anna.text
    await anna.send("Mijn thema")  # no conversation was opened
    await gert.press(f"pr:in:{event.id}")
    await gert.press("Laat maar")
    assert "niets bewaard" in gert.text
    await gert.press(f"pr:in:{event.id}")
    old = gert.find_choice("Laat maar")
    assert old is not None
    await gert.send("x" * 1001)
    assert "korter" in gert.text
    await gert.press(old.action or "")  # the button of the first question: stale
    assert refused(gert)
    clock.set(STARTED - timedelta(hours=1))  # the question asked just before it begins
    await gert.press(f"pr:in:{event.id}")
    clock.set(STARTED)
    await gert.send("Te laat")
    assert "al begonnen" in gert.text
    await gert.press(f"pr:in:{event.id}")
    assert refused(gert) and "al begonnen" in gert.text
    assert await stored(app, event.id, "inbreng") == []


async def test_a_crisis_typed_as_inbreng_gets_the_crisis_reply_and_is_not_kept(
    app: App,
) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    await gert.press(f"pr:in:{event.id}")

    await gert.send(CRISIS)

    assert "113" in gert.text
    assert await stored(app, event.id, "inbreng") == []
    await gert.send("Mantelzorg")  # the question is still open
    assert await stored(app, event.id, "inbreng") == [("Gert", "Mantelzorg", True)]
    assert app.services is not None
    async with app.services.sessions() as session:
        payloads = list(await session.scalars(select(AgendaPromptAnswer.payload)))
    texts = [app.services.cipher.decrypt(p)["text"] for p in payloads]
    assert CRISIS not in texts


# -- wat neem je mee? -------------------------------------------------------------------------


async def test_what_you_take_home_with_consent(app: App, clock: FrozenClock) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    await gert.press(f"pr:mee:{event.id}")
    assert refused(gert) and "moet nog beginnen" in gert.text

    clock.set(STARTED + timedelta(days=1))
    await gert.press(f"pr:mee:{event.id}")
    assert "Wat neem je mee van Gangmakers overleg?" in gert.text
    await gert.send("Nieuwe contacten")
    assert gert.text.endswith("Mag de groep dit zien?")
    assert gert.choices == ["Ja, met mijn naam", "Nee, alleen de verbinders", "Laat maar"]
    await gert.send("misschien")  # neither: asked again
    assert "Kies een van de knoppen" in gert.text
    await gert.press("Nee, alleen de verbinders")
    assert "Alleen de verbinders" in gert.text
    await gert.press(f"pr:mee:{event.id}")
    await gert.send("Energie")
    await gert.send("ja")
    assert await stored(app, event.id, "meenemen") == [
        ("Gert", "Nieuwe contacten", False),
        ("Gert", "Energie", True),
    ]
    clock.set(STARTED + timedelta(days=40))
    await gert.press(f"pr:mee:{event.id}")
    assert refused(gert) and "gesloten" in gert.text


async def test_take_home_after_a_leeratelier_for_who_came_only_in_private(
    app: App, clock: FrozenClock
) -> None:
    atelier = await add(app, replace(LEERATELIER, audience="role:partner"))
    anna = await person(app, "anna")  # not a partner, but she said yes
    bob = await person(app, "bob")
    assert app.services is not None
    async with app.services.work.begin() as db:
        a = await db.users.find("console", "anna")
        assert a is not None
        await db.agenda.rsvps.answer(atelier.id, a.id, "yes", NOW)
    clock.set(AFTER_ATELIER)
    await bob.press(f"pr:mee:{atelier.id}")
    assert refused(bob)
    in_group = Person(app, user_id="anna", display_name="Anna", private=False, chat_id="g1")
    await in_group.press(f"pr:mee:{atelier.id}")
    assert "privégesprek" in in_group.text
    await anna.press(f"pr:mee:{atelier.id}")
    await anna.send("Veel ideeën")
    await anna.press("Ja, met mijn naam")
    assert await stored(app, atelier.id, "meenemen") == [("Anna", "Veel ideeën", True)]


# -- the inbreng as CSV -----------------------------------------------------------------------


async def test_hosts_get_the_inbreng_as_csv(app: App) -> None:
    event = await add(app, GANGMAKERS)
    host = await gangmaker(app, "hanna", organisation="hogeschool-leiden")
    gert = await gangmaker(app, "gert")
    await gert.press(f"pr:in:{event.id}")
    await gert.send("=Wijkteams en zorg")

    await host.press(f"pr:csv:{event.id}")

    document = host.last[0].document
    assert document is not None and document.filename == "inbreng-gangmakers-overleg.csv"
    rows = list(csv.reader(io.StringIO(document.path.read_text(encoding="utf-8"))))
    assert rows == [
        ["naam", "inbreng", "wanneer"],
        ["Gert", "'=Wijkteams en zorg", "2026-01-05 10:00"],
    ]
    await gert.press(f"pr:csv:{event.id}")
    assert refused(gert) and host.last[0].document is not None
    in_group = Person(app, user_id="hanna", display_name="Hanna", private=False, chat_id="g1")
    await in_group.press(f"pr:csv:{event.id}")
    assert all(r.document is None for r in in_group.last)


# -- the vote -------------------------------------------------------------------------------


async def _themes(app: App, event_id: int) -> None:
    assert app.services is not None
    async with app.services.work.begin() as db:
        for who, theme in (("gert", "Eenzaamheid"), ("hanna", "Wijkteams"), ("gert", "Jongeren")):
            user = await db.users.find("console", who)
            assert user is not None
            await db.prompts.add_answer(event_id, user.id, "inbreng", theme, True, NOW)


async def _put_to_vote(vera: Person) -> None:
    """The verbinder chooses the meeting, themes 1 and 3 (after two wrong tries), and
    sends the poll."""
    await vera.send("/agenda stemming")
    await vera.press(vera.choices[0])  # the meeting
    assert "1. Eenzaamheid (Gert)" in vera.text and "2. Wijkteams (Hanna)" in vera.text
    await vera.send("2")
    assert "minstens twee" in vera.text
    await vera.send("1 7")
    assert "nummers van 1 tot en met 3" in vera.text
    await vera.send("1 en 3")
    assert "1. Eenzaamheid\n2. Jongeren" in vera.text and "naar 2 gangmakers" in vera.text
    assert "Gert" not in vera.text  # the poll has no names
    await vera.press("Versturen")
    assert "verstuurd naar 2 gangmakers" in vera.text


async def test_a_verbinder_puts_themes_to_a_vote_and_gangmakers_vote_once(app: App) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    hanna = await gangmaker(app, "hanna", organisation="reos", language="en")
    stopped = await gangmaker(app, "stijn")
    await stopped.send("/stop")
    anna = await person(app, "anna")  # not a gangmaker
    await _themes(app, event.id)
    vera = Person(app, user_id="verbinder1", display_name="Vera")
    await vera.send("/start")

    await anna.send("/agenda stemming")
    assert refused(anna)
    await _put_to_vote(vera)
    polls = await queued(app, "stemming:")
    assert sorted(p.chat for p in polls) == ["gert", "hanna"]
    in_english = next(p for p in polls if p.chat == "hanna")
    assert in_english.text.startswith("Vote for Gangmakers overleg")  # in her language
    buttons = polls[0].buttons
    assert list(buttons) == ["1. Eenzaamheid", "2. Jongeren"]
    first, second = buttons.values()
    await vera.press("Versturen")  # a second press sends nothing more
    assert refused(vera)
    assert len(await queued(app, "stemming:")) == 2

    await gert.press(first)
    assert "Je stem is genoteerd: Eenzaamheid" in gert.text
    await gert.press(second)
    assert "eerst Eenzaamheid, nu Jongeren" in gert.text
    await hanna.press(second)
    await anna.press(first)
    assert refused(anna)
    await gert.press(first.rsplit(":", 1)[0] + ":3")  # an option the poll does not have
    assert refused(gert)
    poll_id = int(first.split(":")[2])
    assert app.services is not None
    async with app.services.work.begin() as db:
        assert await db.prompts.results(poll_id) == [("Eenzaamheid", 0), ("Jongeren", 2)]

    host = await person(app, "henk", organisation="hogeschool-leiden")
    await vera.send("/agenda stemming uitslag")
    assert "2 - Jongeren\n0 - Eenzaamheid" in vera.text
    assert "naar 2 mensen" in vera.text  # henk and hanna (reos), the hosts
    result = await queued(app, "uitslag:")
    assert sorted(r.chat for r in result) == ["hanna", "henk"]
    assert "2 - Jongeren" in result[0].text
    await gert.press(first)
    assert refused(gert) and "gesloten" in gert.text
    assert host.text  # henk got his result through the outbox, not here


async def test_the_vote_flow_refuses_a_non_verbinder_and_needs_themes(app: App) -> None:
    await add(app, GANGMAKERS)
    vera = Person(app, user_id="verbinder1", display_name="Vera")
    await vera.send("/start")
    await vera.send("/agenda stemming uitslag")
    assert "nog geen stemming" in vera.text
    await vera.send("/agenda stemming")
    await vera.press(vera.choices[0])
    assert "nog niemand iets ingebracht" in vera.text
    in_group = Person(app, user_id="verbinder1", display_name="Vera", private=False, chat_id="g")
    await in_group.send("/agenda stemming")
    assert "privégesprek" in in_group.text


# -- the report link ---------------------------------------------------------------------------


async def test_the_report_link_goes_to_who_came_and_who_wants_leerateliers(
    app: App, clock: FrozenClock
) -> None:
    atelier = await add(app, LEERATELIER)
    anna = await person(app, "anna")  # came
    await person(app, "bob", topics_off="leerateliers")  # did not come, topic off
    await person(app, "carla")  # did not come, wants leerateliers
    dirk = await person(app, "dirk")  # came, but said /stop
    await person(app, "eva", agenda_muted=True)  # agenda messages off
    await person(app, "finn", topics_off="leerateliers")  # came, topic off
    for who in (anna, dirk, Person(app, user_id="finn", display_name="Finn")):
        await who.press(f"ag:y:{atelier.id}")
    await dirk.send("/stop")
    vera = Person(app, user_id="verbinder1", display_name="Vera")
    await vera.send("/start")

    await vera.send("/agenda verslag")
    assert "Er is nog geen bijeenkomst geweest" in vera.text
    clock.set(AFTER_ATELIER)
    await anna.send("/agenda verslag 1 https://example.org/verslag")
    assert refused(anna)
    await vera.send("/agenda verslag")
    assert "1. Leeratelier: samen leren" in vera.text
    await vera.send("/agenda verslag 1 niet-een-link")
    assert "Zet de link" in vera.text
    await vera.send("/agenda verslag 7 https://example.org/verslag")
    assert "ken ik niet" in vera.text
    await vera.send("/agenda verslag 1 https://example.org/verslag")
    assert "gaat naar 4 mensen" in vera.text
    sent = await queued(app, "verslag:")
    assert sorted(s.chat for s in sent) == ["anna", "carla", "finn", "verbinder1"]
    assert "https://example.org/verslag" in sent[0].text
    assert sent[0].buttons == {"Lees het verslag": "https://example.org/verslag"}
    await vera.send(f"/agenda verslag {LEERATELIER.uid} https://example.org/verslag")
    assert "al gestuurd naar alle 4" in vera.text
    assert len(await queued(app, "verslag:")) == 4


async def test_the_report_of_a_gangmakers_meeting_goes_only_to_who_came(
    app: App, clock: FrozenClock
) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    await gangmaker(app, "hanna")
    await gert.press(f"ag:y:{event.id}")
    vera = Person(app, user_id="verbinder1", display_name="Vera")
    await vera.send("/start")
    clock.set(STARTED + timedelta(days=1))
    await vera.send(f"/agenda verslag {GANGMAKERS.uid} https://example.org/v")
    assert [s.chat for s in await queued(app, "verslag:")] == ["gert"]


async def test_a_report_sent_in_the_quiet_hours_waits_for_their_end(
    app: App, clock: FrozenClock
) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    await gert.press(f"ag:y:{event.id}")
    vera = Person(app, user_id="verbinder1", display_name="Vera")
    await vera.send("/start")
    clock.set(datetime(2026, 2, 4, 21, 30, tzinfo=UTC))  # 22:30 in Amsterdam: quiet
    await vera.send(f"/agenda verslag {GANGMAKERS.uid} https://example.org/v")
    assert "om 8:00 uur" in vera.text
    assert app.services is not None
    async with app.services.sessions() as session:
        due = await session.scalar(
            select(OutboxMessage.next_attempt_at).where(OutboxMessage.key.startswith("verslag:"))
        )
    assert due == datetime(2026, 2, 5, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam


async def test_the_buttons_of_the_engines_prompts_work_end_to_end(
    app: App, clock: FrozenClock
) -> None:
    """The reminder engine sends the prompts (bot.agenda.prompts); pressing their
    buttons does what this module promises."""
    meeting = replace(
        GANGMAKERS, start=datetime(2026, 3, 26, 14, 0), end=datetime(2026, 3, 26, 16, 0)
    )
    event = await add(app, meeting)
    host = await gangmaker(app, "hanna", organisation="reos")
    gert = await gangmaker(app, "gert")
    await gert.press(f"ag:y:{event.id}")
    assert app.services is not None
    engine = engine_for(app.services)

    async def prompt_to(chat: str, at: datetime) -> Sent:
        clock.set(at)
        await engine.run_once()
        return [m for m in await queued(app) if m.chat == chat][-1]

    checklist = await prompt_to("hanna", datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    await host.press(next(iter(checklist.buttons.values())))
    assert "Nog te doen" in host.text
    inbreng = await prompt_to("gert", datetime(2026, 3, 16, 9, 0, tzinfo=UTC))
    await gert.press(next(iter(inbreng.buttons.values())))
    await gert.send("Samenwerken met de huisarts")
    digest = await prompt_to("hanna", datetime(2026, 3, 24, 9, 0, tzinfo=UTC))
    assert "Samenwerken met de huisarts" in digest.text
    await host.press(next(iter(digest.buttons.values())))
    assert host.last[0].document is not None
    meenemen = await prompt_to("gert", datetime(2026, 3, 27, 9, 0, tzinfo=UTC))
    await gert.press(next(iter(meenemen.buttons.values())))
    await gert.send("Een nieuwe collega in Teylingen")
    await gert.press("Ja, met mijn naam")
    assert await stored(app, event.id, "meenemen") == [
        ("Gert", "Een nieuwe collega in Teylingen", True)
    ]


# -- personal data -----------------------------------------------------------------------------


async def test_answers_and_votes_are_in_my_data_and_gone_after_forget_me(app: App) -> None:
    event = await add(app, GANGMAKERS)
    gert = await gangmaker(app, "gert")
    await gert.press(f"pr:in:{event.id}")
    await gert.send("Eenzaamheid")
    g = await user_id(app, "gert")
    assert app.services is not None
    async with app.services.work.begin() as db:
        poll = await db.prompts.create_poll(event.id, ["Eenzaamheid", "Jongeren"], None, NOW)
        await db.prompts.vote(poll, g, 2, NOW)

    await gert.send("/mijngegevens")
    document = gert.last[0].document
    assert document is not None
    data = json.loads(document.path.read_text(encoding="utf-8"))
    assert data["agenda_prompts"]["answers"][0]["text"] == "Eenzaamheid"
    assert data["agenda_prompts"]["answers"][0]["event"] == "Gangmakers overleg"
    assert data["agenda_prompts"]["votes"][0]["option"] == "Jongeren"

    await gert.send("/vergeetmij")
    await gert.press("Ja, verwijder alles")
    async with app.services.sessions() as session:
        assert list(await session.scalars(select(AgendaPromptAnswer.id))) == []
        assert list(await session.scalars(select(AgendaVote.id))) == []
        assert len(list(await session.scalars(select(AgendaPoll.id)))) == 1  # the poll stays
