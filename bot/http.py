"""The one HTTP server of a process: health check, metrics, platform webhooks.

aiohttp is already a dependency of python-telegram-bot and slack-bolt's async
mode, so the service needs no second web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import bot
from bot import metrics
from bot.settings import ConfigError
from bot.storage.db import DEFAULT_TIMEOUT

log = logging.getLogger(__name__)
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PROBE_SECONDS: float = 5.0


class DatabaseProbe:
    """Asks the database ``SELECT 1`` every ``interval`` seconds in the background
    and keeps the answer, so /healthz answers at once whatever the database does.

    The state is "ok", "down" (the last probe failed) or "unknown" (no probe has
    finished yet, or the last answer is too old: a probe is hanging).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        interval: float | None = None,
    ) -> None:
        self.engine = engine
        self.timeout = timeout
        self.interval = PROBE_SECONDS if interval is None else interval
        self._last: tuple[bool, float] | None = None  # (ok, loop time of the answer)
        self._task: asyncio.Task[None] | None = None
        self._first = asyncio.Event()

    async def probe(self) -> bool:
        ok = True
        try:
            # The engine's own timeouts end a hung query; this bounds the rest.
            async with asyncio.timeout(2 * self.timeout + 1), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            ok = False
            if self._last is None or self._last[0]:
                log.warning("health check: database unavailable (%s)", type(exc).__name__)
        else:
            if self._last is not None and not self._last[0]:
                log.info("health check: database reachable again")
        self._last = (ok, asyncio.get_running_loop().time())
        self._first.set()
        return ok

    async def _run(self) -> None:
        while True:
            await self.probe()
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        """Probe in the background; wait (bounded) for the first answer."""
        self._task = asyncio.create_task(self._run(), name="database-probe")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2 * self.timeout + 1):
                await self._first.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def state(self) -> str:
        if self._last is None:
            return "unknown"
        ok, at = self._last
        if asyncio.get_running_loop().time() - at > self.interval + 2 * self.timeout + 2:
            return "unknown"  # the probe itself is stuck
        return "ok" if ok else "down"


class HttpServer:
    def __init__(
        self,
        host: str,
        port: int,
        engine: AsyncEngine,
        *,
        db_timeout: float = DEFAULT_TIMEOUT,
        probe_interval: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.engine = engine
        self.probe = DatabaseProbe(engine, timeout=db_timeout, interval=probe_interval)
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/healthz", self.healthz)
        self.app.router.add_get("/metrics", self.metrics_page)
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def add_route(self, method: str, path: str, handler: RouteHandler) -> None:
        """For the platform adapters: Telegram's webhook, Slack's events endpoint."""
        self.app.router.add_route(method, path, handler)

    async def healthz(self, request: web.Request) -> web.Response:
        """The database's last known state: never waits for the database itself."""
        database = self.probe.state
        if database != "ok":
            return web.json_response(
                {"status": "unavailable", "database": database, "version": bot.__version__},
                status=503,
            )
        return web.json_response({"status": "ok", "database": "ok", "version": bot.__version__})

    async def metrics_page(self, request: web.Request) -> web.Response:
        """Prometheus' text format (bot/metrics.py): counts and timings, no content."""
        await metrics.refresh()
        body, content_type = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def start(self) -> None:
        await self.probe.start()
        try:
            await self._listen()
        except BaseException:
            await self.probe.stop()
            raise

    async def _listen(self) -> None:
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
        await self.probe.stop()
