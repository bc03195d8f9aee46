"""`alliantiebot events plan`: the year's proposal printed, as an agenda file that
`events import` takes, and saved (twice: nothing twice), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import cli
from bot.agenda import cli as events_cli
from bot.storage import db
from tests.integration.test_agenda_cli import env, stored  # noqa: F401 - the fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
UIDS = [f"leeratelier-2027-{m}@alliantiepg.nl" for m in ("03", "06", "11")]


def test_the_proposal_is_printed_and_nothing_is_stored(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"2027-03-25 Thu 15:00-17:00  Leeratelier Positieve Gezondheid  @ Hogeschool Leiden  "
        f"hosts hogeschool-leiden  uid {UIDS[0]}",
        f"2027-06-15 Tue 15:00-17:00  Leeratelier Positieve Gezondheid  @ Hogeschool Leiden  "
        f"hosts hogeschool-leiden  uid {UIDS[1]}",
        f"2027-11-18 Thu 15:00-17:00  Leeratelier Positieve Gezondheid  @ Hogeschool Leiden  "
        f"hosts hogeschool-leiden  uid {UIDS[2]}",
    ]
    assert stored() == []


def test_saving_the_plan_twice_adds_it_once(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["events", "plan", "leeratelier", "--year", "2027", "--save"]) == 0
    assert "leeratelier 2027: 3 added, 0 already in the agenda" in capsys.readouterr().out
    first = stored()
    assert [e["uid"] for e in first] == UIDS
    assert {(e["kind"], e["zone"], e["address"], e["hosts"]) for e in first} == {
        ("leeratelier", "Europe/Amsterdam", "Hogeschool Leiden", ("hogeschool-leiden",))
    }

    assert cli.main(["events", "plan", "leeratelier", "--year", "2027", "--save"]) == 0
    out = capsys.readouterr().out
    assert "0 added, 3 already in the agenda" in out
    assert out.count("(already in the agenda)") == 3
    assert stored() == first


def test_the_yaml_imports_and_an_adjusted_date_is_kept(
    env: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027", "--yaml"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# leeratelier 2027: proposed by alliantiebot events plan.")
    # the verbinder moves June a week and gives it a theme, in an editor
    adjusted = text.replace('"2027-06-15 15:00"', '"2027-06-22 15:00"', 1).replace(
        'title: Leeratelier Positieve Gezondheid\n  start: "2027-06',
        "title: 'Leeratelier: Veerkracht'\n  start: \"2027-06",
        1,
    )
    assert adjusted.count("2027-06-22") == 1 and "Veerkracht" in adjusted
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(adjusted, encoding="utf-8")

    assert cli.main(["events", "import", str(plan_file)]) == 0
    assert "3 events: 3 added" in capsys.readouterr().out
    june = next(e for e in stored() if e["uid"] == UIDS[1])
    assert (june["start"], june["title"]) == (
        datetime(2027, 6, 22, 15, 0),
        "Leeratelier: Veerkracht",
    )

    # planning again shows June as stored, and saving does not put it back
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027", "--save"]) == 0
    out = capsys.readouterr().out
    assert "2027-06-22 Tue 15:00-17:00  Leeratelier: Veerkracht" in out
    assert "0 added, 3 already in the agenda" in out
    june_again = next(e for e in stored() if e["uid"] == UIDS[1])
    assert june_again == june


def test_a_kind_without_rules_is_refused_with_the_kinds_that_have_some(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["events", "plan", "bestuurders", "--year", "2027"]) == 1
    err = capsys.readouterr().err
    assert "no rules for the kind 'bestuurders' (kinds with rules: leeratelier, gangmakers)" in err


def test_a_past_year_proposes_nothing(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["events", "plan", "leerateliers", "--year", "2026", "--save"]) == 0
    out = capsys.readouterr().out
    assert "2026-03-26  left out: not in the future" in out
    assert "no dates to propose for leeratelier in 2026" in out
    assert "0 added" in out
    assert stored() == []


def test_planning_without_save_does_not_upgrade_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like list and export, a plan that stores nothing only reads: an older database
    is not migrated by it (--save migrates it, like import)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_KEY_FILE", str(tmp_path / "data.key"))
    monkeypatch.setattr(events_cli, "_now", lambda: NOW)

    async def make_old() -> None:
        async with db.connected(url.replace("sqlite:", "sqlite+aiosqlite:"), 5) as engine:
            await db.upgrade(engine, "0007")  # before the agenda

    asyncio.run(make_old())
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027"]) == 1
    assert "db upgrade" in capsys.readouterr().err
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027", "--save"]) == 0
    assert "3 added" in capsys.readouterr().out
