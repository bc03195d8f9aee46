"""Questions nobody could answer: kept UNANSWERED_RETENTION_DAYS (default 90), and
`alliantiebot content gaps` shows each question with its count, never a date.

Every database test runs on SQLite and on PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.knowledge import cli as content_cli
from bot.scheduling import jobs
from bot.settings import Settings
from bot.storage.models import UnansweredQuestion
from bot.storage.repositories.gaps import GapRepo


async def record(app: App, asked: dict[str, datetime]) -> None:
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        for question, at in asked.items():
            await GapRepo(session).record(question, question.split("#")[0], "nl", at)


async def kept(app: App) -> set[str]:
    assert app.services is not None
    async with app.services.sessions() as session:
        return set((await session.execute(select(UnansweredQuestion.question))).scalars())


def test_the_default_retention_is_90_days(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().unanswered_retention_days == 90


async def test_housekeeping_deletes_unanswered_questions_after_the_retention(
    app: App, clock: FrozenClock
) -> None:
    now = clock.now()
    await record(
        app,
        {
            "a year ago": now - timedelta(days=365),
            "91 days ago": now - timedelta(days=91),
            "90 days and a minute ago": now - timedelta(days=90, minutes=1),
            "89 days ago": now - timedelta(days=89),
            "yesterday": now - timedelta(days=1),
        },
    )
    await jobs.housekeeping()
    assert await kept(app) == {"89 days ago", "yesterday"}


async def test_the_retention_is_a_setting(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    clock = FrozenClock()
    app = App(make_settings(database_url=database_url, unanswered_retention_days=7), clock=clock)
    await app.start(scheduler=False, sender=False)
    try:
        now = clock.now()
        await record(app, {"8 days": now - timedelta(days=8), "6 days": now - timedelta(days=6)})
        await jobs.housekeeping()
        assert await kept(app) == {"6 days"}
    finally:
        await app.stop()


async def test_content_gaps_shows_counts_without_dates(
    app: App, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)  # the command reads the real clock
    await record(
        app,
        {
            "hoe laat sluit de markt#1": now - timedelta(days=3),
            "hoe laat sluit de markt#2": now - timedelta(days=1),
            "wie won de tour": now - timedelta(hours=2),
            "een oude vraag": now - timedelta(days=120),  # past the retention, not yet pruned
        },
    )
    assert await content_cli.gaps(settings, 50) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["    2  hoe laat sluit de markt#2", "    1  wie won de tour"]
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}", line) for line in lines)
