"""An event's date and time in words, in the person's language: what the cards, the
reminders and the answers to "wanneer is het volgende leeratelier?" say."""

from __future__ import annotations

from datetime import datetime

from bot.agenda.model import EventData
from bot.core.dates import month_name, weekday_name
from bot.core.texts import Texts

# The agenda's buttons: ``ag:<code>:<event id>`` (handlers/agenda.py reads them).
ACTION = "ag"


def when(texts: Texts, event: EventData, lang: str) -> str:
    """``donderdag 12 maart 2026, 19.30–21.30`` (``Thursday 12 March 2026, 19:30–21:30``);
    an event over more days names the end's date too."""
    sep = ":" if lang == "en" else "."  # 19.30 in Dutch (the fallback), 19:30 in English

    def day(moment: datetime) -> str:
        weekday = weekday_name(texts, lang, moment.weekday())
        return f"{weekday} {moment.day} {month_name(texts, lang, moment.date())} {moment.year}"

    def time(moment: datetime) -> str:
        return f"{moment.hour:02d}{sep}{moment.minute:02d}"

    start, end = event.start, event.end
    if start.date() == end.date():
        return f"{day(start)}, {time(start)}–{time(end)}"
    return f"{day(start)}, {time(start)} – {day(end)}, {time(end)}"
