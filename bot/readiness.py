"""Readiness: may this process take traffic? Answered by ``GET /readyz``.

Ready means: the database answers (the HTTP server's own probe, the one /healthz
reads), every channel is connected, and every channel's token is still valid. A
token is asked about every ``interval`` seconds (Telegram ``getMe``, Slack
``auth.test``: :class:`bot.channels.base.Checkable`) in a background task, and the
answers are kept: the handler only reads them, so /readyz answers at once whatever
the database or the platforms do. A check that cannot tell (network trouble, a
timeout) keeps the previous answer; a revoked token turns it red at the next check.

Before the first check a token counts as valid: the channel's start checked it (a
token refused at start stops the process). The body names each check and its state,
never a token::

    {"status": "ready", "database": "ok",
     "channels": {"telegram": {"connected": true, "token": "valid"}}}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bot.channels.base import Channel, Checkable

if TYPE_CHECKING:  # aiohttp only where the HTTP server is built (bot.app._http_server)
    from aiohttp import web

log = logging.getLogger(__name__)

CHECK_SECONDS = 60.0  # how often each channel's token is checked
CHECK_TIMEOUT = 10.0  # a check that takes longer cannot tell (the previous answer stays)
PATH = "/readyz"

VALID, INVALID = "valid", "invalid"


class Readiness:
    """Keeps the channels' token checks; answers /readyz from what it kept.

    ``channels`` is read at every check and answer (a channel added later counts);
    ``database`` gives the database's last known state ("ok", "down", "unknown").
    A channel without the readiness API (:class:`Checkable`) is always ready.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        database: Callable[[], str],
        *,
        interval: float = CHECK_SECONDS,
        timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self.channels = channels
        self.database = database
        self.interval = interval
        self.timeout = timeout
        self.tokens: dict[str, bool] = {}  # channel name → last known answer
        self._task: asyncio.Task[None] | None = None

    # -- the checks ---------------------------------------------------------------
    async def check(self) -> None:
        """Ask every channel about its token once, all at once, and keep the answers."""
        checkable = {
            name: channel
            for name, channel in list(self.channels.items())
            if isinstance(channel, Checkable)
        }
        answers = await asyncio.gather(*(self._ask(n, c) for n, c in checkable.items()))
        for name, answer in zip(checkable, answers, strict=True):
            if answer is None:
                continue  # cannot tell: the previous answer stays
            if self.tokens.get(name, True) != answer:
                if answer:
                    log.info("readiness: %s accepts its token again", name)
                else:
                    log.warning("readiness: %s refuses its token; not ready", name)
            self.tokens[name] = answer

    async def _ask(self, name: str, channel: Checkable) -> bool | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await channel.check()
        except Exception as exc:  # a check that breaks says nothing about the token
            log.info("readiness: %s check failed (%s)", name, type(exc).__name__)
            return None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    def start(self) -> None:
        """Check in the background every ``interval`` seconds (the first after one
        interval: the channels checked their tokens at start)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="readiness-checks")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the answer ---------------------------------------------------------------
    def report(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the body of /readyz) from what is known now; never waits."""
        database = self.database()
        ready = database == "ok"
        channels: dict[str, dict[str, Any]] = {}
        for name, channel in list(self.channels.items()):
            connected = channel.connected if isinstance(channel, Checkable) else True
            valid = self.tokens.get(name, True)
            channels[name] = {"connected": connected, "token": VALID if valid else INVALID}
            ready = ready and connected and valid
        body = {
            "status": "ready" if ready else "not ready",
            "database": database,
            "channels": channels,
        }
        return ready, body

    async def readyz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        ready, body = self.report()
        return web.json_response(body, status=200 if ready else 503)
