"""Reading Telegram updates: what the core should see, in which order, and how many.

- :class:`InFlightQueue`: the application's update queue, bounded by the updates in
  flight (queued or being handled): the poller waits at the bound, the webhook is refused.
- :class:`ChatOrderProcessor`: several updates at once, one chat's in order.
- :class:`UpdateReader`: a Telegram update → an :class:`Incoming`, or None when it
  is not for us (a group message not addressed to the bot, a bot's message, an
  edit). A photo or file in a private chat is UNSUPPORTED with its caption as text;
  the channel downloads the file (``telegram_media``) and adds it as the attachment.
- :func:`membership`: a ``my_chat_member`` update of a private chat says the person
  blocked the bot (``kicked``) or unblocked it (``member``); not a message, no reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, ChatMember, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import BaseUpdateProcessor

from bot.channels.base import ChatTurns
from bot.channels.telegram_format import command_and_target, valid_callback_data, without_mention
from bot.core.messages import Incoming, Kind

PLATFORM = "telegram"
# Updates waiting for their chat hold no slot; this many may wait at all.
MAX_WAITING_UPDATES = 100_000


class InFlightQueue(asyncio.Queue[object]):
    """The application's update queue, bounded by the updates *in flight*: queued, or
    taken out by the library and not yet finished (it calls ``task_done`` when an update
    is handled, so what was put and is not done yet is exactly what is in hand).

    A queue bounded by ``maxsize`` would bound nothing: the library takes each update out
    at once and starts a task for it. Here ``put`` (the poller) waits while ``limit``
    updates are in flight, so no getUpdates is made, and nothing more confirmed to
    Telegram, until there is room; ``put_nowait`` (the webhook) raises ``QueueFull``
    instead. Only updates count: the library's stop signal always goes in.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.waiting = 0  # puts waiting for room (the poller)
        self._in_flight = 0
        self._room = asyncio.Event()
        self._room.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def put_nowait(self, item: object) -> None:
        if isinstance(item, Update) and self._in_flight >= self.limit:
            raise asyncio.QueueFull
        super().put_nowait(item)
        self._in_flight += 1
        if self._in_flight >= self.limit:
            self._room.clear()

    async def put(self, item: object) -> None:
        while isinstance(item, Update) and self._in_flight >= self.limit:
            self.waiting += 1
            try:
                await self._room.wait()
            finally:
                self.waiting -= 1
        self.put_nowait(item)

    def task_done(self) -> None:
        super().task_done()  # raises ValueError when called more often than put
        self._in_flight -= 1
        if self._in_flight < self.limit:
            self._room.set()


@dataclass(slots=True)
class Me:
    """Who the bot is on Telegram (known after getMe at start)."""

    username: str = ""
    bot_id: int = 0


class ChatOrderProcessor(BaseUpdateProcessor):
    """Several updates at once, but one chat's updates in the order they came.

    The library starts one task per update in order; an asyncio lock per chat is
    fair (first come, first served), so a person's answers are never swapped.
    """

    def __init__(
        self, max_concurrent_updates: int, urgent: Callable[[str], bool] | None = None
    ) -> None:
        # The library takes its slot before we wait for the chat: with its limit
        # only, updates queued behind one busy chat would hold every slot. So its
        # limit is huge, and ours is taken once the chat's turn has come.
        super().__init__(MAX_WAITING_UPDATES)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._turns = ChatTurns()
        # A text that signals a crisis does not wait for the person's earlier update
        # (which may be waiting on a hung database): the crisis reply needs no storage.
        self.urgent = urgent

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        async with self._turns.turn(chat.id, urgent=lambda: self._urgent(update)), self._slots:
            await coroutine

    def _urgent(self, update: object) -> bool:
        """Only asked when the chat is busy, so the usual update costs nothing."""
        if self.urgent is None:
            return False
        message = update.message if isinstance(update, Update) else None
        text = message.text if message is not None else None
        return bool(text) and self.urgent(text or "")

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class UpdateReader:
    """Turns updates into :class:`Incoming` messages for the core."""

    def __init__(self, me: Me, knows: Callable[[str], bool]) -> None:
        self.me = me
        self.knows = knows  # is this a command of ours? (for untargeted group commands)

    def to_incoming(self, update: Update) -> Incoming | None:
        # update_id counts per bot: two bots on one database must not take each
        # other's updates for duplicates, so the bot's id is part of the event id.
        event = f"{self.me.bot_id}:{update.update_id}"
        query = update.callback_query
        if query is not None:
            return self._pressed(query, event)
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        user = message.from_user
        private = message.chat.type == ChatType.PRIVATE
        common: dict[str, Any] = {
            "is_private": private,
            "display_name": user.first_name,
            "language_code": user.language_code,
            "event_id": event,
            "durable_replies": True,
        }
        user_id, chat_id = str(user.id), str(message.chat.id)
        if message.text is None:
            if not private:
                return None
            # A photo's or file's caption is its text (the channel adds the file);
            # stickers, voice and the rest come without.
            caption = (message.caption or "") if (message.photo or message.document) else ""
            return Incoming(PLATFORM, user_id, chat_id, Kind.UNSUPPORTED, text=caption, **common)
        text = message.text if private else self._addressed(message)
        if text is None:
            return None
        return Incoming.from_text(PLATFORM, user_id, chat_id, text, **common)

    def _pressed(self, query: CallbackQuery, event: str) -> Incoming:
        message = query.message
        chat = message.chat if message is not None else None
        data = query.data if valid_callback_data(query.data) else ""
        return Incoming(
            PLATFORM,
            str(query.from_user.id),
            str(chat.id if chat is not None else query.from_user.id),
            Kind.ACTION,
            text=pressed_label(query) or "",
            action=data,
            is_private=chat is None or chat.type == ChatType.PRIVATE,
            display_name=query.from_user.first_name,
            language_code=query.from_user.language_code,
            event_id=event,
            durable_replies=True,
        )

    def _addressed(self, message: Message) -> str | None:
        """The text of a group message meant for this bot, else None."""
        text = message.text or ""
        if text.startswith("/"):
            name, target = command_and_target(text)
            if target is not None:
                return text if target.lower() == self.me.username.lower() else None
            # /cmd without @bot may be another bot's: answer only the ones we know.
            return text if self.knows(name) else None
        mentioned = False
        for entity, value in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        ).items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
                if entity.user.id == self.me.bot_id:
                    mentioned = True
                    text = text.replace(value, " ")
            elif value.lower() == f"@{self.me.username.lower()}":
                mentioned = True
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None:
            mentioned = mentioned or replied.from_user.id == self.me.bot_id
        if not mentioned:
            return None
        return without_mention(text, self.me.username) or "/help"


def membership(update: Update) -> tuple[str, bool] | None:
    """(the person's user id, whether they can be reached) for a ``my_chat_member``
    update of their private chat with the bot: blocked (``kicked``) → False,
    unblocked or started (``member``) → True. None for anything else (a group that
    added or removed the bot is a group's business, not the person's)."""
    changed = update.my_chat_member
    if changed is None or changed.chat.type != ChatType.PRIVATE:
        return None
    status = changed.new_chat_member.status
    if status == ChatMember.BANNED:
        return str(changed.chat.id), False
    if status == ChatMember.MEMBER:
        return str(changed.chat.id), True
    return None


def pressed_label(query: CallbackQuery) -> str | None:
    """The text of the button that was pressed, from the message it was on."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None
