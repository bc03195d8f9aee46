"""The Slack channel: slack-bolt's ``AsyncApp``, inside the bot's own event loop.

- **Modes.** Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed);
  otherwise HTTP mode: the bot's own HTTP server takes Slack's POSTs on
  ``/slack/events`` (events, interactivity and slash commands alike), checked
  with ``SLACK_SIGNING_SECRET`` by bolt's verifier (its 5-minute window).
- **Start.** ``auth.test`` first: a token Slack refuses is one clear line (a
  :class:`ConfigError`, exit 2).
- **Web API.** ``SLACK_API_URL`` is the client's ``base_url`` (bolt does not read
  it); a 429 is retried after ``Retry-After`` by slack_sdk's retry handler.
- **What is read.** Direct messages (``channel_type`` ``im``) are the private
  chat; an ``app_mention`` in a channel is answered in its thread; the slash
  command ``/alliantie <sub>`` is the command ``/<sub>`` (answered in the DM);
  a button press is the pressed choice (``slack_render.value_of``; a forged or
  stale value gets the core's polite reply), after which the message is updated
  to show "✓ <label>" without buttons. Bot messages, edits and other subtypes
  are ignored.
- **Private features in a channel.** A reply that invites to the private chat
  (``Reply.private_invite``), given to a mention in a channel, goes out with
  ``chat.postEphemeral`` to that person only, with a button that opens the DM
  (``slack_render.dm_invite``); nothing about it is posted publicly.
- **Reconnects.** In Socket Mode slack_sdk's client answers Slack's
  ``disconnect`` envelope by opening a new connection; the bot keeps answering.
- **Ack first.** Bolt acks events before the listener runs; actions and commands
  call ``ack()`` first thing. Listener bodies catch their own errors and log them
  without content: a failing event never stops the bot.
- **Once.** Each event carries its ``event_id`` as the event id (a press: its
  ``trigger_id``), so the core's dedupe step handles a retried event once.
- **Identity.** The Slack user id is the person. Display names come from
  ``users.info`` (cached, asked after the ack), DM channels from
  ``conversations.open`` (cached).
- **Errors.** ``account_inactive``, ``user_not_found`` and ``channel_not_found``
  are permanent (:class:`DeliveryError`: the outbox marks the person inactive).
- **Ready.** ``connected`` (HTTP mode accepting, or the socket open) and ``check``
  (``auth.test``: is the token still valid?) for ``/readyz`` (``bot.readiness``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels import slack_home, slack_render
from bot.channels.base import ChannelHost, ChatTurns, DeliveryError, HandleIncoming
from bot.core.messages import Incoming, Kind, PressOutcome, Reply
from bot.core.texts import Texts
from bot.outbox.queue import REPLY, Outgoing
from bot.outbox.ratelimit import Rate, RateLimiter
from bot.paths import content_dir
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.http import HttpServer

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
COMMAND = "/alliantie"
# What the app asks of Slack: slack/manifest.yaml names them (a test checks it).
EVENTS = ("message.im", "app_mention", slack_home.EVENT)  # DMs, mentions, App Home
SCOPES = (
    "chat:write",  # replies, chat.update, ephemeral invitations
    "im:history",  # message.im
    "im:read",
    "im:write",  # conversations.open
    "app_mentions:read",
    "commands",  # /alliantie
    "users:read",  # users.info for display names
    "files:write",  # files_upload_v2
)
PERMANENT = frozenset({"account_inactive", "user_not_found", "channel_not_found"})
# auth.test's answers that mean the token is no good (revoked, expired, uninstalled).
TOKEN_REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
RATE_RETRIES = 2  # 429s retried by the SDK (after Retry-After) before we give up
RETRY_SOON = 5.0  # seconds before the outbox tries a reply Slack failed on
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class _ClientGiven(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that it is
    unused because we give it the client (which has that token): not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.channels.slack.bolt")
    if not any(isinstance(f, _ClientGiven) for f in logger.filters):
        logger.addFilter(_ClientGiven())
    return logger


def build(settings: Settings) -> SlackChannel:
    return SlackChannel(settings)


def per_chat_rate(chat_id: str) -> Rate:
    """Slack: about one message a second per channel (a short burst allowed)."""
    return Rate(1.0, burst=3)


@dataclass
class _Delivery:
    """What became of one event's replies, for the outbox's ``settle``."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    later: list[Outgoing] = field(default_factory=list)  # not yet in the outbox
    retry_after: float = 0.0


def _error_of(exc: SlackApiError) -> str:
    response = exc.response
    error = response.get("error") if response is not None else None
    return str(error or "unknown")


def _retry_after(exc: SlackApiError) -> float | None:
    response = exc.response
    if response is None or response.status_code != 429:
        return None
    try:
        return float(response.headers.get("Retry-After", RETRY_SOON))
    except (TypeError, ValueError):
        return RETRY_SOON


class SlackChannel:
    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        token = settings.slack_bot_token
        if token is None:
            raise ConfigError("SLACK_BOT_TOKEN: not set (the app's Bot User OAuth Token, xoxb-)")
        self.settings = settings
        # Slack: about 1 message a second per channel; the workspace-wide limit is
        # looser (chat.postMessage is a "special" tier), a few a second here.
        self.limiter = RateLimiter(Rate(5.0, burst=10.0), per_chat_rate)
        self.texts = Texts.load(content_dir(settings.content_dir))
        self.app_token = (
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        )
        secret = settings.slack_signing_secret
        if self.app_token is None and secret is None:
            raise ConfigError(
                "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: one is needed "
                "(Socket Mode with the app token, or HTTP mode with the signing secret)"
            )
        kwargs: dict[str, Any] = {}
        if settings.slack_api_url:
            kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
        self.client = AsyncWebClient(
            token=token.get_secret_value(),
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_RETRIES)],
            **kwargs,
        )
        self.app = AsyncApp(
            client=self.client,
            # "" and not None: bolt would read SLACK_SIGNING_SECRET from the environment.
            signing_secret=secret.get_secret_value() if secret else "",
            request_verification_enabled=self.app_token is None,
            logger=_bolt_logger(),
        )
        self.home = slack_home.SlackHome(self)  # App Home: bot/channels/slack_home.py
        self._register()
        self._host: ChannelHost | None = None
        self._handle: HandleIncoming | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._accepting = False
        self._in_hand: set[asyncio.Task[Any]] = set()
        self._turns = ChatTurns()
        self._names: dict[str, str | None] = {}
        self._dms: dict[str, str] = {}
        self.bot_user_id = ""
        self.team_id = ""
        self.app_id = ""

    # -- wiring -----------------------------------------------------------------
    def attach(self, host: ChannelHost, http: HttpServer | None) -> None:
        self._host = host
        if self.app_token is None:
            if http is None:
                raise ConfigError(
                    "SLACK_SIGNING_SECRET: HTTP mode needs the HTTP server "
                    "(alliantiebot run starts it); set SLACK_APP_TOKEN for Socket Mode"
                )
            http.add_route("POST", EVENTS_PATH, self.events)

    async def start(self, handle: HandleIncoming) -> None:
        self._handle = handle
        # One HTTP session for every Web API call: without it slack_sdk opens a new
        # session (and connection) per call. Made here, in the running loop.
        self.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout)
        )
        try:
            answer = await self.client.auth_test()
        except SlackApiError as exc:
            await self.stop()
            raise ConfigError(
                f"SLACK_BOT_TOKEN: Slack does not accept this token ({_error_of(exc)})"
            ) from None
        except Exception as exc:
            await self.stop()
            where = self.settings.slack_api_url or "slack.com"
            raise ConfigError(
                f"SLACK_BOT_TOKEN: cannot reach the Slack Web API at {where} ({type(exc).__name__})"
            ) from None
        self.bot_user_id = str(answer.get("user_id") or "")
        self.team_id = str(answer.get("team_id") or "")
        if self.app_token is not None:
            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("slack: Socket Mode as %s", self.bot_user_id)
        else:
            log.info("slack: HTTP mode on %s", EVENTS_PATH)
        self._accepting = True

    async def stop(self) -> None:
        self._accepting = False
        socket, self._socket = self._socket, None
        if socket is not None:
            try:
                await socket.close_async()  # type: ignore[no-untyped-call]
            except Exception as exc:
                log.warning("slack: socket not closed cleanly (%s)", type(exc).__name__)
        # Slack had its ack for the messages in hand: answer them before going.
        in_hand = {task for task in self._in_hand if task is not asyncio.current_task()}
        if in_hand:
            _done, pending = await asyncio.wait(in_hand, timeout=self.settings.stop_grace_seconds)
            if pending:
                log.warning("slack: %d messages in hand not finished at stop", len(pending))
        await self.home.stop()  # after the messages in hand: their refreshes are dropped
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()

    # -- readiness (/readyz) ----------------------------------------------------------
    @property
    def connected(self) -> bool:
        """HTTP mode: taking Slack's POSTs; Socket Mode: the socket open and not stale."""
        if not self._accepting:
            return False
        if self._socket is None:
            return True
        client = self._socket.client
        session = client.current_session
        return not client.closed and not client.stale and session is not None and not session.closed

    async def check(self) -> bool | None:
        """``auth.test``, once: False when Slack refuses the token, None when it cannot
        be asked now (rate limited, network trouble)."""
        try:
            await self.client.auth_test()
        except SlackApiError as exc:
            error = _error_of(exc)
            if error in TOKEN_REFUSED:
                return False
            log.info("slack: token check could not ask (%s)", error)
            return None
        except Exception as exc:
            log.info("slack: token check could not ask (%s)", type(exc).__name__)
            return None
        return True

    # -- incoming -----------------------------------------------------------------
    async def events(self, request: web.Request) -> web.Response:
        """HTTP mode: events, interactivity and slash commands; bolt checks the
        signature (401 when wrong or older than 5 minutes)."""
        if not self._accepting:
            return web.Response(status=503)
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.command(COMMAND)(self._on_command)
        app.event(slack_home.EVENT)(self.home.opened)
        app.action(slack_home.ACTIONS)(self.home.pressed)  # before the catch-all below
        app.action(re.compile(".*"))(self._on_action)

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """Events are acked by bolt before this runs."""
        self._hold()
        try:
            self._seen(body)
            if event.get("channel_type") != "im" or not self._from_person(event):
                return
            user, channel = str(event["user"]), str(event["channel"])
            incoming = Incoming.from_text(
                PLATFORM,
                user,
                channel,
                str(event.get("text") or ""),
                is_private=True,
                display_name=await self._name(user),
                event_id=_event_id(body),
                durable_replies=True,
            )
            await self.process(incoming)
        except Exception as exc:
            log.error("slack: message event failed (%s)", type(exc).__name__)

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._hold()
        try:
            self._seen(body)
            if not self._from_person(event) or event.get("channel_type") == "im":
                return  # in a DM the message event is the one answered
            user, channel = str(event["user"]), str(event["channel"])
            text = _MENTION.sub("", str(event.get("text") or "")).strip()
            incoming = Incoming.from_text(
                PLATFORM,
                user,
                channel,
                text,
                is_private=False,
                display_name=await self._name(user),
                event_id=_event_id(body),
                durable_replies=True,
            )
            thread = str(event.get("thread_ts") or event.get("ts") or "") or None
            await self.process(incoming, thread_ts=thread)
        except Exception as exc:
            log.error("slack: mention failed (%s)", type(exc).__name__)

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        """``/alliantie <sub> [args]`` is the command ``/<sub>``, answered in the DM; typed
        in a channel, the ack says so to that person only, with a button to the DM."""
        self._hold()
        await ack(**self._answered_in_dm(command))
        try:
            self._seen(command)
            user = str(command["user_id"])
            words = str(command.get("text") or "").strip() or "help"
            channel = await self._dm(user)
            incoming = Incoming.from_text(
                PLATFORM,
                user,
                channel,
                "/" + words.lstrip("/"),
                is_private=True,
                display_name=await self._name(user),
                event_id=f"cmd:{command.get('trigger_id')}" if command.get("trigger_id") else None,
                durable_replies=True,
            )
            await self.process(incoming)
        except Exception as exc:
            log.error("slack: slash command failed (%s)", type(exc).__name__)

    def _answered_in_dm(self, command: dict[str, Any]) -> dict[str, Any]:
        """The ephemeral ack of a slash command typed outside the DM (``D…``): "the
        answer is in our chat", with the DM button once the app's id is known."""
        if str(command.get("channel_id") or "").startswith("D"):
            return {}
        self._seen(command)
        text = self._t("channels.slack.answered_in_dm")
        link = self._dm_link()
        if link is None:
            return {"text": text}
        (message,) = slack_render.dm_invite(text, link, t=self._t)[:1]
        return {"text": message.text, "blocks": message.blocks}

    async def _on_action(self, ack: Any, body: dict[str, Any]) -> None:
        self._hold()
        await ack()
        try:
            self._seen(body)
            if body.get("type") != "block_actions" or slack_render.is_link_press(body):
                return
            user = str((body.get("user") or {}).get("id") or "")
            channel = str((body.get("channel") or {}).get("id") or "")
            if not user or not channel:
                return
            incoming = Incoming(
                PLATFORM,
                user,
                channel,
                Kind.ACTION,
                text=slack_render.pressed_label(body) or "",
                action=slack_render.value_of(body) or "",
                is_private=channel.startswith("D"),
                display_name=await self._name(user),
                event_id=f"act:{body.get('trigger_id')}" if body.get("trigger_id") else None,
                durable_replies=True,
            )
            await self.process(incoming, pressed=body)
        except Exception as exc:
            log.error("slack: button press failed (%s)", type(exc).__name__)

    def _is_crisis(self, incoming: Incoming) -> bool:
        """A typed text that signals a crisis: it does not wait for the chat's turn."""
        host = self._host
        return incoming.kind is Kind.TEXT and host is not None and host.is_crisis(incoming.text)

    def _hold(self) -> None:
        """The running listener is a message in hand: ``stop`` waits for it."""
        task = asyncio.current_task()
        if task is not None and task not in self._in_hand:
            self._in_hand.add(task)
            task.add_done_callback(self._in_hand.discard)

    def _from_person(self, event: Mapping[str, Any]) -> bool:
        """A person's own new message: no subtype (edits, joins, bot messages), no bot."""
        return (
            not event.get("subtype")
            and not event.get("bot_id")
            and bool(event.get("user"))
            and event.get("user") != self.bot_user_id
            and bool(event.get("channel"))
        )

    async def process(
        self,
        incoming: Incoming,
        *,
        thread_ts: str | None = None,
        pressed: Mapping[str, Any] | None = None,
    ) -> None:
        """Hand one message to the core, update the pressed message, send the replies.

        One chat's messages take turns in this process, from the core until the
        outbox knows the replies went out: the next message's replies then go out
        at once instead of queueing behind rows not yet settled."""
        if self._handle is None:
            return
        async with self._turns.turn(incoming.chat_id, urgent=lambda: self._is_crisis(incoming)):
            await self._process(incoming, thread_ts, pressed, self._handle)
        self.home.changed(incoming.user_id)  # republished if it now looks different

    async def _process(
        self,
        incoming: Incoming,
        thread_ts: str | None,
        pressed: Mapping[str, Any] | None,
        handle: HandleIncoming,
    ) -> None:
        replies = await handle(incoming)
        outcomes = {reply.press_outcome for reply in replies}
        if pressed is not None and replies and PressOutcome.TRY_AGAIN not in outcomes:
            await self._close_buttons(pressed, chosen=PressOutcome.STALE not in outcomes)
        tally = _Delivery()
        for number, reply in enumerate(replies):
            if reply.queued:
                continue
            target = reply.chat_id or incoming.chat_id
            thread = thread_ts if reply.chat_id in (None, incoming.chat_id) else None
            if not incoming.is_private and reply.private_invite and target == incoming.chat_id:
                await self._invite_privately(incoming, reply, thread, tally)
                continue
            waiting = bool(tally.deferred or tally.later)
            if waiting or not await self._send_now(target, reply, thread, tally):
                if reply.outbox_id is not None:
                    tally.deferred.append(reply.outbox_id)
                else:  # made outside a transaction (the crisis reply): to the outbox now
                    key = f"slack-reply:{incoming.event_id}:{number}"
                    tally.later.append(
                        Outgoing(
                            key=key, platform=PLATFORM, chat_id=target, reply=reply, kind=REPLY
                        )
                    )
        await self._settle(incoming, tally)

    async def _settle(self, incoming: Incoming, tally: _Delivery) -> None:
        """Tell the outbox which held replies went out, failed or wait; hand it the
        ones it does not hold yet."""
        if self._host is not None and (tally.sent or tally.failed or tally.deferred):
            try:
                await self._host.settle(
                    sent=tally.sent,
                    deferred=tally.deferred,
                    retry_after=tally.retry_after,
                    failed=tally.failed,
                )
            except Exception as exc:  # the lease runs out and the sender takes them over
                log.warning("slack: delivered replies not recorded (%s)", type(exc).__name__)
        if self._host is not None and tally.later:
            try:
                await self._host.defer(
                    PLATFORM, incoming.user_id, tally.later, delay=tally.retry_after
                )
            except Exception as exc:
                log.error("slack: %d replies lost (%s)", len(tally.later), type(exc).__name__)

    async def _invite_privately(
        self, incoming: Incoming, reply: Reply, thread_ts: str | None, tally: _Delivery
    ) -> None:
        """A private feature asked for in a channel: ``chat.postEphemeral`` to that
        person only, with a button that opens the DM. Never posted publicly: when Slack
        refuses, the reply is dropped (an ephemeral later makes no sense)."""
        link = self._dm_link()
        invite = reply.private_invite
        if link is not None and invite is not None:
            messages = slack_render.dm_invite(
                reply.text, link, t=self._t, label=invite.button_label, markup=reply.markup
            )
        else:  # no app id known yet: the text alone, still only to that person
            messages = slack_render.blocks(reply)
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            for message in messages:
                await self.client.chat_postEphemeral(
                    channel=incoming.chat_id, user=incoming.user_id, **message.kwargs(), **extra
                )
        except Exception as exc:
            error = _error_of(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("slack: private invitation not delivered (%s)", error)
            if reply.outbox_id is not None:
                tally.failed.append(reply.outbox_id)
            return
        if reply.outbox_id is not None:
            tally.sent.append(reply.outbox_id)

    async def _send_now(
        self, target: str, reply: Reply, thread_ts: str | None, tally: _Delivery
    ) -> bool:
        try:
            await self._deliver(target, reply, thread_ts)
        except SlackApiError as exc:
            wait = _retry_after(exc)
            if wait is None and _error_of(exc) in PERMANENT | {"not_in_channel", "is_archived"}:
                log.warning("slack: reply not delivered (%s)", _error_of(exc))
                if reply.outbox_id is not None:
                    tally.failed.append(reply.outbox_id)
                return True
            log.warning("slack: reply handed to the outbox (%s)", _error_of(exc))
            tally.retry_after = wait if wait is not None else RETRY_SOON
            return False
        except Exception as exc:
            log.warning("slack: reply handed to the outbox (%s)", type(exc).__name__)
            tally.retry_after = RETRY_SOON
            return False
        if reply.outbox_id is not None:
            tally.sent.append(reply.outbox_id)
        return True

    async def _close_buttons(self, body: Mapping[str, Any], *, chosen: bool) -> None:
        """``chat.update``: the pressed message keeps its text, loses its buttons and
        shows "✓ <label>" (not after a stale press)."""
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        ts = message.get("ts")
        if not channel or not ts:
            return
        label = slack_render.pressed_label(body) if chosen else None
        blocks = slack_render.pressed(message.get("blocks") or [], label, t=self._t)
        try:
            await self.client.chat_update(
                channel=channel, ts=ts, blocks=blocks, text=str(message.get("text") or "")
            )
        except SlackApiError as exc:  # gone or too old: nothing to press then
            log.info("slack: buttons not closed (%s)", _error_of(exc))

    # -- outgoing --------------------------------------------------------------------
    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """For the outbox: one attempt; the outbox's sender decides about retries."""
        try:
            return await self._deliver(chat_id, reply, None)
        except SlackApiError as exc:
            error = _error_of(exc)
            wait = _retry_after(exc)
            if wait is not None:
                raise DeliveryError("slack: 429", retry_after=wait) from None
            raise DeliveryError(f"slack: {error}"[:200], permanent=error in PERMANENT) from None
        except Exception as exc:
            raise DeliveryError(f"slack: {type(exc).__name__}") from None

    async def _deliver(self, chat_id: str, reply: Reply, thread_ts: str | None) -> str | None:
        """Post the reply's messages, then upload its picture and file into the chat."""
        channel = await self._dm(chat_id) if chat_id.startswith(("U", "W")) else chat_id
        link = self._dm_link()
        last: str | None = None
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        for message in slack_render.blocks(
            reply, dm_link=link, dm_label=self._t("channels.slack.open_dm")
        ):
            if not message.blocks and not message.text:
                continue
            answer = await self.client.chat_postMessage(
                channel=channel, **message.kwargs(), **extra
            )
            last = str(answer.get("ts") or "") or last
        for upload in slack_render.uploads(reply):
            upload_kwargs: dict[str, Any] = {
                "channel": channel,
                "file": str(upload.path),
                "filename": upload.filename,
                "title": upload.title,
            }
            if upload.alt:
                upload_kwargs["alt_txt"] = upload.alt
            if thread_ts:
                upload_kwargs["thread_ts"] = thread_ts
            await self.client.files_upload_v2(**upload_kwargs)
        return last

    # -- identity ----------------------------------------------------------------------
    async def _name(self, user: str) -> str | None:
        """The person's display name from ``users.info``, cached; None when Slack will
        not say (the message is handled all the same)."""
        if user in self._names:
            return self._names[user]
        name: str | None = None
        try:
            answer = await self.client.users_info(user=user)
            found = answer.get("user") or {}
            profile = found.get("profile") or {}
            name = (
                profile.get("display_name")
                or profile.get("real_name")
                or found.get("real_name")
                or found.get("name")
                or None
            )
        except SlackApiError as exc:
            log.info("slack: users.info failed (%s)", _error_of(exc))
            return None
        self._names[user] = name
        return name

    async def _dm(self, user: str) -> str:
        """The DM channel with ``user`` (``conversations.open``), cached."""
        if user in self._dms:
            return self._dms[user]
        answer = await self.client.conversations_open(users=user)
        channel = str((answer.get("channel") or {}).get("id") or "")
        if not channel:
            raise SlackApiError("no channel", answer)  # type: ignore[no-untyped-call]
        self._dms[user] = channel
        return channel

    def _dm_link(self) -> str | None:
        """The link that opens the app's DM, once an event told us the app's id."""
        try:
            return slack_render.dm_link(self.team_id, self.app_id) if self.app_id else None
        except ValueError:
            return None

    def _seen(self, body: Mapping[str, Any]) -> None:
        app_id = body.get("api_app_id")
        if isinstance(app_id, str) and app_id:
            self.app_id = app_id

    def _t(self, key: str, **params: object) -> str:
        return self.texts.get(self.settings.default_language, key, **params)


def _event_id(body: Mapping[str, Any]) -> str | None:
    event_id = body.get("event_id")
    return f"{body.get('team_id', '')}:{event_id}" if event_id else None
