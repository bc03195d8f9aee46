"""Context's ports (bot/core/ports.py) keep their promise about the transaction:
what changes the world outside the database waits until the message commits."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from bot.core.ports import Files
from bot.paths import OwnerFiles


async def test_private_files_are_made_at_once_and_removed_only_after_commit(
    tmp_path: Path,
) -> None:
    committed: list[Callable[[], object]] = []
    files = Files(OwnerFiles(tmp_path / "images", tmp_path / "exports"), committed.append)
    picture = await files.picture(7, "web", lambda path: path.write_bytes(b"png"))
    export = await files.export(7, "data.json", "{}")
    other = await files.export(8, "data.json", "{}")
    assert stat.S_IMODE(picture.stat().st_mode) == 0o600
    assert stat.S_IMODE(export.stat().st_mode) == 0o600

    files.remove_owner(7)
    assert picture.exists() and export.exists()  # a rollback would keep them
    (after_commit,) = committed
    await after_commit()  # type: ignore[misc]
    assert not picture.exists() and not export.exists()
    assert other.exists()  # only the owner's


async def test_what_a_person_sent_is_removed_after_commit_except_what_is_still_needed(
    tmp_path: Path,
) -> None:
    committed: list[Callable[[], object]] = []
    media = tmp_path / "media"
    media.mkdir()
    files = Files(OwnerFiles(tmp_path / "images", tmp_path / "exports", media), committed.append)
    sent = [
        media / name for name in ("telegram-42-a.jpg", "telegram-42-b.pdf", "telegram-421-c.jpg")
    ]
    for path in sent:
        path.write_bytes(b"x")

    files.remove_sent("telegram", "42", keep=[sent[1]])
    assert all(path.exists() for path in sent)  # not before the commit
    (after_commit,) = committed
    await after_commit()  # type: ignore[misc]
    assert [path.exists() for path in sent] == [False, True, True]
