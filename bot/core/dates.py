"""Days and months in words, in the person's language (``dates.*`` in
``content/messages/<lang>/dates.yaml``): for the composer's and the agenda's dates."""

from __future__ import annotations

from datetime import date

from bot.core.texts import Texts

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def weekday_name(texts: Texts, language: str, weekday: int) -> str:
    """``weekday`` as ``date.weekday()`` gives it (0 is Monday): "donderdag"."""
    return texts.get(language, f"dates.weekdays.{DAY_NAMES[weekday]}")


def month_name(texts: Texts, language: str, day: date) -> str:
    """The month of ``day``: "maart"."""
    return texts.get(language, f"dates.months.{MONTH_NAMES[day.month - 1]}")
