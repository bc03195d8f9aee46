"""A started console bot has not imported what it does not need yet (issue 18):
the language model comes at the first detection that needs it (about 70 MiB),
icalendar at the first calendar, matplotlib at the first picture, a platform SDK
only for a configured channel, and scipy not at all (bm25s would import it for a
matrix back-end the index does not use). alembic (with mako and pygments) only when
the database is not at the newest migration, aiohttp only with the HTTP server
(``alliantiebot run``, not ``alliantiebot chat``). Checked in a fresh interpreter on
a database migrated before, since this test process has imported all of them long
ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bot.settings import Settings
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]
LAZY = (
    "matplotlib",
    "py3langid",
    "icalendar",
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "scipy",
    "alembic",
    "mako",
    "pygments",
    "aiohttp",
    "dateutil",  # a typed date (/mijngegevens), the agenda's holidays, housekeeping
    "statistics",  # the check-in's scores
)

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys

    from bot.app import App
    from bot.channels.console import ConsoleChannel
    from bot.settings import load_settings

    async def main() -> None:
        app = App(load_settings())
        app.add_channel(ConsoleChannel(user="lazy", label=lambda key, **kw: key))
        await app.start()  # as `alliantiebot chat` starts it
        try:
            print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
        finally:
            await app.stop()

    asyncio.run(main())
    """
)


def _python(tmp_path: Path, *args: str, **settings: str) -> str:
    """``python *args`` in a fresh interpreter in ``tmp_path``, with the bot's settings
    from ``settings`` only (none inherited); its output, once it succeeded."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        DATA_KEY=TEST_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.db",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **settings,
    )
    done = subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _imported(output: str) -> list[str]:
    """The modules a child printed as imported (its last line, JSON)."""
    found: list[str] = json.loads(output.strip().splitlines()[-1])
    return found


def test_a_started_console_bot_has_not_imported_what_it_needs_later(tmp_path: Path) -> None:
    _python(tmp_path, "-m", "bot", "db", "upgrade")
    assert _imported(_python(tmp_path, "-c", CHILD, *LAZY)) == []


TELEGRAM_CHILD = textwrap.dedent(
    """
    import json, sys

    from bot.channels.registry import platform_channels
    from bot.settings import load_settings

    channels = platform_channels(load_settings())
    assert list(channels) == ["telegram"], channels
    print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
    """
)


def test_a_telegram_worker_has_not_imported_httpx_command_line_client(tmp_path: Path) -> None:
    """httpx tries to import its command-line client, and with it click and pygments."""
    output = _python(
        tmp_path,
        "-c",
        TELEGRAM_CHILD,
        "httpx._main",
        "click",
        "pygments",
        "slack_sdk",
        TELEGRAM_BOT_TOKEN="123456:ABCdefGhIjkLmnoPqrsTuvWxyz0123456789",
    )
    assert _imported(output) == []
