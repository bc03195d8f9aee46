"""Announcements from release to report, on SQLite and PostgreSQL, with a fake clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import App
from bot.broadcast.audience import Audience
from bot.broadcast.engine import HELD, KIND, KIND_URGENT, BroadcastEngine
from bot.broadcast.quiet import QuietHours
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.outbox.queue import Outgoing
from bot.outbox.sender import OutboxSender
from bot.storage.models import Announcement, OutboxMessage, User
from bot.storage.repositories.announcements import (
    CANCELLED,
    DONE,
    QUEUING,
    SENDING,
    AnnouncementRepo,
    Counts,
)
from tests.helpers.broadcast_people import add_group, add_people, person
from tests.helpers.fakes import RecordingChannel, blocked, too_many

ZONE = ZoneInfo("Europe/Amsterdam")
TEXT = "Leeratelier op 3 april in Leiden"


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    """A moment on January ``day`` 2026, Amsterdam time."""
    return datetime(2026, 1, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def engine(app: App, batch: int = 3) -> BroadcastEngine:
    services = app.services
    assert services is not None
    return BroadcastEngine(
        sessions=services.sessions,
        outbox=services.outbox,
        texts=services.texts,
        clock=services.clock,
        quiet=QuietHours.parse("21:00-08:00", ZONE),
        batch=batch,
        interval=0.0,
    )


def sender(app: App, broadcast: BroadcastEngine, **kwargs: object) -> OutboxSender:
    assert app.services is not None
    return OutboxSender(
        app.services.outbox,
        app.channels,
        before_claim=[broadcast.tick],
        **kwargs,  # type: ignore[arg-type]
    )


async def announce(
    app: App, send_at: datetime, *, expression: str = "all", urgent: bool = False
) -> int:
    assert app.services is not None
    async with app.services.work.begin() as repos:
        return await repos.announcements.create(
            created_by=None,
            audience=Audience.stored(expression),
            topic="leerateliers",
            text=TEXT,
            attachment=None,
            urgent=urgent,
            send_at=send_at,
            report_to=("console", "verbinder"),
            now=app.services.clock.now(),
        )


async def view(app: App, announcement_id: int):  # type: ignore[no-untyped-def]
    assert app.services is not None
    async with app.services.sessions() as session:
        return await AnnouncementRepo(session).get(announcement_id)


async def rows(app: App) -> list[OutboxMessage]:
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(found.scalars())


async def people(app: App, count: int, **overrides: object) -> None:
    assert app.services is not None
    await add_people(app.services.sessions, [person(i, **overrides) for i in range(count)])


def to_people(channel: RecordingChannel) -> list[str]:
    """The people's chats the announcement reached (one entry per delivery)."""
    return sorted(
        chat for chat, reply in channel.sent if chat.startswith("p") and reply.text == TEXT
    )


async def test_an_announcement_reaches_everyone_once_in_their_language(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 7)
    assert app.services is not None
    await add_people(app.services.sessions, [person(7, language="en"), person(8, active=False)])
    await add_group(app.services.sessions, "-100")
    made = await announce(app, at(10), expression="all,groups")
    broadcast = engine(app)
    assert await sender(app, broadcast, batch_size=4, concurrency=2).drain() > 0
    await broadcast.tick()  # everything is out: done, and the report
    await sender(app, broadcast).drain()

    assert to_people(channel) == [f"p{i}" for i in range(8)]
    texts = {chat: reply for chat, reply in channel.sent}
    assert texts["p0"].text == TEXT
    assert [c.action for c in texts["p0"].choices] == [f"afmelden:{made}"]
    assert texts["p0"].choices[0].label == "Geen berichten meer over leerateliers"
    assert texts["p7"].choices[0].label == "No more messages about learning workshops"
    assert texts["-100"].choices == ()  # a group: no one-tap unsubscribe
    found = [r for r in await rows(app) if r.announcement_id == made]
    assert {r.key for r in found} == {f"ann:{made}:console:p{i}" for i in range(8)} | {
        f"ann:{made}:console:-100"
    }
    assert {r.kind for r in found} == {KIND}
    shown = await view(app, made)
    assert shown.status == DONE and shown.recipients == 9
    assert shown.counts == Counts(delivered=9)
    verbinder = channel.texts_to("verbinder")
    assert verbinder[0] == f"Bericht {made} gaat nu weg. Ontvangers: 9."
    assert verbinder[-1].startswith(f"Bericht {made} is klaar.\nAangekomen: 9\n")
    assert "uit heeft gezet: 1" in verbinder[-1]  # the blocked one, left out before
    assert len(channel.sent) == 9 + len(verbinder)


async def test_a_scheduled_announcement_waits_for_its_time(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 2)
    made = await announce(app, at(11))
    broadcast = engine(app)
    await sender(app, broadcast).drain()
    assert to_people(channel) == []
    assert (await view(app, made)).status == "scheduled"
    clock.set(at(11))
    await sender(app, broadcast).drain()
    assert to_people(channel) == ["p0", "p1"]


async def test_two_workers_release_it_once(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 20)
    made = await announce(app, at(10))
    first, second = engine(app), engine(app)
    await asyncio.gather(first.release_one(clock.now()), second.release_one(clock.now()))
    found = [r for r in await rows(app) if r.announcement_id == made]
    assert len(found) == 20 and len({r.key for r in found}) == 20
    assert (await view(app, made)).status == SENDING


async def test_a_worker_killed_while_queuing_is_taken_over_without_duplicates(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 10)
    made = await announce(app, at(10))
    assert app.services is not None
    # The dead worker wrote the first 4 rows and its lease ran until 10:02.
    dead = engine(app, batch=4)
    lease = at(10, 2)
    async with app.services.sessions() as session, session.begin():
        await session.execute(
            update(Announcement)
            .where(Announcement.id == made)
            .values(status=QUEUING, lease_until=lease)
        )
    release = await _release(dead, made)
    assert await dead._write_batch(release, True, 0, lease, {}) is not None
    assert len(await rows(app)) == 4
    broadcast = engine(app, batch=4)
    assert await broadcast.release_one(clock.now()) is False  # the lease still runs
    clock.set(at(10, 3))
    assert await broadcast.release_one(clock.now()) is True
    found = [r for r in await rows(app) if r.announcement_id == made]
    assert sorted(r.chat_id for r in found) == sorted(f"p{i}" for i in range(10))
    await sender(app, broadcast).drain()
    assert to_people(channel) == sorted(f"p{i}" for i in range(10))


async def _release(broadcast: BroadcastEngine, made: int):  # type: ignore[no-untyped-def]
    from bot.broadcast.engine import _Release

    async with broadcast.sessions() as session:
        row = await session.get(Announcement, made)
        assert row is not None
        return _Release(
            made, Audience.stored(row.audience), row.topic, row.text, None, False, None, None
        )


async def test_quiet_hours_hold_announcements_until_morning_but_not_urgent_ones(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(22))
    await people(app, 3)
    calm = await announce(app, at(22))
    urgent = await announce(app, at(22), expression="role:inwoner", urgent=True)
    broadcast = engine(app)
    await sender(app, broadcast).drain()
    assert (await view(app, calm)).status == "scheduled"  # not released at night
    assert (await view(app, urgent)).status == DONE
    assert {r.kind for r in await rows(app) if r.announcement_id == urgent} == {KIND_URGENT}
    assert to_people(channel) == ["p0", "p1", "p2"]  # the urgent one
    channel.sent.clear()
    clock.set(at(8, 0, day=6))
    await sender(app, broadcast).drain()
    assert to_people(channel) == ["p0", "p1", "p2"]
    assert (await view(app, calm)).counts.delivered == 3


async def test_rows_queued_before_quiet_hours_wait_and_other_messages_do_not(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(20, 59))
    await people(app, 6)
    made = await announce(app, at(20, 59))
    broadcast = engine(app)
    await broadcast.tick()  # released at 20:59: six rows pending
    # One row goes out before nine; then the clock moves into the quiet hours.
    await sender(app, broadcast, batch_size=1).deliver_due()
    assert len(to_people(channel)) == 1
    clock.set(at(21, 0))
    await sender(app, broadcast).drain()
    assert len(to_people(channel)) == 1
    held = [r for r in await rows(app) if r.status == HELD]
    assert len(held) == 5 and {r.last_error for r in held} == {"quiet hours"}
    assert (await view(app, made)).counts == Counts(delivered=1, held=5)
    # A reply to a person whose announcement waits is not held up behind it.
    assert app.services is not None
    chat = held[0].chat_id
    await app.services.outbox.enqueue(
        [Outgoing("reply-at-night", "console", chat, Reply("Antwoord"))]
    )
    await sender(app, broadcast).drain()
    assert channel.texts_to(chat) == ["Antwoord"]
    # Someone stops in the night: in the morning they get nothing.
    async with app.services.sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.private_chat_id == chat).values(messages_enabled=False)
        )
    clock.set(at(8, 0, day=6))
    await sender(app, broadcast).drain()
    await broadcast.tick()
    assert len(to_people(channel)) == 5  # 1 before nine, 4 in the morning
    assert channel.texts_to(chat) == ["Antwoord"]
    shown = await view(app, made)
    assert shown.status == DONE and shown.counts.delivered == 5


async def test_a_403_storm_marks_people_inactive_and_a_429_is_waited_out(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 10)
    for i in range(6):
        channel.failures[f"p{i}"] = blocked()
    channel.failures["p8"] = too_many(5.0)
    made = await announce(app, at(10))
    broadcast = engine(app)
    await sender(app, broadcast).drain()
    assert to_people(channel) == ["p6", "p7", "p9"]
    row = next(r for r in await rows(app) if r.chat_id == "p8")
    assert (row.status, row.attempts) == ("pending", 0)  # the 429 used no attempt
    del channel.failures["p8"]
    clock.advance(seconds=5)
    await sender(app, broadcast).drain()
    await broadcast.tick()
    await sender(app, broadcast).drain()
    assert to_people(channel) == ["p6", "p7", "p8", "p9"]
    shown = await view(app, made)
    assert shown.status == DONE
    assert shown.counts == Counts(delivered=4, blocked=6)
    assert app.services is not None
    async with app.services.sessions() as session:
        inactive = await session.scalars(select(User.private_chat_id).where(User.active.is_(False)))
        assert sorted(inactive) == [f"p{i}" for i in range(6)]
    assert "Geblokkeerd: 6" in channel.texts_to("verbinder")[-1]


async def test_cancel_while_sending_stops_the_rest_and_a_sent_one_cannot_be_cancelled(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 6)
    made = await announce(app, at(10))
    broadcast = engine(app)
    await sender(app, broadcast, batch_size=2).deliver_due()
    assert len(to_people(channel)) == 2
    assert app.services is not None
    async with app.services.work.begin() as repos:
        assert await repos.announcements.cancel(made, clock.now())
    await sender(app, broadcast).drain()
    assert len(to_people(channel)) == 2
    assert (await view(app, made)).status == CANCELLED
    other = await announce(app, at(10))
    await sender(app, broadcast).drain()
    await broadcast.tick()
    assert (await view(app, other)).status == DONE
    async with app.services.work.begin() as repos:
        assert await repos.announcements.cancel(other, clock.now()) is False


async def test_the_log_holds_no_announcement_text(
    app: App, channel: RecordingChannel, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    clock.set(at(10))
    await people(app, 3)
    channel.failures["p1"] = blocked()
    await announce(app, at(10))
    broadcast = engine(app)
    await sender(app, broadcast).drain()
    await broadcast.tick()
    assert "recipients queued" in caplog.text
    assert "Leeratelier" not in caplog.text


async def test_the_progress_message_is_edited_in_place_while_it_sends(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    clock.set(at(10))
    await people(app, 6)
    channel.failures["p5"] = too_many(60.0)
    made = await announce(app, at(10))
    broadcast = engine(app)
    await sender(app, broadcast).drain()
    to_verbinder = [reply for chat, reply in channel.sent if chat == "verbinder"]
    assert [r.text for r in to_verbinder] == [f"Bericht {made} gaat nu weg. Ontvangers: 6."]
    first_id = next(
        r.platform_message_id for r in await rows(app) if r.key == f"ann:{made}:progress"
    )
    clock.advance(seconds=11)
    await sender(app, broadcast).drain()
    edits = [reply for chat, reply in channel.sent if chat == "verbinder"][1:]
    assert [(r.text, r.edit_of) for r in edits] == [
        (f"Bericht {made}: 5 van de 6 verstuurd.", first_id)
    ]
    clock.advance(seconds=2)  # not again within ten seconds
    await sender(app, broadcast).drain()
    assert len([c for c, _ in channel.sent if c == "verbinder"]) == 2
    del channel.failures["p5"]
    clock.advance(seconds=60)
    await sender(app, broadcast).drain()
    await broadcast.tick()
    await sender(app, broadcast).drain()
    report = channel.texts_to("verbinder")[-1]
    assert report.startswith(f"Bericht {made} is klaar.\nAangekomen: 6\n")
    assert (await view(app, made)).counts == Counts(delivered=6)
