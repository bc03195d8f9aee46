"""The Telegram channel: python-telegram-bot 22, inside the bot's own event loop.

- **Modes.** Long polling by default; webhook mode when ``TELEGRAM_WEBHOOK_URL``
  is set: the bot's own HTTP server takes Telegram's POSTs on that URL's path,
  checks ``X-Telegram-Bot-Api-Secret-Token`` on every request, and ``setWebhook``
  runs at start. The library's job queue is off (we run our own scheduler) and
  so is its persistence (conversation state lives in our database).
- **Order.** Updates of different chats are handled at once
  (``TELEGRAM_CONCURRENT_UPDATES``); one chat's updates always in order.
- **Once.** Each update carries its ``update_id`` as the event id, so the
  core's dedupe step handles a redelivered update once.
- **Groups.** Only commands (for this bot) and messages that mention the bot or
  reply to it are read; everything else in a group is none of our business.
- **Errors.** Replies inside an update retry on 429 (after ``retry_after``) and
  on network errors and 5xx (with backoff); the outbox gets a
  :class:`DeliveryError` instead and retries on its own schedule. 403 is
  permanent: the outbox marks the person inactive. A failing update is logged
  (without content) and never stops the bot.

Rendering rules (HTML escaping, splitting, keyboards) are in ``telegram_format``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import hmac
import logging
import random
import secrets
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import DeliveryError, HandleIncoming
from bot.channels.telegram_format import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    command_and_target,
    deep_link,
    escape,
    keyboard_rows,
    split_text,
    utf16_len,
    valid_callback_data,
    without_mention,
)
from bot.core.messages import Incoming, Kind, Reply
from bot.outbox.queue import Outgoing
from bot.outbox.ratelimit import Rate, RateLimiter
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.core.context import Services
    from bot.http import HttpServer

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT = 10  # seconds a getUpdates call waits for news
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Inside an update: attempts per API call, and the longest 429 wait we sit out.
INTERACTIVE_ATTEMPTS = 4
MAX_INLINE_RETRY_AFTER = 30.0
START_ATTEMPTS = 5
CHOSEN_MARK = "✓"
# Update ids already seen in this process: a redelivered update is dropped before
# anything (even the crisis reply) runs twice. The database dedupe covers the rest.
RECENT_UPDATES = 10_000
# Updates waiting for their chat hold no slot; this many run at a time.
MAX_WAITING_UPDATES = 100_000
# Bad requests after which this chat will never receive anything.
UNREACHABLE = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid")


def build(settings: Settings) -> TelegramChannel:
    return TelegramChannel(settings)


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds (22.x gives an int or a timedelta, with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def per_chat_rate(chat_id: str) -> Rate:
    """Telegram: about one message a second in a private chat, 20 a minute in a group."""
    return Rate.per_minute(20, burst=3) if chat_id.startswith("-") else Rate(1.0, burst=3)


def file_base_url(base_url: str) -> str:
    """``http://host/bot`` → ``http://host/file/bot`` (how a Bot API server serves files;
    the settings make the base URL end in ``/bot``)."""
    return base_url.removesuffix("/bot") + "/file/bot"


class ChatOrderProcessor(BaseUpdateProcessor):
    """Several updates at once, but one chat's updates in the order they came.

    The library starts one task per update in order; an asyncio lock per chat is
    fair (first come, first served), so a person's answers are never swapped.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        # The library takes its slot before we wait for the chat: with its limit
        # only, updates queued behind one busy chat would hold every slot. So its
        # limit is huge, and ours is taken once the chat's turn has come.
        super().__init__(MAX_WAITING_UPDATES)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        lock, users = self._locks.get(chat.id, (asyncio.Lock(), 0))
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            lock, users = self._locks[chat.id]
            if users <= 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class TelegramChannel:
    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(Rate(30.0, burst=30.0), per_chat_rate)
        self.username = ""
        self.bot_id = 0
        self.webhook_url = settings.telegram_webhook_url
        secret = settings.telegram_webhook_secret
        self.secret = secret.get_secret_value() if secret else secrets.token_urlsafe(32)
        self._services: Services | None = None
        self._handle: HandleIncoming | None = None
        self._accepting = False
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._moved: dict[str, str] = {}  # group chat id -> its supergroup's id
        self.application = self._build()

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        assert self.settings.telegram_bot_token is not None
        builder = (
            ApplicationBuilder()
            .token(self.settings.telegram_bot_token.get_secret_value())
            .job_queue(None)
            .concurrent_updates(ChatOrderProcessor(self.settings.telegram_concurrent_updates))
            # Two: the long poll that is being cancelled at stop can still hold one while
            # the library confirms the last updates with a final getUpdates.
            .get_updates_connection_pool_size(2)
        )
        base = self.settings.telegram_api_base_url
        if base:
            builder = builder.base_url(base).base_file_url(file_base_url(base))
        if self.webhook_url:
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)
        return application

    # -- wiring -------------------------------------------------------------
    @property
    def webhook_path(self) -> str:
        path = urlsplit(self.webhook_url or "").path
        return path if path not in ("", "/") else DEFAULT_WEBHOOK_PATH

    @property
    def webhook_target(self) -> str:
        """The URL given to setWebhook: ``TELEGRAM_WEBHOOK_URL``, with the default path
        when it has none (so Telegram posts where we listen)."""
        url = self.webhook_url or ""
        if urlsplit(url).path in ("", "/"):
            return url.rstrip("/") + DEFAULT_WEBHOOK_PATH
        return url

    def attach(self, services: Services, http: HttpServer | None) -> None:
        """Called by the app before the HTTP server starts (its routes freeze then)."""
        self._services = services
        if self.webhook_url:
            if http is None:
                raise ConfigError(
                    "TELEGRAM_WEBHOOK_URL: webhook mode needs the HTTP server "
                    "(alliantiebot run starts it); unset it to use polling"
                )
            http.add_route("POST", self.webhook_path, self.webhook)

    async def start(self, handle: HandleIncoming) -> None:
        self._handle = handle
        try:
            await self._start()
        except BaseException:
            await self.stop()  # nothing left running or connected after a failed start
            raise

    async def _start(self) -> None:
        application = self.application
        await self._initialize()
        self.username = application.bot.username or ""
        self.bot_id = application.bot.id
        await self._register_commands()
        await application.start()
        if self.webhook_url:
            try:
                await self._call(
                    application.bot.set_webhook,
                    interactive=True,
                    url=self.webhook_target,
                    secret_token=self.secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except TelegramError as exc:
                raise ConfigError(
                    f"TELEGRAM_WEBHOOK_URL: Telegram refused the webhook ({exc.message}); "
                    f"it must be a public https:// URL on port 443, 80, 88 or 8443"
                ) from None
            self._accepting = True
            log.info("telegram: webhook mode, @%s on %s", self.username, self.webhook_path)
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                timeout=POLL_TIMEOUT,
                bootstrap_retries=START_ATTEMPTS,  # deleteWebhook, with a brief outage
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_error,
            )
            log.info("telegram: polling as @%s", self.username)

    async def _initialize(self) -> None:
        """getMe, with a few retries: the network may be briefly away at start."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                await self.application.initialize()
                return
            except InvalidToken:
                raise ConfigError(
                    "TELEGRAM_BOT_TOKEN: Telegram does not accept this token "
                    "(ask @BotFather for the right one)"
                ) from None
            except (NetworkError, RetryAfter) as exc:
                if attempt == START_ATTEMPTS:
                    where = self.settings.telegram_api_base_url or "api.telegram.org"
                    raise ConfigError(
                        f"TELEGRAM_BOT_TOKEN: cannot reach the Telegram Bot API at {where} "
                        f"({type(exc).__name__})"
                    ) from None
                await asyncio.sleep(min(2.0**attempt, 15.0))

    async def _register_commands(self) -> None:
        services = self._services
        if services is None or services.router is None:
            return
        commands = [c for c in services.router.commands if c.listed and not c.admin_only]
        default = self.settings.default_language
        for language in (None, *services.texts.languages):
            texts = [
                BotCommand(c.name, services.texts.get(language or default, c.help_key)[:256])
                for c in commands
            ]
            try:
                await self.application.bot.set_my_commands(texts, language_code=language)
            except TelegramError as exc:  # a menu is nice to have, not a reason to stop
                log.warning("telegram: setMyCommands failed (%s)", type(exc).__name__)

    async def stop(self) -> None:
        """Stop taking updates, finish the ones in hand, then close the connections.
        The webhook stays set: Telegram keeps the updates until a worker is back."""
        self._accepting = False
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        with contextlib.suppress(RuntimeError):  # never started
            await application.shutdown()
        # shutdown() skips the bot when initialize() failed: close its HTTP clients here.
        with contextlib.suppress(Exception):
            await application.bot.shutdown()

    # -- incoming -------------------------------------------------------------
    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("telegram: webhook request with a wrong secret refused")
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except Exception:
            log.warning("telegram: webhook body is not an update")
            return web.Response(status=400)
        # Checked right before the put, with no await between: an update is either
        # queued before stop() closes the queue, or refused (Telegram tries again).
        if not (self._accepting and self.application.running):
            return web.Response(status=503)
        self.application.update_queue.put_nowait(update)
        return web.Response(status=200)

    async def _on_update(self, update: Update, _context: object) -> None:
        try:
            await self.process(update)
        except Exception:
            log.exception("telegram: update %s failed", update.update_id)

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("telegram: library error (%s)", type(context.error).__name__)

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)

    async def process(self, update: Update) -> None:
        """One update: answer a button press at once, hand the message to the core,
        close the pressed keyboard, send the replies."""
        if update.update_id in self._recent:
            log.info("telegram: update %s delivered again, ignored", update.update_id)
            return
        self._recent[update.update_id] = None
        if len(self._recent) > RECENT_UPDATES:
            self._recent.popitem(last=False)
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:  # too old to answer: the press still counts
                log.info("telegram: answerCallbackQuery failed (%s)", type(exc).__name__)
        incoming = self.to_incoming(update)
        if incoming is None or self._handle is None:
            return
        replies = await self._handle(incoming)
        # Close the pressed keyboard, unless the press was refused for now (database
        # down, flood limit): then the person can press again.
        if query is not None and replies and not any(r.extra.get("retry") for r in replies):
            refused = any(r.extra.get("stale") for r in replies)
            await self._close_keyboard(query, chosen=not refused)
        later: list[Outgoing] = []
        for number, reply in enumerate(replies):
            target = reply.chat_id or incoming.chat_id
            key = f"telegram-reply:{update.update_id}:{number}"
            if later:  # keep the order: once one reply waits, the rest waits behind it
                later.append(Outgoing(key=key, platform=PLATFORM, chat_id=target, reply=reply))
                continue
            try:
                await self._deliver(target, reply, interactive=True)
            except (BadRequest, Forbidden, InvalidToken) as exc:  # trying again won't help
                log.warning("telegram: reply not delivered (%s)", type(exc).__name__)
            except TelegramError as exc:  # Telegram away for longer than the retries
                log.warning("telegram: reply handed to the outbox (%s)", type(exc).__name__)
                later.append(Outgoing(key=key, platform=PLATFORM, chat_id=target, reply=reply))
        if later:
            await self._hand_to_outbox(later)

    async def _hand_to_outbox(self, items: list[Outgoing]) -> None:
        """Replies Telegram would not take now go out later, with the outbox's retries."""
        if self._services is None:
            return
        try:
            await self._services.outbox.enqueue(items)
        except Exception as exc:
            log.error("telegram: %d replies lost (%s)", len(items), type(exc).__name__)

    def to_incoming(self, update: Update) -> Incoming | None:
        event = str(update.update_id)
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
        }
        user_id, chat_id = str(user.id), str(message.chat.id)
        if message.text is None:
            if not private:
                return None
            return Incoming(PLATFORM, user_id, chat_id, Kind.UNSUPPORTED, **common)
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
            text=self._label(query) or "",
            action=data,
            is_private=chat is None or chat.type == ChatType.PRIVATE,
            display_name=query.from_user.first_name,
            language_code=query.from_user.language_code,
            event_id=event,
        )

    def _addressed(self, message: Message) -> str | None:
        """The text of a group message meant for this bot, else None."""
        text = message.text or ""
        if text.startswith("/"):
            name, target = command_and_target(text)
            if target is not None:
                return text if target.lower() == self.username.lower() else None
            # /cmd without @bot may be another bot's: answer only the ones we know.
            router = self._services.router if self._services is not None else None
            return text if router is not None and router.find(name) is not None else None
        mentioned = False
        for entity, value in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        ).items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
                if entity.user.id == self.bot_id:
                    mentioned = True
                    text = text.replace(value, " ")
            elif value.lower() == f"@{self.username.lower()}":
                mentioned = True
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None:
            mentioned = mentioned or replied.from_user.id == self.bot_id
        if not mentioned:
            return None
        return without_mention(text, self.username) or "/help"

    @staticmethod
    def _label(query: CallbackQuery) -> str | None:
        message = query.message
        markup = message.reply_markup if isinstance(message, Message) else None
        for row in markup.inline_keyboard if markup else ():
            for button in row:
                if button.callback_data == query.data:
                    return button.text
        return None

    async def _close_keyboard(self, query: CallbackQuery, *, chosen: bool) -> None:
        """Edit the pressed message so its buttons cannot be pressed again: the text
        keeps what was chosen (unless the press changed nothing), the keyboard goes."""
        message = query.message
        if not isinstance(message, Message):
            return  # too old or not ours to edit
        bot = self.application.bot
        label = self._label(query)
        try:
            plain = message.text
            if (
                chosen
                and plain
                and label
                and utf16_len(f"{plain}\n\n{CHOSEN_MARK} {label}") <= MESSAGE_LIMIT
            ):
                await bot.edit_message_text(
                    f"{message.text_html}\n\n{CHOSEN_MARK} {escape(label)}",
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=None,
                )
            else:
                await bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
                )
        except TelegramError as exc:  # already edited, or gone: nothing to press then
            log.info("telegram: keyboard not closed (%s)", type(exc).__name__)

    # -- outgoing -------------------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """For the outbox: one attempt; the sender decides about retries."""
        try:
            return await self._deliver(chat_id, reply, interactive=False)
        except Forbidden:
            raise DeliveryError("telegram: forbidden", permanent=True) from None
        except RetryAfter as exc:
            raise DeliveryError("telegram: 429", retry_after=retry_seconds(exc)) from None
        except BadRequest as exc:
            permanent = any(s in exc.message.lower() for s in UNREACHABLE)
            raise DeliveryError(f"telegram: {exc.message}"[:200], permanent=permanent) from None
        except TelegramError as exc:
            raise DeliveryError(f"telegram: {type(exc).__name__}") from None

    def _markup(self, reply: Reply) -> InlineKeyboardMarkup | None:
        rows: list[list[InlineKeyboardButton]] = []
        for row in keyboard_rows(reply.choices):
            buttons = [
                InlineKeyboardButton(choice.label, callback_data=choice.action)
                for choice in row
                if valid_callback_data(choice.action)
            ]
            if buttons:
                rows.append(buttons)
        invite = reply.extra.get("private_invite")
        link = deep_link(self.username, invite) if invite else None
        if link is not None:
            label = reply.extra.get("private_invite_label") or f"@{self.username}"
            rows.append([InlineKeyboardButton(label, url=link)])
        return InlineKeyboardMarkup(rows) if rows else None

    async def _deliver(self, chat_id: str, reply: Reply, *, interactive: bool) -> str | None:
        """Render one reply as one or more API calls; returns the last message id.

        Once one part is out, the rest is retried here even for the outbox: a
        retry by the outbox would send the first parts again. If a later part
        still fails, the outbox gets the partial delivery as sent (logged)."""
        sent: Message | None = None
        chat_id = self._moved.get(chat_id, chat_id)
        for method, kwargs in await self._parts(chat_id, reply):
            kwargs["chat_id"] = self._moved.get(chat_id, chat_id)
            try:
                sent = await self._call(
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
        bot = self.application.bot
        markup = self._markup(reply)
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

    async def _call(
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
                delay = 0.5 * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)  # noqa: S311
                log.info("telegram: %s, retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
