"""The Telegram channel: python-telegram-bot 22, inside the bot's own event loop.

- **Modes.** Long polling by default; webhook mode when ``TELEGRAM_WEBHOOK_URL``
  is set: the bot's own HTTP server takes Telegram's POSTs on that URL's path,
  checks ``X-Telegram-Bot-Api-Secret-Token`` on every request, and ``setWebhook``
  runs at start. The library's job queue is off (we run our own scheduler) and
  so is its persistence (conversation state lives in our database).
- **Order.** Updates of different chats are handled at once
  (``TELEGRAM_CONCURRENT_UPDATES``); one chat's updates always in order.
- **Backpressure.** At most ``MAX_UPDATES_IN_FLIGHT`` updates are queued or being
  handled (``InFlightQueue``): at the bound the webhook answers 503 (Telegram sends the
  update again later) and the poller waits before its next getUpdates.
- **One poller.** Polling is ours (``telegram_poll``), not the library's ``Updater``.
  On PostgreSQL the workers elect one poller per bot token (an advisory lock from the
  bot's id, ``bot.scheduling.leader``); the others run everything else and try again
  every few seconds. A worker that lost the lock (its lock connection failed) polls on
  until Telegram says another poller runs (409): better two pollers for a moment than
  none while the database is away (a crisis reply needs no database).
- **Stop.** Stop taking updates, finish the ones in hand within
  ``STOP_GRACE_SECONDS``, then close the connections. An update not finished by then
  is not confirmed to Telegram: polling confirms only up to the oldest unfinished
  update (``telegram_poll``), and the webhook answers 200 only when an update is
  finished (503 for one given up at stop), so Telegram sends it again.
- **Once.** Each update carries its ``update_id`` as the event id, so the
  core's dedupe step handles a redelivered update once.
- **Groups.** Only commands (for this bot) and messages that mention the bot or
  reply to it are read; everything else in a group is none of our business.
- **Errors.** Replies inside an update retry on 429 (after ``retry_after``) and
  on network errors and 5xx (with backoff); the outbox gets a
  :class:`DeliveryError` instead and retries on its own schedule. 403 is
  permanent: the outbox marks the person inactive. A failing update is logged
  (without content) and never stops the bot.
- **Blocked.** A ``my_chat_member`` update of a private chat marks the person
  inactive at once when they block the bot, and active again when they unblock
  it (``ChannelHost.reachable``); no reply is sent.
- **Ready.** ``connected`` (polling, or the webhook accepting) and ``check``
  (``getMe``: is the token still valid?) for ``/readyz`` (``bot.readiness``).

Rendering rules (HTML escaping, splitting, keyboards) are in ``telegram_format``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.channels.base import ChannelHost, HandleIncoming
from bot.channels.telegram_format import (
    MESSAGE_LIMIT,
    escape,
    utf16_len,
)
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_media import MediaFetcher, file_in
from bot.channels.telegram_poll import Offsets, Poller
from bot.channels.telegram_send import TelegramSender, retry_seconds
from bot.channels.telegram_updates import (
    PLATFORM,
    ChatOrderProcessor,
    InFlightQueue,
    Me,
    UpdateReader,
    membership,
    pressed_label,
)
from bot.core.messages import Incoming, Kind, PressOutcome, Reply
from bot.outbox.queue import REPLY, Outgoing
from bot.outbox.ratelimit import Rate, RateLimiter
from bot.scheduling.leader import Leadership
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.http import HttpServer

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLL_TIMEOUT = 10  # seconds a getUpdates call waits for news
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
START_ATTEMPTS = 5  # getMe and deleteWebhook at start, with backoff
START_RETRY_SECONDS = 2.0  # the first wait between those attempts; doubles, at most 15 s
CHOSEN_MARK = "✓"
STOP_SECONDS = 4.0  # stopping the poller takes at most this (within the grace)
# The advisory lock of a bot token's poller: this base plus a stable hash of the bot's
# id (the token's public part; the token itself is never used, logged or named).
POLLER_LOCK_BASE = 0x616C6C50 << 32  # "allP", in the high half of a bigint lock id
POLLER_ROLE = "telegram poller"  # in the log lines and the lock's application_name
CLOSE_SECONDS = 0.5
RETRY_SOON = 5.0  # seconds before the outbox tries a reply Telegram failed on


def build(settings: Settings) -> TelegramChannel:
    return TelegramChannel(settings)


# Telegram: about 30 messages a second for a bot. Held in every sliding second, with no
# burst on top and a little room for the network's jitter (a burst of 30 on top of 30 a
# second let 60 calls through in one second). With several workers on PostgreSQL one
# elected sender per platform sends (bot/outbox/sender.py), so this is the deployment's.
OVERALL_RATE = Rate(28.0, burst=1.0)


def per_chat_rate(chat_id: str) -> Rate:
    """Telegram: about one message a second in a private chat, 20 a minute in a group."""
    return Rate.per_minute(20, burst=3) if chat_id.startswith("-") else Rate(1.0, burst=3)


def poller_lock(bot_id: int) -> int:
    return POLLER_LOCK_BASE + zlib.crc32(f"telegram:{bot_id}".encode())


def file_base_url(base_url: str) -> str:
    """``http://host/bot`` → ``http://host/file/bot`` (how a Bot API server serves files;
    the settings make the base URL end in ``/bot``)."""
    return base_url.removesuffix("/bot") + "/file/bot"


@dataclass
class _Delivery:
    """What became of one update's replies, for the outbox's ``settle``."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    later: list[Outgoing] = field(default_factory=list)  # not yet in the outbox (crisis reply)
    retry_after: float = 0.0


class TelegramChannel:
    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(OVERALL_RATE, per_chat_rate)
        self.me = Me()
        self.webhook_url = settings.telegram_webhook_url
        secret = settings.telegram_webhook_secret
        self.secret = secret.get_secret_value() if secret else secrets.token_urlsafe(32)
        self._host: ChannelHost | None = None
        self._handle: HandleIncoming | None = None
        self._accepting = False
        self._stopping = False
        self.updates = InFlightQueue(settings.max_updates_in_flight)
        self.application = self._build()
        self.offsets = Offsets()
        self.poller: Poller | None = None
        self.election: Leadership | None = None  # PostgreSQL: the one poller per token
        self._polls_by_right = False  # holds the poller lock (or needs none: SQLite)
        # Webhook requests waiting for their update: True finished (200), False given
        # up at stop (503: Telegram sends it again).
        self._answers: dict[int, asyncio.Future[bool]] = {}
        self.reader = UpdateReader(self.me, self._knows)
        self.sender = TelegramSender(self.application.bot, self.me)
        self.media = MediaFetcher(
            self.application.bot, settings.media_dir, settings.media_max_bytes
        )

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        token = self.settings.telegram_bot_token
        if token is None:
            raise ConfigError("TELEGRAM_BOT_TOKEN: not set (ask @BotFather for one)")
        builder = (
            ApplicationBuilder()
            .token(token.get_secret_value())
            .job_queue(None)
            .update_queue(self.updates)  # bounded by the updates in flight
            .concurrent_updates(
                ChatOrderProcessor(self.settings.telegram_concurrent_updates, self._is_crisis)
            )
            # aiohttp instead of httpx: a sixth of the CPU per request (telegram_http.py).
            .request(AiohttpRequest(256))
            # Two: the long poll that is being cancelled at stop can still hold one while
            # the library confirms the last updates with a final getUpdates.
            .get_updates_request(AiohttpRequest(2))  # the library adds the poll timeout
            .updater(None)  # polling is ours (telegram_poll): it confirms finished updates only
        )
        base = self.settings.telegram_api_base_url
        if base:
            builder = builder.base_url(base).base_file_url(file_base_url(base))
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

    def attach(self, host: ChannelHost, http: HttpServer | None) -> None:
        """Called by the app before the HTTP server starts (its routes freeze then)."""
        self._host = host
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
        self.me.username = application.bot.username or ""
        self.me.bot_id = application.bot.id
        await self._register_commands()
        await application.start()
        if self.webhook_url:
            try:
                await self.sender.call(
                    application.bot.set_webhook,
                    interactive=True,
                    url=self.webhook_target,
                    secret_token=self.secret,
                    allowed_updates=ALLOWED_UPDATES,
                    max_connections=self.settings.telegram_webhook_connections,
                )
            except TelegramError as exc:
                raise ConfigError(
                    f"TELEGRAM_WEBHOOK_URL: Telegram refused the webhook ({exc.message}); "
                    f"it must be a public https:// URL on port 443, 80, 88 or 8443"
                ) from None
            self._accepting = True
            log.info("telegram: webhook mode, @%s on %s", self.me.username, self.webhook_path)
            if self.settings.telegram_webhook_secret is None:
                log.warning(
                    "telegram: the webhook secret is random for this process; "
                    "with several workers set TELEGRAM_WEBHOOK_SECRET on all of them"
                )
        else:
            await self._start_polling()

    async def _start_polling(self) -> None:
        """Poll; on PostgreSQL only as the elected poller of this bot token."""
        self.poller = Poller(
            self.application.bot,
            self.updates,
            timeout=POLL_TIMEOUT,
            allowed_updates=ALLOWED_UPDATES,
            on_error=self._polling_error,
            on_conflict=self._conflict,
            offsets=self.offsets,
        )
        settings = self.settings
        if settings.is_sqlite:  # one process (bot/scheduling/single.py): no election
            await self._lead()
            return
        self.election = Leadership(
            settings.database_url,
            timeout=settings.db_timeout_seconds,
            on_lead=self._lead,
            on_follow=self._follow,
            lock=poller_lock(self.me.bot_id),
            role=POLLER_ROLE,
            duty=f"polls Telegram for @{self.me.username}",
        )
        await self.election.start()
        if not self.election.leading:
            log.info("telegram: another worker polls for @%s; this one waits", self.me.username)

    async def _lead(self) -> None:
        self._polls_by_right = True
        if self.poller is not None and self._accepting_polls:
            self.poller.start()
            log.info("telegram: polling as @%s", self.me.username)

    def _follow(self) -> None:
        """Lost the lock: poll on until Telegram names another poller (``_conflict``);
        with the database away nobody else can take the lock, and nobody polling would
        leave even a crisis message unanswered."""
        self._polls_by_right = False

    def _conflict(self) -> None:
        """Telegram: another getUpdates on this token. Without the lock, give way."""
        if not self._polls_by_right and self.poller is not None and self.poller.running:
            log.info("telegram: another worker polls now; this one stops polling")
            self.poller.pause()

    @property
    def _accepting_polls(self) -> bool:
        return self.application.running and not self._stopping

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
                await asyncio.sleep(min(START_RETRY_SECONDS * 2.0 ** (attempt - 1), 15.0))

    async def _register_commands(self) -> None:
        host = self._host
        if host is None:
            return
        for language in (None, *host.languages):
            texts = [
                BotCommand(command, description[:256])
                for command, description in host.command_menu(language)
            ]
            try:
                await self.application.bot.set_my_commands(texts, language_code=language)
            except TelegramError as exc:  # a menu is nice to have, not a reason to stop
                log.warning("telegram: setMyCommands failed (%s)", type(exc).__name__)

    async def stop(self) -> None:
        """Stop taking updates, finish the ones in hand, then close the connections,
        all within ``STOP_GRACE_SECONDS`` whatever the network does (closing adds at
        most a second; Docker's stop timeout is 10 s).

        The poll ends at once, and the poller lock is let go (another worker polls on).
        Past the grace the updates still in hand are cancelled. None of them is lost:
        what is unfinished is not confirmed to Telegram (the last getUpdates confirms up
        to the oldest unfinished update; the webhook answers those requests 503), so
        Telegram sends them again, and the dedupe drops any the core did finish (their
        replies are in the outbox and go out after the restart). The webhook stays
        set: Telegram keeps the updates until a worker is back."""
        self._accepting = False
        self._stopping = True
        application = self.application
        grace = self.settings.stop_grace_seconds
        deadline = asyncio.get_running_loop().time() + grace
        await self._stop_polling(min(STOP_SECONDS, grace))
        try:
            async with asyncio.timeout_at(deadline):
                if application.running:
                    await application.stop()
        except TimeoutError:
            log.warning(
                "telegram: %d updates in hand not finished within %s s; closing anyway",
                self.updates.in_flight,
                grace,
            )
            await self._abandon()
        self._give_up_answers()
        if self.poller is not None:
            await self.poller.confirm()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_SECONDS):
                with contextlib.suppress(RuntimeError):  # never started
                    await application.shutdown()
        # shutdown() skips the bot when initialize() failed: close its HTTP clients here.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_SECONDS):
                await application.bot.shutdown()

    async def _stop_polling(self, seconds: float) -> None:
        """End the poll and the campaign (its connection closes: the lock is free for
        another worker at once), each within ``seconds``."""
        election, self.election = self.election, None
        if self.poller is not None:
            self.poller.pause()
        if election is not None:
            try:
                async with asyncio.timeout(seconds):
                    await election.stop()
            except Exception as exc:  # PostgreSQL frees the lock with the connection
                log.warning("telegram: poller election not ended (%s)", type(exc).__name__)
        if self.poller is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self.poller.stop()

    def _give_up_answers(self) -> None:
        """Webhook requests whose update was not finished get 503: Telegram retries."""
        answers, self._answers = self._answers, {}
        for answer in answers.values():
            if not answer.done():
                answer.set_result(False)

    def _finished(self, update_id: int) -> None:
        """The update is handled (well or not): it may be confirmed to Telegram."""
        self.offsets.finished(update_id)
        answer = self._answers.pop(update_id, None)
        if answer is not None and not answer.done():
            answer.set_result(True)

    async def _abandon(self) -> None:
        """Past the grace: cancel what the library still runs (updates waiting on
        Telegram or on the database), so nothing outlives the stop."""
        application = self.application
        # The library keeps no public handle on these tasks: its own names (with the
        # bot's id) find the update tasks.
        prefix = f"Application:{application.bot.id}:"
        current = asyncio.current_task()
        tasks = [
            t for t in asyncio.all_tasks() if t is not current and t.get_name().startswith(prefix)
        ]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_SECONDS)
        application._running = False  # stop() was cut short: it is over

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
        answer = self._answers.get(update.update_id)
        if answer is None:  # (else Telegram sent it again while it is in hand: wait for it)
            try:
                self.updates.put_nowait(update)
            except asyncio.QueueFull:  # MAX_UPDATES_IN_FLIGHT in hand: Telegram tries again
                log.info(
                    "telegram: %d updates in flight; webhook update refused", self.updates.limit
                )
                return web.Response(status=503)
            answer = self._answers[update.update_id] = asyncio.get_running_loop().create_future()
        # 200 confirms the update to Telegram: only once it is finished. One given up at
        # stop gets 503, and Telegram sends it again (to this worker or another).
        finished = await asyncio.shield(answer)
        return web.Response(status=200 if finished else 503)

    async def _on_update(self, update: Update, _context: object) -> None:
        try:
            await self.process(update)
        except asyncio.CancelledError:
            raise  # given up at stop: not finished, so not confirmed to Telegram
        except Exception:
            log.exception("telegram: update %s failed", update.update_id)
        self._finished(update.update_id)  # failed counts as finished: no endless redelivery

    async def _on_error(self, update: object, context: Any) -> None:
        log.error("telegram: library error (%s)", type(context.error).__name__)

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("telegram: getUpdates failed (%s); retrying", type(exc).__name__)

    async def process(self, update: Update) -> None:
        """One update: answer a button press at once, hand the message to the core,
        close the pressed keyboard, send the replies."""
        member = membership(update)
        if member is not None:
            await self._reachable(*member)
            return
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:  # too old to answer: the press still counts
                log.info("telegram: answerCallbackQuery failed (%s)", type(exc).__name__)
        incoming = await self._read(update)
        if incoming is None or self._handle is None:
            return
        replies = await self._handle(incoming)
        # Close the pressed keyboard, unless the press was refused for now (database
        # down, flood limit): then the person can press again.
        outcomes = {reply.press_outcome for reply in replies}
        if query is not None and replies and PressOutcome.TRY_AGAIN not in outcomes:
            await self._close_keyboard(query, chosen=PressOutcome.STALE not in outcomes)
        await self._deliver(update.update_id, incoming, replies)

    async def _read(self, update: Update) -> Incoming | None:
        """The update as the core sees it, with the photo or file it carries downloaded
        (or marked too large)."""
        incoming = self.reader.to_incoming(update)
        found = file_in(update.message) if incoming is not None else None
        if incoming is None or found is None or incoming.kind is not Kind.UNSUPPORTED:
            return incoming
        attachment = await self.media.fetch(found, incoming.user_id)
        return dataclasses.replace(incoming, attachment=attachment)

    async def _deliver(self, update_id: int, incoming: Incoming, replies: list[Reply]) -> None:
        """Send the replies in order. Most are held in the outbox already (see
        ``Outbox.hold``): they are reported sent, or left to the outbox when Telegram
        will not take them now. Once one reply waits, the rest waits behind it."""
        tally = _Delivery()
        for number, reply in enumerate(replies):
            if reply.queued:  # earlier messages to this chat wait: the outbox sends it
                continue
            target = reply.chat_id or incoming.chat_id
            waiting = bool(tally.deferred or tally.later)
            if waiting or not await self._send_now(target, reply, tally):
                self._defer(update_id, number, target, incoming, reply, tally.deferred, tally.later)
        if self._host is None:
            return
        await self._settle(self._host, tally)
        if tally.later:
            await self._hand_to_outbox(incoming, tally.later, tally.retry_after)

    async def _send_now(self, target: str, reply: Reply, tally: _Delivery) -> bool:
        """Send one reply and note in ``tally`` how it went. False when Telegram will
        not take it now and it should wait for the outbox."""
        try:
            await self.sender.deliver(target, reply, interactive=True)
        except (BadRequest, Forbidden, InvalidToken) as exc:  # trying again won't help
            log.warning("telegram: reply not delivered (%s)", type(exc).__name__)
            if reply.outbox_id is not None:
                tally.failed.append(reply.outbox_id)
            return True
        except TelegramError as exc:  # Telegram away for longer than the retries
            log.warning("telegram: reply handed to the outbox (%s)", type(exc).__name__)
            tally.retry_after = retry_seconds(exc) if isinstance(exc, RetryAfter) else RETRY_SOON
            return False
        if reply.outbox_id is not None:
            tally.sent.append(reply.outbox_id)
        return True

    @staticmethod
    async def _settle(host: ChannelHost, tally: _Delivery) -> None:
        """Tell the outbox which held replies went out, failed or wait."""
        try:
            await host.settle(
                sent=tally.sent,
                deferred=tally.deferred,
                retry_after=tally.retry_after,
                failed=tally.failed,
            )
        except Exception as exc:  # the lease runs out and the sender takes them over
            log.warning("telegram: delivered replies not recorded (%s)", type(exc).__name__)

    @staticmethod
    def _defer(
        update_id: int,
        number: int,
        target: str,
        incoming: Incoming,
        reply: Reply,
        deferred: list[int],
        later: list[Outgoing],
    ) -> None:
        if reply.outbox_id is not None:
            deferred.append(reply.outbox_id)
        else:
            key = f"telegram-reply:{incoming.event_id or update_id}:{number}"
            later.append(
                Outgoing(key=key, platform=PLATFORM, chat_id=target, reply=reply, kind=REPLY)
            )

    async def _hand_to_outbox(
        self, incoming: Incoming, items: list[Outgoing], retry_after: float
    ) -> None:
        """Replies made outside a transaction (the crisis reply, "database down") that
        Telegram would not take now go out later, with the outbox's retries. They
        carry their person when the database knows them, so /vergeetmij finds them."""
        if self._host is None:
            return
        try:
            await self._host.defer(PLATFORM, incoming.user_id, items, delay=retry_after)
        except Exception as exc:
            log.error("telegram: %d replies lost (%s)", len(items), type(exc).__name__)

    async def _close_keyboard(self, query: CallbackQuery, *, chosen: bool) -> None:
        """Edit the pressed message so its buttons cannot be pressed again: the text
        keeps what was chosen (unless the press changed nothing), the keyboard goes."""
        message = query.message
        if not isinstance(message, Message):
            return  # too old or not ours to edit
        bot = self.application.bot
        label = pressed_label(query)
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

    async def _reachable(self, user_id: str, reachable: bool) -> None:
        """The person blocked (or unblocked) the bot: tell the database at once."""
        if self._host is None:
            return
        try:
            await self._host.reachable(PLATFORM, user_id, reachable)
        except Exception as exc:  # the outbox's 403 marks them later all the same
            log.warning("telegram: block or unblock not recorded (%s)", type(exc).__name__)

    # -- readiness (/readyz) -------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Taking updates: the webhook accepting, or the poller running; on PostgreSQL a
        worker that does not hold the poller lock is connected while it campaigns (it
        takes over when the poller goes), not unready because another worker polls."""
        application = self.application
        if self.webhook_url:
            return self._accepting and application.running
        if not application.running or self.poller is None:
            return False
        if self.poller.running:
            return True
        return self.election is not None and not self._polls_by_right

    async def check(self) -> bool | None:
        """``getMe``, once: False when Telegram refuses the token (revoked), None when
        it cannot be asked now."""
        try:
            await self.application.bot.get_me()
        except InvalidToken:
            return False
        except TelegramError as exc:
            log.info("telegram: token check could not ask (%s)", type(exc).__name__)
            return None
        return True

    # -- outgoing (the outbox) ------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str | None:
        return await self.sender.for_outbox(chat_id, reply)

    @property
    def username(self) -> str:
        return self.me.username

    def _is_crisis(self, text: str) -> bool:
        return self._host is not None and self._host.is_crisis(text)

    def _knows(self, command: str) -> bool:
        return self._host is not None and self._host.knows(command)
