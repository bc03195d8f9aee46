"""Pictures and files people send: how a channel names and keeps them.

A channel downloads (Telegram) or attaches (the console) a file and hands the core
an :class:`~bot.core.messages.IncomingFile`. A downloaded file lands in
``MEDIA_DIR``, in an owner-only folder, mode 0600 before a byte is written, named
``<platform>-<platform user id>-<unique id><.ext>``: the platform's own unique id of
the file, so the same picture sent twice is stored once, and the person's prefix
(:func:`owner_prefix`) finds all of theirs. Nothing here imports a platform SDK.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from bot.core.messages import FileKind, IncomingFile, clean_text
from bot.paths import private_dir, sender_prefix

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # MEDIA_MAX_BYTES' default
NAME_LIMIT = 255  # characters of a sender's file name we keep
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")


def owner_prefix(platform: str, user_id: str) -> str:
    """Every stored file of one person starts with this (``/vergeetmij`` removes them
    by it: :func:`bot.paths.sender_prefix`)."""
    return sender_prefix(platform, user_id)


def original_name(name: str | None) -> str:
    """The sender's file name as we show it: the last part of any path, on one line,
    no control characters, at most ``NAME_LIMIT`` characters ("" when none)."""
    if not name:
        return ""
    base = PureWindowsPath(PurePosixPath(name).name).name  # "a/b\\c.pdf" -> "c.pdf"
    return " ".join(clean_text(base).split())[:NAME_LIMIT]


def extension(filename: str, mime_type: str | None, default: str = "") -> str:
    """A safe extension for the stored copy: the sender's (".pdf"), else one the
    mime type implies, else ``default``. Lower case, letters and digits only."""
    suffix = PurePosixPath(filename).suffix
    if _EXTENSION.fullmatch(suffix):
        return suffix.lower()
    guessed = mimetypes.guess_extension(mime_type) if mime_type else None
    if guessed and _EXTENSION.fullmatch(guessed):
        return guessed.lower()
    return default


def stored_name(platform: str, user_id: str, unique_id: str, suffix: str) -> str:
    """``telegram-4201-AQADf2k.jpg``: whose it is, which file, what kind."""
    return f"{owner_prefix(platform, user_id)}{_UNSAFE.sub('_', unique_id)[:64]}{suffix}"


def _write_private(path: Path, data: bytes) -> Path:
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file, or a strict umask, gets the mode too
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


async def store(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name`` (0600, owner-only folder), off the event loop."""
    return await asyncio.to_thread(_write_private, folder / name, data)


def kind_of(mime_type: str | None) -> FileKind:
    """A picture by its type, anything else a document (for files that come without
    the platform saying: the console)."""
    return FileKind.IMAGE if (mime_type or "").startswith("image/") else FileKind.DOCUMENT


def _read_local(path: Path, max_bytes: int, copy: bool) -> tuple[Path, int, bytes | None]:
    """(the file's full path, its size, its bytes when they are to be copied)."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(str(path))
    size = path.stat().st_size
    return path, size, path.read_bytes() if copy and size <= max_bytes else None


async def local_file(
    path: Path, *, platform: str, user_id: str, folder: Path | None, max_bytes: int
) -> IncomingFile:
    """A file on this machine as if a person sent it (the console's ``/bijlage``):
    copied into ``folder`` like a download (None: attached where it is), or marked
    too large. Raises OSError when there is no such file."""
    path, size, data = await asyncio.to_thread(_read_local, path, max_bytes, folder is not None)
    name = original_name(path.name)
    mime = mimetypes.guess_type(name)[0]
    if size > max_bytes:
        return IncomingFile(kind_of(mime), None, name, size, mime, too_large=True)
    if folder is None or data is None:
        return IncomingFile(kind_of(mime), path, name, size, mime)
    unique = hashlib.sha256(data).hexdigest()[:32]  # the same file twice: one copy
    copy = stored_name(platform, user_id, unique, extension(name, mime))
    return IncomingFile(kind_of(mime), await store(folder, copy, data), name, len(data), mime)
