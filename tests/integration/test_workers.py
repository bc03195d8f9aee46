"""Several workers on one PostgreSQL database (issue 18): one person's quick messages
landing on two workers take turns.

Two ``App`` instances in one test process, each with its own engine, are two workers
as far as the database is concerned. To make the race certain rather than likely, the
first worker is held inside its transaction (just after it has looked the person up,
holding the person's turn) until the second worker's message is seen waiting for a
lock in ``pg_stat_activity``, or has finished. Without the person's turn
(``bot.storage.dialect.person_turn``) the second message would read the conversation
as it was before the first, and one of the two answers would be lost, or a double tap
recorded twice.

SQLite is one process (it refuses a second scheduler on the same file), so these
tests run on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Incoming, Reply
from bot.settings import Settings
from bot.storage.models import Checkin, User
from bot.storage.repositories.conversation import StateRepo
from bot.storage.repositories.users import UserRepo
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel

SHORT_COUNT = 6
# A bound on waiting for the other worker, so a broken lock fails the test instead of
# hanging it; no assertion is about speed.
PATIENCE = 30


def _t(app: App, key: str, **params: object) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key, **params)


def _progress(app: App, number: int) -> str:
    assert app.services is not None and app.services.spinnenweb is not None
    question = app.services.spinnenweb.question("kort", number - 1)
    return _t(
        app,
        "checkin.progress",
        number=number,
        total=SHORT_COUNT,
        dimension=question.dimension.name["nl"],
    )


@dataclass
class Hold:
    """Holds the next message that looks a person up inside its transaction."""

    armed: bool = False
    inside: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
def hold(monkeypatch: pytest.MonkeyPatch) -> Hold:
    gate = Hold()
    original = UserRepo.get_or_create

    async def held(self: UserRepo, **kwargs: Any) -> Any:
        found = await original(self, **kwargs)
        if gate.armed:
            gate.armed = False
            gate.inside.set()
            await gate.release.wait()
        return found

    monkeypatch.setattr(UserRepo, "get_or_create", held)
    return gate


@pytest.fixture
async def workers(settings: Settings, clock: FrozenClock) -> AsyncIterator[tuple[App, App]]:
    if settings.is_sqlite:
        pytest.skip(
            "several workers need PostgreSQL: SQLite is one process (its one writer "
            "already makes every transaction take its turn)"
        )
    started: list[App] = []
    try:
        for _ in range(2):
            worker = App(settings, clock=clock, channels={"console": RecordingChannel()})
            await worker.start(scheduler=False, sender=False)
            started.append(worker)
        yield started[0], started[1]
    finally:
        for worker in reversed(started):
            await worker.stop()


async def _waiting_for_a_lock(app: App) -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(found.scalar_one())


async def _at_once(
    hold: Hold, first: Awaitable[list[Reply]], second: Awaitable[list[Reply]], watcher: App
) -> tuple[list[Reply], list[Reply], bool]:
    """``first`` is held inside its transaction while ``second`` runs on the other
    worker; ``first`` goes on once ``second`` waits for a lock (or has finished).
    Both replies, and whether ``second`` was seen waiting."""
    hold.armed = True
    hold.inside.clear()
    hold.release.clear()
    held = asyncio.ensure_future(first)
    try:
        async with asyncio.timeout(PATIENCE):
            await hold.inside.wait()
        other = asyncio.ensure_future(second)
        waited = False
        async with asyncio.timeout(PATIENCE):
            while not other.done():
                if await _waiting_for_a_lock(watcher):
                    waited = True
                    break
                await asyncio.sleep(0.01)
    finally:
        hold.armed = False
        hold.release.set()
    async with asyncio.timeout(PATIENCE):
        return await held, await other, waited


async def _answers(app: App) -> list[int]:
    assert app.services is not None
    async with app.services.sessions() as session:
        user = (
            await session.execute(select(User).where(User.platform_user_id == "anna"))
        ).scalar_one()
        state = await StateRepo(session, app.services.cipher).get(user.id, "anna", app.clock.now())
    assert state is not None and state.flow == "checkin"
    return list(state.data.get("answers", {}).values())


async def _checkins(app: App) -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        return len(list((await session.execute(select(Checkin))).scalars()))


async def _begin(bot: Person, scores: list[int]) -> None:
    app = bot.app
    await bot.send("/spinnenweb")
    await bot.press(_t(app, "checkin.consent_yes"))
    await bot.press(_t(app, "checkin.mode_short"))
    for score in scores:
        await bot.press(str(score))
    assert _progress(app, len(scores) + 1) in bot.text


@pytest.mark.parametrize("event_ids", [True, False], ids=["platform-updates", "console"])
async def test_two_quick_answers_on_two_workers_are_both_recorded_in_order(
    workers: tuple[App, App], hold: Hold, event_ids: bool
) -> None:
    """Two typed scores sent one right after the other, one to each worker: the first
    answers question 3, the second question 4; neither is lost or overwritten."""
    one, two = workers
    await _begin(Person(one, with_event_ids=event_ids), [7, 6])
    first = Person(one, with_event_ids=event_ids)
    second = Person(two, with_event_ids=event_ids)
    replies_one, replies_two, waited = await _at_once(
        hold, first.send("3"), second.send("8"), watcher=one
    )
    assert await _answers(one) == [7, 6, 3, 8]
    assert _progress(one, 4) in "\n".join(r.text for r in replies_one)
    assert _progress(one, 5) in "\n".join(r.text for r in replies_two)
    assert waited, "the second worker did not wait for the first one's turn"


@pytest.mark.parametrize("event_ids", [True, False], ids=["platform-updates", "console"])
async def test_a_double_tap_on_two_workers_is_recorded_once(
    workers: tuple[App, App], hold: Hold, event_ids: bool
) -> None:
    """The last question's button pressed twice, each press landing on another worker:
    one check-in, one result; the second press is told the button is old."""
    one, two = workers
    bot = Person(one, with_event_ids=event_ids)
    await _begin(bot, [5] * (SHORT_COUNT - 1))
    first = Person(one, last=list(bot.last), with_event_ids=event_ids)
    second = Person(two, last=list(bot.last), with_event_ids=event_ids)
    replies_one, replies_two, waited = await _at_once(
        hold, first.press("2"), second.press("2"), watcher=one
    )
    assert await _checkins(one) == 1
    assert [r for r in replies_one if r.image is not None]
    assert not [r for r in replies_two if r.image is not None]
    assert replies_two[0].text == _t(one, "checkin.stale")
    assert waited, "the second worker did not wait for the first one's turn"


async def test_one_update_delivered_to_both_workers_is_handled_once(
    workers: tuple[App, App], hold: Hold
) -> None:
    """The platform delivers the same update (same update id) to two workers: the
    second waits for the first's dedupe record, then drops it."""
    one, two = workers
    await _begin(Person(one, with_event_ids=True), [7, 6])

    def update() -> Incoming:
        return Incoming.from_text("console", "anna", "anna", "4", event_id="worker-update-1")

    replies_one, replies_two, waited = await _at_once(
        hold, one.handle(update()), two.handle(update()), watcher=one
    )
    assert await _answers(one) == [7, 6, 4]
    assert _progress(one, 4) in "\n".join(r.text for r in replies_one)
    assert replies_two == []
    assert waited, "the second worker did not wait for the first one's dedupe record"
