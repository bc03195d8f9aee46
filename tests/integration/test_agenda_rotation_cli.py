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
    assert "alliantiebot: --from bad.txt: line 2: unknown organisation 'niemand'" in err
    assert "alliantiebot: --from bad.txt: line 3: 'juno' is not a month such as juli" in err
    assert run("--from", "missing.txt") == 1
    assert "--from missing.txt: No such file or directory" in capsys.readouterr().err
    assert cli.main(["events", "plan", "leerateliers", "--year", "2027", "--seed", "1"]) == 1
    assert "leeratelier has no hosts in turn" in capsys.readouterr().err
    assert stored() == []


def test_one_host_alone_is_warned_on_stderr_and_csv_stays_csv(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "one.txt").write_text("reos\n", encoding="utf-8")
    assert run("--from", "one.txt", "--csv") == 0
    captured = capsys.readouterr()
    table = list(csv.DictReader(io.StringIO(captured.out)))
    assert [(r["host_1"], r["host_2"]) for r in table] == [("reos", "")] * 4
    warnings = captured.err.splitlines()
    assert len(warnings) == 4 and all("warning:" in w and "only reos" in w for w in warnings)
    assert warnings[0].startswith("warning: 2027-02-09")

    months = "januari, februari, maart, april, mei, juni, juli, augustus, september, oktober"
    every = f"{months}, november, december"
    (tmp_path / "two.txt").write_text(
        f"reos\ndsv; niet in {every}\nparticipe; niet in {every}\n", encoding="utf-8"
    )
    assert run("--from", "two.txt") == 0
    captured = capsys.readouterr()
    assert captured.err.count("warning:") == 4 and "only reos hosts" in captured.err

    (tmp_path / "fine.txt").write_text("reos\ndsv\nparticipe\n", encoding="utf-8")
    assert run("--from", "fine.txt", "--csv") == 0
    assert capsys.readouterr().err == ""  # two hosts everywhere: no warning


def test_from_takes_names_as_well_as_ids_with_did_you_mean(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "names.txt").write_text(
        "Hecht GGD Hollands Midden\nstichting de steenrots; niet in mei\nDSV\n", encoding="utf-8"
    )
    assert run("--from", "names.txt", "--csv") == 0
    flat = {h for r in rows(capsys) for h in (r["host_1"], r["host_2"])}
    assert flat == {"hecht-ggd", "steenrots", "dsv"}

    (tmp_path / "near.txt").write_text("Hecht GGD Holands Midden\nggd\nniemand\n", encoding="utf-8")
    assert run("--from", "near.txt") == 1
    err = capsys.readouterr().err
    assert "line 1: unknown organisation 'Hecht GGD Holands Midden' (did you mean" in err
    assert "'Hecht GGD Hollands Midden'" in err
    assert "line 2: unknown organisation 'ggd' (did you mean 'Hecht GGD Hollands Midden'?)" in err
    assert "line 3: unknown organisation 'niemand' (see content/organisations.yaml)" in err


def test_ten_years_saved_one_after_another_are_fair_with_niet_in(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The blind user test: each year planned on the stored hosts of the years before."""
    (tmp_path / "v.txt").write_text(
        "reos; niet in februari\ndsv\nparticipe; niet in mei, september\nbalans\nsteenrots\n",
        encoding="utf-8",
    )
    counts: dict[str, int] = {}
    same = 0
    for year in range(2027, 2037):
        args = ["events", "plan", "gangmakers", "--year", str(year), "--from", "v.txt"]
        assert cli.main([*args, "--csv"]) == 0
        table = rows(capsys)
        for r in table:
            for h in (r["host_1"], r["host_2"]):
                counts[h] = counts.get(h, 0) + 1
        same += {table[0]["host_1"], table[0]["host_2"]} == {
            table[2]["host_1"],
            table[2]["host_2"],
        }
        assert cli.main([*args, "--save"]) == 0
        capsys.readouterr()
    assert len(counts) == 5 and max(counts.values()) - min(counts.values()) <= 2, counts
    assert same <= 1
