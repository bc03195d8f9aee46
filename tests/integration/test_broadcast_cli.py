"""`alliantiebot broadcast`: storing, listing, following and cancelling from a script."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import cli
from bot.storage import db
from bot.storage.repositories.announcements import AnnouncementRepo
from tests.conftest import TEST_KEY
from tests.helpers.broadcast_people import add_people, person


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    for name, value in {
        "DATABASE_URL": database_url,
        "DATA_KEY": TEST_KEY,
        "DATA_KEY_FILE": str(tmp_path / "data.key"),
        "TIMEZONE": "Europe/Amsterdam",
        "QUIET_HOURS": "",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    async def prepare() -> None:
        from bot.settings import load_settings

        settings = load_settings()
        async with db.connected(settings.database_url, 5) as engine:
            await db.upgrade(engine)
            await add_people(
                db.session_factory(engine),
                [
                    person(1, roles="gangmaker", gemeente="leiden"),
                    person(2, roles="gangmaker", gemeente="teylingen"),
                    person(3, gemeente="leiden", messages_enabled=False),
                    person(4, platform="telegram", private_chat_id="44", topics_off="agenda"),
                ],
            )

    asyncio.run(prepare())
    return database_url


def text_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bericht.txt"
    path.write_text(text, encoding="utf-8")
    return path


def stored(database_url: str) -> list[tuple[int, str, str]]:
    from bot.settings import load_settings

    async def read() -> list[tuple[int, str, str]]:
        settings = load_settings()
        async with (
            db.connected(settings.database_url, 5) as engine,
            db.session_factory(engine)() as session,
        ):
            return [(v.id, v.status, v.audience) for v in await AnnouncementRepo(session).recent()]

    return asyncio.run(read())


def test_send_shows_the_preview_and_stores_it(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = text_file(tmp_path, "Leeratelier op 3 april!\n")
    code = cli.main(
        [
            "broadcast",
            "send",
            "--audience",
            "all",
            "--text-file",
            str(path),
            "--topic",
            "agenda",
            "--at",
            "morgen 9:00",
            "--yes",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Leeratelier op 3 april!" in out
    assert "1. Geen berichten meer over de agenda" in out
    assert "recipients: 2 (console 2)" in out
    assert "left out: stopped 1, blocked 0, unsubscribed 1" in out
    assert "09:00 (Europe/Amsterdam)" in out
    assert stored(env) == [(1, "scheduled", "all")]
    assert cli.main(["broadcast", "list"]) == 0
    listing = capsys.readouterr().out
    assert "1  scheduled" in listing and "topic agenda" in listing
    assert cli.main(["broadcast", "status", "1"]) == 0
    assert "Leeratelier op 3 april!" in capsys.readouterr().out
    assert cli.main(["broadcast", "cancel", "1"]) == 0
    assert cli.main(["broadcast", "cancel", "1"]) == 1  # cancelled already
    assert "announcement 1 was cancelled already: nothing to cancel" in capsys.readouterr().err
    assert stored(env) == [(1, "cancelled", "all")]


def test_it_asks_before_storing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = text_file(tmp_path, "Hoi")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    args = ["broadcast", "send", "--audience", "role:gangmaker,gemeente:leiden"]
    assert cli.main([*args, "--text-file", str(path)]) == 1
    assert "recipients: 1 (console 1)" in capsys.readouterr().out
    assert stored(env) == []
    monkeypatch.setattr("builtins.input", lambda prompt: "ja")
    assert cli.main([*args, "--text-file", str(path)]) == 0
    assert stored(env) == [(1, "scheduled", "role:gangmaker,gemeente:leiden")]


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        ("", [], "the text is empty"),
        ("x" * 4001, [], "at most 4000"),
        ("Hoi", ["--audience", "role:koning"], "'role:koning' is not understood"),
        ("Hoi", ["--audience", "all,role:gangmaker"], "all is everyone; leave it out"),
        ("Hoi", ["--at", "gisteren 9:00"], "lies in the past"),
        ("Hoi", ["--at", "ooit"], "is not understood"),
        ("Hoi", ["--at", "za 13 maart 2099 10u"], "does not fit: 13-03-2099 is a Friday"),
        ("Hoi", ["--topic", "sport"], "--topic"),
        ("Hoi", ["--audience", "gemeente:hillegom"], "nobody would get it"),
    ],
)
def test_bad_input_is_one_clear_line_and_stores_nothing(
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    extra: list[str],
    message: str,
) -> None:
    path = text_file(tmp_path, text)
    args = ["broadcast", "send", "--audience", "all", "--text-file", str(path), "--yes", *extra]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert stored(env) == []


def test_a_missing_text_file_is_named(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["broadcast", "send", "--audience", "all", "--text-file", "weg.txt", "--yes"]
    assert cli.main(args) == 1
    assert "--text-file: there is no file weg.txt" in capsys.readouterr().err


def test_the_limit_counts_the_text_as_recipients_read_it(env: str, tmp_path: Path) -> None:
    """*vet* is three characters to a recipient: the markers do not count."""
    path = text_file(tmp_path, "*" + "x" * 3999 + "*")
    args = ["broadcast", "send", "--audience", "all", "--text-file", str(path), "--yes"]
    assert cli.main(args) == 0
    assert len(stored(env)) == 1


@pytest.mark.parametrize("action", [["list"], ["status", "1"], ["cancel", "1"]])
def test_a_mistyped_sqlite_database_is_an_error_and_nothing_is_created(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    action: list[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/typo/bot.db")
    monkeypatch.setenv("DATA_KEY", TEST_KEY)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["broadcast", *action]) != 0
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_an_unknown_id(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["broadcast", "status", "99"]) == 1
    assert "there is no announcement 99" in capsys.readouterr().err
