"""`alliantiebot events plan gangmakers`: two hosts a meeting in turn, with --csv,
--from and --seed, on SQLite and PostgreSQL; earlier years' stored hosts go last."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from bot import cli
from tests.integration.test_agenda_cli import env, stored  # noqa: F401 - the fixture

FILE = "reos\nparticipe; niet in mei\n# a comment\ndsv\nmarente; not in september\nkwadraad\n"


def run(*args: str) -> int:
    return cli.main(["events", "plan", "gangmakers", "--year", "2027", *args])


def rows(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_csv_is_only_csv_with_iso_starts_and_two_hosts(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "gastheren.txt").write_text(FILE, encoding="utf-8")

    assert run("--from", "gastheren.txt", "--seed", "7", "--csv") == 0

    out = capsys.readouterr().out
    assert out.splitlines()[0] == "start,host_1,host_2"
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["start"] for r in table] == [
        "2027-02-09T13:30:00+01:00",
        "2027-05-11T13:30:00+02:00",
        "2027-09-28T13:30:00+02:00",
        "2027-11-09T13:30:00+01:00",
    ]
    hosts = [(r["host_1"], r["host_2"]) for r in table]
    volunteers = {"reos", "participe", "dsv", "marente", "kwadraad"}
    assert all(a != b and {a, b} <= volunteers for a, b in hosts)
    flat = [h for pair in hosts for h in pair]
    assert set(flat[:5]) == volunteers  # everyone once before anyone twice
    assert "participe" not in hosts[1] and "marente" not in hosts[2]  # niet in mei / september
    assert len({frozenset(p) for p in hosts}) == 4  # no pair twice
    assert stored() == []

    assert run("--from", "gastheren.txt", "--seed", "7", "--csv") == 0
    assert [(r["host_1"], r["host_2"]) for r in rows(capsys)] == hosts  # the same seed
    others = set()
    for seed in range(8):
        assert run("--from", "gastheren.txt", "--seed", str(seed), "--csv") == 0
        others.add(tuple((r["host_1"], r["host_2"]) for r in rows(capsys)))
    assert len(others) > 1  # the seed matters


def test_without_from_every_partner_volunteers_and_saving_stores_the_hosts(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("--save") == 0
    out = capsys.readouterr().out
    assert "gangmakers 2027: 4 added, 0 already in the agenda" in out
    events = stored()
    assert [e["start"] for e in events] == [
        datetime(2027, 2, 9, 13, 30),
        datetime(2027, 5, 11, 13, 30),
        datetime(2027, 9, 28, 13, 30),
        datetime(2027, 11, 9, 13, 30),
    ]
    assert all(len(e["hosts"]) == 2 for e in events)
    assert all(f"hosts {' + '.join(e['hosts'])}" in out for e in events)
    hosted_2027 = {h for e in events for h in e["hosts"]}
    assert len(hosted_2027) == 8  # 20 partners: nobody twice in a year

    # 2028: those who hosted in 2027 go last
    assert cli.main(["events", "plan", "gangmakers", "--year", "2028", "--csv"]) == 0
    hosts_2028 = {h for r in rows(capsys) for h in (r["host_1"], r["host_2"])}
    assert len(hosts_2028) == 8 and not hosts_2028 & hosted_2027


def test_a_bad_volunteer_file_and_a_series_without_turns_are_refused(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.txt").write_text("reos\nniemand\nreos; niet in juno\n", encoding="utf-8")
    assert run("--from", "bad.txt") == 1
    err = capsys.readouterr().err
    assert "alliantiebot: --from bad.txt: line 2: 'niemand' is not an organisation id" in err
    assert "alliantiebot: --from bad.txt: line 3: 'juno' is not a month such as juli" in err
    assert run("--from", "missing.txt") == 1
    assert "--from missing.txt: No such file or directory" in capsys.readouterr().err
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027", "--seed", "1"]) == 1
    assert "leeratelier has no hosts in turn" in capsys.readouterr().err
    assert stored() == []
