"""`alliantiebot circles compose|history`: the table, CSV only with --csv, the same
circles for the same seed, --from with ids and names, --save with an agenda event per
circle (once), earlier years avoided, and the history, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest

from bot import cli
from bot.circles import cli as circles_cli
from bot.people.directory import directory
from tests.integration.test_agenda_cli import NOW, env, stored  # noqa: F401 - the fixture

PARTNERS = [o.id for o in directory().organisations]


@pytest.fixture
def circles_env(env: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    monkeypatch.setattr(circles_cli, "_now", lambda: NOW)
    return env


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["circles", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def circles_of(out: str) -> list[list[str]]:
    found: dict[str, list[str]] = {}
    for row in rows(out):
        found.setdefault(row["circle"], []).append(row["organisation"])
    return list(found.values())


def test_the_table_is_printed_the_same_for_a_seed_and_nothing_is_stored(
    circles_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "compose", "--year", "2027")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Reflectiecirkels 2027 (seed 0): 20 organisations in 5 circles"
    assert lines[-1] == "pairs that sat together before: none"
    assert sum(line[:3].strip().isdigit() for line in lines[1:-1]) == 5  # a number per circle
    assert any(line.endswith("Hecht GGD Hollands Midden") for line in lines)

    assert run(capsys, "compose", "--year", "2027")[1] == out  # the same seed: the same
    assert run(capsys, "compose", "--year", "2027", "--seed", "4")[1] != out
    assert stored() == []
    assert run(capsys, "history")[1] == (
        "no circles stored yet (alliantiebot circles compose --year YEAR --save)\n"
    )


def test_csv_is_only_csv_with_every_organisation_once(
    circles_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "compose", "--year", "2027", "--csv")

    assert code == 0 and err == ""
    assert out.splitlines()[0] == "circle,organisation"
    table = rows(out)
    assert sorted(r["organisation"] for r in table) == sorted(PARTNERS)
    assert sorted({r["circle"] for r in table}) == ["1", "2", "3", "4", "5"]
    assert all(3 <= len(c) <= 4 for c in circles_of(out))


def test_from_a_file_with_ids_names_and_comments(
    circles_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "deelnemers.txt"
    source.write_text(
        "# dit jaar doen mee\nreos\nParticipe\n\nmarente\nHecht GGD Hollands Midden  # naam\n"
        "dsv\nactivite\nreos\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "compose", "--year", "2027", "--from", str(source), "--csv")
    assert code == 0
    assert sorted(r["organisation"] for r in rows(out)) == sorted(
        ["reos", "participe", "marente", "hecht-ggd", "dsv", "activite"]
    )
    assert [len(c) for c in circles_of(out)] == [3, 3]

    source.write_text("reos\nparticipe\nmarente\nactivit\n", encoding="utf-8")
    code, out, err = run(capsys, "compose", "--year", "2027", "--from", str(source))
    assert code == 1 and out == ""
    assert f"{source}:4: unknown organisation 'activit' (did you mean 'activite'?)" in err

    source.write_text("reos\nparticipe\nmarente\nactivite\ndsv\n", encoding="utf-8")
    code, _, err = run(capsys, "compose", "--year", "2027", "--from", str(source))
    assert code == 1
    assert "5 organisations cannot be split into circles of 3 or 4" in err


def test_save_stores_the_circles_with_an_event_each_once(
    circles_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "compose", "--year", "2027", "--save", "--csv")
    assert code == 0
    assert out.splitlines()[0] == "circle,organisation"  # still only CSV on stdout
    assert "saved: 5 circles of 2027, each with an event (the first on 2027-02-09 14:00" in err
    events = stored()
    assert [e["uid"] for e in events] == [
        f"reflectiecirkel-2027-{n}@alliantiepg.nl" for n in range(1, 6)
    ]
    first = circles_of(out)[0]
    assert events[0]["hosts"] == tuple(first)
    assert events[0]["audience"] == "role:gangmaker,role:bestuurder," + ",".join(
        f"organisation:{org}" for org in first
    )

    code, _, err = run(capsys, "compose", "--year", "2027", "--save")
    assert code == 1
    assert "the circles of 2027 are stored already (circles history)" in err
    assert len(stored()) == 5

    code, out, _ = run(capsys, "history", "--csv")
    assert out.splitlines()[0] == "year,circle,organisation"
    assert {r["year"] for r in rows(out)} == {"2027"}
    assert len(rows(out)) == 20
    code, out, _ = run(capsys, "history")
    assert out.splitlines()[0] == "2027: 5 circles"


def test_the_next_year_avoids_the_pairs_of_the_years_before(
    circles_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    met: set[tuple[str, str]] = set()
    for year in ("2027", "2028", "2029"):
        code, out, _ = run(capsys, "compose", "--year", year, "--save", "--csv")
        assert code == 0
        pairs = {p for c in circles_of(out) for p in itertools.combinations(sorted(c), 2)}
        assert not pairs & met, f"{year} repeats {pairs & met}"
        met |= pairs

    code, out, _ = run(capsys, "history")
    assert [line for line in out.splitlines() if line[:1] == "2"] == [
        "2027: 5 circles",
        "2028: 5 circles",
        "2029: 5 circles",
    ]
