"""Runs one Incoming through the middleware chain and the router, and counts it."""

from __future__ import annotations

import time

from bot import metrics
from bot.core.context import Context, Services
from bot.core.messages import Incoming, Reply, cleaned
from bot.core.middleware import Middleware, chain
from bot.core.router import Router


class Dispatcher:
    def __init__(self, services: Services, router: Router, middlewares: list[Middleware]) -> None:
        self.services = services
        self.router = router
        self._handle = chain(middlewares, router.dispatch)

    async def handle(self, msg: Incoming) -> list[Reply]:
        started = time.perf_counter()
        try:
            return await self._handle(cleaned(msg), Context(self.services))
        finally:
            metrics.update_handled(msg.platform, msg.kind, time.perf_counter() - started)
