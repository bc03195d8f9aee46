"""Between the express path's read and its write, as another message or worker would
act there (tests/integration/test_express*.py, one store each)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.core.context import Seen, Written
from bot.core.state import State
from bot.outbox.queue import Outgoing
from bot.storage.models import AuditLog, OutboxMessage, User
from handlers import language


def before_the_write(
    monkeypatch: pytest.MonkeyPatch, link: type[Any], step: Callable[[Seen], Awaitable[None]]
) -> list[Written | None]:
    """Run ``step`` just before each express write of ``link`` (a store's link class);
    the writes' outcomes are appended to the list returned."""
    write = link.write
    outcomes: list[Written | None] = []

    async def meanwhile(
        self: Any, seen: Seen, chat_id: str, event: tuple[str, str], reply: Outgoing
    ) -> Written | None:
        await step(seen)
        outcomes.append(await write(self, seen, chat_id, event, reply))
        return outcomes[-1]

    monkeypatch.setattr(link, "write", meanwhile)
    return outcomes


def anna_made_meanwhile(app: App) -> Callable[[Seen], Awaitable[None]]:
    """Another worker creates Anna, in English, after the read found nobody."""

    async def make(seen: Seen) -> None:
        assert app.services is not None and seen.new
        async with app.services.work.begin() as repos:
            await repos.users.get_or_create(
                platform="console", platform_user_id="anna", now=app.clock.now(), language="en"
            )

    return make


def her_language_asked_meanwhile(app: App) -> Callable[[Seen], Awaitable[None]]:
    """Another message of Anna's is handled: /taal, which leaves the language question
    waiting for her answer."""

    async def ask(_seen: Seen) -> None:
        assert app.services is not None
        async with app.services.work.begin() as repos:
            await repos.events.first_time("console", "elsewhere", app.clock.now(), person="anna")
            await ask_language(repos, app)

    return ask


async def ask_language(repos: Any, app: App) -> None:
    """What /taal leaves: the language question, waiting for Anna's answer."""
    user = await repos.users.find("console", "anna")
    await repos.state.set(
        user.id, "anna", State(flow=language.FLOW.name, step="choose"), app.clock.now()
    )


async def _one(app: App, query: Any) -> Any:
    assert app.services is not None
    async with app.services.sessions() as session:
        return (await session.execute(query)).scalar_one()


async def assert_theirs_kept(app: App) -> None:
    """After ``anna_made_meanwhile``: one Anna, theirs (English), no audit record of
    the express write, one reply."""
    assert await _one(app, select(func.count()).select_from(User)) == 1
    assert await _one(app, select(User.language)) == "en"  # theirs, kept
    assert await _one(app, select(func.count()).select_from(AuditLog)) == 0
    assert await _one(app, select(func.count()).select_from(OutboxMessage)) == 1
