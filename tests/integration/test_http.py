"""The HTTP server's health check."""

from __future__ import annotations

import aiohttp

from bot.app import App
from bot.http import HttpServer
from bot.settings import Settings
from bot.storage import db


async def test_healthz_reports_ok_on_a_free_port(settings: Settings) -> None:
    app = App(settings.model_copy(update={"http_port": 0}))
    await app.start(http=True, scheduler=False, sender=False)
    try:
        assert app.http is not None and app.http.bound_port
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{app.http.bound_port}/healthz"
            async with client.get(url) as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
    finally:
        await app.stop()


async def test_healthz_says_503_when_the_database_is_down() -> None:
    engine = db.create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    server = HttpServer("127.0.0.1", 0, engine)
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.bound_port}/healthz"
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 503
            assert (await response.json())["database"] == "down"
    finally:
        await server.stop()
        await engine.dispose()
