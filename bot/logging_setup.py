"""Logging: one line per event to standard error, never message content."""

from __future__ import annotations

import logging
import sys


def configure(level: str, *, quiet: bool = False) -> None:
    """Set up the root logger. ``quiet`` (the terminal chat) shows warnings and up only."""
    numeric = logging.getLevelName(level)
    if quiet and numeric < logging.WARNING:
        numeric = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # APScheduler logs every job run at INFO, including its arguments.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
