"""``alliantiebot run`` with a Telegram token: a real subprocess against the fake Bot API.

Covers what only the real command does: the channel is picked from the settings,
polling starts inside the bot's own loop, SIGTERM finishes the update in hand and
exits cleanly, and the bot token never shows in the logs.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.test_console import _env
from tests.helpers.fake_telegram import FakeBotApi

pytestmark = pytest.mark.slow

TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


async def _run(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """Start the bot; its log goes to ``tmp_path / "stderr.log"`` (a pipe nobody reads
    until the end would fill up and block the bot)."""
    log = (tmp_path / "stderr.log").open("wb")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )


async def test_run_polls_answers_and_stops_cleanly_on_sigterm(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeBotApi(token=TOKEN) as fake:
        env = _env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            LOG_LEVEL="DEBUG",  # the most talkative level still hides the token and content
            RUN_SCHEDULER="false",
        )
        process = await _run(tmp_path, env)
        try:
            await fake.wait_for("getUpdates", 1, timeout=60)
            assert fake.commands, "setMyCommands ran before polling started"
            fake.message(501, "/start")
            await fake.wait_sent(501, 1, timeout=30)
            assert "Alliantie" in fake.texts(501)[0]
            # A question arrives, and SIGTERM comes right after it was fetched: the
            # update in hand is finished (answered) before the process exits.
            question = fake.message(501, "Wat is positieve gezondheid?")
            await fake.wait_until(
                lambda: any(
                    update["update_id"] == question["update_id"]
                    for call in fake.calls_of("getUpdates")
                    if call.ok
                    for update in call.result or ()
                ),
                timeout=30,
            )
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        log = (tmp_path / "stderr.log").read_text()
        assert process.returncode == 0, log
        assert len(fake.texts(501)) >= 2, log
        assert "Bron:" in fake.texts(501)[-1]
        assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ" not in log
        assert "positieve gezondheid?" not in log.lower()  # no message content in logs
        assert "telegram: polling as @alliantie_test_bot" in log
        assert "SELECT" not in log  # no SQL with parameters, even at DEBUG


async def test_run_with_a_token_telegram_refuses_says_so_in_one_line(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeBotApi(token=TOKEN) as fake:
        env = _env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN="111:wrong-token-that-is-long-enough",
            TELEGRAM_API_BASE_URL=fake.base_url,
        )
        process = await _run(tmp_path, env)
        await asyncio.wait_for(process.wait(), timeout=60)
    log = (tmp_path / "stderr.log").read_text()
    assert process.returncode == 2, log
    lines = log.strip().splitlines()
    assert lines[-1].startswith("alliantiebot: configuration error: TELEGRAM_BOT_TOKEN: ")
    assert "Traceback" not in log
