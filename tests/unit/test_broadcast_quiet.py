"""Quiet hours, read in the bot's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.quiet import QuietHours
from bot.settings import ConfigError, load_settings

ZONE = ZoneInfo("Europe/Amsterdam")


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def test_a_span_across_midnight() -> None:
    quiet = QuietHours.parse("21:00-08:00", ZONE)
    assert quiet is not None
    assert [quiet.contains(local(1, 5, h, m)) for h, m in ((20, 59), (21, 0), (3, 0), (7, 59))] == [
        False,
        True,
        True,
        True,
    ]
    assert quiet.contains(local(1, 5, 8, 0)) is False
    # summer time: still 21:00 on the wall clock (19:00 UTC)
    assert quiet.contains(datetime(2026, 7, 1, 19, 0, tzinfo=UTC))
    assert quiet.ends_after(local(1, 5, 22)) == local(1, 6, 8).astimezone(UTC)
    assert quiet.ends_after(local(1, 6, 3)) == local(1, 6, 8).astimezone(UTC)


def test_a_span_within_a_day_and_none() -> None:
    quiet = QuietHours.parse("13:00-14:00", ZONE)
    assert quiet is not None and quiet.contains(local(1, 5, 13, 30))
    assert not quiet.contains(local(1, 5, 14, 0))
    assert QuietHours.parse("", ZONE) is None


@pytest.mark.parametrize("value", ["21-08", "21:00-21:00", "24:00-08:00", "avond"])
def test_a_wrong_setting_is_one_clear_line(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^QUIET_HOURS: "):
        load_settings(_env_file=None, quiet_hours=value)


def test_the_span_as_people_read_it() -> None:
    quiet = QuietHours.parse("21:00-8:00", ZONE)
    assert quiet is not None and quiet.text() == "21:00–08:00"
