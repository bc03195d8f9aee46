"""``alliantiebot run`` with Slack tokens: a real subprocess in Socket Mode against the
fake Slack (tests/helpers/fake_slack.py).

Covers what only the real command does: the Slack channel is picked from the
settings, Socket Mode connects inside the bot's own loop, a DM is answered, SIGTERM
finishes the message in hand and exits cleanly, and no token or content shows in
the logs.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.e2e.test_console import _env
from tests.e2e.test_telegram_run import _run
from tests.helpers.fake_slack import FakeSlack

pytestmark = pytest.mark.slow

ANNA = "U0ANNA"
ANNA_DM = "D0ANNA"


def _dm(text: str, ts: str) -> dict[str, object]:
    return {
        "type": "message",
        "channel": ANNA_DM,
        "channel_type": "im",
        "user": ANNA,
        "text": text,
        "ts": ts,
    }


async def test_run_in_socket_mode_answers_a_dm_and_stops_cleanly_on_sigterm(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeSlack() as fake:
        env = _env(
            tmp_path,
            database_url,
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_APP_TOKEN=fake.app_token,
            SLACK_API_URL=fake.api_url,
            LOG_LEVEL="DEBUG",  # the most talkative level still hides the tokens and content
            RUN_SCHEDULER="false",
        )
        process = await _run(tmp_path, env)
        try:
            await fake.wait_connections(1, timeout=60)
            await fake.wait_ack(await fake.send_event(_dm("/help", "1.000001")), timeout=30)
            await fake.wait_until(lambda: bool(fake.messages.get(ANNA_DM)), 30, "the answer")
            answered = len(fake.messages[ANNA_DM])
            # A question arrives, and SIGTERM comes right after Slack had its ack: the
            # message in hand is still answered before the process exits.
            envelope = await fake.send_event(_dm("Wat is positieve gezondheid?", "2.000001"))
            await fake.wait_ack(envelope, timeout=30)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        log = (tmp_path / "stderr.log").read_text()
        assert process.returncode == 0, log
        if len(fake.messages[ANNA_DM]) == answered:
            # The answer was in hand but queued behind the first reply's outbox row
            # (one chat's messages keep their order): it waits in the outbox, and the
            # next start delivers it. Lost would be: not even then.
            again = await _run(tmp_path, env)
            try:
                await fake.wait_until(
                    lambda: len(fake.messages[ANNA_DM]) > answered, 60, "the answer kept"
                )
                again.send_signal(signal.SIGTERM)
                await asyncio.wait_for(again.wait(), timeout=30)
            finally:
                if again.returncode is None:
                    again.kill()
                    await again.wait()
            log += (tmp_path / "stderr.log").read_text()
        assert len(fake.messages[ANNA_DM]) > answered, log
        assert "Bron:" in fake.messages[ANNA_DM][-1]["text"], log
        assert fake.bot_token not in log and fake.app_token not in log
        assert "positieve gezondheid?" not in log.lower()  # no message content in logs
        assert "slack: Socket Mode as" in log
        assert "SELECT" not in log  # no SQL with parameters, even at DEBUG
