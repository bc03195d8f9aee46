"""Sending to Telegram: rendering a reply as API calls, and retrying them.

Inside an update (``interactive``) every call gets a few attempts: 429 waits
``retry_after``, network errors and 5xx back off; 400 and 403 are final. For the
outbox, :meth:`TelegramSender.for_outbox` makes one attempt and raises a
:class:`DeliveryError` the outbox's sender understands. A group that became a
supergroup is followed to its new id, for this and every later message.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import random
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
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
    escape,
    keyboard_rows,
    split_text,
    utf16_len,
    valid_callback_data,
)
from bot.channels.telegram_updates import Me
from bot.core.messages import Reply

log = logging.getLogger(__name__)

# Inside an update: attempts per API call, and the longest 429 wait we sit out.
INTERACTIVE_ATTEMPTS = 4
NETWORK_RETRY_SECONDS = 0.5  # the first wait after a network error or 5xx; doubles each time
MAX_INLINE_RETRY_AFTER = 30.0
# Bad requests after which this chat will never receive anything.
UNREACHABLE = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid")


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

    def markup(self, reply: Reply) -> InlineKeyboardMarkup | None:
        rows: list[list[InlineKeyboardButton]] = []
        for row in keyboard_rows(reply.choices):
            buttons = [
                InlineKeyboardButton(choice.label, callback_data=choice.action)
                for choice in row
                if valid_callback_data(choice.action)
            ]
            if buttons:
                rows.append(buttons)
        invite = reply.private_invite
        link = deep_link(self.me.username, invite.start_payload) if invite else None
        if invite is not None and link is not None:
            label = invite.button_label or f"@{self.me.username}"
            rows.append([InlineKeyboardButton(label, url=link)])
        return InlineKeyboardMarkup(rows) if rows else None

    async def deliver(self, chat_id: str, reply: Reply, *, interactive: bool) -> str | None:
        """Render one reply as one or more API calls; returns the last message id.

        Once one part is out, the rest is retried here even for the outbox: a
        retry by the outbox would send the first parts again. If a later part
        still fails, the outbox gets the partial delivery as sent (logged)."""
        sent: Message | None = None
        chat_id = self._moved.get(chat_id, chat_id)
        for method, kwargs in await self._parts(chat_id, reply):
            kwargs["chat_id"] = self._moved.get(chat_id, chat_id)
            try:
                sent = await self.call(
                    method, interactive=interactive or sent is not None, **kwargs
                )
            except TelegramError as exc:
                if interactive or sent is None:
                    raise
                log.warning("telegram: reply delivered in part (%s)", type(exc).__name__)
                break
        return str(sent.message_id) if sent is not None else None

    async def _parts(
        self, chat_id: str, reply: Reply
    ) -> list[tuple[Callable[..., Awaitable[Message]], dict[str, Any]]]:
        """The API calls for one reply: text (split), then any picture or file; the
        keyboard on the last call, a short text as the caption."""
        bot = self.bot
        markup = self.markup(reply)
        text = reply.text.strip()
        files: list[tuple[Callable[..., Awaitable[Message]], str, Path, str | None]] = []
        if reply.image is not None:
            files.append((bot.send_photo, "photo", reply.image.path, None))
        if reply.document is not None:
            doc = reply.document
            files.append((bot.send_document, "document", doc.path, doc.filename))
        texts: list[str] = []
        if not files:
            texts = split_text(text) or (["…"] if markup else [])
        elif utf16_len(text) > CAPTION_LIMIT:
            texts = split_text(text)
            text = reply.image.alt if reply.image is not None else ""
        parts: list[tuple[Callable[..., Awaitable[Message]], dict[str, Any]]] = [
            (bot.send_message, {"chat_id": chat_id, "text": escape(chunk)}) for chunk in texts
        ]
        for number, (method, field, path, filename) in enumerate(files, start=1):
            caption = split_text(text, CAPTION_LIMIT)[0] if number == 1 and text else ""
            kwargs: dict[str, Any] = {
                "chat_id": chat_id,
                field: await asyncio.to_thread(path.read_bytes),
                "caption": escape(caption) or None,
            }
            if filename is not None:
                kwargs["filename"] = filename
            parts.append((method, kwargs))
        for _, kwargs in parts:
            kwargs["parse_mode"] = ParseMode.HTML
        if parts and markup is not None:
            parts[-1][1]["reply_markup"] = markup
        return parts

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
