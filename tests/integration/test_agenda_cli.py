"""`alliantiebot events`: importing YAML and .ics files (idempotent on UID, every
problem reported and nothing stored), listing and exporting, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
import recurring_ical_events
import yaml

from bot import cli
from bot.agenda import cli as events_cli
from bot.storage import db
from bot.storage.repositories.agenda import AgendaRepo
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "content" / "agenda.example.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "agenda"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    for name, value in {
        "DATABASE_URL": database_url,
        "DATA_KEY": TEST_KEY,
        "DATA_KEY_FILE": str(tmp_path / "data.key"),
        "TIMEZONE": "Europe/Amsterdam",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(events_cli, "_now", lambda: NOW)

    async def prepare() -> None:
        from bot.settings import load_settings

        async with db.connected(load_settings().database_url, 5) as engine:
            await db.upgrade(engine)

    asyncio.run(prepare())
    return database_url


def stored() -> list[dict[str, Any]]:
    """Every event as stored, as comparable dicts."""
    from bot.settings import load_settings

    async def read() -> list[dict[str, Any]]:
        async with (
            db.connected(load_settings().database_url, 5) as engine,
            db.session_factory(engine)() as session,
        ):
            return [vars(e) | {} for e in await AgendaRepo(session).all()]

    return asyncio.run(read())


def agenda(tmp_path: Path, body: str, name: str = "agenda.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


ONE = """\
    events:
      - uid: {uid}
        kind: {kind}
        title: Leeratelier
        start: "{start}"
        end: "{end}"
        place: Hogeschool Leiden
        hosts: [{hosts}]
        audience: {audience}
    """


def one(tmp_path: Path, name: str = "agenda.yaml", **values: str) -> Path:
    defaults = {
        "uid": "a@x",
        "kind": "leeratelier",
        "start": "2027-04-01 15:00",
        "end": "17:30",
        "hosts": "hogeschool-leiden",
        "audience": "all",
    }
    return agenda(tmp_path, ONE.format(**(defaults | values)), name)


def test_importing_the_example_twice_gives_the_same_rows(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0
    assert "4 events: 4 added, 0 updated, 0 unchanged" in capsys.readouterr().out
    first = stored()
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0
    assert "0 added, 0 updated, 4 unchanged" in capsys.readouterr().out
    assert stored() == first
    assert sorted(e["kind"] for e in first) == [
        "bestuurders",
        "gangmakers",
        "leeratelier",
        "leeratelier",
    ]
    leeratelier = next(e for e in first if e["uid"] == "leeratelier-2027-04@alliantiepg.nl")
    assert leeratelier["start"] == datetime(2027, 4, 1, 15, 0)
    assert leeratelier["hosts"] == ("hogeschool-leiden",)
    assert leeratelier["rsvp_deadline"] == datetime(2027, 3, 29, 10, 0, tzinfo=UTC)  # 12:00 CEST


def test_a_changed_file_updates_by_uid(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(one(tmp_path))]) == 0
    assert cli.main(["events", "import", str(one(tmp_path, start="2027-04-01 15:30"))]) == 0
    assert "0 added, 1 updated" in capsys.readouterr().out
    (event,) = stored()
    assert (event["status"], event["sequence"], event["start"]) == (
        "changed",
        1,
        datetime(2027, 4, 1, 15, 30),
    )


def test_cancelled_in_the_file_is_cancelled_with_its_uid(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(one(tmp_path))]) == 0
    path = one(tmp_path)
    path.write_text(path.read_text() + "    status: cancelled\n")
    assert cli.main(["events", "import", str(path)]) == 0
    assert "1 cancelled" in capsys.readouterr().out
    (event,) = stored()
    assert (event["uid"], event["status"], event["sequence"]) == ("a@x", "cancelled", 1)
    assert cli.main(["events", "export"]) == 0
    (vevent,) = icalendar.Calendar.from_ical(capsys.readouterr().out).walk("VEVENT")
    assert (str(vevent["uid"]), str(vevent["status"]), vevent.decoded("sequence")) == (
        "a@x",
        "CANCELLED",
        1,
    )


def test_cancel_command_keeps_the_uid(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0
    assert cli.main(["events", "cancel", "bestuurders-2027@alliantiepg.nl"]) == 0
    assert "cancelled" in capsys.readouterr().out
    event = next(e for e in stored() if e["uid"] == "bestuurders-2027@alliantiepg.nl")
    assert (event["status"], event["sequence"]) == ("cancelled", 1)
    assert cli.main(["events", "cancel", "nobody@x"]) == 1
    assert capsys.readouterr().err.startswith("alliantiebot: there is no event with uid 'nobody@x'")


def test_export_parses_back_with_both_parsers(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0
    capsys.readouterr()
    assert cli.main(["events", "export", "-o", str(tmp_path / "out.ics")]) == 0
    raw = (tmp_path / "out.ics").read_bytes()
    assert cli.main(["events", "export"]) == 0
    assert capsys.readouterr().out.encode() == raw
    calendar = icalendar.Calendar.from_ical(raw)
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    found = recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2028, 1, 1))
    assert len(found) == 4
    by_uid = {str(v["uid"]): v for v in found}
    leeratelier = by_uid["leeratelier-2027-04@alliantiepg.nl"]
    # 1 April 2027, after the switch to summer time: 15:00 local is 13:00 UTC
    assert leeratelier.decoded("dtstart").astimezone(UTC) == datetime(2027, 4, 1, 13, 0, tzinfo=UTC)
    assert [str(c) for c in leeratelier.categories] == ["leeratelier"]
    # and importing the export changes nothing
    assert cli.main(["events", "import", str(tmp_path / "out.ics")]) == 0
    assert "4 unchanged" in capsys.readouterr().out


def test_list_shows_upcoming_events_and_what_a_person_sees(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "list"]) == 0
    assert "no upcoming events" in capsys.readouterr().out
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0
    capsys.readouterr()
    assert cli.main(["events", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].startswith(
        "2027-02-11 13:30-16:00 Europe/Amsterdam  gangmakers"
    )
    assert cli.main(["events", "list", "--role", "inwoner", "--gemeente", "leiden"]) == 0
    assert "gangmakers" not in capsys.readouterr().out
    assert cli.main(["events", "list", "--role", "gangmaker"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert cli.main(["events", "list", "--role", "baas"]) == 1
    assert "--role: 'baas' is not one of" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["outlook.ics", "google.ics"])
def test_an_outlook_or_google_file_imports_as_it_is(
    env: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(FIXTURES / name)]) == 0
    events = stored()
    assert events and all(e["audience"] == "all" for e in events)
    assert cli.main(["events", "import", str(FIXTURES / name)]) == 0
    assert f"{len(events)} unchanged" in capsys.readouterr().out
    assert stored() == events


# Each bad file, and the line that must say what is wrong with it.
def _bad(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    return {
        "end before start": (
            one(tmp_path, "a.yaml", end="14:00"),
            "a.yaml: event 1 (a@x): it ends (2027-04-01 14:00) before it starts (2027-04-01 15:00)",
        ),
        "in the past": (
            one(tmp_path, "b.yaml", start="2026-11-12 15:00"),
            "b.yaml: event 1 (a@x): it starts in the past (2026-11-12 15:00)",
        ),
        "unknown gemeente": (
            one(tmp_path, "c.yaml", audience="gemeente:leidn"),
            "c.yaml: event 1 (a@x): unknown gemeente 'leidn'; did you mean 'Leiden'?",
        ),
        "unknown organisation": (
            one(tmp_path, "d.yaml", audience="organisation:bakkerij-jansen"),
            "d.yaml: event 1 (a@x): unknown organisation 'bakkerij-jansen' "
            "(see content/organisations.yaml)",
        ),
        "unknown host": (
            one(tmp_path, "e.yaml", hosts="hogeschool-leidn"),
            "e.yaml: event 1 (a@x): unknown host organisation 'hogeschool-leidn'; "
            "did you mean 'hogeschool-leiden'?",
        ),
        "unknown kind": (
            one(tmp_path, "f.yaml", kind="feestje"),
            "f.yaml: event 1 (a@x): kind 'feestje' is not one of leeratelier, gangmakers, "
            "bestuurders, reflectiecirkel, overig",
        ),
        "unreadable time": (
            one(tmp_path, "g.yaml", start="volgende week"),
            "g.yaml: event 1 (a@x): start 'volgende week' is not a date and time",
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["end before start", "in the past", "unknown gemeente", "unknown organisation", "unknown host",
     "unknown kind", "unreadable time"],
)  # fmt: skip
def test_a_bad_event_is_refused_with_a_clear_line(
    env: str, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, line = _bad(tmp_path)[case]
    assert cli.main(["events", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"alliantiebot: {line}"), err
    assert stored() == []


def test_an_overlapping_duplicate_is_refused_in_the_file_and_against_the_stored(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"kind": "leeratelier", "title": "Leeratelier", "start": "2027-04-01 15:00"}
    both = tmp_path / "both.yaml"
    both.write_text(
        yaml.safe_dump(
            {
                "events": [
                    base | {"uid": "a@x", "end": "17:30"},
                    base | {"uid": "b@x", "end": "16:00"},
                ]
            }
        )
    )
    assert cli.main(["events", "import", str(both)]) == 1
    assert (
        "(b@x): another leeratelier (a@x) starts at the same time (2027-04-01 15:00)"
        in capsys.readouterr().err
    )
    assert stored() == []
    assert cli.main(["events", "import", str(one(tmp_path))]) == 0
    assert cli.main(["events", "import", str(one(tmp_path, "other.yaml", uid="c@x"))]) == 1
    assert "(c@x): another leeratelier (a@x) starts at the same time" in capsys.readouterr().err
    # another kind at the same time is fine
    assert (
        cli.main(["events", "import", str(one(tmp_path, "g.yaml", uid="d@x", kind="gangmakers"))])
        == 0
    )
    assert len(stored()) == 2


def test_every_problem_is_reported_and_nothing_is_stored(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = agenda(
        tmp_path,
        """\
        events:
          - uid: good@x
            kind: leeratelier
            title: Goed
            start: "2027-04-01 15:00"
            end: "17:30"
          - uid: bad@x
            kind: feestje
            title: Fout
            start: "2027-04-02 15:00"
            end: "14:00"
            plaats: Leiden
          - title: Geen uid
            kind: overig
            start: "2027-04-03 15:00"
            end: 21:30
        """,
    )
    assert cli.main(["events", "import", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "alliantiebot: agenda.yaml: event 2 (bad@x): unknown field 'plaats' (fields: uid, kind, "
        "title, description, start, end, zone, place, online, hosts, audience, capacity, "
        "rsvp_by, status)",
        "alliantiebot: agenda.yaml: event 3: uid is missing",
        "alliantiebot: agenda.yaml: event 3: end 1290 is not a date and time; write it as "
        '"2027-03-11 19:30" or, for the same day, "21:30" (with the quotes)',
    ]
    assert stored() == []


def test_files_that_cannot_be_read_are_refused(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "agenda.txt").write_text("x")
    assert cli.main(["events", "import", str(tmp_path / "agenda.txt")]) == 1
    assert "agenda.txt: not a .yaml or .ics file" in capsys.readouterr().err
    assert cli.main(["events", "import", str(tmp_path / "missing.yaml")]) == 1
    assert "missing.yaml: cannot be read" in capsys.readouterr().err
    (tmp_path / "list.yaml").write_text("- uid: x\n")
    assert cli.main(["events", "import", str(tmp_path / "list.yaml")]) == 1
    assert "list.yaml: expected a mapping with a list under 'events:'" in capsys.readouterr().err


def test_an_old_file_imports_again_once_its_events_are_past(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0
    first = stored()
    monkeypatch.setattr(events_cli, "_now", lambda: datetime(2027, 5, 1, 9, 0, tzinfo=UTC))
    assert cli.main(["events", "import", str(EXAMPLE)]) == 0  # stored as it is: not checked
    assert "4 unchanged" in capsys.readouterr().out
    assert stored() == first
    assert cli.main(["events", "list"]) == 0  # two of the four are over
    assert len(capsys.readouterr().out.splitlines()) == 2
