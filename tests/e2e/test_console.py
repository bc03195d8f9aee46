"""The console bot as a person (or a script) uses it: a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage import db
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "TELEGRAM_", "SLACK_", "BOT_", "DATA_KEY"))
    }
    env.update(
        DATABASE_URL=database_url,
        DATA_KEY=TEST_KEY,
        LOG_LEVEL="WARNING",
        DB_STARTUP_TIMEOUT="2",
        PYTHONIOENCODING="utf-8",
        HTTP_PORT="0",
    )
    env.update(extra)
    return env


def _bot(
    tmp_path: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_scripted_conversation_shows_welcome_help_and_language_choice(
    tmp_path: Path, database_url: str
) -> None:
    result = _bot(tmp_path, _env(tmp_path, database_url), "chat", stdin="/start\n/help\n/taal\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> /start" in out
    assert "Ik ben de chatbot van de Alliantie Positieve Gezondheid" in out
    assert "1. Stel een vraag" in out and "2. Vul je spinnenweb in" in out
    assert "/stop – geen berichten meer van mij krijgen" in out
    assert "In welke taal wil je met mij praten?" in out
    assert "1. Nederlands" in out and "2. English" in out
    assert "Traceback" not in result.stderr


def test_choices_by_number_and_label_and_user_name(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    result = _bot(
        tmp_path, env, "chat", "--user", "Fatima", stdin="/taal\n2\n/start\nwhat can I do here\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Hi Fatima!" in result.stdout
    assert "from now on I will talk English" in result.stdout
    assert "This is what you can say to me:" in result.stdout
    # The language is stored: a new session for the same person continues in English.
    again = _bot(tmp_path, env, "chat", "--user", "Fatima", stdin="/start\n")
    assert "Hi Fatima!" in again.stdout


def test_run_without_tokens_is_the_console_bot(tmp_path: Path, database_url: str) -> None:
    # Piped input is not a terminal: `run` talks there only when ALLOW_CONSOLE says so.
    env = _env(tmp_path, database_url, ALLOW_CONSOLE="1")
    result = _bot(tmp_path, env, "run", stdin="/start\n")
    assert result.returncode == 0, result.stderr
    assert "Ik ben de chatbot" in result.stdout


def test_default_database_needs_no_configuration(tmp_path: Path) -> None:
    env = _env(tmp_path, "")
    del env["DATABASE_URL"], env["DATA_KEY"]
    result = _bot(tmp_path, env, "chat", stdin="/start\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "alliantiebot.db").exists()
    assert (tmp_path / "data" / "data.key").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/bot"),
        ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none"),
        ("HTTP_PORT", "99999"),
        ("DATA_KEY", "not-a-key"),
    ],
)
def test_misconfiguration_gives_one_clear_line_and_exit_2(
    tmp_path: Path, name: str, value: str
) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path}/x.db", DB_STARTUP_TIMEOUT="0")
    env[name] = value
    result = _bot(tmp_path, env, "chat", stdin="/start\n")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"alliantiebot: configuration error: {name}: ")
    assert result.stdout == ""


def test_db_upgrade_command(tmp_path: Path, database_url: str) -> None:
    result = _bot(tmp_path, _env(tmp_path, database_url), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in (
        f"upgraded from empty to {db.head_revision()}",
        f"already at {db.head_revision()}",  # PostgreSQL: the session's shared database
    )


def test_installed_console_script_exists() -> None:
    script = Path(sys.executable).with_name("alliantiebot")
    assert script.exists(), "pip install should create the alliantiebot command"
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and "alliantiebot" in result.stdout


def test_sigterm_stops_a_waiting_console_bot_cleanly(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path}/bot.db")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("/start\n")
    process.stdin.flush()
    for line in process.stdout:  # wait until the bot has answered, input still open
        if "Kies hieronder" in line:
            break
    process.terminate()
    assert process.wait(timeout=30) == 0


def test_busy_http_port_is_a_configuration_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, f"sqlite:///{tmp_path}/bot.db", HTTP_PORT=str(port))
        env["ALLOW_CONSOLE"] = "1"  # piped input: the console only when allowed
        result = _bot(tmp_path, env, "run", stdin="/start\n")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("alliantiebot: configuration error: HTTP_PORT: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_console_labels_follow_language_and_logs_stay_out_of_the_chat(
    tmp_path: Path, database_url: str
) -> None:
    """After /taal en the console's own lines are English; a crisis message's
    warning goes to the chat's log file, not between the lines of the conversation."""
    result = _bot(
        tmp_path,
        _env(tmp_path, database_url),
        "chat",
        stdin="ik wil niet meer leven\n/taal en\n",
    )
    assert result.returncode == 0, result.stderr
    assert "113" in result.stdout
    assert "WARNING" not in result.stderr
    assert result.stdout.rstrip().endswith("Goodbye!"), result.stdout[-300:]
    assert "Tot ziens!" not in result.stdout
    log = tmp_path / "data" / "alliantiebot-chat.log"
    assert "WARNING" in log.read_text(encoding="utf-8")
    assert log.stat().st_mode & 0o777 == 0o600


def test_a_reader_that_goes_away_ends_the_chat_quietly(tmp_path: Path) -> None:
    """``alliantiebot chat < script | head -3``: no BrokenPipeError traceback."""
    database_url = f"sqlite:///{tmp_path}/bot.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp_path, database_url, ALLOW_CONSOLE="1"),
        cwd=tmp_path,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"/help\n" * 50)
    process.stdin.close()
    process.stdout.readline()
    process.stdout.close()  # as head does after its lines
    assert process.wait(timeout=120) is not None
    assert process.stderr is not None
    err = process.stderr.read()
    process.stderr.close()
    assert b"Traceback" not in err, err.decode()
    assert process.returncode == 0
