"""Spinnenweb check-ins through the console, as a real subprocess on each database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_console import _bot, _env

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"


def _picture(out: str, cwd: Path) -> Path:
    found = re.findall(r"staat in: (\S+\.png)", out)
    assert found, out
    path = cwd / found[-1]
    assert path.read_bytes()[:8] == PNG
    return path


def test_quick_check_in_with_buttons_and_typed_scores(tmp_path: Path, database_url: str) -> None:
    script = [
        "/spinnenweb",
        "Ja, bewaar mijn antwoorden",
        "1",  # Kort
        "7",  # a score button (the label "7")
        "zeven",
        "11",  # out of range: asked again
        "5",
        "terug",
        "6",
        "praten",
        "4",
        "8/10",
        "een 9",
        "nee, klaar",  # no reflection
        "Geen herinnering",
    ]
    result = _bot(tmp_path, _env(tmp_path, database_url), "chat", stdin="\n".join(script) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "mag ik je antwoorden bewaren?" in out
    assert "Het is geen test en geen diagnose" in out
    assert "11 past niet. Kies een cijfer van 0 tot 10." in out
    assert "  [0]  [1]  [2]" in out  # the scores on one row
    for line in (
        "- Lichaamsfuncties: 7",
        "- Mentaal welbevinden: 7",
        "- Zingeving: 6",
        "- Kwaliteit van leven: 4",
        "- Meedoen: 8",
        "- Dagelijks functioneren: 9",
        "Hier wil je over praten: Kwaliteit van leven",
        "Dit is je eerste spinnenweb.",
    ):
        assert line in out, line
    _picture(out, tmp_path)
    assert "Goed, je krijgt geen herinnering." in out
    assert "Klaar! Met /mijnweb" in out


def test_extended_check_in_and_a_second_one_compared(tmp_path: Path, database_url: str) -> None:
    # 45 answers in a burst would trip the flood limit meant for people.
    env = _env(tmp_path, database_url, FLOOD_LIMIT_PER_MINUTE="1000")
    # "2": no reflection (by position); the reminder options carry weeks, so a
    # position means nothing there: no reminder is "nee" (or "Geen herinnering").
    first = ["/spinnenweb", "1", "2", *(["6", "6", "6", "7", "7", "6", "7"] * 6), "2", "nee"]
    result = _bot(tmp_path, env, "chat", stdin="\n".join(first) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Vraag 42 van 42" in result.stdout
    assert "- Zingeving: 6,4" in result.stdout
    assert "Goed, je krijgt geen herinnering." in result.stdout
    # The second check-in: consent is not asked again, and the change is shown.
    second = ["/spinnenweb", "Kort (6 vragen)", "8", "5", "6", "4", "7", "9", "2", "nee"]
    result = _bot(tmp_path, env, "chat", stdin="\n".join(second) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "mag ik je antwoorden bewaren?" not in out
    assert "- Lichaamsfuncties: 8 ↑ (was 6,4)" in out
    assert "- Mentaal welbevinden: 5 ↓ (was 6,4)" in out
    _picture(out, tmp_path)
    result = _bot(tmp_path, env, "chat", stdin="/mijnweb\n")
    assert "Je hebt 2 keer je spinnenweb ingevuld" in result.stdout
    assert "- Lichaamsfuncties: 6,4 → 8" in result.stdout


def test_a_check_in_survives_the_bot_stopping(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    result = _bot(tmp_path, env, "chat", stdin="/spinnenweb\n1\n1\n3\n4\n")
    assert result.returncode == 0, result.stderr
    assert "Vraag 3 van 6" in result.stdout
    # A new process (a restart) finds the check-in where it was left.
    result = _bot(tmp_path, env, "chat", stdin="/spinnenweb\nVerder gaan\n5\n6\n7\n8\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Je was bij vraag 3 van 6." in out
    assert "- Lichaamsfuncties: 3" in out and "- Dagelijks functioneren: 8" in out


def test_consent_refused_shows_the_web_and_keeps_nothing(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    script = ["/spinnenweb", "Nee, niet bewaren", "Kort (6 vragen)", "5", "5", "5", "5", "5", "5"]
    result = _bot(tmp_path, env, "chat", stdin="\n".join(script) + "\n/mijnweb\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "- Meedoen: 5" in out
    assert "Zoals afgesproken heb ik je antwoorden niet bewaard." in out
    assert "Je hebt nog geen bewaard spinnenweb." in out


def test_production_without_a_data_key_stops_with_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}", ENVIRONMENT="production")
    env.pop("DATA_KEY")
    result = _bot(tmp_path, env, "chat", stdin="/spinnenweb\n")
    assert result.returncode == 2
    assert "DATA_KEY: required when ENVIRONMENT=production" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "data.key").exists()
