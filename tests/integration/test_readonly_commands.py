"""Commands that read the database create and migrate nothing; `db upgrade` says what it did.

`db current`, `content gaps` and `keys status` only read. On a missing database (no
SQLite file, or a database without migrations) they say so in one line and exit 2
(a configuration error: DATABASE_URL points where there is no bot database), and
leave no file or folder behind. `keys rotate` writes, but only to a database that
exists: on a missing one it would "re-encrypt" nothing and report success. The
commands run in-process, in an empty working directory, like an operator would in
the wrong folder.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot import cli
from bot.settings import Settings, normalise_database_url
from bot.storage import db
from tests.helpers.databases import create_postgres_database, require_postgres

READERS = [["db", "current"], ["content", "gaps"], ["keys", "status"], ["keys", "rotate"]]
HEAD = db.head_revision()


def previous_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    down = script.get_revision(HEAD).down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture(autouse=True)
def empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no setting from the environment of the test run."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no .env of the developer's, and ./data is ours to watch
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DB_STARTUP_TIMEOUT", "2")
    return work


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL where no bot database is yet: a missing SQLite file, or a new,
    empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'bot.db'}"
        return
    require_postgres()
    for database in create_postgres_database():
        yield database.url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("alliantiebot: configuration error: DATABASE_URL: "), err
    return lines[0]


def tables(url: str) -> list[str]:
    path = db.sqlite_file(normalise_database_url(url))
    if path is not None:
        with sqlite3.connect(path) as conn:
            return [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]

    async def names() -> list[str]:
        engine = db.create_engine(normalise_database_url(url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda c: inspect(c).get_table_names())
        finally:
            await engine.dispose()

    return asyncio.run(names())


def migrate(url: str, revision: str = "head") -> None:
    async def go() -> None:
        engine = db.create_engine(normalise_database_url(url))
        try:
            await db.upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_on_the_default_database_in_an_empty_folder_nothing_is_created(
    argv: list[str], empty_directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == cli.EXIT_CONFIG
    line = one_line(err)
    assert "no database at data/alliantiebot.db" in line, line
    assert "alliantiebot db upgrade" in line
    assert out == ""
    assert list(empty_directory.iterdir()) == []  # no data/, no database, no key file


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_a_missing_sqlite_file_elsewhere_creates_no_folder(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/elsewhere/bot.db")
    code, _, err = run(capsys, *argv)
    assert code == cli.EXIT_CONFIG
    assert f"no database at {tmp_path}/elsewhere/bot.db" in one_line(err)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_a_database_without_migrations_is_not_set_up_by_a_reader(
    argv: list[str],
    fresh_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = db.sqlite_file(normalise_database_url(fresh_url))
    if path is not None:  # an empty file, as `touch` or a failed first start leaves it
        path.parent.mkdir()
        sqlite3.connect(path).close()
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    code, out, err = run(capsys, *argv)
    assert code == cli.EXIT_CONFIG
    line = one_line(err)
    assert "has no tables of alliantiebot" in line and "alliantiebot db upgrade" in line, line
    assert out == ""
    assert tables(fresh_url) == []


@pytest.mark.parametrize("argv", [["content", "gaps"], ["keys", "status"]], ids=" ".join)
def test_a_reader_does_not_migrate_an_older_database(
    argv: list[str],
    fresh_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    older = previous_revision()
    migrate(fresh_url, older)
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (cli.EXIT_CONFIG, "")
    line = one_line(err)
    assert f"at revision {older}" in line and HEAD in line and "db upgrade" in line, line
    assert run(capsys, "db", "current")[:2] == (0, f"{older}\n")  # still where it was


def test_db_current_shows_an_older_revision_and_what_to_do(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    older = previous_revision()
    migrate(fresh_url, older)
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    code, out, err = run(capsys, "db", "current")
    assert (code, out) == (0, f"{older}\n")
    assert f"this version's newest is {HEAD}" in err and "db upgrade" in err


def test_readers_read_a_database_at_the_newest_revision(
    fresh_url: str,
    empty_directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrate(fresh_url)
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    assert run(capsys, "db", "current") == (0, f"{HEAD}\n", "")
    assert run(capsys, "content", "gaps") == (0, "no unanswered questions recorded\n", "")
    code, out, _ = run(capsys, "keys", "status")
    assert code == 0 and "keys in DATA_KEY" in out
    assert list(empty_directory.iterdir()) == []  # no key file made to show the status


def test_db_upgrade_says_what_it_did(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    assert run(capsys, "db", "upgrade") == (0, f"upgraded from empty to {HEAD}\n", "")
    assert run(capsys, "db", "upgrade") == (0, f"already at {HEAD}\n", "")
    assert run(capsys, "db", "current") == (0, f"{HEAD}\n", "")


def test_db_upgrade_from_an_older_revision(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    older = previous_revision()
    migrate(fresh_url, older)
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    assert run(capsys, "db", "upgrade") == (0, f"upgraded from {older} to {HEAD}\n", "")


def test_the_head_is_read_from_alembic_not_written_down() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert script.get_current_head() == HEAD
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert f'"{HEAD}"' not in source and f"'{HEAD}'" not in source


def test_a_revision_from_a_newer_version_is_one_line_not_a_traceback(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(fresh_url)

    async def from_the_future() -> None:
        engine = db.create_engine(normalise_database_url(fresh_url))
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        finally:
            await engine.dispose()

    asyncio.run(from_the_future())
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    code, out, err = run(capsys, "db", "upgrade")
    assert (code, out) == (cli.EXIT_CONFIG, "")
    assert "revision 9999, which this version does not know" in one_line(err)
    code, out, err = run(capsys, "db", "current")
    assert (code, out) == (0, "9999\n") and "does not know" in err
