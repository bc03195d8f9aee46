"""Folders and files with health data are owner-only: 0700 folders, 0600 files."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.charts import render_web
from bot.paths import private_dir, private_file, write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual laptop umask (0022), which gives 0755 folders and 0644 files."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("loose_umask")
def test_private_dir_creates_missing_folders_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "data" / "images"
    assert private_dir(target) == target
    assert _mode(tmp_path / "data") == 0o700
    assert _mode(target) == 0o700
    assert private_dir(target) == target  # a second call is fine


@pytest.mark.usefixtures("loose_umask")
def test_private_dir_leaves_an_existing_folder_alone(tmp_path: Path) -> None:
    existing = tmp_path / "data"
    existing.mkdir(mode=0o750)
    existing.chmod(0o750)  # set up by the operator, on purpose
    private_dir(existing / "exports")
    assert _mode(existing) == 0o750
    assert _mode(existing / "exports") == 0o700


def test_private_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "data")


@pytest.mark.usefixtures("loose_umask")
def test_private_file_creates_the_database_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "data" / "alliantiebot.db"
    private_file(db)
    assert _mode(db.parent) == 0o700
    assert _mode(db) == 0o600
    # SQLite takes the empty file as a new database, and its WAL files get its mode.
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    assert _mode(db) == 0o600
    assert _mode(db.with_name(db.name + "-wal")) == 0o600
    conn.close()


def test_private_file_keeps_an_existing_file(tmp_path: Path) -> None:
    db = tmp_path / "alliantiebot.db"
    db.write_bytes(b"kept")
    db.chmod(0o640)
    private_file(db)
    assert db.read_bytes() == b"kept"
    assert _mode(db) == 0o640


def test_private_file_is_writable_under_a_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        private_file(tmp_path / "data" / "alliantiebot.db")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "data") == 0o700
    assert _mode(tmp_path / "data" / "alliantiebot.db") == 0o600


@pytest.mark.usefixtures("loose_umask")
def test_picture_and_export_folders_are_created_owner_only(tmp_path: Path) -> None:
    picture = tmp_path / "data" / "images" / "web.png"
    render_web(picture, ["a", "b", "c"], [1.0, 2.0, 3.0], title="t")
    export = tmp_path / "data" / "exports" / "export.json"
    write_private(export, "{}")
    for folder in (tmp_path / "data", picture.parent, export.parent):
        assert _mode(folder) == 0o700, folder
    assert _mode(export) == 0o600


async def test_a_new_sqlite_database_and_its_folder_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine creates the database file 0600 in a 0700 folder (the umask is 022)."""
    from sqlalchemy import text

    from bot.storage.db import create_engine

    old = os.umask(0o022)
    try:
        path = tmp_path / "data" / "bot.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        await engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
