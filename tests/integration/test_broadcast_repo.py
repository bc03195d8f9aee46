"""The announcement repository on SQLite and PostgreSQL: preview, recipients, life cycle."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from bot.broadcast.audience import Audience
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.outbox.queue import Outgoing
from bot.storage.models import AuditLog, User
from bot.storage.repositories import Repos
from bot.storage.repositories.announcements import (
    CANCELLED,
    SCHEDULED,
    AnnouncementRepo,
    Attachment,
    Counts,
)
from tests.helpers.broadcast_people import add_group, add_people, announce, person

GEMEENTEN = ["Leiden", "Teylingen", "Katwijk"]


def parse(expression: str) -> Audience:
    return Audience.parse(expression, gemeenten=GEMEENTEN, organisations=["Rijn en Duin"])


def sessions(app: App):  # type: ignore[no-untyped-def]
    assert app.services is not None
    return app.services.sessions


async def _people(app: App) -> None:
    await add_people(
        sessions(app),
        [
            person(1, roles="gangmaker", gemeente="Leiden"),
            person(2, roles="gangmaker,partner", gemeente="Teylingen", organisation="Rijn en Duin"),
            person(3, roles="gangmaker", gemeente="Katwijk"),
            person(4, gemeente="Leiden", language="en"),
            person(5, roles="gangmaker", gemeente="Leiden", messages_enabled=False),
            person(6, roles="gangmaker", gemeente="Leiden", active=False),
            person(7, roles="gangmaker", gemeente="Leiden", topics_off="agenda,nieuws"),
            person(8, platform="telegram", private_chat_id="8008", roles="bestuurder"),
            person(9, private_chat_id=None, roles="gangmaker", gemeente="Leiden"),  # group only
        ],
    )


async def _preview(app: App, expression: str, topic: str = "nieuws"):  # type: ignore[no-untyped-def]
    async with sessions(app)() as session:
        return await AnnouncementRepo(session).preview(parse(expression), topic)


async def _recipients(app: App, expression: str, topic: str = "nieuws") -> list[str]:
    async with sessions(app)() as session:
        repo = AnnouncementRepo(session)
        chats: list[str] = []
        async for batch in repo.recipients(parse(expression), topic, batch=2):
            assert len(batch) <= 2
            chats += [r.chat_id for r in batch]
        return chats


async def test_preview_counts_per_platform_and_who_is_left_out_and_why(app: App) -> None:
    await _people(app)
    everyone = await _preview(app, "all")
    assert everyone.per_platform == {"console": 4, "telegram": 1}
    assert everyone.left_out == {"stopped": 1, "blocked": 1, "unsubscribed": 1}
    assert everyone.total == 5
    agenda = await _preview(app, "all", topic="leerateliers")
    assert agenda.left_out["unsubscribed"] == 0 and agenda.total == 6


async def test_filters_combine_or_within_a_kind_and_across_kinds(app: App) -> None:
    await _people(app)
    assert await _recipients(app, "all") == ["p1", "p2", "p3", "p4", "8008"]
    assert await _recipients(app, "role:gangmaker,gemeente:leiden,gemeente:teylingen") == [
        "p1",
        "p2",
    ]
    assert await _recipients(app, "role:partner,role:bestuurder") == ["p2", "8008"]
    assert await _recipients(app, "organisation:rijn-en-duin") == ["p2"]
    assert await _recipients(app, "role:inwoner,gemeente:leiden") == ["p1", "p4"]
    # by topic: who has it on (person 7 turned agenda off)
    assert await _recipients(app, "topic:agenda,gemeente:leiden", topic="leerateliers") == [
        "p1",
        "p4",
    ]
    preview = await _preview(app, "role:gangmaker,gemeente:leiden")
    assert preview.per_platform == {"console": 1}
    assert preview.left_out == {"stopped": 1, "blocked": 1, "unsubscribed": 1}


async def test_linked_groups_count_as_one_and_come_last(app: App) -> None:
    await _people(app)
    await add_group(sessions(app), "-100")
    await add_group(sessions(app), "-200", platform="telegram")
    assert (await _preview(app, "groups")).per_platform == {"console": 1, "telegram": 1}
    assert await _recipients(app, "groups") == ["-100", "-200"]
    assert (await _recipients(app, "role:bestuurder,groups")) == ["8008", "-100", "-200"]


async def test_life_cycle_create_change_cancel(app: App, clock: FrozenClock) -> None:
    now = clock.now()
    async with sessions(app)() as session, session.begin():
        repo = AnnouncementRepo(session)
        first = await repo.create(
            created_by=None,
            audience=parse("role:gangmaker,gemeente:leiden"),
            topic="agenda",
            text="Leeratelier!",
            attachment=Attachment("link", name="Site", url="https://example.org"),
            urgent=False,
            send_at=now + timedelta(hours=1),
            report_to=("console", "verbinder1"),
            now=now,
        )
        second = await repo.create(
            created_by=None,
            audience=parse("all"),
            topic="nieuws",
            text="Nieuws",
            attachment=None,
            urgent=True,
            send_at=now,
            report_to=None,
            now=now,
        )
    async with sessions(app)() as session, session.begin():
        repo = AnnouncementRepo(session)
        view = await repo.get(first)
        assert view is not None
        assert (view.audience, view.topic, view.status, view.urgent) == (
            "role:gangmaker,gemeente:leiden",
            "agenda",
            SCHEDULED,
            False,
        )
        assert view.attachment == Attachment("link", name="Site", url="https://example.org")
        assert view.counts == Counts()
        assert [v.id for v in await repo.recent()] == [second, first]
        assert await repo.change(first, text="Nieuwe tekst", send_at=now + timedelta(hours=2))
        assert await repo.change(first) is False
        assert await repo.cancel(first, now)
        assert await repo.cancel(first, now) is False  # a second cancel changes nothing
        assert await repo.change(first, text="te laat") is False
        assert await repo.get(12345) is None
    async with sessions(app)() as session:
        view = await AnnouncementRepo(session).get(first)
        assert view is not None and (view.text, view.status) == ("Nieuwe tekst", CANCELLED)
        assert view.send_at == now + timedelta(hours=2)
        audit = (await session.execute(select(AuditLog.action, AuditLog.detail))).all()
        assert ("announcement", str(first)) in audit
        assert all("Leeratelier" not in detail for _, detail in audit)  # no text in the audit


async def test_unsubscribe_turns_the_topic_off(app: App, clock: FrozenClock) -> None:
    await _people(app)
    async with sessions(app)() as session, session.begin():
        repo = AnnouncementRepo(session)
        made = await announce(repo, clock.now(), topic="agenda")
        user = (
            await session.execute(select(User).where(User.platform_user_id == "p1"))
        ).scalar_one()
        assert await repo.unsubscribe(user.id, made) == "agenda"
        assert await repo.unsubscribe(user.id, made) == "agenda"
        assert await repo.unsubscribe(user.id, 999) is None
    async with sessions(app)() as session:
        user = (
            await session.execute(select(User).where(User.platform_user_id == "p1"))
        ).scalar_one()
        assert user.topics_off == "agenda"


async def test_counts_come_from_the_outbox_rows(app: App, clock: FrozenClock) -> None:
    assert app.services is not None
    async with app.services.work.begin() as repos:
        assert isinstance(repos, Repos)
        made = await announce(repos.announcements, clock.now())
    await app.services.outbox.enqueue(
        [
            Outgoing(f"ann:{made}:console:{i}", "console", str(i), Reply("x"), announcement_id=made)
            for i in range(3)
        ]
    )
    async with sessions(app)() as session:
        assert (await AnnouncementRepo(session).counts(made)) == Counts(pending=3)
