"""Quiet hours: when non-urgent announcements wait (``QUIET_HOURS``, default 21:00-08:00).

Read in the bot's time zone, so the hours stay the same across summer time. A span
that crosses midnight (21:00-08:00) is the usual case; one within a day (13:00-14:00)
works too; an empty setting means none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

_SPAN = re.compile(r"(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: tzinfo

    @classmethod
    def parse(cls, span: str, zone: tzinfo) -> QuietHours | None:
        """``21:00-08:00`` → the span; "" → None. Raises ValueError when unreadable."""
        if not span.strip():
            return None
        match = _SPAN.fullmatch(span.strip())
        if match is None:
            raise ValueError("two times as HH:MM-HH:MM, e.g. 21:00-08:00, or empty for none")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError as exc:
            raise ValueError("times from 00:00 to 23:59, e.g. 21:00-08:00") from exc
        if start == end:
            raise ValueError("the start and the end differ, e.g. 21:00-08:00")
        return cls(start, end, zone)

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls in the quiet hours."""
        now = moment.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def ends_after(self, moment: datetime) -> datetime:
        """The next end of the quiet hours after ``moment``, in UTC."""
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end.astimezone(UTC)

    def text(self) -> str:
        """The span as people read it: "21:00–08:00"."""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"
