"""Logging: one line per event to standard error, never message content."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

# A Telegram token in a URL (https://api.telegram.org/bot<token>/sendMessage).
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class RedactTokens(logging.Filter):
    """Replace bot tokens in a log line, should a library print a URL that has one;
    and keep only the fixed text of python-telegram-bot's own lines, whose arguments
    can be whole updates or API responses (message text: possibly health data)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telegram") and record.args:
            record.args = None  # the template alone: "Can not load invalid JSON data: %s"
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("<token>", message), None
        return True


class RedactingFormatter(logging.Formatter):
    """Tokens out of tracebacks too (an exception message may hold a URL)."""

    def formatException(self, ei: Any) -> str:
        return _TOKEN.sub("<token>", super().formatException(ei))


def configure(level: str, *, quiet: bool = False) -> None:
    """Set up the root logger. ``quiet`` (the terminal chat) shows warnings and up only."""
    numeric = logging.getLevelName(level)
    if quiet and numeric < logging.WARNING:
        numeric = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # APScheduler logs every job run at INFO, including its arguments.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
    # httpx logs every request URL at INFO, and a Telegram URL holds the bot token;
    # python-telegram-bot logs whole updates (message text) at DEBUG.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    logging.getLogger("telegram").setLevel(max(numeric, logging.INFO))
    # aiosqlite logs every statement with its parameters at DEBUG (names, questions).
    logging.getLogger("aiosqlite").setLevel(max(numeric, logging.INFO))
