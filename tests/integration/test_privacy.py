"""Privacy: the export (/mijngegevens), deletion (/vergeetmij), encryption at rest,
no health data in logs, retention, the data key, and group chats.

Every database test runs on SQLite and on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from dateutil.relativedelta import relativedelta
from sqlalchemy import select, text

from bot.agenda.model import EventData
from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import PrivateChatInvite, Reply
from bot.crypto import Cipher
from bot.outbox.sender import OutboxSender
from bot.people.tokens import new_token, token_hash
from bot.scheduling import jobs
from bot.settings import ConfigError, Settings
from bot.spinnenweb.jobs import wish_followup
from bot.spinnenweb.records import CheckinRecord
from bot.storage.models import AuditLog, Base, User
from bot.storage.repositories.announcements import Attachment
from bot.storage.repositories.checkins import CheckinRepo
from tests.helpers.broadcast_people import announce
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel

CONSENT = "Ja, bewaar mijn antwoorden"
SHORT = "Kort (6 vragen)"
TALK = "Hier wil ik over praten"
NO_REMINDER = "Geen herinnering"
SIX_WEEKS = "Over 6 weken (aangeraden)"
FORGET_YES = "Ja, verwijder alles"
FORGET_NO = "Nee, niet verwijderen"
DIMENSIONS = (
    "lichaamsfuncties",
    "mentaal-welbevinden",
    "zingeving",
    "kwaliteit-van-leven",
    "meedoen",
    "dagelijks-functioneren",
)
SECRET_WISH = "Zonnebloem-wens-8472"


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tmp_path: Path) -> Settings:
    """As in conftest, with exports in tmp_path instead of ./data/exports."""
    return make_settings(
        database_url=database_url,
        export_dir=tmp_path / "exports",
        checkin_retention_months=24,
        generated_file_hours=24,
    )


@pytest.fixture
def live_clock() -> FrozenClock:
    """Frozen at the real time: scheduled jobs then lie in APScheduler's future."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def live(
    settings: Settings, live_clock: FrozenClock, channel: RecordingChannel
) -> AsyncIterator[App]:
    """The bot with the persistent scheduler running (the outbox sender off)."""
    app = App(settings, clock=live_clock, channels={channel.name: channel})
    await app.start(scheduler=True, sender=False)
    try:
        yield app
    finally:
        await app.stop()


# -- helpers ------------------------------------------------------------------------


def t(app: App, key: str, **params: object) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key, **params)


async def press(person: Person, label: str) -> list[Reply]:
    """Press a choice that must be on offer (Person.press would send raw data)."""
    assert person.find_choice(label) is not None, (label, person.choices, person.text)
    return await person.press(label)


async def checkin(
    person: Person,
    scores: Sequence[int],
    *,
    talk_about: Iterable[int] = (),
    reflection: Sequence[str] | None = None,
    followup: str = NO_REMINDER,
    wish: str | None = None,
) -> None:
    """A whole quick check-in: consent (when asked), six scores, optional reflection,
    a follow-up choice and, when offered, the wish follow-up question."""
    marked = set(talk_about)
    await person.send("/spinnenweb")
    if person.find_choice(CONSENT) is not None:
        await press(person, CONSENT)
    await press(person, SHORT)
    for position, score in enumerate(scores):
        assert f"Vraag {position + 1} van 6" in person.text
        if position in marked:
            await press(person, TALK)
        await press(person, str(score))
    assert "Jouw spinnenweb van" in person.text
    assert person.last[0].image is not None
    if reflection is None:
        await press(person, "Nee, klaar")
    else:
        await press(person, "Ja, graag")
        for answer in reflection:
            await person.send(answer)
        assert "Dank je wel voor je antwoorden" in person.text
    await press(person, followup)
    if "Mag ik je over 2 weken" in person.text:
        await press(person, wish or "Nee")
    else:
        assert wish is None, person.text
    assert person.last[-1].text.startswith("Klaar!"), person.text


async def user_id(app: App, platform_user_id: str = "anna") -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(User.id).where(User.platform_user_id == platform_user_id)
        )
        return int(found.scalar_one())


async def user_exists(app: App, platform_user_id: str) -> bool:
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(User.id).where(User.platform_user_id == platform_user_id)
        )
        return found.first() is not None


async def history(app: App, uid: int) -> list[CheckinRecord]:
    assert app.services is not None
    async with app.services.sessions() as session:
        return await CheckinRepo(session, app.services.cipher).history(uid)


async def all_rows(app: App) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the bot, plus APScheduler's job table."""
    assert app.services is not None
    rows: dict[str, list[dict[str, Any]]] = {}
    async with app.services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = [dict(r._mapping) for r in result]
        result = await session.execute(text("SELECT * FROM apscheduler_jobs"))
        rows["apscheduler_jobs"] = [dict(r._mapping) for r in result]
    return rows


# Columns that hold a user id: users.id and every foreign key to it.
USER_ID_COLUMNS = {("users", "id")} | {
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if any(fk.column.table.name == "users" for fk in column.foreign_keys)
}


@dataclass
class Trace:
    """What identifies one person in stored data."""

    user_id: int
    markers: tuple[str, ...]
    cipher: Cipher

    def find(self, table: str, column: str, value: Any) -> str | None:
        """Why ``value`` refers to this person, or None."""
        if value is None or isinstance(value, bool | datetime):
            return None
        if isinstance(value, int):
            hit = (table, column) in USER_ID_COLUMNS and value == self.user_id
            return "user id" if hit else None
        if isinstance(value, memoryview | bytearray | bytes):
            raw = bytes(value)
            if table == "apscheduler_jobs":
                state = pickle.loads(raw)  # our own job store, written by this test
                if str(state["id"]).startswith(f"user:{self.user_id}:"):
                    return f"job {state['id']}"
                if state.get("kwargs", {}).get("user_id") == self.user_id:
                    return f"job {state['id']} for this user id"
                return None
            try:
                plain = json.dumps(self.cipher.decrypt(raw), ensure_ascii=False)
            except Exception:
                plain = raw.decode("utf-8", "replace")
            return self._in_text(plain)
        if isinstance(value, str):
            return self._in_text(value)
        return None

    def _in_text(self, value: str) -> str | None:
        for marker in self.markers:
            if marker in value:
                return f"contains {marker!r}"
        return None

    def everywhere(self, rows: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
        """(table, column, why) for every stored value that refers to the person."""
        found = []
        for table, items in rows.items():
            for row in items:
                for column, value in row.items():
                    why = self.find(table, column, value)
                    if why is not None:
                        found.append((table, column, why))
        return found


def trace(app: App, uid: int, name: str, display: str, *extra: str) -> Trace:
    assert app.services is not None
    markers = (
        name,
        display,
        f"user:{uid}:",
        f"checkin-reminder:{uid}:",
        f"wish:{uid}:",
        f"u{uid}-",
        *extra,
    )
    return Trace(uid, markers, app.services.cipher)


def files_of(folders: Iterable[Path], uid: int) -> set[str]:
    return {
        p.name
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
        if p.name.startswith(f"u{uid}-")
    }


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# -- /mijngegevens --------------------------------------------------------------------


EXPORT_REFLECTION = ("Mijn web is scheef", "Vaker wandelen", "Mijn zus")


async def anna_with_a_history(
    live: App, live_clock: FrozenClock
) -> tuple[Person, datetime, datetime]:
    """Anna with two check-ins three days apart (the second with talk-about choices,
    EXPORT_REFLECTION, a follow-up and a wish), a reminder queued in the outbox, and a
    third check-in in progress with one answer given; the clock five minutes on. Returns
    her and the times of the two check-ins."""
    anna = Person(live)
    first_at = live_clock.now()
    await checkin(anna, [8, 7, 6, 5, 4, 3])
    live_clock.advance(days=3)
    second_at = live_clock.now()
    await checkin(
        anna,
        [3, 4, 5, 6, 7, 8],
        talk_about={1, 4},
        reflection=EXPORT_REFLECTION,
        followup=SIX_WEEKS,
        wish="Ja",
    )
    uid = await user_id(live)
    await jobs.remind(user_id=uid, message_key="checkin.reminder", key="export-test")
    # a check-in in progress: one answer given
    await anna.send("/spinnenweb")
    await press(anna, SHORT)
    await press(anna, "9")
    live_clock.advance(minutes=5)
    return anna, first_at, second_at


async def test_my_data_exports_everything_decrypted_as_a_private_file(
    live: App, live_clock: FrozenClock, settings: Settings
) -> None:
    anna, first_at, second_at = await anna_with_a_history(live, live_clock)
    reflection = EXPORT_REFLECTION
    uid = await user_id(live)

    replies = await anna.send("/mijngegevens")

    assert len(replies) == 1
    document = replies[0].document
    assert document is not None
    path = document.path
    assert path.parent == settings.export_dir
    assert path.name.startswith(f"u{uid}-") and path.suffix == ".json"
    assert document.filename == path.name
    assert mode(path) == 0o600
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["exported_at"] == live_clock.now().isoformat()
    assert data["about"] == t(live, "mydata.json_about")
    assert data["profile"] == {
        "platform": "console",
        "platform_user_id": "anna",
        "private_chat_id": "anna",
        "display_name": "Anna",
        "language": "nl",
        "roles": [],
        "consent_at": first_at.isoformat(),
        "consent_version": "2026-11",
        "messages_enabled": True,
        "active": True,
        "created_at": first_at.isoformat(),
        "last_seen_at": data["profile"]["last_seen_at"],
    }
    assert data["checkins"] == [
        {
            "taken_at": first_at.isoformat(),
            "mode": "kort",
            "scores": dict(zip(DIMENSIONS, [8.0, 7.0, 6.0, 5.0, 4.0, 3.0], strict=True)),
            "answers": dict(zip(DIMENSIONS, [8, 7, 6, 5, 4, 3], strict=True)),
            "talk_about": [],
            "reflection": {},
        },
        {
            "taken_at": second_at.isoformat(),
            "mode": "kort",
            "scores": dict(zip(DIMENSIONS, [3.0, 4.0, 5.0, 6.0, 7.0, 8.0], strict=True)),
            "answers": dict(zip(DIMENSIONS, [3, 4, 5, 6, 7, 8], strict=True)),
            "talk_about": ["mentaal-welbevinden", "meedoen"],
            "reflection": dict(zip(("noticed", "wish", "helpers"), reflection, strict=True)),
        },
    ]
    [in_progress] = data["conversations_in_progress"]
    assert in_progress["flow"] == "checkin" and in_progress["step"] == "question"
    assert in_progress["data"]["answers"] == {"lichaamsfuncties": 9}
    [message] = data["messages_from_the_bot"]
    assert message["kind"] == "reminder" and message["status"] == "pending"
    assert message["text"] == t(live, "checkin.reminder")
    actions = [a["action"] for a in data["actions"]]
    assert actions[0] == "user.created"
    assert actions.count("consent.given") == 1
    assert actions.count("checkin.saved") == 2
    assert actions.count("checkin.followup") == 2
    scheduled = {m["id"]: datetime.fromisoformat(m["next_run"]) for m in data["scheduled_messages"]}
    assert scheduled == {
        "checkin-reminder": second_at + timedelta(weeks=6),
        "wish": second_at + timedelta(days=14),
    }

    summary = replies[0].text
    # Dates are shown in the configured zone (between 23:00 and 24:00 UTC it is
    # already the next day in Amsterdam).
    first_day = f"{first_at.astimezone(settings.zone):%d-%m-%Y}"
    second_day = f"{second_at.astimezone(settings.zone):%d-%m-%Y}"
    assert "2 spinnenweb(ben)" in summary
    assert f"van {first_day} tot {second_day}" in summary
    assert "2 geplande herinnering(en) en 1 bericht(en)" in summary
    assert t(live, "mydata.consent_given", date=first_day) in summary
    assert "na 24 uur" in summary

    assert live.services is not None
    async with live.services.sessions() as session:
        logged = await session.execute(select(AuditLog.action).where(AuditLog.actor_user_id == uid))
        assert "data.exported" in set(logged.scalars())


async def test_my_data_without_checkins_says_so(bot: Person, app: App, settings: Settings) -> None:
    replies = await bot.send("/mijngegevens")
    assert "0 spinnenweb(ben), van - tot -" in replies[0].text
    assert t(app, "mydata.consent_none") in replies[0].text
    assert replies[0].document is not None
    data = json.loads(replies[0].document.path.read_text(encoding="utf-8"))
    assert data["checkins"] == [] and data["scheduled_messages"] == []
    assert data["profile"]["consent_at"] is None


# -- /vergeetmij -------------------------------------------------------------------------


async def bob_who_stays(live: App) -> None:
    """Bob ("bob-5528"): a check-in with a follow-up, an export and a reminder."""
    bob = Person(live, user_id="bob-5528", display_name="Bob Blijft")
    await checkin(bob, [6, 6, 6, 6, 6, 6], followup="Over 4 weken")
    await bob.send("/mijngegevens")
    b = await user_id(live, "bob-5528")
    await jobs.remind(user_id=b, message_key="checkin.reminder", key="bob-reminder")


async def anna_who_leaves(live: App, live_clock: FrozenClock) -> Person:
    """Anna ("anna-4417"): two check-ins a day apart (the second with SECRET_WISH, a
    follow-up and a wish), her picture, an export, a conversation in a group and a
    reminder. Returns her in her private chat."""
    anna = Person(live, user_id="anna-4417", display_name="Anna Vergeet")
    anna_in_group = Person(
        live, user_id="anna-4417", display_name="Anna Vergeet", private=False, chat_id="g1"
    )
    await checkin(anna, [2, 3, 4, 5, 6, 7], talk_about={0})
    live_clock.advance(days=1)
    await checkin(
        anna,
        [7, 6, 5, 4, 3, 2],
        reflection=("Het valt op", SECRET_WISH, "Mijn buurvrouw"),
        followup=SIX_WEEKS,
        wish="Ja",
    )
    a = await user_id(live, "anna-4417")
    await anna.send("/mijnweb")
    await anna.send("/mijngegevens")
    await anna_in_group.send("/taal")  # a conversation in another chat
    await jobs.remind(user_id=a, message_key="checkin.reminder", key="anna-reminder")
    return anna


async def agenda_data_of(live: App, live_clock: FrozenClock, a: int) -> None:
    """A calendar feed token (/agendafeed), an RSVP (/agenda), an answer to a meeting
    prompt and a vote on themes (issue 16), all of person ``a``."""
    assert live.services is not None
    async with live.services.work.begin() as db:
        await db.feeds.replace(a, token_hash(new_token()), live_clock.now())
        begins = (live_clock.now() + timedelta(days=30)).replace(tzinfo=None)
        event, _ = await db.agenda.save(
            EventData("e@x", "overig", "E", begins, begins + timedelta(hours=1), "UTC"),
            live_clock.now(),
        )
        await db.agenda.rsvps.answer(event.id, a, "yes", live_clock.now())
        await db.prompts.add_answer(event.id, a, "inbreng", SECRET_WISH, True, live_clock.now())
        poll = await db.prompts.create_poll(event.id, ["Thema"], None, live_clock.now())
        await db.prompts.vote(poll, a, 1, live_clock.now())


async def test_forget_me_deletes_everything_about_the_person_and_nothing_else(
    live: App, live_clock: FrozenClock, settings: Settings
) -> None:
    assert {
        ("checkins", "user_id"),
        ("conversation_state", "user_id"),
        ("outbox", "user_id"),
        ("audit_log", "actor_user_id"),
    } <= USER_ID_COLUMNS
    folders = (settings.image_dir, settings.export_dir)
    await bob_who_stays(live)
    anna = await anna_who_leaves(live, live_clock)
    b = await user_id(live, "bob-5528")
    a = await user_id(live, "anna-4417")
    decoy = settings.image_dir / f"u{a}0-someone-else.png"  # another id's prefix
    decoy.write_bytes(b"not anna")
    await agenda_data_of(live, live_clock, a)

    assert live.scheduler is not None
    assert {j for j, _ in await live.scheduler.list_jobs(f"user:{a}:")} == {
        f"user:{a}:checkin-reminder",
        f"user:{a}:wish",
    }
    bob_jobs = await live.scheduler.list_jobs(f"user:{b}:")
    assert [j for j, _ in bob_jobs] == [f"user:{b}:checkin-reminder"]
    anna_trace = trace(live, a, "anna-4417", "Anna Vergeet", SECRET_WISH)
    bob_trace = trace(live, b, "bob-5528", "Bob Blijft")
    bob_files = files_of(folders, b)
    assert any(n.endswith(".json") for n in bob_files)

    await anna.send("/vergeetmij")
    assert anna.text == t(live, "forget.confirm")
    assert anna.choices == [FORGET_YES, FORGET_NO]

    before = await all_rows(live)
    # the scan sees Anna everywhere she is stored, so its silence afterwards means something
    assert {table for table, _, _ in anna_trace.everywhere(before)} == {
        "users",
        "checkins",
        "conversation_state",
        "outbox",
        "audit_log",
        "apscheduler_jobs",
        "agenda_feed_tokens",
        "agenda_rsvps",
        "agenda_prompt_answers",
        "agenda_votes",
    }
    assert len([r for r in before["conversation_state"] if r["user_id"] == a]) == 2
    assert any(n.endswith(".json") for n in files_of(folders, a))
    assert any(n.endswith(".png") for n in files_of(folders, a))
    bob_before = bob_trace.everywhere(before)
    assert bob_before

    await press(anna, FORGET_YES)
    assert anna.text == t(live, "forget.done")

    after = await all_rows(live)
    assert anna_trace.everywhere(after) == []
    assert bob_trace.everywhere(after) == bob_before
    forgotten = [r for r in after["audit_log"] if r["action"] == "user.forgotten"]
    assert len(forgotten) == 1 and forgotten[0]["actor_user_id"] is None
    assert forgotten[0]["detail"] == ""
    assert await live.scheduler.list_jobs(f"user:{a}:") == []
    assert await live.scheduler.list_jobs(f"user:{b}:") == bob_jobs
    assert files_of(folders, a) == set()
    assert files_of(folders, b) == bob_files
    assert decoy.exists()
    assert len(await history(live, b)) == 1
    assert await user_exists(live, "bob-5528")
    assert not await user_exists(live, "anna-4417")


async def test_forget_me_on_a_worker_without_the_scheduler_removes_the_shared_jobs(
    make_settings: Callable[..., Settings],
    database_url: str,
    tmp_path: Path,
    live_clock: FrozenClock,
    channel: RecordingChannel,
) -> None:
    """RUN_SCHEDULER=false: the worker's paused scheduler shares the job store, so the
    reminders it removes are gone for the process that runs them too."""
    common = {"database_url": database_url, "export_dir": tmp_path / "exports"}
    runner = App(make_settings(**common), clock=live_clock, channels={channel.name: channel})
    await runner.start(sender=False)
    worker = App(make_settings(run_scheduler=False, **common), clock=live_clock)
    await worker.start(sender=False)
    try:
        assert runner.scheduler is not None and worker.scheduler is not None
        anna = Person(worker)
        await checkin(
            anna,
            [4, 4, 4, 4, 4, 4],
            reflection=("Iets", "Een wens", "Iemand"),
            followup=SIX_WEEKS,
            wish="Ja",
        )
        uid = await user_id(worker)
        prefix = f"user:{uid}:"
        assert len(await runner.scheduler.list_jobs(prefix)) == 2
        await anna.send("/vergeetmij")
        await press(anna, FORGET_YES)
        assert anna.text == t(worker, "forget.done")
        assert await runner.scheduler.list_jobs(prefix) == []
        assert await worker.scheduler.list_jobs(prefix) == []
    finally:
        await worker.stop()
        await runner.stop()


async def test_forget_me_no_keeps_everything(bot: Person, app: App) -> None:
    await checkin(bot, [5, 5, 5, 5, 5, 5])
    uid = await user_id(app)
    await bot.send("/vergeetmij")
    confirm = list(bot.last)
    await press(bot, FORGET_NO)
    assert bot.text == t(app, "forget.kept")
    assert len(await history(app, uid)) == 1

    # the "yes" of the answered question no longer works
    bot.last = confirm
    await press(bot, FORGET_YES)
    assert bot.text == t(app, "forget.stale")
    assert await user_id(app) == uid
    assert len(await history(app, uid)) == 1


async def test_forget_me_with_a_forged_or_stale_button_deletes_nothing(
    bot: Person, app: App, clock: FrozenClock, settings: Settings
) -> None:
    await checkin(bot, [5, 5, 5, 5, 5, 5])
    uid = await user_id(app)
    pictures = files_of([settings.image_dir], uid)
    assert pictures

    await bot.send("/vergeetmij")
    old = bot.find_choice(FORGET_YES)
    assert old is not None
    token = old.action.split(":")[1]
    forged = "0" * len(token) if token != "0" * len(token) else "1" * len(token)
    for action in (f"vm:{forged}:yes", "vm::yes", "vm:yes", "vm"):
        await bot.press(action)
        assert bot.text == t(app, "forget.stale"), action

    await bot.send("/vergeetmij")  # a new question: the first one's button is stale now
    await bot.press(old.action)
    assert bot.text == t(app, "forget.stale")

    await bot.send("/vergeetmij")
    clock.advance(hours=2)  # the question expired
    await press(bot, FORGET_YES)
    assert bot.text == t(app, "forget.stale")

    assert await user_id(app) == uid
    assert len(await history(app, uid)) == 1
    assert files_of([settings.image_dir], uid) == pictures


async def test_forget_me_asked_again_after_the_question_expired(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    """The first question expired (after an hour): a new /vergeetmij asks again."""
    await checkin(bot, [5, 5, 5, 5, 5, 5])
    await bot.send("/vergeetmij")
    clock.advance(hours=2)
    await bot.send("/vergeetmij")
    assert bot.text == t(app, "forget.confirm")
    await press(bot, FORGET_YES)
    assert bot.text == t(app, "forget.done")
    assert not await user_exists(app, "anna")


async def test_forget_me_typed_yes_deletes(bot: Person, app: App, settings: Settings) -> None:
    await checkin(bot, [5, 5, 5, 5, 5, 5])
    await bot.send("/mijngegevens")
    uid = await user_id(app)
    await bot.send("/vergeetmij")
    await bot.send("ja")
    assert bot.text == t(app, "forget.done")
    assert not await user_exists(app, "anna")
    assert files_of([settings.image_dir, settings.export_dir], uid) == set()

    await bot.send("/mijnweb")  # a new start: nothing is known
    assert bot.text == t(app, "mijnweb.none")


@pytest.mark.parametrize(
    ("typed", "key"), [("nee", "forget.kept"), ("misschien", "forget.not_confirmed")]
)
async def test_forget_me_typed_anything_else_keeps(
    bot: Person, app: App, typed: str, key: str
) -> None:
    await checkin(bot, [5, 5, 5, 5, 5, 5])
    uid = await user_id(app)
    await bot.send("/vergeetmij")
    await bot.send(typed)
    assert bot.text == t(app, key)
    await bot.send("ja")  # the question is over: a later "ja" is just text
    assert bot.text != t(app, "forget.done")
    assert await user_id(app) == uid
    assert len(await history(app, uid)) == 1


# -- encryption at rest and logs ---------------------------------------------------------


async def _checkin_with_secrets(app: App, person: Person) -> int:
    """A check-in with a distinctive wish, a wish job, the wish in the outbox,
    and a second check-in in progress (health data in the conversation state)."""
    await checkin(
        person,
        [7, 3, 9, 2, 8, 1],
        talk_about={2},
        reflection=("Opvallend", SECRET_WISH, "Mijn broer"),
        followup=SIX_WEEKS,
        wish="Ja",
    )
    uid = await user_id(app)
    [saved] = await history(app, uid)
    assert saved.reflection["wish"] == SECRET_WISH and saved.scores["lichaamsfuncties"] == 7.0
    await wish_followup(user_id=uid, checkin_id=saved.id)  # as the job would, two weeks on
    await person.send("/spinnenweb")
    await press(person, SHORT)
    await press(person, "7")
    return uid


def _leaks(raw: bytes) -> list[bytes]:
    needles = (SECRET_WISH.encode(), b"lichaamsfuncties", b"Mijn broer")
    return [n for n in needles if n in raw]


async def test_health_data_is_encrypted_at_rest(live: App, settings: Settings) -> None:
    anna = Person(live)
    uid = await _checkin_with_secrets(live, anna)
    assert live.services is not None
    async with live.services.sessions() as session:
        outbox = await session.execute(text("SELECT payload FROM outbox"))
        [payload] = [bytes(p) for p in outbox.scalars()]
        assert SECRET_WISH in live.services.cipher.decrypt(payload)["text"]  # it is there

    rows = await all_rows(live)
    for table, items in rows.items():
        for row in items:
            for column, value in row.items():
                if isinstance(value, bytes | memoryview):
                    assert _leaks(bytes(value)) == [], (table, column)
                elif isinstance(value, str):
                    assert _leaks(value.encode()) == [], (table, column)
    assert rows["checkins"] and rows["conversation_state"]
    assert [r["user_id"] for r in rows["checkins"]] == [uid]
    await live.stop()

    if settings.is_sqlite:
        database = Path(settings.database_url.split("///", 1)[1])
        stored = [
            p
            for p in (database, *(Path(f"{database}{s}") for s in ("-wal", "-shm", "-journal")))
            if p.exists()
        ]
        assert database in stored
        raw = b"".join(p.read_bytes() for p in stored)
        assert b"apscheduler_jobs" in raw and b"anna" in raw  # the right file, readable
        assert _leaks(raw) == []
        assert b'"lichaamsfuncties":7' not in raw


async def test_health_data_never_reaches_the_logs(
    live: App, channel: RecordingChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "apscheduler", "bot", "handlers"):
        caplog.set_level(logging.DEBUG, logger=name)
    anna = Person(live)
    await _checkin_with_secrets(live, anna)
    await anna.send("/mijnweb")
    await anna.send("/mijngegevens")
    assert live.services is not None
    delivered = await OutboxSender(live.services.outbox, live.channels).drain()
    assert delivered >= 1
    assert any(SECRET_WISH in r.text for _, r in channel.sent)  # it did travel

    names = {r.name.split(".")[0] for r in caplog.records}
    assert {"sqlalchemy", "apscheduler"} <= names  # SQL and job logging were captured
    for record in caplog.records:
        message = record.getMessage()
        for needle in (SECRET_WISH, "Mijn broer", "lichaamsfuncties", "Lichaamsfuncties"):
            assert needle not in message, (record.name, message)
            assert needle not in (record.exc_text or "")
    assert SECRET_WISH not in caplog.text


# -- retention -------------------------------------------------------------------------


async def test_housekeeping_removes_old_checkins_and_old_generated_files(
    app: App, clock: FrozenClock, settings: Settings
) -> None:
    now = datetime(2029, 3, 1, 9, 0, tzinfo=UTC)
    anna, bob = Person(app), Person(app, user_id="bob", display_name="Bob")
    taken = {
        "25 months": now - relativedelta(months=25),
        "24 months and a day": now - relativedelta(months=24, days=1),
        "a day under 24 months": now - relativedelta(months=24) + timedelta(days=1),
        "last week": now - timedelta(weeks=1),
    }
    for moment in taken.values():
        clock.set(moment)
        await checkin(anna, [5, 5, 5, 5, 5, 5])
    clock.set(now - relativedelta(months=30))
    await checkin(bob, [4, 4, 4, 4, 4, 4])
    clock.set(now)
    a, b = await user_id(app), await user_id(app, "bob")
    assert len(await history(app, a)) == 4

    for picture in settings.image_dir.glob("*.png"):  # the check-ins' own pictures
        os.utime(picture, ((now - timedelta(days=7)).timestamp(),) * 2)
    settings.export_dir.mkdir(parents=True, exist_ok=True)
    ages = {
        settings.image_dir / "u1-old.png": 25,
        settings.image_dir / "u1-new.png": 23,
        settings.export_dir / "u1-old.json": 30,
        settings.export_dir / "u1-new.json": 1,
    }
    for path, hours in ages.items():
        path.write_bytes(b"x")
        moment = (now - timedelta(hours=hours)).timestamp()
        os.utime(path, (moment, moment))

    await jobs.housekeeping()

    kept = [c.taken_at for c in await history(app, a)]
    assert kept == [taken["a day under 24 months"], taken["last week"]]
    assert await history(app, b) == []
    assert {p.name for p in settings.image_dir.iterdir()} == {"u1-new.png"}
    assert {p.name for p in settings.export_dir.iterdir()} == {"u1-new.json"}


async def _schedule_with_picture(app: App, picture: Path, when: datetime) -> None:
    assert app.services is not None
    async with app.services.work.begin() as repos:
        await announce(
            repos.announcements,
            when,
            text="Leeratelier op 12 maart",
            attachment=Attachment("image", path=str(picture)),
            send_at=when + timedelta(days=3),
        )


def _sent_file(settings: Settings, name: str, hours_old: int, now: datetime) -> Path:
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    path = settings.media_dir / name
    path.write_bytes(b"jpeg")
    moment = (now - timedelta(hours=hours_old)).timestamp()
    os.utime(path, (moment, moment))
    return path


async def test_housekeeping_removes_old_pictures_people_sent_but_not_a_scheduled_ones(
    app: App, clock: FrozenClock, settings: Settings
) -> None:
    now = clock.now()
    old = _sent_file(settings, "telegram-42-AQADold.jpg", 30, now)
    recent = _sent_file(settings, "telegram-42-AQADnew.jpg", 1, now)
    needed = _sent_file(settings, "telegram-7-AQADleeratelier.jpg", 30, now)
    await _schedule_with_picture(app, needed, now)

    await jobs.housekeeping()

    assert not old.exists()
    assert recent.exists() and needed.exists()


async def test_forget_me_removes_the_pictures_the_person_sent(
    bot: Person, app: App, clock: FrozenClock, settings: Settings
) -> None:
    await bot.send("/start")
    now = clock.now()
    mine = _sent_file(settings, "console-anna-foto.jpg", 1, now)
    announced = _sent_file(settings, "console-anna-affiche.jpg", 1, now)
    someone_elses = _sent_file(settings, "console-annabel-foto.jpg", 1, now)
    await _schedule_with_picture(app, announced, now)

    await bot.send("/vergeetmij")
    await bot.press(FORGET_YES)

    assert not mine.exists()
    assert announced.exists()  # the announcement still goes out with it
    assert someone_elses.exists()


# -- the data key --------------------------------------------------------------------------


async def test_production_refuses_to_start_without_a_data_key(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(environment="production", data_key=None)
    app = App(settings, clock=FrozenClock())
    with pytest.raises(ConfigError) as raised:
        await app.start(scheduler=False, sender=False)
    await app.stop()
    assert str(raised.value).startswith("DATA_KEY")
    assert not settings.data_key_file.exists()

    with_key = App(make_settings(environment="production"), clock=FrozenClock())
    await with_key.start(scheduler=False, sender=False)  # with DATA_KEY it starts
    await with_key.stop()


async def test_development_without_a_key_creates_a_private_key_file_and_reuses_it(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(data_key=None, database_url=database_url)
    assert not settings.data_key_file.exists()
    first = App(settings, clock=FrozenClock())
    await first.start(scheduler=False, sender=False)
    try:
        await checkin(Person(first), [6, 6, 6, 6, 6, 6])
    finally:
        await first.stop()
    key = settings.data_key_file
    assert key.exists() and mode(key) == 0o600
    Fernet(key.read_text(encoding="ascii").strip().encode())  # a valid key

    second = App(settings, clock=FrozenClock())
    await second.start(scheduler=False, sender=False)
    try:
        anna = Person(second)
        await anna.send("/mijnweb")  # the same key reads what the first run stored
        assert "- Lichaamsfuncties: 6" in anna.text
    finally:
        await second.stop()


# -- group chats -----------------------------------------------------------------------------


async def test_personal_data_commands_in_a_group_invite_to_a_private_chat(
    app: App, settings: Settings
) -> None:
    anna = Person(app)
    await checkin(anna, [1, 2, 3, 4, 5, 6])
    uid = await user_id(app)
    pictures = files_of([settings.image_dir], uid)
    group = Person(app, private=False, chat_id="g1")
    label = t(app, "checkin.private_button")
    for command, payload in (
        ("/mijngegevens", "mijngegevens"),
        ("/mijnweb", "mijnweb"),
        ("/mijnweb 05-01-2026 05-01-2026", "mijnweb"),
        ("/vergeetmij", "vergeetmij"),
        ("/spinnenweb", "checkin"),
    ):
        replies = await group.send(command)
        assert len(replies) == 1, command
        [reply] = replies
        named = "spinnenweb" if payload == "checkin" else payload
        assert reply.text == t(app, "checkin.private_only", command=named), command
        assert reply.private_invite == PrivateChatInvite(payload, label)
        assert reply.image is None and reply.document is None and reply.choices == ()
    [reply] = await group.press("mw:pick")
    assert (
        reply.text == t(app, "checkin.private_only", command="mijnweb")
        and reply.image is None
        and reply.choices == ()
    )

    assert not settings.export_dir.exists() or not any(settings.export_dir.iterdir())
    assert files_of([settings.image_dir], uid) == pictures
    assert len(await history(app, uid)) == 1
    rows = await all_rows(app)
    assert [r for r in rows["conversation_state"] if r["chat_id"] == "g1"] == []
    actions = [r["action"] for r in rows["audit_log"]]
    assert "data.exported" not in actions and "user.forgotten" not in actions


async def test_the_invitations_deep_links_open_the_feature_in_private(app: App) -> None:
    """t.me/<bot>?start=<payload> sends "/start <payload>": the same as the command."""
    anna = Person(app)
    await checkin(anna, [1, 2, 3, 4, 5, 6])
    for payload in ("mijnweb", "vergeetmij", "mijngegevens"):
        by_link = await anna.send(f"/start {payload}")
        by_command = await anna.send(f"/{payload}")
        assert [r.text for r in by_link] == [r.text for r in by_command], payload
        assert by_link[0].text != t(app, "start.welcome_named", name="Anna")
        if payload == "vergeetmij":
            await anna.press(t(app, "forget.no"))
