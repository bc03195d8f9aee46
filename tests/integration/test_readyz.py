"""``GET /readyz``: ready when the database answers, every channel is connected and
every channel's token is valid (a periodic ``getMe`` / ``auth.test``). The real App
with the real Telegram and Slack channels against their fakes, on SQLite and
PostgreSQL; the checks are run by calling the runner (no waiting on its interval),
except in the test of the interval itself, which waits on the fake's calls."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.app import App
from bot.channels.slack import SlackChannel
from bot.core.clock import FrozenClock
from bot.readiness import Readiness
from bot.settings import Settings
from bot.storage import db
from tests.helpers.fake_slack import FakeSlack
from tests.helpers.telegram_bot import TelegramBot, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SECRET = "fake-signing-secret"
UNAUTHORIZED = "Unauthorized"


async def readyz(app: App) -> tuple[int, dict[str, Any]]:
    assert app.http is not None and app.http.bound_port
    url = f"http://127.0.0.1:{app.http.bound_port}/readyz"
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.json()


def readiness(app: App) -> Readiness:
    assert app.readiness is not None
    return app.readiness


@pytest.fixture
async def tg(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> AsyncIterator[TelegramBot]:
    async with running_bot(
        make_settings, clock=clock, http=True, database_url=database_url, http_port=0
    ) as bot:
        yield bot


@contextlib.asynccontextmanager
async def slack_app(
    make_settings: Callable[..., Settings], fake: FakeSlack, **overrides: Any
) -> AsyncIterator[App]:
    settings = make_settings(
        **{"slack_bot_token": fake.bot_token, "slack_api_url": fake.api_url, "http_port": 0}
        | overrides
    )
    channel = SlackChannel(settings)
    app = App(settings, clock=FrozenClock(), channels={channel.name: channel})
    await app.start(http=True, scheduler=False, sender=False)
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


async def test_telegram_ready_then_a_revoked_token_turns_it_red(tg: TelegramBot) -> None:
    status, body = await readyz(tg.app)
    assert status == 200
    assert body == {
        "status": "ready",
        "database": "ok",
        "channels": {"telegram": {"connected": True, "token": "valid"}},
    }
    assert tg.fake.token not in str(body)

    tg.fake.fail_next("getMe", 401, UNAUTHORIZED, times=2)
    await readiness(tg.app).check()
    status, body = await readyz(tg.app)
    assert status == 503
    assert body["status"] == "not ready"
    assert body["channels"]["telegram"] == {"connected": True, "token": "invalid"}

    # Network trouble cannot tell: the last answer stands.
    await readiness(tg.app).check()  # the second 401
    tg.fake.fail_next("getMe", 502, "Bad Gateway")
    await readiness(tg.app).check()
    assert (await readyz(tg.app))[0] == 503

    # A valid token again (a new one in place): green at the next check.
    await readiness(tg.app).check()
    assert (await readyz(tg.app))[0] == 200


async def test_the_checks_run_every_interval(tg: TelegramBot) -> None:
    runner = readiness(tg.app)
    await runner.stop()
    runner.interval = 0.01
    tg.fake.fail_next("getMe", 401, UNAUTHORIZED, times=3)
    runner.start()
    await tg.fake.wait_until(lambda: runner.tokens.get("telegram") is False)
    # After three refusals the fake accepts the token again: green by itself.
    await tg.fake.wait_until(lambda: runner.tokens.get("telegram") is True)
    assert (await readyz(tg.app))[0] == 200
    assert len(tg.fake.calls_of("getMe")) >= 4


async def test_a_stopped_poller_is_not_ready(tg: TelegramBot) -> None:
    poller = tg.channel.poller
    assert poller is not None
    await poller.stop()
    status, body = await readyz(tg.app)
    assert status == 503
    assert body["channels"]["telegram"]["connected"] is False


async def test_the_database_down_is_not_ready(tg: TelegramBot) -> None:
    assert tg.app.http is not None
    probe = tg.app.http.probe
    dead = db.create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    working, probe.engine = probe.engine, dead
    try:
        await probe.probe()
        status, body = await readyz(tg.app)
        assert status == 503
        assert body["database"] == "down" and body["status"] == "not ready"
        assert body["channels"]["telegram"]["token"] == "valid"
    finally:
        probe.engine = working
        await dead.dispose()
    await probe.probe()
    assert (await readyz(tg.app))[0] == 200


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_slack_ready_then_invalid_auth_turns_it_red(
    make_settings: Callable[..., Settings], database_url: str, fake_slack: FakeSlack, mode: str
) -> None:
    given: dict[str, Any] = (
        {"slack_signing_secret": SECRET}
        if mode == "http"
        else {"slack_app_token": fake_slack.app_token}
    )
    async with slack_app(make_settings, fake_slack, database_url=database_url, **given) as app:
        status, body = await readyz(app)
        assert status == 200
        assert body["channels"] == {"slack": {"connected": True, "token": "valid"}}
        assert fake_slack.bot_token not in str(body)

        fake_slack.fail("auth.test", "invalid_auth")
        await readiness(app).check()
        status, body = await readyz(app)
        assert status == 503
        assert body["channels"]["slack"] == {"connected": True, "token": "invalid"}

        # Rate limited: cannot tell, the last answer stands; then a good token again.
        fake_slack.clear_faults()
        fake_slack.fail("auth.test", "ratelimited", times=1)
        await readiness(app).check()
        assert (await readyz(app))[0] == 503
        await readiness(app).check()
        assert (await readyz(app))[0] == 200


async def test_healthz_stays_liveness_when_a_token_is_revoked(tg: TelegramBot) -> None:
    tg.fake.fail_next("getMe", 401, UNAUTHORIZED)
    await readiness(tg.app).check()
    assert (await readyz(tg.app))[0] == 503
    assert tg.app.http is not None
    url = f"http://127.0.0.1:{tg.app.http.bound_port}/healthz"
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        assert response.status == 200
