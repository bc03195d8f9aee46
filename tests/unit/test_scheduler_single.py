"""SQLite stays single-process for the scheduler: a second process that would run
jobs on the same file is refused with one line that names the file and what to do;
once the first lets go, the lock can be taken again. PostgreSQL and an in-memory
database take no lock (PostgreSQL elects a leader instead)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli
from bot.scheduling import single
from bot.settings import ConfigError, Settings
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the scheduler lock of ``tmp_path/bot.db`` until its
    standard input closes."""
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    code = textwrap.dedent(
        f"""
        import sys
        from bot.scheduling import single
        lock = single.acquire({url!r}, runs_jobs=True)
        print("held", flush=True)
        sys.stdin.read()
        lock.release()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.readline() == "held\n"
    try:
        yield process
    finally:
        if process.poll() is None:
            process.stdin.close()
            process.wait()


def let_go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    assert process.wait() == 0


def test_a_second_process_is_refused_until_the_first_lets_go(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    with pytest.raises(ConfigError) as refused:
        single.acquire(url, runs_jobs=True)
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith("RUN_SCHEDULER: another process")
    assert f"(pid {holder.pid})" in line
    assert str(tmp_path / "bot.db") in line
    assert "RUN_SCHEDULER=false" in line and "PostgreSQL" in line

    # Without running jobs there is nothing to refuse: the second worker may add jobs.
    assert single.acquire(url, runs_jobs=False) is None

    let_go(holder)
    lock = single.acquire(url, runs_jobs=True)
    assert lock is not None and lock.held
    assert lock.path == tmp_path / "bot.db.scheduler.lock"
    lock.release()
    assert not lock.held
    lock.release()  # twice is harmless
    again = single.acquire(url, runs_jobs=True)
    assert again is not None
    again.release()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://bot@localhost:5432/bot",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true",
    ],
)
def test_nothing_to_lock(url: str) -> None:
    assert single.lock_path(url) is None
    assert single.acquire(url, runs_jobs=True) is None


@pytest.fixture
def console_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`alliantiebot chat` on ``tmp_path/bot.db``, with "/start" typed."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATA_KEY", TEST_KEY)
    monkeypatch.setenv("HTTP_PORT", "0")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\n"))


@pytest.mark.usefixtures("console_env")
def test_the_cli_refuses_a_second_scheduler_with_one_line(
    holder: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["chat"]) == cli.EXIT_CONFIG
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("alliantiebot: configuration error: RUN_SCHEDULER: another")
    assert out == ""

    # The second process without the scheduler's jobs starts and talks.
    monkeypatch.setenv("RUN_SCHEDULER", "false")
    assert cli.main(["chat"]) == 0
    assert "Ik ben de chatbot" in capsys.readouterr().out


@pytest.mark.usefixtures("console_env")
def test_the_cli_lets_go_of_the_lock_when_it_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["chat"]) == 0
    assert "Ik ben de chatbot" in capsys.readouterr().out
    lock = single.acquire(f"sqlite+aiosqlite:///{tmp_path}/bot.db", runs_jobs=True)
    assert lock is not None
    lock.release()
