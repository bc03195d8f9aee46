"""Calendar feeds over the bot's HTTP server (webcal subscriptions).

``GET /agenda.ics``: the public events, for anyone. ``GET /agenda/<token>.ics``: one
person's events (public ones and those for their roles, gemeente and organisation;
a verbinder's: every event),
found by a personal token of which only the SHA-256 is stored
(:mod:`bot.storage.repositories.feeds`); an unknown or revoked token gets a bare 404.

Both feeds hold the events that end after :data:`PAST` ago, cancelled ones too (as
STATUS:CANCELLED), so a subscribed calendar removes an event that was cancelled.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.agenda.ical import to_ical
from bot.agenda.model import Viewer
from bot.core.clock import Clock
from bot.core.context import Transactions
from bot.people.tokens import token_hash
from bot.storage.models import User

if TYPE_CHECKING:  # aiohttp only with the HTTP server: /agendafeed imports this module
    from aiohttp import web

    from bot.http import HttpServer

PAST = timedelta(days=30)  # recent events (and cancellations) stay in the feed this long
PUBLIC_PATH = "/agenda.ics"
PERSONAL_PATH = "/agenda/{token}.ics"
CONTENT_TYPE = "text/calendar"
_TOKEN = re.compile(r"[0-9a-f]{40}")


def personal_path(token: str) -> str:
    return PERSONAL_PATH.replace("{token}", token)


def viewer_of(user: User) -> Viewer:
    return Viewer.of(user.role_set, user.gemeente, user.organisation)


class CalendarFeeds:
    """The two feed routes, reading the agenda in a transaction of their own."""

    def __init__(self, work: Transactions, clock: Clock) -> None:
        self.work = work
        self.clock = clock

    def attach(self, server: HttpServer) -> None:
        server.add_route("GET", PUBLIC_PATH, self.public)
        server.add_route("GET", PERSONAL_PATH, self.personal)

    async def public(self, request: web.Request) -> web.Response:
        return await self._feed(None, "Alliantie Positieve Gezondheid ZHN")

    async def personal(self, request: web.Request) -> web.Response:
        from aiohttp import web

        token = request.match_info.get("token", "")
        if not _TOKEN.fullmatch(token):
            raise web.HTTPNotFound()
        return await self._feed(token_hash(token), "Alliantie Positieve Gezondheid ZHN (mijn)")

    async def _feed(self, hashed: str | None, name: str) -> web.Response:
        from aiohttp import web

        since = self.clock.now() - PAST
        async with self.work.begin() as db:
            viewer = Viewer()  # no roles, no place: what everyone sees
            if hashed is not None:
                person = await db.feeds.person(hashed)
                if person is None:
                    raise web.HTTPNotFound()
                viewer = viewer_of(person)
            events = await db.agenda.upcoming(since, viewer, include_cancelled=True)
        return web.Response(
            body=to_ical(events, name=name),
            content_type=CONTENT_TYPE,
            charset="utf-8",
            headers={"Cache-Control": "private, max-age=300"},
        )
