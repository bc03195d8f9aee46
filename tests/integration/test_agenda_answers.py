"""Answers to meeting prompts (issue 16), on SQLite and PostgreSQL: the repository
(answers encrypted at rest, checklists, polls with one changeable vote per person),
the buttons of the prompts (done, inbreng, meenemen, CSV, vote) with forged, stale and
not-allowed presses, the crisis check on typed answers, /agenda verslag, /agenda
stemming, and the answers in /mijngegevens and gone after /vergeetmij."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.agenda.model import EventData
from bot.app import App
from bot.storage.models import AgendaPoll, AgendaPromptAnswer
from tests.helpers.agenda import add
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
