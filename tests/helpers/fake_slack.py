"""A fake Slack Web API and Socket Mode server for tests that drive the real slack_sdk / bolt.

The server is an aiohttp app on 127.0.0.1 (random port). Point the library under test at
it, unchanged::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        await client.chat_postMessage(channel="D1", text="hoi")
        assert fake.calls_of("chat.postMessage")[0].params["text"] == "hoi"

How slack_sdk 3.x sends a request (slack_sdk/web/async_base_client.py, internal_utils.py):
every method goes to ``{base_url}{method}``; the token travels as ``Authorization: Bearer``
(a ``token`` body/query parameter is accepted too, as Slack does). Methods with blocks
(chat.*, views.publish) send a JSON body; others send their arguments as query parameters
(``params=``) or a form body. The fake merges query, form and JSON into ``Call.params``,
JSON-decoding the parameters Slack types as JSON (``blocks``, ``view``, ``files`` ...).

``files_upload_v2`` takes three steps: files.getUploadURLExternal (returns an upload URL on
this server), a raw POST of the bytes to that URL (recorded as method ``UPLOAD``), then
files.completeUploadExternal with the file ids and the channel.

Validation follows Slack's answers: ``not_authed`` without a token, ``invalid_auth`` for an
unknown one, ``not_allowed_token_type`` for a bot token on apps.connections.open (or an app
token elsewhere), ``channel_not_found`` / ``no_text`` / ``msg_too_long`` for missing fields,
``invalid_blocks`` (with ``response_metadata.messages``) for Block Kit beyond its limits.
Errors are HTTP 200 with ``{"ok": false, "error": ...}``; a rate limit is HTTP 429 with
``Retry-After``.

Socket Mode: apps.connections.open returns ``ws://127.0.0.1:<port>/socket?ticket=...``
(a ticket is good for one connection, like Slack's). On connect the server sends ``hello``;
the test pushes envelopes with ``send_envelope`` / ``send_event`` / ``send_interactive`` /
``send_slash_command`` and awaits the client's ack with ``wait_ack``; ``send_disconnect``
sends Slack's ``disconnect`` envelope, after which the client fetches a new URL and
reconnects (``wait_connections``).

HTTP mode: ``signed_headers`` / ``post_signed`` sign a body as Slack does (v0, HMAC-SHA256
over ``v0:<timestamp>:<body>``), with a right, a wrong or an expired signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

__all__ = [
    "UPLOAD",
    "Call",
    "FakeSlack",
    "block_errors",
    "post_signed",
    "signed_headers",
    "slack_signature",
]

UPLOAD = "(upload)"  # Call.method of the raw POST to an upload URL

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_BUTTON_TEXT = 75
MAX_HEADER_TEXT = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40000
SIGNATURE_WINDOW_SECONDS = 60 * 5

# Parameters Slack types as JSON; sent as strings in a form or query, as values in JSON.
JSON_PARAMS = frozenset({"blocks", "attachments", "view", "files", "metadata"})

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "rich_text",
        "section",
        "video",
    }
)

METHODS_WITH_APP_TOKEN = frozenset({"apps.connections.open"})


@dataclass
class Call:
    """One request the fake received (failed and rate-limited ones included)."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else str(self.response.get("error"))


@dataclass
class _Fault:
    method: str
    error: str | None  # None: a 429
    retry_after: int = 1
    times: int | None = 1  # None: every matching call
    channel: str | None = None
    user: str | None = None

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        if self.method != method or self.times == 0:
            return False
        if self.channel is not None and self.channel not in _channels_of(params):
            return False
        return self.user is None or self.user in _users_of(params)


class _ApiError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


def _channels_of(params: Mapping[str, Any]) -> set[str]:
    found = {str(params[k]) for k in ("channel", "channel_id") if params.get(k)}
    if params.get("channels"):
        found.update(str(params["channels"]).split(","))
    return found


def _users_of(params: Mapping[str, Any]) -> set[str]:
    found = {str(params[k]) for k in ("user", "user_id") if params.get(k)}
    if params.get("users"):
        found.update(str(params["users"]).split(","))
    return found


# -- Block Kit validation -------------------------------------------------------------------


def _text_errors(obj: Any, where: str, limit: int, types: tuple[str, ...]) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return [f"[ERROR] must be a text object of type {'/'.join(types)} [json-pointer:{where}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"[ERROR] must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _element_errors(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"[ERROR] missing required field: type [json-pointer:{where}]"]
    errors: list[str] = []
    action_id = element.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > MAX_ACTION_ID):
        errors.append(
            f"[ERROR] must be less than {MAX_ACTION_ID + 1} characters "
            f"[json-pointer:{where}/action_id]"
        )
    if element["type"] == "button":
        errors += _text_errors(
            element.get("text"), f"{where}/text", MAX_BUTTON_TEXT, ("plain_text",)
        )
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
            errors.append(
                f"[ERROR] must be less than {MAX_BUTTON_VALUE + 1} characters "
                f"[json-pointer:{where}/value]"
            )
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"[ERROR] must be one of primary, danger [json-pointer:{where}/style]")
    return errors


def _section_errors(block: dict[str, Any], where: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"[ERROR] must provide either text or fields [json-pointer:{where}]"]
    errors: list[str] = []
    if "text" in block:
        errors += _text_errors(
            block["text"], f"{where}/text", MAX_SECTION_TEXT, ("plain_text", "mrkdwn")
        )
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
            errors.append(
                f"[ERROR] must be at most {MAX_FIELDS} items [json-pointer:{where}/fields]"
            )
        else:
            for i, item in enumerate(fields):
                errors += _text_errors(
                    item, f"{where}/fields/{i}", MAX_FIELD_TEXT, ("plain_text", "mrkdwn")
                )
    if "accessory" in block:
        errors += _element_errors(block["accessory"], f"{where}/accessory")
    return errors


def _elements_errors(block: dict[str, Any], where: str, limit: int) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"[ERROR] must be more than 0 items [json-pointer:{where}/elements]"]
    if len(elements) > limit:
        return [f"[ERROR] must be less than {limit + 1} items [json-pointer:{where}/elements]"]
    if block["type"] == "context":
        return []
    errors: list[str] = []
    action_ids: set[str] = set()
    for i, element in enumerate(elements):
        errors += _element_errors(element, f"{where}/elements/{i}")
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in action_ids:
                errors.append(
                    f"[ERROR] action_id must be unique [json-pointer:{where}/elements/{i}]"
                )
            action_ids.add(action_id)
    return errors


def _block_errors(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return [f"[ERROR] unsupported type [json-pointer:{where}/type]"]
    kind = block["type"]
    if kind == "section":
        return _section_errors(block, where)
    if kind == "actions":
        return _elements_errors(block, where, MAX_ACTIONS_ELEMENTS)
    if kind == "context":
        return _elements_errors(block, where, MAX_CONTEXT_ELEMENTS)
    if kind == "header":
        return _text_errors(block.get("text"), f"{where}/text", MAX_HEADER_TEXT, ("plain_text",))
    if kind == "image":
        missing = [k for k in ("image_url", "alt_text") if not block.get(k) and k != "image_url"]
        if not block.get("image_url") and not block.get("slack_file"):
            missing.append("image_url")
        return [f"[ERROR] missing required field: {k} [json-pointer:{where}]" for k in missing]
    return []


def block_errors(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Slack's complaints about ``blocks`` (empty when Slack would accept them)."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    if len(blocks) > max_blocks:
        return [f"[ERROR] must be less than {max_blocks + 1} items [json-pointer:/blocks]"]
    errors: list[str] = []
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        errors += _block_errors(block, f"/blocks/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is None:
            continue
        if not isinstance(block_id, str) or len(block_id) > MAX_BLOCK_ID:
            errors.append(
                f"[ERROR] must be less than {MAX_BLOCK_ID + 1} characters "
                f"[json-pointer:/blocks/{i}/block_id]"
            )
        elif block_id in block_ids:
            errors.append(f"[ERROR] block_id must be unique [json-pointer:/blocks/{i}/block_id]")
        block_ids.add(str(block_id))
    return errors


# -- request signing (HTTP mode) ------------------------------------------------------------


def slack_signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """``X-Slack-Signature`` for ``body`` sent at ``timestamp``: v0, HMAC-SHA256."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


SignatureKind = Literal["right", "wrong", "expired"]


def signed_headers(
    signing_secret: str,
    body: bytes | str,
    *,
    signature: SignatureKind = "right",
    content_type: str = "application/json",
    now: float | None = None,
    retry_num: int | None = None,
) -> dict[str, str]:
    """Headers Slack sends with ``body``.

    ``right``: signed now with the secret; ``wrong``: signed now with another secret;
    ``expired``: signed correctly but six minutes ago (outside the 5-minute window).
    ``retry_num`` adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` as on a redelivery.
    """
    moment = int(time.time() if now is None else now)
    if signature == "expired":
        moment -= SIGNATURE_WINDOW_SECONDS + 60
    secret = signing_secret if signature != "wrong" else signing_secret + "-not"
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(moment),
        "X-Slack-Signature": slack_signature(secret, moment, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


async def post_signed(
    url: str,
    body: bytes | str | Mapping[str, Any],
    signing_secret: str,
    *,
    signature: SignatureKind = "right",
    form: bool = False,
    retry_num: int | None = None,
) -> tuple[int, str]:
    """POST ``body`` to ``url`` as Slack does; return (status, response text).

    A mapping is sent as JSON (events), or form-encoded with ``form=True`` (slash commands;
    for interactivity pass ``{"payload": json.dumps(...)}``).
    """
    if isinstance(body, Mapping):
        raw = urlencode(dict(body)) if form else json.dumps(body)
    else:
        raw = body.decode() if isinstance(body, bytes) else body
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    headers = signed_headers(
        signing_secret, raw, signature=signature, content_type=content_type, retry_num=retry_num
    )
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.post(url, data=raw.encode(), headers=headers) as response,
    ):
        return response.status, await response.text()


# -- the fake -------------------------------------------------------------------------------


class FakeSlack:
    """A fake Slack workspace: Web API methods, an upload URL and a Socket Mode server."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-0000-fake-bot-token",
        app_token: str = "xapp-1-A0FAKE-0000-fake-app-token",
        team_id: str = "T0FAKE",
        team: str = "Alliantie Test",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0FAKE",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team = team
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id

        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}  # add_user overrides the generated profile
        self.messages: dict[str, list[dict[str, Any]]] = {}  # by channel, in order
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}  # published home view by user id
        self.files: dict[str, dict[str, Any]] = {}  # by file id; "content" once uploaded
        self.dms: dict[str, str] = {}  # user id -> DM channel id
        self.acks: dict[str, dict[str, Any]] = {}  # envelope id -> the client's ack
        self.socket_received: list[dict[str, Any] | str] = []  # everything the client sent
        self.connections_opened = 0

        self._faults: list[_Fault] = []
        self._counter = itertools.count(1)
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeSlack already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return f"{self.url}/api/"

    # -- setting the scene ----------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, *, real_name: str = "", display_name: str = "", **extra: Any
    ) -> dict[str, Any]:
        """Give ``user_id`` a profile for users.info (others get a generated one)."""
        user = self._default_user(user_id)
        user["name"] = name
        user["real_name"] = real_name or name
        user["profile"].update(
            real_name=real_name or name,
            real_name_normalized=real_name or name,
            display_name=display_name,
            display_name_normalized=display_name,
        )
        user.update(extra)
        self.users[user_id] = user
        return user

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` get HTTP 429 with ``Retry-After``."""
        self._faults.append(_Fault(method, None, retry_after=retry_after, times=times))

    def fail(
        self,
        method: str,
        error: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        times: int | None = None,
    ) -> None:
        """Calls of ``method`` (to ``channel`` / about ``user``) answer ``error``.

        ``times=None`` (the default) keeps failing, as for ``account_inactive``.
        """
        self._faults.append(_Fault(method, error, times=times, channel=channel, user=user))

    def clear_faults(self) -> None:
        self._faults.clear()

    # -- inspecting -----------------------------------------------------------------------

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Every call of ``method``, failed ones included unless ``ok`` says otherwise."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def texts(self, channel: str) -> list[str]:
        """The current ``text`` of each message in ``channel`` (updates applied)."""
        return [str(m.get("text", "")) for m in self.messages.get(channel, [])]

    async def wait_for(self, method: str, count: int = 1, *, timeout: float = 10.0) -> list[Call]:
        """Wait until ``count`` calls of ``method`` arrived; return them all."""
        await self.wait_until(lambda: len(self.calls_of(method)) >= count, timeout, method)
        return self.calls_of(method)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "predicate"
    ) -> None:
        """Wait until ``predicate()`` holds; it is re-checked whenever the fake changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                summary = ", ".join(f"{c.method}:{c.error or 'ok'}" for c in self.calls[-20:])
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; {summary}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # -- Socket Mode ----------------------------------------------------------------------

    async def wait_connections(self, count: int = 1, *, timeout: float = 10.0) -> None:
        """Wait until the client has opened ``count`` WebSocket connections in all."""
        await self.wait_until(
            lambda: self.connections_opened >= count and bool(self._open_sockets()),
            timeout,
            f"{count} socket connection(s)",
        )

    def _open_sockets(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self._sockets if not ws.closed]

    async def send_raw(self, message: dict[str, Any]) -> None:
        """Send ``message`` on the newest open connection (wait for one first)."""
        await self.wait_connections(max(1, self.connections_opened))
        await self._open_sockets()[-1].send_str(json.dumps(message))

    async def send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Push an envelope (``events_api``, ``interactive``, ``slash_commands``); its id."""
        envelope_id = envelope_id or f"env-{next(self._counter)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        await self.send_raw(envelope)
        return envelope_id

    def event_callback(
        self, event: dict[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        """The Events API outer payload around ``event`` (also the HTTP-mode body)."""
        return {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._counter):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}
            ],
        }

    async def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Push an ``events_api`` envelope carrying ``event``; the envelope id."""
        return await self.send_envelope(
            "events_api",
            self.event_callback(event, event_id=event_id),
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    async def send_interactive(self, payload: dict[str, Any]) -> str:
        """Push an ``interactive`` envelope (e.g. a ``block_actions`` payload)."""
        payload = {"team": {"id": self.team_id}, "api_app_id": self.app_id, **payload}
        return await self.send_envelope("interactive", payload)

    async def send_slash_command(
        self, command: str, text: str, *, user_id: str, channel_id: str
    ) -> str:
        """Push a ``slash_commands`` envelope, as Slack does for ``/command text``."""
        payload = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "command": command,
            "text": text,
            "response_url": f"{self.url}/response/{next(self._counter)}",
            "trigger_id": f"trigger-{next(self._counter)}",
        }
        return await self.send_envelope("slash_commands", payload, accepts_response_payload=True)

    async def wait_ack(self, envelope_id: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """The client's ack of ``envelope_id`` (``{"envelope_id": ..., "payload"?: ...}``)."""
        await self.wait_until(lambda: envelope_id in self.acks, timeout, f"ack {envelope_id}")
        return self.acks[envelope_id]

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's ``disconnect`` envelope: the client should fetch a new URL and reconnect."""
        await self.send_raw(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        )

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections_opened += 1
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._open_sockets()),
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        self._notify()
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                self._receive_socket_text(message.data)
        finally:
            self._notify()
        return ws

    def _receive_socket_text(self, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            self.socket_received.append(text)
        else:
            self.socket_received.append(data)
            if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
                self.acks[data["envelope_id"]] = data
        self._notify()

    # -- HTTP: parsing and dispatch -------------------------------------------------------

    async def _parse(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for name in JSON_PARAMS & params.keys():
            if isinstance(params[name], str):
                try:
                    params[name] = json.loads(params[name])
                except json.JSONDecodeError:
                    params[name] = _Unparsable(params[name])
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._parse(request)
        token = _bearer(request.headers.get("Authorization")) or params.pop("token", None)
        call = Call(method, params, dict(request.headers), token)
        self.calls.append(call)
        headers: dict[str, str] = {}
        try:
            self._check_token(method, token)
            fault = self._take_fault(method, params)
            if fault is not None and fault.error is None:
                call.status = 429
                headers["Retry-After"] = str(fault.retry_after)
                raise _ApiError("ratelimited")
            if fault is not None and fault.error is not None:
                raise _ApiError(fault.error)
            handler = self._methods().get(method)
            if handler is None:
                raise _ApiError("unknown_method")
            call.response = {"ok": True, **handler(params)}
        except _ApiError as exc:
            call.response = {"ok": False, "error": exc.error}
            if exc.messages:
                call.response["response_metadata"] = {"messages": exc.messages}
        self._notify()
        return web.json_response(call.response, status=call.status, headers=headers)

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise _ApiError("invalid_auth")
        wants_app_token = method in METHODS_WITH_APP_TOKEN
        if wants_app_token != (token == self.app_token):
            raise _ApiError("not_allowed_token_type")

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, params):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "apps.connections.open": self._connections_open,
        }

    # -- Web API methods ------------------------------------------------------------------

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._counter):06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://alliantie-test.slack.com/",
            "team": self.team,
            "user": "alliantiebot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _message_content(self, params: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
        text = params.get("text")
        blocks = params.get("blocks")
        if isinstance(blocks, _Unparsable):
            raise _ApiError("invalid_blocks_format")
        if required and not text and not blocks and not params.get("attachments"):
            raise _ApiError("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise _ApiError("msg_too_long")
        if blocks is not None:
            errors = block_errors(blocks)
            if errors:
                raise _ApiError("invalid_blocks", errors)
        content: dict[str, Any] = {}
        if text is not None:
            content["text"] = text
        if blocks is not None:
            content["blocks"] = blocks
        return content

    def _channel(self, params: dict[str, Any]) -> str:
        channel = params.get("channel")
        if not isinstance(channel, str) or not channel:
            raise _ApiError("channel_not_found")
        if channel.startswith(("U", "W")):  # a user id posts into the app's DM with them
            return self._dm_for(channel)
        return channel

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        content = self._message_content(params)
        ts = self._new_ts()
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": ts,
            **content,
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        self.messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": message}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = params.get("ts")
        found = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
        if not found:
            raise _ApiError("message_not_found")
        content = self._message_content(params)
        message = found[0]
        if "blocks" not in content:
            message.pop("blocks", None)  # an update without blocks drops the old ones
        message.update(content, edited={"user": self.bot_user_id, "ts": self._new_ts()})
        return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        user = params.get("user")
        if not isinstance(user, str) or not user:
            raise _ApiError("user_not_found")
        content = self._message_content(params)
        ts = self._new_ts()
        self.ephemerals.append({"channel": channel, "user": user, "ts": ts, **content})
        return {"message_ts": ts}

    def _dm_for(self, user: str) -> str:
        if user not in self.dms:
            self.dms[user] = f"D{user[1:]}"
        return self.dms[user]

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}, "already_open": True}
        if len(users) != 1:
            raise _ApiError("users_list_not_supplied" if not users else "invalid_arguments")
        user = users[0]
        self._require_user(user)
        already = user in self.dms
        channel = self._dm_for(user)
        return {"no_op": already, "already_open": already, "channel": {"id": channel}}

    def _require_user(self, user: str) -> None:
        if user not in self.users and not (user[:1] in ("U", "W") and user[1:].isalnum()):
            raise _ApiError("user_not_found")

    def _default_user(self, user_id: str) -> dict[str, Any]:
        name = f"user-{user_id.lower()}"
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": name,
            "tz": "Europe/Amsterdam",
            "tz_offset": 3600,
            "is_bot": False,
            "is_admin": False,
            "profile": {
                "real_name": name,
                "real_name_normalized": name,
                "display_name": "",
                "display_name_normalized": "",
                "team": self.team_id,
            },
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user")
        if not isinstance(user_id, str) or not user_id:
            raise _ApiError("user_not_found")
        self._require_user(user_id)
        user = dict(self.users.get(user_id) or self._default_user(user_id))
        if str(params.get("include_locale")) in ("1", "true", "True"):
            user["locale"] = "nl-NL"
        return {"user": user}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        view = params.get("view")
        if not isinstance(user_id, str) or not user_id:
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: user_id"])
        self._require_user(user_id)
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
        if view.get("type") != "home":
            raise _ApiError("invalid_arguments", ["[ERROR] must be home [json-pointer:/view/type]"])
        errors = block_errors(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS)
        if errors:
            raise _ApiError("invalid_arguments", [e.replace(":/", ":/view/") for e in errors])
        stored = {
            "id": f"V{next(self._counter):08d}",
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{next(self._counter)}",
            **view,
        }
        self.views[user_id] = stored
        return {"view": stored}

    def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length is None or not str(length).isdigit():
            raise _ApiError("invalid_arguments")
        file_id = f"F{next(self._counter):08d}"
        self.files[file_id] = {"id": file_id, "name": filename, "length": int(length)}
        return {"upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        body = await request.read()
        call = Call(UPLOAD, {"file_id": file_id}, dict(request.headers), None, body=body)
        self.calls.append(call)
        file = self.files.get(file_id)
        if file is None or "content" in file:
            call.status, call.response = 404, {"ok": False, "error": "file_not_found"}
            self._notify()
            return web.Response(status=404, text="Not Found")
        file["content"] = body
        call.response = {"ok": True}
        self._notify()
        return web.Response(text=f"OK - {len(body)}")

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        items = params.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments")
        channels = sorted(_channels_of(params))
        done: list[dict[str, Any]] = []
        for item in items:
            file = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if file is None or "content" not in file:
                raise _ApiError("file_not_found")
            if len(file["content"]) != file["length"]:
                raise _ApiError("file_upload_size_mismatch")
            file.update(
                title=item.get("title") or file["name"],
                size=len(file["content"]),
                channels=channels,
                initial_comment=params.get("initial_comment"),
                thread_ts=params.get("thread_ts"),
            )
            done.append({k: v for k, v in file.items() if k != "content"})
        return {"files": done}

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ticket = f"ticket-{next(self._counter)}"
        self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}"}


class _Unparsable(str):
    """A JSON parameter that did not parse (Slack answers ``invalid_*_format``)."""


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None
