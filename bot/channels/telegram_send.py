"""Sending to Telegram: rendering a reply as API calls, and retrying them.

Inside an update (``interactive``) every call gets a few attempts: 429 waits
``retry_after``, network errors and 5xx back off; 400 and 403 are final. For the
outbox, :meth:`TelegramSender.for_outbox` makes one attempt and raises a
:class:`DeliveryError` the outbox's sender understands. A group that became a
supergroup is followed to its new id, for this and every later message.

A reply with ``edit_of`` is an ``editMessageText`` of that message when it can be
("not modified" is done), else a new message. A picture or file goes by the
``file_id`` Telegram gave it the last time it was uploaded from the same, unchanged
file (``telegram_uploads``), so an announcement to thousands uploads it once.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import random
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import DeliveryError
from bot.channels.telegram_format import (
    CAPTION_LIMIT,
    deep_link,
    keyboard_rows,
    split_marked,
    to_html,
    utf16_len,
    valid_callback_data,
)
from bot.channels.telegram_updates import Me
from bot.channels.telegram_uploads import UploadCache, UploadKey, upload_key
from bot.core.markup import Marked, marked_text
from bot.core.messages import Reply

log = logging.getLogger(__name__)

# Inside an update: attempts per API call, and the longest 429 wait we sit out.
INTERACTIVE_ATTEMPTS = 4
NETWORK_RETRY_SECONDS = 0.5  # the first wait after a network error or 5xx; doubles each time
MAX_INLINE_RETRY_AFTER = 30.0
# Bad requests after which this chat will never receive anything.
UNREACHABLE = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid")
# An edit Telegram refuses because there is nothing (left) to edit: send anew instead.
NOT_EDITABLE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "there is no text in the message to edit",
)
NOT_MODIFIED = "message is not modified"  # the edit says what the message says already


@dataclass(slots=True)
class _Upload:
    """The file a part sends: which parameter, from where, and its cache key."""

    field: str  # "photo" or "document"
    path: Path
    key: UploadKey


@dataclass(frozen=True, slots=True)
class _Sent:
    """What the bot uses of a sent text message: its id."""

    message_id: int


@dataclass(slots=True)
class _Part:
    """One API call of a reply."""

    method: Callable[..., Awaitable[Message | _Sent]]
    kwargs: dict[str, Any]
    upload: _Upload | None = None  # a picture or file: sent by id, or uploaded


def _editable(reply: Reply, text: Marked) -> tuple[int, str] | None:
    """(message id, HTML) when ``reply`` can replace its ``edit_of`` message with
    ``text``: a text message (no picture or file) of one part, and an id Telegram
    could have given."""
    edit_of = reply.edit_of or ""
    if not (edit_of.isascii() and edit_of.isdigit()) or reply.image or reply.document:
        return None
    chunks = split_marked(text)
    if len(chunks) > 1 or not (chunks or reply.choices or reply.private_invite):
        return None
    return int(edit_of), to_html(chunks[0]) if chunks else "…"


def uploaded_id(message: Message) -> str:
    """The file id Telegram gave the picture (its largest size) or file just sent."""
    if message.photo:
        return message.photo[-1].file_id
    return message.document.file_id if message.document is not None else ""


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds (22.x gives an int or a timedelta, with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class TelegramSender:
    def __init__(self, bot: Bot, me: Me) -> None:
        self.bot = bot
        self.me = me
        self._moved: dict[str, str] = {}  # group chat id -> its supergroup's id
        self.uploads = UploadCache()  # send a picture to thousands, upload it once
        self._uploading: dict[UploadKey, asyncio.Lock] = {}  # files being uploaded now

    async def for_outbox(self, chat_id: str, reply: Reply) -> str | None:
        """For the outbox: one attempt; the outbox's sender decides about retries."""
        try:
            return await self.deliver(chat_id, reply, interactive=False)
        except Forbidden:
            raise DeliveryError("telegram: forbidden", permanent=True) from None
        except RetryAfter as exc:
            raise DeliveryError("telegram: 429", retry_after=retry_seconds(exc)) from None
        except BadRequest as exc:
            permanent = any(s in exc.message.lower() for s in UNREACHABLE)
            raise DeliveryError(f"telegram: {exc.message}"[:200], permanent=permanent) from None
        except TelegramError as exc:
            raise DeliveryError(f"telegram: {type(exc).__name__}") from None

    def keyboard(self, reply: Reply) -> dict[str, Any] | None:
        """The reply's buttons as the Bot API's JSON for an inline keyboard: what
        :meth:`markup` would become on the way out, without making the library's
        objects first (building and serializing three buttons cost 0.06 ms a reply)."""
        rows: list[list[dict[str, str]]] = []
        for row in keyboard_rows(reply.choices):
            buttons = [
                {"text": choice.label, "url": choice.url}
                if choice.url is not None
                else {"text": choice.label, "callback_data": choice.action}
                for choice in row
                if choice.url is not None or valid_callback_data(choice.action)
            ]
            if buttons:
                rows.append(buttons)
        invite = reply.private_invite
        link = deep_link(self.me.username, invite.start_payload) if invite else None
        if invite is not None and link is not None:
            label = invite.button_label or f"@{self.me.username}"
            rows.append([{"text": label, "url": link}])
        return {"inline_keyboard": rows} if rows else None

    def markup(self, reply: Reply) -> InlineKeyboardMarkup | None:
        """:meth:`keyboard` as the library's object, for its typed methods."""
        found = self.keyboard(reply)
        return None if found is None else InlineKeyboardMarkup.de_json(found, self.bot)

    def text_of(self, reply: Reply) -> str:
        """The reply's text as it reads, with its share link (an invite) below it."""
        return self.marked_of(reply).plain

    def marked_of(self, reply: Reply) -> Marked:
        """:meth:`text_of` with its spans, when the reply is in the markup."""
        share = reply.share_link
        link = deep_link(self.me.username, share.start_payload) if share else None
        marked = marked_text(reply).strip()
        if share is None or link is None:
            return marked
        return Marked(f"{marked.plain}\n\n{share.label}\n{link}", marked.spans)

    async def deliver(self, chat_id: str, reply: Reply, *, interactive: bool) -> str | None:
        """Render one reply as one or more API calls; returns the last message id.

        A reply with ``edit_of`` replaces that message when Telegram lets it (the id
        stays); otherwise it goes out as a new message. Once one part is out, the
        rest is retried here even for the outbox: a retry by the outbox would send
        the first parts again. If a later part still fails, the outbox gets the
        partial delivery as sent (logged)."""
        chat_id = self._moved.get(chat_id, chat_id)
        if reply.edit_of is not None:
            edited = await self._edit(chat_id, reply, interactive=interactive)
            if edited is not None:
                return edited
        sent: Message | _Sent | None = None
        for part in await self._parts(chat_id, reply):
            part.kwargs["chat_id"] = self._moved.get(chat_id, chat_id)
            try:
                sent = await self._send_part(part, interactive=interactive or sent is not None)
            except TelegramError as exc:
                if interactive or sent is None:
                    raise
                log.warning("telegram: reply delivered in part (%s)", type(exc).__name__)
                break
        return str(sent.message_id) if sent is not None else None

    async def _edit(self, chat_id: str, reply: Reply, *, interactive: bool) -> str | None:
        """Replace message ``reply.edit_of`` with the reply's text and buttons. Its id,
        or None when the reply must go as a new message: the message is gone or cannot
        be edited (too old, a picture), or the reply does not fit one text message."""
        target = _editable(reply, self.marked_of(reply))
        if target is None:
            return None
        message_id, text = target
        try:
            await self.call(
                self.bot.edit_message_text,
                interactive=interactive,
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=self.markup(reply),
            )
        except BadRequest as exc:
            reason = exc.message.lower()
            if NOT_MODIFIED in reason:  # it says this already: done
                return str(message_id)
            if not any(s in reason for s in NOT_EDITABLE):
                raise
            log.info("telegram: message not editable; sending it anew")
            return None
        return str(message_id)

    async def _send_part(self, part: _Part, *, interactive: bool) -> Message | _Sent:
        """One API call of a reply."""
        if part.upload is None:
            sent: Message | _Sent = await self.call(
                part.method, interactive=interactive, **part.kwargs
            )
            return sent
        return await self._send_file(part, part.upload, interactive=interactive)

    async def _send_file(self, part: _Part, upload: _Upload, *, interactive: bool) -> Message:
        """A picture or file by the id Telegram gave it when it was uploaded from this
        path (unchanged since), else uploaded. One delivery uploads it while the others
        to the same file wait, then go by its id: an announcement to thousands, sent 50
        at a time, uploads once. An id Telegram no longer takes is forgotten and the
        file uploaded after all."""
        file_id = self.uploads.get(upload.key)
        if file_id is None:
            lock = self._uploading.setdefault(upload.key, asyncio.Lock())
            try:
                async with lock:
                    file_id = self.uploads.get(upload.key)
                    if file_id is None:
                        return await self._upload(part, upload, interactive=interactive)
            finally:
                if not lock.locked():
                    self._uploading.pop(upload.key, None)
        part.kwargs[upload.field] = file_id
        try:
            sent: Message = await self.call(part.method, interactive=interactive, **part.kwargs)
        except BadRequest:
            self.uploads.forget(upload.key)
            return await self._upload(part, upload, interactive=interactive)
        return sent

    async def _upload(self, part: _Part, upload: _Upload, *, interactive: bool) -> Message:
        part.kwargs[upload.field] = await asyncio.to_thread(upload.path.read_bytes)
        sent: Message = await self.call(part.method, interactive=interactive, **part.kwargs)
        self.uploads.put(upload.key, uploaded_id(sent))
        return sent

    async def _parts(self, chat_id: str, reply: Reply) -> list[_Part]:
        """The API calls for one reply: text (split), then any picture or file; the
        keyboard on the last call, a short text as the caption."""
        bot = self.bot
        keyboard = self.keyboard(reply)
        text = self.marked_of(reply)
        files: list[tuple[Callable[..., Awaitable[Message]], str, Path, str | None]] = []
        if reply.image is not None:
            files.append((bot.send_photo, "photo", reply.image.path, None))
        if reply.document is not None:
            doc = reply.document
            files.append((bot.send_document, "document", doc.path, doc.filename))
        texts: list[Marked] = []
        if not files:
            texts = split_marked(text) or ([Marked("…")] if keyboard else [])
        elif utf16_len(text.plain) > CAPTION_LIMIT:
            texts = split_marked(text)
            text = Marked(reply.image.alt if reply.image is not None else "")
        parts = [
            _Part(self._send_text, {"chat_id": chat_id, "text": to_html(chunk)}) for chunk in texts
        ]
        for number, (method, field, path, filename) in enumerate(files, start=1):
            first = number == 1 and text.plain
            caption = split_marked(text, CAPTION_LIMIT)[0] if first else Marked("")
            kwargs: dict[str, Any] = {"chat_id": chat_id, "caption": to_html(caption) or None}
            if filename is not None:
                kwargs["filename"] = filename
            parts.append(await self._file_part(method, kwargs, field, path))
        for part in parts:
            part.kwargs["parse_mode"] = ParseMode.HTML
        if parts and keyboard is not None:
            last = parts[-1]
            # The text call takes the JSON as it is; the library's typed methods for a
            # picture or file take its object.
            typed = last.method != self._send_text
            last.kwargs["reply_markup"] = (
                InlineKeyboardMarkup.de_json(keyboard, bot) if typed else keyboard
            )
        return parts

    async def _send_text(self, **kwargs: Any) -> _Sent:
        """``sendMessage``, without making a ``Message`` of Telegram's answer: the bot
        needs only its id, and python-telegram-bot's ``Message.de_json`` cost about
        0.45 ms a reply (measured), a tenth of the bot's own CPU per update. This is
        what ``Bot.send_message`` does before that step (``Bot._post``, the same
        request, defaults and errors); the public ``do_api_request`` would warn at
        every call that ``send_message`` exists."""
        result = await self.bot._post("sendMessage", kwargs)
        return _Sent(int(result["message_id"]))

    @staticmethod
    async def _file_part(
        method: Callable[..., Awaitable[Message]],
        kwargs: dict[str, Any],
        field: str,
        path: Path,
    ) -> _Part:
        """A picture or file; sent by id or uploaded when its turn comes (``_send_file``).
        A file that is not there fails the reply before any part of it is sent."""
        key = await asyncio.to_thread(upload_key, path)
        if key is None:
            raise FileNotFoundError(str(path))
        return _Part(method, kwargs, _Upload(field, path, key))

    async def call(
        self, method: Callable[..., Awaitable[Any]], *, interactive: bool, **kwargs: Any
    ) -> Any:
        """One API call; inside an update with retries on 429, network errors and 5xx."""
        attempts = INTERACTIVE_ATTEMPTS if interactive else 1
        attempt = 0
        moved = False
        while True:
            attempt += 1
            last = attempt >= attempts
            try:
                return await method(**kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                if last or wait > MAX_INLINE_RETRY_AFTER:
                    raise
                log.info("telegram: 429, waiting %.1f s", wait)
                await asyncio.sleep(wait)
            except ChatMigrated as exc:  # a group became a supergroup: follow it once
                if moved:
                    raise
                moved = True
                attempt -= 1  # not a failed attempt, a new address
                self._moved[str(kwargs["chat_id"])] = str(exc.new_chat_id)
                kwargs["chat_id"] = exc.new_chat_id
            except (BadRequest, Forbidden, InvalidToken):
                raise  # retrying will not help (BadRequest is a NetworkError subclass)
            except NetworkError as exc:
                if last:
                    raise
                delay = NETWORK_RETRY_SECONDS * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)  # noqa: S311
                log.info("telegram: %s, retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
