"""Logging: one line per event to standard error (the terminal chat: to a file),
never message content."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from bot.paths import private_file

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


# Exceptions from these packages may quote what was stored (asyncpg: "invalid input
# for query argument $1: 'the text'"); SQLAlchemy's hide_parameters does not cover
# the driver's own words. Their messages are left out of every traceback.
DRIVERS = ("asyncpg", "psycopg", "sqlite3", "aiosqlite", "sqlalchemy")
HIDDEN = "(the database driver's message is not logged: it may quote stored data)"


class RedactingFormatter(logging.Formatter):
    """Tracebacks without tokens (an exception message may hold a URL) and without
    database drivers' messages (they may hold data); the frames stay."""

    def formatException(self, ei: Any) -> str:
        _, value, _ = ei
        if value is None:
            return _TOKEN.sub("<token>", super().formatException(ei))
        trace = traceback.TracebackException.from_exception(value)
        for part in _chain(trace):
            if part.exc_type is not None and _from_driver_type(part.exc_type):
                part._str = HIDDEN  # type: ignore[attr-defined]  # where the message is kept
        return _TOKEN.sub("<token>", "".join(trace.format()).rstrip("\n"))


def _from_driver_type(kind: type[BaseException]) -> bool:
    return kind.__module__.split(".", 1)[0] in DRIVERS


def _chain(trace: traceback.TracebackException) -> list[traceback.TracebackException]:
    """The exception and its causes and contexts, each once."""
    seen: list[traceback.TracebackException] = []
    todo = [trace]
    while todo:
        part = todo.pop()
        if any(part is s for s in seen):
            continue
        seen.append(part)
        todo += [p for p in (part.__cause__, part.__context__) if p is not None]
        todo += list(part.exceptions or [])
    return seen


def _errors_and_command_notices(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR or record.name == "bot.cli"


def configure(level: str, *, quiet: bool = False, log_file: Path | None = None) -> None:
    """Set up the root logger. ``quiet`` (the terminal chat) logs warnings and up only.

    With ``log_file`` (the terminal chat) those lines go to that file (created 0600)
    and only errors (and the command's own notices, such as a reload on SIGHUP the
    operator asked for) reach standard error, so the conversation stays readable.
    """
    numeric = logging.getLevelName(level)
    if quiet and numeric < logging.WARNING:
        numeric = logging.WARNING
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers[0].addFilter(_errors_and_command_notices)
        handlers.append(logging.FileHandler(private_file(log_file), encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = handlers
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
    # slack_sdk logs every Web API request and response (message text) at DEBUG, and
    # bolt (its logger is bot.channels.slack.bolt) every Socket Mode envelope.
    for name in ("slack_sdk", "slack_bolt", "bot.channels.slack.bolt"):
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    # aiosqlite logs every statement with its parameters at DEBUG (names, questions).
    logging.getLogger("aiosqlite").setLevel(max(numeric, logging.INFO))
