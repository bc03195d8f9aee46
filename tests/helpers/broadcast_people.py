"""People and linked groups written straight into the database, for announcement tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast.audience import Audience
from bot.storage.models import GroupLink, User
from bot.storage.repositories.announcements import AnnouncementRepo

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def person(number: int, **overrides: Any) -> dict[str, Any]:
    """The columns of one person on the console, chat ``p<number>``."""
    values: dict[str, Any] = {
        "platform": "console",
        "platform_user_id": f"p{number}",
        "private_chat_id": f"p{number}",
        "display_name": None,
        "language": "nl",
        "roles": "",
        "gemeente": None,
        "organisation": None,
        "topics_off": "",
        "messages_enabled": True,
        "active": True,
        "created_at": WHEN,
        "last_seen_at": WHEN,
    }
    values.update(overrides)
    return values


async def add_people(
    sessions: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]], chunk: int = 5000
) -> None:
    async with sessions() as session, session.begin():
        for start in range(0, len(rows), chunk):
            await session.execute(insert(User), rows[start : start + chunk])


async def add_group(
    sessions: async_sessionmaker[AsyncSession], chat_id: str, platform: str = "console"
) -> None:
    async with sessions() as session, session.begin():
        session.add(
            GroupLink(
                platform=platform, chat_id=chat_id, title="Groep", linked_at=WHEN, active=True
            )
        )


async def announce(repo: AnnouncementRepo, now: datetime, **overrides: Any) -> int:
    """Store an announcement: to everyone, about nieuws, going out ``now``, unless a
    test says otherwise (``overrides`` are ``AnnouncementRepo.create``'s arguments)."""
    values: dict[str, Any] = {
        "created_by": None,
        "audience": Audience(everyone=True),
        "topic": "nieuws",
        "text": "Nieuws",
        "attachment": None,
        "urgent": False,
        "send_at": now,
        "report_to": None,
        "now": now,
    }
    values.update(overrides)
    return await repo.create(**values)
