"""Where the curated content lives, and the owner-only folders and files for data."""

from __future__ import annotations

import os
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
