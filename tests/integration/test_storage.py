"""Storage on SQLite and PostgreSQL: migrations, users, state, audit, dedupe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import Connection, event, select, text

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.state import State
from bot.settings import ConfigError, Settings
from bot.storage import db
from bot.storage.models import Base, ConversationState
from bot.storage.repositories import Repos
from tests.helpers.databases import PostgresDatabase


async def test_the_migrations_build_exactly_the_tables_the_models_declare(app: App) -> None:
    """A model change without its migration (or the other way round) shows here."""
    assert app.engine is not None

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        found = compare_metadata(context, Base.metadata)
        # The scheduler's own table is APScheduler's, not ours.
        return [d for d in found if "apscheduler_jobs" not in repr(d)]

    async with app.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


def _repos(app: App):  # type: ignore[no-untyped-def]
    assert app.services is not None
    return app.services.sessions, app.services.cipher


async def test_migrations_are_at_head_and_idempotent(app: App) -> None:
    assert app.engine is not None
    assert await db.current_revision(app.engine) == db.head_revision() == "0012"
    await db.upgrade(app.engine)  # a second run (another worker starting) changes nothing
    async with app.engine.connect() as conn:
        for table in (
            "users",
            "conversation_state",
            "audit_log",
            "outbox",
            "processed_events",
            "apscheduler_jobs",
        ):
            await conn.execute(text(f"SELECT count(*) FROM {table}"))


async def test_a_first_contact_is_one_insert_and_another_workers_row_is_taken(
    app: App, clock: FrozenClock
) -> None:
    """A new person is one INSERT ... ON CONFLICT DO NOTHING (no SAVEPOINT around it);
    when another worker created the same identity a moment ago, that row is theirs."""
    assert app.engine is not None
    sessions, cipher = _repos(app)
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with sessions() as session, session.begin():
            first, created = await Repos(session, cipher).users.get_or_create(
                platform="telegram", platform_user_id="77", now=clock.now(), language="nl"
            )
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    assert created and "SAVEPOINT" not in seen and seen.count("INSERT") == 1
    values = {
        "platform": "telegram",
        "platform_user_id": "77",
        "language": "en",
        "created_at": clock.now(),
        "last_seen_at": clock.now(),
    }
    async with sessions() as session, session.begin():
        theirs, created = await Repos(session, cipher).users._create(values)
    assert not created and theirs.id == first.id and theirs.language == "nl"


async def test_users_are_created_once_and_updated(app: App, clock: FrozenClock) -> None:
    sessions, cipher = _repos(app)
    async with sessions() as session, session.begin():
        repos = Repos(session, cipher)
        user, created = await repos.users.get_or_create(
            platform="telegram",
            platform_user_id="42",
            now=clock.now(),
            language="nl",
            display_name="Anna",
            private_chat_id="42",
            admin=True,
        )
        assert created and user.role_set == {"verbinder"}
    clock.advance(minutes=10)
    async with sessions() as session, session.begin():
        repos = Repos(session, cipher)
        again, created = await repos.users.get_or_create(
            platform="telegram",
            platform_user_id="42",
            now=clock.now(),
            language="en",
            display_name="Anna B",
        )
        assert not created and again.id == user.id
        assert again.language == "nl"  # a chosen language is kept
        # Out of BOT_ADMINS: still a verbinder until one revokes it with /rollen (the
        # role is kept in the database, as one granted in the chat is).
        assert again.display_name == "Anna B" and again.role_set == {"verbinder"}
        assert again.last_seen_at == clock.now()
        assert again.created_at.tzinfo is not None


async def test_state_is_encrypted_versioned_and_expires(app: App, clock: FrozenClock) -> None:
    sessions, cipher = _repos(app)
    async with sessions() as session, session.begin():
        repos = Repos(session, cipher)
        user, _ = await repos.users.get_or_create(
            platform="console", platform_user_id="a", now=clock.now(), language="nl"
        )
        first = await repos.state.set(
            user.id,
            "a",
            State("checkin", "q1", {"mentaal": 4}),
            clock.now(),
            ttl=timedelta(hours=1),
        )
        second = await repos.state.set(
            user.id,
            "a",
            State("checkin", "q2", {"mentaal": 4, "zingeving": 8}),
            clock.now(),
            ttl=timedelta(hours=1),
        )
        assert (first.version, second.version) == (1, 2)
    async with sessions() as session:
        raw = (await session.execute(select(ConversationState.data))).scalar_one()
        assert b"zingeving" not in raw
    async with sessions() as session, session.begin():
        repos = Repos(session, cipher)
        state = await repos.state.get(user.id, "a", clock.now())
        assert state is not None and state.step == "q2" and state.data["zingeving"] == 8
        assert await repos.state.get(user.id, "other-chat", clock.now()) is None
        clock.advance(hours=2)
        assert await repos.state.get(user.id, "a", clock.now()) is None


async def test_event_ids_are_recorded_once_and_pruned(app: App) -> None:
    sessions, cipher = _repos(app)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    async with sessions() as session, session.begin():
        events = Repos(session, cipher).events
        assert await events.first_time("telegram", "1", now)
        assert not await events.first_time("telegram", "1", now)
        assert await events.first_time("slack", "1", now)  # ids are per platform
    async with sessions() as session, session.begin():
        assert await Repos(session, cipher).events.prune(now + timedelta(days=3)) == 2


async def test_audit_log_keeps_actions_in_order(app: App, clock: FrozenClock) -> None:
    sessions, cipher = _repos(app)
    async with sessions() as session, session.begin():
        audit = Repos(session, cipher).audit
        await audit.record(clock.now(), "consent.given")
        await audit.record(clock.now(), "data.deleted", detail="all")
    async with sessions() as session:
        entries = await Repos(session, cipher).audit.list()
    assert [e.action for e in entries] == ["data.deleted", "consent.given"]


async def test_a_different_data_key_is_refused_at_start(
    settings: Settings, make_settings: Callable[..., Settings], database_url: str
) -> None:
    first = App(settings)
    await first.start(scheduler=False, sender=False)
    await first.stop()
    other_key = Fernet.generate_key().decode()
    wrong = App(make_settings(database_url=database_url, data_key=other_key))
    with pytest.raises(ConfigError, match=r"^DATA_KEY: does not fit this database"):
        await wrong.start(scheduler=False, sender=False)
    await wrong.stop()
    # Rotation: the new key first, the old one still listed, is accepted.
    rotated = App(
        make_settings(
            database_url=database_url,
            data_key=f"{other_key},{settings.data_key.get_secret_value()}",
        )
    )  # type: ignore[union-attr]
    await rotated.start(scheduler=False, sender=False)
    await rotated.stop()


async def test_a_permanent_connection_error_is_not_retried(
    postgres_db: PostgresDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing database or a wrong role will not appear by waiting: one clear error at
    once, not 14 s of "retrying"."""
    from sqlalchemy.engine import make_url

    from bot.storage.db import DatabaseUnavailable, create_engine, wait_until_reachable

    base = make_url(postgres_db.url).set(drivername="postgresql+asyncpg")
    for url in (
        base.set(database="alliantiebot_does_not_exist"),
        base.set(username="alliantiebot_no_such_role"),
    ):
        engine = create_engine(url.render_as_string(hide_password=False))
        try:
            with pytest.raises(DatabaseUnavailable):
                await wait_until_reachable(engine, patience=60)
        finally:
            await engine.dispose()
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def test_permanent_and_passing_connection_errors_are_told_apart() -> None:
    import socket

    from bot.storage.db import is_permanent

    assert is_permanent(socket.gaierror(-2, "Name or service not known"))
    assert not is_permanent(ConnectionRefusedError(111, "Connection refused"))
    assert not is_permanent(TimeoutError())
