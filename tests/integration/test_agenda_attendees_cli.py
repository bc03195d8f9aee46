"""``alliantiebot events attendees <uid> [--csv]`` on SQLite and PostgreSQL: counts and
names per answer (the waitlist in order, someone without a name), a CSV in the event's
local time, and an unknown uid refused."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import cli
from bot.storage import db
from bot.storage.models import AgendaEvent, User
from bot.storage.repositories.agenda import AgendaRepo
from tests.integration.test_agenda_cli import env, one

__all__ = ["env"]  # the fixture, imported to be used here

ANSWERED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam


def answers(people: list[tuple[str | None, str]], capacity: int) -> None:
    """Store an RSVP per (display name, answer) for the event ``a@x``, in order."""
    from bot.settings import load_settings

    async def write() -> None:
        async with (
            db.connected(load_settings().database_url, 5) as engine,
            db.session_factory(engine)() as session,
            session.begin(),
        ):
            repo = AgendaRepo(session)
            event = await repo.get("a@x")
            assert event is not None
            row = await session.get(AgendaEvent, event.id)
            assert row is not None
            row.capacity = capacity
            for n, (name, answer) in enumerate(people):
                user = User(
                    platform="console",
                    platform_user_id=f"p{n}",
                    display_name=name,
                    created_at=ANSWERED,
                    last_seen_at=ANSWERED,
                )
                session.add(user)
                await session.flush()
                await repo.rsvps.answer(event.id, user.id, answer, ANSWERED)

    asyncio.run(write())


def test_attendees_in_words_and_as_csv(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["events", "import", str(one(tmp_path))]) == 0
    answers([("Anna", "yes"), ("Bob", "yes"), (None, "maybe"), ("=Eve", "no")], capacity=1)
    capsys.readouterr()

    assert cli.main(["events", "attendees", "a@x"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "yes: 1  maybe: 1  no: 1  waitlist: 1"
    assert out[2:] == ["yes\tAnna", "maybe\t(no name)", "no\t=Eve", "waitlist #1\tBob"]

    assert cli.main(["events", "attendees", "a@x", "--csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows == [
        ["name", "answer", "waitlist_position", "answered_at"],
        ["Anna", "yes", "", "2026-12-01 10:00"],
        ["Bob", "yes", "1", "2026-12-01 10:00"],
        ["(no name)", "maybe", "", "2026-12-01 10:00"],
        ["'=Eve", "no", "", "2026-12-01 10:00"],
    ]


def test_an_unknown_uid_is_refused(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["events", "attendees", "nope@x"]) == 1
    assert "there is no event with uid 'nope@x'" in capsys.readouterr().err
