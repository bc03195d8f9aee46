"""The one HTTP server of a process: health check now, platform webhooks later.

aiohttp is already a dependency of python-telegram-bot and slack-bolt's async
mode, so the service needs no second web framework.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import bot
from bot.settings import ConfigError

log = logging.getLogger(__name__)
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpServer:
    def __init__(self, host: str, port: int, engine: AsyncEngine) -> None:
        self.host = host
        self.port = port
        self.engine = engine
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/healthz", self.healthz)
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def add_route(self, method: str, path: str, handler: RouteHandler) -> None:
        """For the platform adapters: Telegram's webhook, Slack's events endpoint."""
        self.app.router.add_route(method, path, handler)

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            return web.json_response(
                {"status": "unavailable", "database": "down", "version": bot.__version__},
                status=503,
            )
        return web.json_response({"status": "ok", "database": "ok", "version": bot.__version__})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                f"HTTP_PORT: cannot listen on {self.host}:{self.port} ({exc.strerror or exc})"
            ) from None
        server = site._server  # aiohttp exposes the bound port only through the server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("HTTP server listening on http://%s:%s", self.host, self.bound_port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
