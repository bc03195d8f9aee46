"""Telegram's file ids of pictures and files the bot has uploaded, to send them again
without uploading.

An announcement with a picture to thousands would upload the same bytes thousands
of times; Telegram lets a bot send a file again by the ``file_id`` it got back. The
cache is in process memory, bounded (least recently used goes first), and keyed by
the file's path, size and modification time, so a file written anew (a person's
next spinnenweb picture under the same name) is uploaded anew. Another worker keeps
its own cache: it uploads once too. No SDK import.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

UploadKey = tuple[str, int, int]  # (path, size, modification time in ns)
CACHE_SIZE = 1024  # file ids kept; a few hundred kilobytes at most


def upload_key(path: Path) -> UploadKey | None:
    """What identifies the file's current content; None when it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


class UploadCache:
    """``file_id`` by :data:`UploadKey`, at most ``size`` of them."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._ids: OrderedDict[UploadKey, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, key: UploadKey | None) -> str | None:
        if key is None or key not in self._ids:
            return None
        self._ids.move_to_end(key)
        return self._ids[key]

    def put(self, key: UploadKey | None, file_id: str) -> None:
        if key is None or not file_id:
            return
        self._ids[key] = file_id
        self._ids.move_to_end(key)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def forget(self, key: UploadKey | None) -> None:
        if key is not None:
            self._ids.pop(key, None)
