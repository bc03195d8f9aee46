"""The agenda's events on SQLite and PostgreSQL: add or update by UID, the status and
SEQUENCE a calendar needs, cancelling that keeps the UID, and who sees what."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import func, select

from bot.agenda.ical import to_ical
from bot.agenda.model import Event, EventData, Viewer
from bot.app import App
from bot.storage.models import AgendaEvent
from bot.storage.repositories import Repos

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LEERATELIER = EventData(
    uid="leeratelier-2027-04@alliantiepg.nl",
    kind="leeratelier",
    title="Leeratelier: samen met inwoners",
    start=datetime(2027, 4, 1, 15, 0),
    end=datetime(2027, 4, 1, 17, 30),
    zone="Europe/Amsterdam",
    address="Hogeschool Leiden",
    hosts=("hogeschool-leiden",),
    capacity=80,
    rsvp_deadline=datetime(2027, 3, 29, 10, 0, tzinfo=UTC),
)


async def save(app: App, data: EventData, now: datetime = NOW) -> tuple[Event, str]:
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        return await Repos(session, app.services.cipher).agenda.save(data, now)


async def rows(app: App) -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(AgendaEvent))).scalar_one()
        )


async def test_saving_the_same_event_twice_changes_nothing(app: App) -> None:
    first, saved = await save(app, LEERATELIER)
    assert saved == "added"
    again, saved = await save(app, LEERATELIER, LATER)
    assert saved == "unchanged" and again == first
    assert await rows(app) == 1


async def test_a_new_time_raises_the_sequence_and_marks_it_changed(app: App) -> None:
    await save(app, LEERATELIER)
    moved = replace(
        LEERATELIER, start=datetime(2027, 4, 1, 15, 30), end=datetime(2027, 4, 1, 18, 0)
    )
    event, saved = await save(app, moved, LATER)
    assert saved == "updated"
    assert (event.status, event.sequence, event.start) == ("changed", 1, moved.start)
    assert event.updated_at == LATER and event.created_at == NOW
    assert await rows(app) == 1


async def test_a_new_place_marks_it_changed_a_new_title_only_raises_the_sequence(app: App) -> None:
    await save(app, LEERATELIER)
    retitled, _ = await save(app, replace(LEERATELIER, title="Leeratelier 13"), LATER)
    assert (retitled.status, retitled.sequence) == ("planned", 1)
    online, _ = await save(
        app, replace(LEERATELIER, title="Leeratelier 13", online_url="https://x.nl")
    )
    assert (online.status, online.sequence) == ("changed", 2)


async def test_cancelling_keeps_the_uid_raises_the_sequence_and_says_cancelled(app: App) -> None:
    assert app.services is not None
    await save(app, LEERATELIER)
    async with app.services.sessions() as session, session.begin():
        repo = Repos(session, app.services.cipher).agenda
        cancelled = await repo.cancel(LEERATELIER.uid, LATER)
        assert cancelled is not None
        assert (cancelled.uid, cancelled.status, cancelled.sequence) == (
            LEERATELIER.uid,
            "cancelled",
            1,
        )
        again = await repo.cancel(LEERATELIER.uid, LATER)
        assert again is not None and again.sequence == 1  # twice changes nothing
        assert await repo.cancel("nobody@x", LATER) is None
        assert await repo.upcoming(NOW) == []
        (listed,) = await repo.upcoming(NOW, include_cancelled=True)
        everything = await repo.all()
    (vevent,) = icalendar.Calendar.from_ical(to_ical(everything)).walk("VEVENT")
    assert str(vevent["uid"]) == LEERATELIER.uid
    assert str(vevent["status"]) == "CANCELLED" and vevent.decoded("sequence") == 1
    assert listed.uid == LEERATELIER.uid


async def test_upcoming_shows_a_person_public_events_and_those_for_them(app: App) -> None:
    assert app.services is not None
    for uid, audience in [
        ("public@x", "all"),
        ("gangmakers@x", "role:gangmaker"),
        ("leiden@x", "gemeente:leiden"),
        ("gangmakers-teylingen@x", "role:gangmaker,gemeente:teylingen"),
        ("participe@x", "organisation:participe"),
        ("inwoners@x", "role:inwoner"),
    ]:
        hour = 10 + len(uid) % 8
        start = datetime(2027, 5, 3, hour, 0)
        await save(
            app,
            replace(
                LEERATELIER,
                uid=uid,
                audience=audience,
                start=start,
                end=start.replace(hour=hour + 1),
            ),
        )
    past = replace(
        LEERATELIER, uid="past@x", start=datetime(2026, 11, 2, 15), end=datetime(2026, 11, 2, 17)
    )
    await save(app, past)
    async with app.services.sessions() as session:
        repo = Repos(session, app.services.cipher).agenda

        async def seen(viewer: Viewer | None) -> set[str]:
            return {e.uid for e in await repo.upcoming(NOW, viewer)}

        assert await seen(None) == {
            "public@x", "gangmakers@x", "leiden@x", "gangmakers-teylingen@x", "participe@x",
            "inwoners@x",
        }  # fmt: skip
        gangmaker_in_leiden = Viewer(frozenset({"gangmaker"}), "Leiden", "reos")
        assert await seen(gangmaker_in_leiden) == {
            "public@x",
            "gangmakers@x",
            "leiden@x",
            "inwoners@x",
        }
        assert await seen(Viewer(frozenset(), "teylingen", "Participe")) == {
            "public@x", "participe@x", "inwoners@x",
        }  # fmt: skip
        assert await seen(Viewer()) == {"public@x", "inwoners@x"}
        listed = await repo.upcoming(NOW)
        assert [e.starts_at for e in listed] == sorted(e.starts_at for e in listed)
        assert len(await repo.upcoming(NOW, limit=2)) == 2


async def test_an_event_is_upcoming_until_its_end_in_its_own_zone(app: App) -> None:
    assert app.services is not None
    # 15:00-17:30 in Amsterdam on 1 April 2027 is 13:00-15:30 UTC
    await save(app, LEERATELIER)
    async with app.services.sessions() as session:
        repo = Repos(session, app.services.cipher).agenda
        assert [e.uid for e in await repo.upcoming(datetime(2027, 4, 1, 15, 29, tzinfo=UTC))] == [
            LEERATELIER.uid
        ]
        assert await repo.upcoming(datetime(2027, 4, 1, 15, 30, tzinfo=UTC)) == []


async def test_upcoming_with_a_limit_reads_in_pages_and_keeps_the_order(app: App) -> None:
    """Many events, some not for this viewer: the first ``limit`` visible ones by start,
    the same as without a limit, whatever the page size."""
    assert app.services is not None
    now = app.services.clock.now()
    async with app.services.work.begin() as db:
        for n in range(95):
            start = datetime(2026, 3, 1, 19, 0) + timedelta(days=n // 2, minutes=n)
            audience = "role:gangmaker" if n % 3 == 0 else "all"
            await db.agenda.save(
                EventData(
                    uid=f"e{n}@x",
                    kind="overig",
                    title=f"E{n}",
                    start=start,
                    end=start + timedelta(hours=1),
                    zone="Europe/Amsterdam",
                    audience=audience,
                ),
                now,
            )
        everyone = Viewer()
        unlimited = await db.agenda.upcoming(now, everyone)
        for limit in (1, 10, 31, 200):
            assert await db.agenda.upcoming(now, everyone, limit=limit) == unlimited[:limit]
        assert len(unlimited) == 63
