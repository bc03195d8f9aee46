"""Key rotation: `alliantiebot keys rotate`, the start check that refuses to drop a key
that data still needs, and conversation state that no key can read.

Every database test runs on SQLite and on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import LargeBinary, select

from bot import cli
from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.core.state import State
from bot.crypto import Cipher, key_fingerprint
from bot.outbox.queue import Outgoing
from bot.settings import ConfigError, Settings
from bot.spinnenweb.records import CheckinRecord
from bot.storage import rotation
from bot.storage.keycheck import keys_in_use
from bot.storage.models import Base, Checkin, ConversationState, OutboxMessage, User
from bot.storage.repositories import Repos
from bot.storage.rotation import ENCRYPTED, Outcome, _rotate_row, rotate_all
from tests.conftest import TEST_KEY
from tests.helpers.conversation import Person

OLD = TEST_KEY  # the key of the `settings` fixture
NEW = Fernet.generate_key().decode()
NOW = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def with_key(make_settings: Callable[..., Settings], database_url: str, key: str) -> Settings:
    return make_settings(database_url=database_url, data_key=key)


async def started(settings: Settings) -> App:
    app = App(settings, clock=FrozenClock(NOW))
    try:
        await app.start(scheduler=False, sender=False)
    except BaseException:
        await app.stop()
        raise
    return app


async def fill(app: App, people: int = 4) -> None:
    """Per person: a conversation state, two check-ins and a queued message."""
    assert app.services is not None
    services = app.services
    async with services.sessions() as session, session.begin():
        repos = Repos(session, services.cipher)
        for n in range(people):
            user, _ = await repos.users.get_or_create(
                platform="console", platform_user_id=f"p{n}", now=NOW, language="nl"
            )
            await repos.state.set(user.id, f"p{n}", State(flow="checkin", data={"n": n}), NOW)
            for day in range(2):
                record = CheckinRecord(
                    id=0, taken_at=NOW - timedelta(days=day), mode="kort", scores={"zingeving": n}
                )
                await repos.checkins.add(user.id, record, NOW)
            await services.outbox.enqueue(
                [Outgoing(f"k{n}", "console", f"p{n}", Reply(text=f"bericht {n}"), user.id)],
                session=session,
            )


async def tokens(app: App) -> list[bytes]:
    assert app.services is not None
    async with app.services.sessions() as session:
        found: list[bytes] = []
        for _model, column in (
            (ConversationState, ConversationState.data),
            (Checkin, Checkin.payload),
            (OutboxMessage, OutboxMessage.payload),
        ):
            found += [t for t in (await session.execute(select(column))).scalars() if t]
        return found


# -- the start check ------------------------------------------------------------------------


async def test_dropping_a_key_that_data_still_needs_is_refused_at_start(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    first = await started(with_key(make_settings, database_url, OLD))
    await fill(first)
    await first.stop()
    both = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    await both.stop()  # this start re-encrypted the check value with NEW

    dropped = App(with_key(make_settings, database_url, NEW), clock=FrozenClock(NOW))
    with pytest.raises(ConfigError) as refused:
        await dropped.start(scheduler=False, sender=False)
    await dropped.stop()
    message = str(refused.value)
    assert message.startswith("DATA_KEY: data may still be encrypted with a key")
    assert key_fingerprint(OLD) in message and "alliantiebot keys rotate" in message
    assert "\n" not in message and OLD not in message and NEW not in message

    # Nothing was changed by the refused start: the two keys still work.
    again = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    await again.stop()


async def test_a_database_from_before_the_record_counts_every_listed_key(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """An existing database whose record is missing (made before it existed) may hold
    data under any listed key: all of them are recorded, none may be dropped yet."""
    app = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        from sqlalchemy import delete

        from bot.storage.keycheck import KEYS_IN_USE
        from bot.storage.models import BotMeta

        await session.execute(delete(BotMeta).where(BotMeta.key == KEYS_IN_USE))
    await app.stop()
    again = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert again.services is not None
    async with again.services.sessions() as session:
        record = await keys_in_use(session)
    await again.stop()
    assert record is not None
    assert set(record.keys) == {key_fingerprint(NEW), key_fingerprint(OLD)}
    with pytest.raises(ConfigError, match="keys rotate"):
        await started(with_key(make_settings, database_url, NEW))


async def test_a_new_database_records_only_the_key_that_encrypts(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    app = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    await app.stop()
    only_new = await started(with_key(make_settings, database_url, NEW))  # nothing used OLD
    await only_new.stop()


# -- keys rotate ---------------------------------------------------------------------------


async def test_keys_rotate_re_encrypts_everything_so_the_old_key_can_go(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    first = await started(with_key(make_settings, database_url, OLD))
    await fill(first, people=4)  # 4 states, 8 check-ins, 4 queued messages
    await first.stop()

    both = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert both.services is not None
    lines: list[str] = []
    report = await rotate_all(
        both.services.sessions, both.services.cipher, batch_size=3, progress=lines.append
    )
    assert report.complete and report.still_needed == set()
    assert report.count(Outcome.ROTATED) == 16 and report.count(Outcome.CURRENT) == 0
    assert lines == [
        "conversation_state: 3/4",
        "conversation_state: 4/4",
        "checkins: 3/8",
        "checkins: 6/8",
        "checkins: 8/8",
        "outbox: 3/4",
        "outbox: 4/4",
        "agenda_prompt_answers: 0/0",
        "agenda_polls: 0/0",
    ]
    new_only = Cipher([NEW])
    assert all(new_only.is_current(t) for t in await tokens(both))

    # A second run finds nothing to do.
    again = await rotate_all(both.services.sessions, both.services.cipher, batch_size=3)
    assert again.count(Outcome.ROTATED) == 0 and again.count(Outcome.CURRENT) == 16
    async with both.services.sessions() as session:
        record = await keys_in_use(session)
    assert record is not None and set(record.keys) == {key_fingerprint(NEW)}
    await both.stop()

    # Now the old key can go, and everything is still there.
    final = await started(with_key(make_settings, database_url, NEW))
    assert final.services is not None
    async with final.services.sessions() as session:
        repos = Repos(session, final.services.cipher)
        users = list((await session.execute(select(User).order_by(User.id))).scalars())
        assert len(users) == 4
        for n, user in enumerate(users):
            state = await repos.state.get(user.id, f"p{n}", NOW)
            assert state is not None and state.data == {"n": n}
            assert [c.scores for c in await repos.checkins.history(user.id)] == [
                {"zingeving": float(n)}
            ] * 2
        export = await repos.personal.export(users[0])
    assert [m["text"] for m in export["messages_from_the_bot"]] == ["bericht 0"]
    await final.stop()


async def test_an_interrupted_rotation_resumes_where_it_was(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    first = await started(with_key(make_settings, database_url, OLD))
    await fill(first, people=5)  # 5 states, 10 check-ins, 5 messages
    await first.stop()
    both = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert both.services is not None

    class Stop(Exception):
        pass

    def stop_in_checkins(line: str) -> None:
        if line == "checkins: 4/10":  # killed right after this batch was committed
            raise Stop

    with pytest.raises(Stop):
        await rotate_all(
            both.services.sessions,
            both.services.cipher,
            batch_size=4,
            progress=stop_in_checkins,
        )
    async with both.services.sessions() as session:
        record = await keys_in_use(session)
    assert record is not None and key_fingerprint(OLD) in record.keys  # not done: still needed

    report = await rotate_all(both.services.sessions, both.services.cipher, batch_size=4)
    by_table = {t.table: t.counts for t in report.tables}
    assert by_table["conversation_state"][Outcome.CURRENT] == 5
    assert by_table["checkins"][Outcome.CURRENT] == 4
    assert by_table["checkins"][Outcome.ROTATED] == 6
    assert by_table["outbox"][Outcome.ROTATED] == 5
    assert report.complete
    assert all(Cipher([NEW]).is_current(t) for t in await tokens(both))
    await both.stop()


async def test_a_row_the_bot_changed_meanwhile_is_not_overwritten(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """Compare and set: the rotation read the old value, the bot then wrote a new one;
    the stale rotation must not put the old content back."""
    app = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert app.services is not None
    await fill(app, people=1)
    stale = Cipher([OLD]).encrypt({"n": "old"})
    table, column_name = ENCRYPTED[0]
    column = table.c[column_name]
    async with app.services.sessions() as session, session.begin():
        row_id = (await session.execute(select(table.c.id))).scalar_one()
        outcome = await _rotate_row(session, app.services.cipher, column, row_id, stale)
    assert outcome is Outcome.CURRENT
    async with app.services.sessions() as session:
        repos = Repos(session, app.services.cipher)
        user = (await session.execute(select(User))).scalar_one()
        state = await repos.state.get(user.id, "p0", NOW)
    assert state is not None and state.data == {"n": 0}
    await app.stop()


async def test_a_worker_started_with_the_old_key_first_during_the_rotation_keeps_it_needed(
    make_settings: Callable[..., Settings], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Such a worker may write with the old key after the rotation passed its rows: the
    old key stays recorded, so dropping it is still refused."""
    first = await started(with_key(make_settings, database_url, OLD))
    await fill(first, people=2)
    await first.stop()
    both = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert both.services is not None
    rotate_table = rotation._rotate_table

    async def worker_starts_midway(*args: Any) -> Any:
        if args[2].name == "checkins":
            worker = await started(with_key(make_settings, database_url, f"{OLD},{NEW}"))
            await worker.stop()
        return await rotate_table(*args)

    monkeypatch.setattr(rotation, "_rotate_table", worker_starts_midway)
    report = await rotate_all(both.services.sessions, both.services.cipher)
    await both.stop()
    assert report.still_needed == {key_fingerprint(OLD)}
    with pytest.raises(ConfigError, match="keys rotate"):
        await started(with_key(make_settings, database_url, NEW))

    monkeypatch.setattr(rotation, "_rotate_table", rotate_table)
    fixed = await started(with_key(make_settings, database_url, f"{NEW},{OLD}"))
    assert fixed.services is not None
    assert (await rotate_all(fixed.services.sessions, fixed.services.cipher)).still_needed == set()
    await fixed.stop()
    final = await started(with_key(make_settings, database_url, NEW))
    await final.stop()


def test_every_encrypted_column_is_rotated() -> None:
    binary = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    covered = {(table.name, column) for table, column in ENCRYPTED}
    assert binary - covered == {("bot_meta", "value")}  # rotated by the start check


# -- state no key can read -------------------------------------------------------------------


async def test_state_no_key_can_read_is_a_fresh_start_and_forget_me_works(
    app: App, bot: Person, caplog: pytest.LogCaptureFixture
) -> None:
    assert app.services is not None
    texts = app.services.texts
    await bot.send("/start")
    lost_key = Cipher([Fernet.generate_key().decode()])
    services = app.services

    async def plant(data: dict[str, str], version: int, expires_at: datetime | None) -> None:
        """A check-in in progress that only the lost key can read."""
        async with services.sessions() as session, session.begin():
            user = (await session.execute(select(User))).scalar_one()
            session.add(
                ConversationState(
                    user_id=user.id,
                    chat_id="anna",
                    flow="checkin",
                    step="question",
                    data=lost_key.encrypt(data),
                    version=version,
                    updated_at=NOW,
                    expires_at=expires_at,
                )
            )

    await plant({"wens": "Geheime-wens-5521"}, 3, app.clock.now() + timedelta(days=30))

    caplog.set_level(logging.DEBUG)
    await bot.send("/help")
    assert texts.get("nl", "errors.internal") not in bot.text
    assert "/start" in bot.text  # the help, as for anyone
    warnings = [r for r in caplog.records if "cannot be decrypted" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "Geheime" not in caplog.text

    # The same again, now straight into /vergeetmij: it asks, and deletes.
    await plant({"wens": "x"}, 1, None)
    await bot.send("/vergeetmij")
    assert bot.text == texts.get("nl", "forget.confirm")
    await bot.press("Ja, verwijder alles")
    assert bot.text == texts.get("nl", "forget.done")
    async with app.services.sessions() as session:
        assert (await session.execute(select(User))).first() is None
        assert (await session.execute(select(ConversationState))).first() is None


# -- the command ----------------------------------------------------------------------------


def test_the_keys_rotate_command_prints_progress_and_refuses_a_dropped_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make_settings: Callable[..., Settings],
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"

    async def prepare() -> None:
        app = await started(with_key(make_settings, url, OLD))
        await fill(app, people=3)
        await app.stop()
        app = await started(with_key(make_settings, url, f"{NEW},{OLD}"))  # the new key added
        await app.stop()

    asyncio.run(prepare())
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DB_STARTUP_TIMEOUT", "2")

    monkeypatch.setenv("DATA_KEY", f"{NEW},{OLD}")
    assert cli.main(["keys", "status"]) == 0
    status = capsys.readouterr().out
    assert key_fingerprint(OLD) in status and "keys rotate" in status

    monkeypatch.setenv("DATA_KEY", NEW)  # too early
    assert cli.main(["keys", "rotate"]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("alliantiebot: configuration error: DATA_KEY: data may still be")
    assert err.count("\n") == 0

    monkeypatch.setenv("DATA_KEY", f"{NEW},{OLD}")
    assert cli.main(["keys", "rotate", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "checkins: 2/6" in out and "checkins: 6/6" in out and "outbox: 3/3" in out
    assert "checkins: 6 re-encrypted, 0 already under the newest key" in out
    assert out[-1].startswith("done: all readable data is encrypted with the newest key")
    assert OLD not in "\n".join(out) and NEW not in "\n".join(out)

    assert cli.main(["keys", "rotate"]) == 0  # again: nothing left to do
    assert "checkins: 0 re-encrypted, 6 already under the newest key" in capsys.readouterr().out

    monkeypatch.setenv("DATA_KEY", NEW)  # now the old key can go
    assert cli.main(["keys", "rotate"]) == 0

    async def readable() -> None:
        app = await started(with_key(make_settings, url, NEW))
        payloads = [t for t in await tokens(app)]
        await app.stop()
        assert len(payloads) == 12 and all(Cipher([NEW]).is_current(p) for p in payloads)

    asyncio.run(readable())
