"""The reflectiecirkels of each year (``circles``: one row per organisation per year,
with its circle's number): what ``circles history`` shows and what the next year's
composition avoids repeating. A year is stored once (``uq_circles_year``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import CircleMember


class CircleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def history(self, before: int | None = None) -> dict[int, list[list[str]]]:
        """Every stored year (those before ``before`` only, when given), oldest first:
        its circles in their numbers' order, each with its organisations sorted."""
        query = select(CircleMember.year, CircleMember.circle, CircleMember.organisation)
        if before is not None:
            query = query.where(CircleMember.year < before)
        rows = (await self.session.execute(query)).all()
        years: dict[int, dict[int, list[str]]] = {}
        for year, circle, organisation in rows:
            years.setdefault(year, {}).setdefault(circle, []).append(organisation)
        return {
            year: [sorted(circles[n]) for n in sorted(circles)]
            for year, circles in sorted(years.items())
        }

    async def year(self, year: int) -> list[list[str]]:
        """The circles stored for ``year``; empty when there are none."""
        return (await self.history(before=year + 1)).get(year, [])

    async def save(self, year: int, circles: Sequence[Sequence[str]], now: datetime) -> bool:
        """Store ``year``'s circles, numbered from 1 in the given order. False (and
        nothing written) when the year has circles already."""
        if await self.year(year):
            return False
        self.session.add_all(
            CircleMember(year=year, circle=n, organisation=org, created_at=now)
            for n, circle in enumerate(circles, start=1)
            for org in circle
        )
        await self.session.flush()
        return True
