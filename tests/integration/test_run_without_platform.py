"""`alliantiebot run` with no platform token talks on standard input only when someone
can type there: on a terminal, or with ALLOW_CONSOLE=1. Otherwise (a detached
container, a service manager) it refuses with one line and exit 2, before it creates
anything, instead of reading an empty input, exiting 0 and being restarted for ever.
The Docker image sets ALLOW_CONSOLE=false, so there a terminal does not count either.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.settings import ConfigError, Settings, load_settings
from tests.conftest import TEST_KEY


class Terminal(io.StringIO):
    """Standard input that says it is a terminal (what `docker run -it` or a shell gives)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATA_KEY", TEST_KEY)
    monkeypatch.setenv("HTTP_PORT", "0")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    return work


def refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    assert cli.main(["run"]) == cli.EXIT_CONFIG
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("alliantiebot: configuration error: TELEGRAM_BOT_TOKEN: not set")
    assert "ALLOW_CONSOLE=1" in lines[0]
    assert out == ""
    assert not (tmp_path / "bot.db").exists()  # refused before anything was created
    return lines[0]


def test_no_platform_and_no_terminal_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # `docker run -d`: empty input
    assert "standard input is not a terminal" in refused(capsys, tmp_path)


def test_allow_console_false_refuses_even_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal("/start\n"))  # `docker run -t` in the image
    monkeypatch.setenv("ALLOW_CONSOLE", "false")
    assert "ALLOW_CONSOLE=false" in refused(capsys, tmp_path)


def test_allow_console_starts_the_console_on_piped_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\n"))
    monkeypatch.setenv("ALLOW_CONSOLE", "1")
    assert cli.main(["run"]) == 0
    assert "Ik ben de chatbot" in capsys.readouterr().out


def test_a_terminal_needs_no_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newcomer's `alliantiebot run` in a shell still talks, with nothing configured."""
    monkeypatch.setattr(sys, "stdin", Terminal("/start\n"))
    assert cli.main(["run"]) == 0
    assert "Ik ben de chatbot" in capsys.readouterr().out


def test_chat_ignores_allow_console(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`chat` asks for the terminal chat by name; the setting is about `run`'s fallback."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\n"))
    monkeypatch.setenv("ALLOW_CONSOLE", "false")
    assert cli.main(["chat"]) == 0
    assert "Ik ben de chatbot" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("raw", "value"),
    [("", None), (" ", None), ("1", True), ("true", True), ("0", False), ("false", False)],
)
def test_allow_console_values(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    monkeypatch.setenv("ALLOW_CONSOLE", raw)
    assert load_settings().allow_console is value


def test_a_wrong_allow_console_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_CONSOLE", "sometimes")
    with pytest.raises(ConfigError, match=r"^ALLOW_CONSOLE: .*1 or 0"):
        load_settings()
