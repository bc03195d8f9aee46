"""kill -9 in the middle of an announcement to a thousand people on Telegram; and
``alliantiebot broadcast send`` from a second process while the bot runs.

The real ``alliantiebot run`` against the fake Bot API: killed while sending, started
again, and the fake's calls are counted. After the restart the rest is delivered;
only the group that was in flight (at most the sender's concurrency) goes twice.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import normalise_database_url
from bot.storage import db
from bot.storage.repositories.announcements import AnnouncementRepo
from tests.e2e.test_console import _env
from tests.e2e.test_telegram_run import TOKEN, _run
from tests.helpers.broadcast_people import add_people, announce, person
from tests.helpers.fake_telegram import FakeBotApi

pytestmark = pytest.mark.slow

PEOPLE = 1000
FIRST = 100_000  # the people's chat ids: FIRST, FIRST + 1, ...
VERBINDER = 900
CONCURRENCY = 50  # OutboxSender's default: the most a crash can repeat


async def _prepare(database_url: str) -> int:
    url = normalise_database_url(database_url)
    async with db.connected(url, 5) as engine:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        await add_people(
            sessions,
            [
                person(
                    i,
                    platform="telegram",
                    platform_user_id=str(FIRST + i),
                    private_chat_id=str(FIRST + i),
                )
                for i in range(PEOPLE)
            ],
        )
        async with sessions() as session, session.begin():
            now = datetime.now(UTC)
            return await announce(
                AnnouncementRepo(session),
                now,
                text="Nieuws van de Alliantie",
                report_to=("telegram", str(VERBINDER)),
            )


def _delivered(fake: FakeBotApi) -> Counter[int]:
    return Counter(
        call.chat_id
        for call in fake.calls_of("sendMessage")
        if call.ok and isinstance(call.chat_id, int) and call.chat_id >= FIRST
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_kill_9_while_sending_loses_nothing_and_repeats_at_most_the_group_in_flight(
    tmp_path: Path, database_url: str
) -> None:
    made = await _prepare(database_url)
    async with FakeBotApi(token=TOKEN) as fake:
        env = _env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            RUN_SCHEDULER="false",
            QUIET_HOURS="",  # the test must not depend on the time of day
            OUTBOX_LEASE_SECONDS="5",  # the killed worker's rows come back after 5 s
            LOG_LEVEL="INFO",
        )
        process = await _run(tmp_path, env)
        try:
            await fake.wait_until(lambda: len(_delivered(fake)) >= 200, timeout=90)
            process.kill()  # SIGKILL: no clean-up at all
            await process.wait()
            before = sum(_delivered(fake).values())
            assert before < PEOPLE, "the announcement was done before the kill"
            (tmp_path / "stderr.log").rename(tmp_path / "first.log")
            process = await _run(tmp_path, env)
            await fake.wait_until(lambda: len(_delivered(fake)) >= PEOPLE, timeout=120)
            await fake.wait_until(
                lambda: any("is klaar" in t for t in fake.texts(VERBINDER)), timeout=30
            )
        finally:
            await _stop(process)
    delivered = _delivered(fake)
    assert set(delivered) == {FIRST + i for i in range(PEOPLE)}  # nobody lost
    twice = sum(count - 1 for count in delivered.values())
    assert twice <= CONCURRENCY, f"{twice} messages went out twice"
    report = [t for t in fake.texts(VERBINDER) if "is klaar" in t][-1]
    assert f"Bericht {made} is klaar." in report
    log = (tmp_path / "first.log").read_text() + (tmp_path / "stderr.log").read_text()
    assert "Nieuws van de Alliantie" not in log  # no message text in the logs
    assert f"announcement {made}: {PEOPLE} recipients queued" in log


async def test_the_cli_in_a_second_process_while_the_bot_runs(
    tmp_path: Path, database_url: str
) -> None:
    url = normalise_database_url(database_url)
    async with db.connected(url, 5) as engine:
        await db.upgrade(engine)
        await add_people(
            db.session_factory(engine),
            [
                person(
                    i,
                    platform="telegram",
                    platform_user_id=str(FIRST + i),
                    private_chat_id=str(FIRST + i),
                    roles="gangmaker" if i < 3 else "",
                )
                for i in range(5)
            ],
        )
    (tmp_path / "bericht.txt").write_text("Gangmakersoverleg verplaatst", encoding="utf-8")
    async with FakeBotApi(token=TOKEN) as fake:
        env = _env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            RUN_SCHEDULER="false",
            QUIET_HOURS="",
        )
        process = await _run(tmp_path, env)
        try:
            await fake.wait_for("getUpdates", 1, timeout=60)
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "broadcast", "send",
                "--audience", "role:gangmaker", "--text-file", "bericht.txt", "--yes",
                env=env, cwd=tmp_path,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(cli.communicate(), timeout=60)
            assert cli.returncode == 0, err.decode()
            assert "recipients: 3 (telegram 3)" in out.decode()
            await fake.wait_until(lambda: len(_delivered(fake)) >= 3, timeout=30)
        finally:
            await _stop(process)
    assert set(_delivered(fake)) == {FIRST, FIRST + 1, FIRST + 2}
    assert fake.texts(FIRST) == ["Gangmakersoverleg verplaatst"]
