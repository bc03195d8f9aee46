"""Naming and keeping the files people send, and remembering uploads: no SDK, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.media import extension, original_name, owner_prefix, stored_name
from bot.channels.telegram_uploads import UploadCache, upload_key


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("programma.pdf", "programma.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\anna\\foto 1.jpg", "foto 1.jpg"),
        ("regel\nen\tnog\x00een.txt", "regel en nogeen.txt"),
        ("a" * 300 + ".pdf", "a" * 255),
        (None, ""),
        ("", ""),
    ],
)
def test_a_senders_file_name_is_a_name_never_a_path(given: str | None, kept: str) -> None:
    assert original_name(given) == kept


@pytest.mark.parametrize(
    ("filename", "mime", "suffix"),
    [
        ("Verslag.PDF", None, ".pdf"),
        ("geen-extensie", "image/png", ".png"),
        ("", "image/jpeg", ".jpg"),
        ("raar.p d f", None, ".bin"),
        ("x.tar.gz;rm -rf", None, ".bin"),
        ("", None, ".bin"),
    ],
)
def test_the_stored_copy_gets_a_safe_extension(
    filename: str, mime: str | None, suffix: str
) -> None:
    assert extension(filename, mime, ".bin") == suffix


def test_a_stored_name_says_whose_it_is_and_nothing_can_escape_the_folder() -> None:
    name = stored_name("telegram", "4201", "AQAD/../x", ".jpg")
    assert name == "telegram-4201-AQAD____x.jpg"
    assert name.startswith(owner_prefix("telegram", "4201"))
    assert "/" not in stored_name("console", "../anna", "id", "")


def test_the_upload_cache_forgets_the_least_recently_used(tmp_path: Path) -> None:
    files = []
    for number in range(3):
        path = tmp_path / f"{number}.png"
        path.write_bytes(b"x" * (number + 1))
        files.append(upload_key(path))
    cache = UploadCache(size=2)
    cache.put(files[0], "id0")
    cache.put(files[1], "id1")
    assert cache.get(files[0]) == "id0"  # used: now the most recent
    cache.put(files[2], "id2")
    assert len(cache) == 2
    assert cache.get(files[1]) is None
    assert cache.get(files[0]) == "id0" and cache.get(files[2]) == "id2"
    cache.forget(files[0])
    assert cache.get(files[0]) is None
    assert upload_key(tmp_path / "missing.png") is None
    cache.put(None, "nothing")
    assert cache.get(None) is None
