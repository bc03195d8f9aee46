"""Shared fixtures. Database tests run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot import charts
from bot.app import App
from bot.core.clock import FrozenClock
from bot.knowledge.answer import Answerer
from bot.settings import Settings
from tests.helpers.charts import quick_trend, quick_web
from tests.helpers.conversation import Person
from tests.helpers.databases import PostgresDatabase, create_postgres_database, require_postgres
from tests.helpers.fakes import RecordingChannel

TEST_KEY = Fernet.generate_key().decode()


def _content_fingerprint(content: Path) -> tuple[object, ...]:
    """The content folder's files with their size and modification time."""
    files = sorted(p for p in content.rglob("*") if p.is_file())
    stats = ((str(p), p.stat()) for p in files)
    return (content.resolve(), *((name, st.st_size, st.st_mtime_ns) for name, st in stats))


@pytest.fixture(scope="session", autouse=True)
def build_each_content_once() -> Iterator[None]:
    """Build the answer index once per content version, not once per App.

    ``Answerer.load`` reads and indexes every content file (about a second);
    most tests start an App on the same content. The answerer is not changed
    after it is built, so Apps with unchanged content share one. A test that
    edits content files gets a fresh build (the fingerprint changes).
    """
    built: dict[tuple[object, ...], Answerer] = {}
    load = Answerer.load.__func__  # type: ignore[attr-defined]

    def cached(cls: type[Answerer], content: Path) -> Answerer:
        key = _content_fingerprint(content)
        if key not in built:
            built[key] = load(cls, content)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Answerer, "load", classmethod(cached))
        yield


@pytest.fixture(autouse=True)
def quick_charts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversation tests get quick pictures (see tests/helpers/charts.py);
    tests marked ``real_charts`` draw them with matplotlib."""
    if request.node.get_closest_marker("real_charts") is None:
        monkeypatch.setattr(charts, "render_web", quick_web)
        monkeypatch.setattr(charts, "render_trend", quick_trend)


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[PostgresDatabase]:
    require_postgres()
    yield from create_postgres_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean database for one test, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    pg: PostgresDatabase = request.getfixturevalue("postgres_db")
    pg.truncate()
    return pg.url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
            "data_key": TEST_KEY,
            "data_key_file": tmp_path / "data.key",
            "image_dir": tmp_path / "images",
            "bot_admins": "console:verbinder1",
            "flood_limit_per_minute": 1000,
            "db_startup_timeout": 2,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
async def app(
    settings: Settings, clock: FrozenClock, channel: RecordingChannel
) -> AsyncIterator[App]:
    """The bot with storage and outbox; no scheduler, the sender driven by the test."""
    application = App(settings, clock=clock, channels={channel.name: channel})
    await application.start(scheduler=False, sender=False)
    try:
        yield application
    finally:
        await application.stop()


@pytest.fixture
def bot(app: App) -> Person:
    return Person(app)


@pytest.fixture
async def start_pg_app(
    make_settings: Callable[..., Settings],
    postgres_db: PostgresDatabase,
    clock: FrozenClock,
    channel: RecordingChannel,
) -> AsyncIterator[Callable[..., Awaitable[App]]]:
    """Starts the bot on the emptied PostgreSQL test database, without a scheduler;
    ``sender=True`` runs its outbox sender on the same pool. Stopped after the test."""
    started: list[App] = []

    async def start(*, sender: bool) -> App:
        postgres_db.truncate()
        app = App(
            make_settings(database_url=postgres_db.url),
            clock=clock,
            channels={channel.name: channel},
        )
        await app.start(scheduler=False, sender=sender)
        started.append(app)
        return app

    yield start
    for app in started:
        await app.stop()
