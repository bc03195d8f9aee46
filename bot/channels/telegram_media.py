"""Pictures and files people send on Telegram: found in a message, downloaded.

A photo comes in several sizes; the largest (the last) is taken. A document is
taken as it is. The download goes through the Bot API (``getFile``, then the file
URL), which serves bots files of at most 20 MB; we stop at ``MEDIA_MAX_BYTES``
before asking, by the size the message reports, and again by what arrived. A file
too large is not downloaded: the handler gets it marked ``too_large``. A download
that fails (Telegram away, the file gone) gives the handler the file without a
path, so it can ask for it again; it never fails the update.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from telegram import Bot, Message
from telegram.error import BadRequest, TelegramError

from bot.channels.media import extension, original_name, store, stored_name
from bot.channels.telegram_updates import PLATFORM
from bot.core.messages import FileKind, IncomingFile

log = logging.getLogger(__name__)

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what the Bot API lets a bot download
PHOTO_MIME = "image/jpeg"  # Telegram re-encodes every photo as JPEG


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file in a message, before it is downloaded."""

    file_id: str
    unique_id: str
    kind: FileKind
    filename: str
    size: int | None
    mime_type: str | None


def file_in(message: Message | None) -> FileRef | None:
    """The photo (largest size) or document in ``message``, if there is one."""
    if message is None:
        return None
    if message.photo:
        photo = message.photo[-1]  # Telegram lists the sizes smallest first
        return FileRef(
            photo.file_id, photo.file_unique_id, FileKind.IMAGE, "", photo.file_size, PHOTO_MIME
        )
    document = message.document
    if document is not None:
        return FileRef(
            document.file_id,
            document.file_unique_id,
            FileKind.DOCUMENT,
            original_name(document.file_name),
            document.file_size,
            document.mime_type,
        )
    return None


class MediaFetcher:
    """Downloads files people send into ``folder``, up to ``max_bytes`` each."""

    def __init__(self, bot: Bot, folder: Path, max_bytes: int) -> None:
        self.bot = bot
        self.folder = folder
        self.max_bytes = min(max_bytes, TELEGRAM_DOWNLOAD_LIMIT)

    async def fetch(self, ref: FileRef, user_id: str) -> IncomingFile:
        """The file as the handler sees it: downloaded, too large, or (failed) no path."""
        if ref.size is not None and ref.size > self.max_bytes:
            return self._too_large(ref, ref.size)
        try:
            data = await self._download(ref)
        except BadRequest as exc:
            if "too big" in exc.message.lower():  # getFile: "File is too big"
                return self._too_large(ref, ref.size)
            log.warning("telegram: file not downloaded (%s)", type(exc).__name__)
            return self._without_path(ref)
        except TelegramError as exc:
            log.warning("telegram: file not downloaded (%s)", type(exc).__name__)
            return self._without_path(ref)
        if data is None:
            return self._too_large(ref, ref.size)
        suffix = extension(ref.filename, ref.mime_type, ".bin")
        name = stored_name(PLATFORM, user_id, ref.unique_id, suffix)
        try:
            path = await store(self.folder, name, data)
        except OSError as exc:  # MEDIA_DIR not writable, disk full: said in the log
            log.error("telegram: file not stored in MEDIA_DIR (%s)", type(exc).__name__)
            return self._without_path(ref)
        return IncomingFile(ref.kind, path, ref.filename, len(data), ref.mime_type)

    async def _download(self, ref: FileRef) -> bytes | None:
        """The file's bytes, or None when it turns out larger than the limit."""
        file = await self.bot.get_file(ref.file_id)
        if file.file_size is not None and file.file_size > self.max_bytes:
            return None
        data = bytes(await file.download_as_bytearray())
        return None if len(data) > self.max_bytes else data

    @staticmethod
    def _too_large(ref: FileRef, size: int | None) -> IncomingFile:
        return IncomingFile(ref.kind, None, ref.filename, size, ref.mime_type, too_large=True)

    @staticmethod
    def _without_path(ref: FileRef) -> IncomingFile:
        return IncomingFile(ref.kind, None, ref.filename, ref.size, ref.mime_type)
