"""Where the curated content lives, and the owner-only folders and files for data.

:class:`OwnerFiles` is the private-files port (``bot.core.ports.PrivateFiles``):
pictures and exports made for one person, 0600 from the moment they exist, named
with :func:`owner_prefix` so that /vergeetmij removes them all.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_dir(override: Path | None = None) -> Path:
    """Return the content directory.

    A wheel carries ``content/`` inside the package as ``bot/_content`` (see
    pyproject); a source checkout or editable install has it beside ``bot/``.
    """
    candidates = [override] if override is not None else []
    candidates += [_PACKAGE / "_content", _PACKAGE.parent / "content"]
    for candidate in candidates:
        if candidate is not None and (candidate / "messages").is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates if c is not None)
    raise FileNotFoundError(f"content directory not found (looked in {searched})")


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700; return it.

    Only folders created here are set to 0700 (a chmod after mkdir, so the umask
    does not matter). A folder that already exists keeps its mode: the operator
    may have set it up on purpose (the image makes /app/data 0700 itself).
    """
    path = path.expanduser()
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another worker made it at the same moment, with this mode
        folder.chmod(0o700)
    if not path.is_dir():
        raise NotADirectoryError(f"not a directory: {path}")
    return path


def private_file(path: Path) -> Path:
    """Create an empty ``path`` with mode 0600 if it does not exist; return it.

    For the SQLite database: created before SQLite opens it, it is never readable
    by others (SQLite gives its journal and WAL files the database's mode). An
    existing file keeps its mode.
    """
    path = path.expanduser()
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, 0o600)  # a strict umask must not leave it unwritable
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, created with mode 0600 when opened, in an
    owner-only folder; an existing file is emptied first and made 0600."""
    private_dir(path.parent)
    fd = _open_private(path)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _open_private(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file, or a strict umask, gets the mode too
    return fd


def owner_prefix(user_id: int) -> str:
    """Pictures and exports of one person start with this, so /vergeetmij finds them."""
    return f"u{user_id}-"


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def sender_prefix(platform: str, platform_user_id: str) -> str:
    """Pictures and files a person sent (``MEDIA_DIR``) start with this."""
    return f"{_UNSAFE_NAME.sub('_', platform)}-{_UNSAFE_NAME.sub('_', platform_user_id)}-"


def remove_files(
    folders: Iterable[Path],
    *,
    older_than: datetime | None = None,
    prefix: str = "",
    keep: Collection[Path] = (),
) -> int:
    """Delete generated files (pictures, exports) or received ones: all starting with
    ``prefix``, or those last changed before ``older_than``; never one in ``keep``
    (a picture a scheduled announcement still needs). Returns how many were removed."""
    kept = {path.resolve() for path in keep}
    removed = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.is_file() or not path.name.startswith(prefix):
                continue
            if kept and path.resolve() in kept:
                continue
            if older_than is not None and path.stat().st_mtime >= older_than.timestamp():
                continue
            path.unlink(missing_ok=True)
            removed += 1
    return removed


class OwnerFiles:
    """Private files of people, in ``images`` (pictures) and ``exports``; the file
    work runs in a worker thread, off the event loop."""

    def __init__(self, images: Path, exports: Path, media: Path | None = None) -> None:
        self._images = images
        self._exports = exports
        self._media = media

    async def picture(self, owner: int, name: str, draw: Callable[[Path], object]) -> Path:
        path = self._images / f"{owner_prefix(owner)}{name}.png"

        def make() -> None:
            private_dir(path.parent)
            os.close(_open_private(path))  # 0600 before a byte of it is written
            draw(path)

        await asyncio.to_thread(make)
        return path

    async def export(self, owner: int, name: str, text: str) -> Path:
        path = self._exports / f"{owner_prefix(owner)}{name}"
        return await asyncio.to_thread(write_private, path, text)

    async def remove_owner(self, owner: int) -> int:
        folders = (self._images, self._exports)
        return await asyncio.to_thread(remove_files, folders, prefix=owner_prefix(owner))

    async def remove_sent(self, platform: str, user_id: str, keep: Collection[Path]) -> int:
        if self._media is None:
            return 0
        prefix = sender_prefix(platform, user_id)
        return await asyncio.to_thread(remove_files, (self._media,), prefix=prefix, keep=keep)
