"""A fake Telegram Bot API server for tests that drive python-telegram-bot end to end.

The server speaks the real Bot API over HTTP on 127.0.0.1 (random port), so the
library under test is used unchanged::

    async with FakeBotApi() as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...
        fake.message(42, "/start")
        await fake.wait_for("sendMessage", chat_id=42)
        assert fake.texts(42) == [...]

How python-telegram-bot 22 encodes a request (see telegram/request/_httpxrequest.py and
_requestparameter.py): every method is a POST to ``{base_url}{token}/{method}``. Without
files the body is ``application/x-www-form-urlencoded``; with files it is
``multipart/form-data`` where each upload is a part named after the parameter (``photo``,
``document``) with a filename. In both cases a string parameter is sent as-is and any other
value (int, bool, list, dict) is sent JSON-encoded, so on the wire ``text="7"`` and
``chat_id=7`` look the same. The fake therefore decodes by parameter name: the names in
``STRING_PARAMS`` stay strings, everything else is JSON-decoded when possible.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
import re
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
from aiohttp import web

__all__ = ["STRING_PARAMS", "Call", "FakeBotApi", "HtmlParseError", "parse_html"]

# Parameters the Bot API types as String: never JSON-decode these (a text "7" stays "7").
STRING_PARAMS = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "certificate",
        "custom_title",
        "data",
        "description",
        "document",
        "emoji",
        "file_id",
        "file_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "title",
        "url",
    }
)

SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")

_METHODS = (
    "getMe",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "getUpdates",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "sendChatAction",
    "getFile",
)
_CANONICAL = {name.lower(): name for name in _METHODS}

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What Telegram delivers when allowed_updates was never set (or set to []).
_DEFAULT_ALLOWED = frozenset(_UPDATE_KINDS) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
_BUTTON_KINDS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
        "web_app",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_BLOCKED = "Forbidden: bot was blocked by the user"
_WRONG_FILE = "wrong file identifier/HTTP URL specified"
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the most a bot may download through the Bot API


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG of ``width`` x ``height`` red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def utf16_len(text: str) -> int:
    """Length of ``text`` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One request the bot made, decoded."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    at: float
    status: int = 0  # HTTP status of the answer; 0 while a getUpdates is still waiting
    response: dict[str, Any] | None = None  # the JSON body the fake answered

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def result(self) -> Any:
        return None if self.response is None else self.response.get("result")

    def summary(self) -> str:
        parts = [self.method]
        if "chat_id" in self.params:
            parts.append(f"chat={self.params['chat_id']}")
        for key in ("text", "caption", "data", "message_id", "offset", "timeout"):
            if key in self.params:
                value = self.params[key]
                shown = repr(value if len(repr(value)) <= 60 else f"{str(value)[:57]}...")
                parts.append(f"{key}={shown}")
        if self.files:
            parts.append(f"files={sorted(self.files)}")
        state = "pending" if self.status == 0 else str(self.status)
        if self.response is not None and not self.response.get("ok", False):
            state += f" {self.response.get('description')!r}"
        return f"{' '.join(parts)} -> {state}"


@dataclass
class _File:
    """A file Telegram keeps: one a user sent, or one the bot uploaded."""

    file_id: str
    unique_id: str
    kind: str  # "photo" or "document": a file id works only for its own kind
    size: int  # as Telegram reports it (a test may claim more than ``data`` holds)
    data: bytes
    path: str  # getFile's file_path: the download URL's tail
    sizes: list[dict[str, Any]]  # a photo: all its sizes, as a message carries them


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None
    migrate_to_chat_id: int | None = None


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


# ---------------------------------------------------------------------------------------------
# Telegram's HTML subset (modelled on tdlib's parse_html)

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\r\n"


class HtmlParseError(ValueError):
    """Text is not valid in Telegram's HTML parse mode."""


def _decode_entity(match: re.Match[str]) -> str | None:
    named, dec, hexa = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _decode_attribute(raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return _decode_entity(match) or match.group(0)

    return _HTML_ENTITY_RE.sub(replace, raw)


def parse_html(source: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and the entities Telegram would make of ``source``.

    Raises HtmlParseError with a tdlib-like reason. With ``strict_ampersand`` (the default) a
    bare ``&`` that does not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a numeric
    entity is an error, as the Bot API documentation demands; tdlib itself passes it through.
    """
    return _HtmlParser(source, strict_ampersand=strict_ampersand).parse()


class _HtmlParser:
    """One ``parse_html`` run: a cursor over ``source``, the text so far (its length in
    UTF-16 units), the open tags and the entities of the closed ones."""

    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        self.source = source
        self.n = len(source)
        self.strict_ampersand = strict_ampersand
        self.i = 0
        self.out: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, dict[str, str]]] = []
        self.entities: list[dict[str, Any]] = []

    def offset(self, pos: int) -> int:
        """The byte offset of ``pos``, as tdlib reports it."""
        return len(self.source[:pos].encode("utf-8"))

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < self.n:
            char = self.source[self.i]
            if char == "&":
                self._entity()
            elif char != "<":
                self._text(char)
                self.i += 1
            elif self.i + 1 < self.n and self.source[self.i + 1] == "/":
                self._end_tag()
            else:
                self._start_tag()
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def _text(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def _skip_space(self, j: int) -> int:
        while j < self.n and self.source[j] in _SPACE:
            j += 1
        return j

    def _entity(self) -> None:
        """``&...;`` at the cursor: its character, or a bare ``&`` (an error if strict)."""
        i = self.i
        match = _HTML_ENTITY_RE.match(self.source, i)
        decoded = _decode_entity(match) if match else None
        if decoded is None or match is None:
            if self.strict_ampersand:
                raise HtmlParseError(
                    f'Unescaped "&" at byte offset {self.offset(i)}: '
                    "use &amp;, &lt;, &gt;, &quot; or a numeric entity"
                )
            decoded, self.i = "&", i + 1
        else:
            self.i = match.end()
        self._text(decoded)

    def _end_tag(self) -> None:
        """``</tag>`` at the cursor: closes the innermost open tag into an entity."""
        source, begin = self.source, self.i
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.offset(begin)}")
        close = source.find(">", begin + 2)
        if close < 0:
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.offset(begin)}")
        name = source[begin + 2 : close].strip(_SPACE).lower()
        tag, start, tag_attrs = self.stack[-1]
        if name and name != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {self.offset(begin)}, expected "</{tag}>", '
                f'found "</{name}>"'
            )
        self.stack.pop()
        if self.length > start:
            self.entities.append(_html_entity(tag, tag_attrs, start, self.length - start))
        self.i = close + 1

    def _start_tag(self) -> None:
        """``<tag attr=...>`` at the cursor: opens a supported tag."""
        source, n, begin = self.source, self.n, self.i
        j = begin + 1
        while j < n and source[j] not in _SPACE and source[j] != ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.offset(begin)}")
        name = source[begin + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.offset(begin)}'
            )
        attrs: dict[str, str] = {}
        j = self._attributes(name, begin, j, attrs)
        self._check_tag(name, attrs, begin)
        self.stack.append((name, self.length, attrs))
        self.i = j

    def _attributes(self, name: str, begin: int, j: int, attrs: dict[str, str]) -> int:
        """Read the attributes of the tag ``name`` (at ``begin``) from ``j`` into
        ``attrs``; the index after the tag's ``>``."""
        while True:
            j = self._skip_space(j)
            if j >= self.n:
                raise HtmlParseError(
                    f'Unclosed start tag "{name}" at byte offset {self.offset(begin)}'
                )
            if self.source[j] == ">":
                return j + 1
            j = self._attribute(name, begin, j, attrs)

    def _attribute(self, name: str, begin: int, j: int, attrs: dict[str, str]) -> int:
        """One ``attr=value`` (or a bare ``expandable`` on a blockquote) from ``j``; the
        index after it."""
        source, n = self.source, self.n
        attr_begin = j
        while j < n and source[j] not in _SPACE and source[j] not in "=>":
            j += 1
        attr = source[attr_begin:j].lower()
        if not attr:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{name}" at byte offset {self.offset(attr_begin)}'
            )
        j = self._skip_space(j)
        if j >= n or source[j] != "=":
            if name == "blockquote" and attr == "expandable":
                attrs[attr] = ""
                return j
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                f"at byte offset {self.offset(j)}"
            )
        j = self._skip_space(j + 1)
        if j >= n:
            raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {self.offset(begin)}')
        raw, j = self._attribute_value(begin, j)
        attrs[attr] = _decode_attribute(raw)
        return j

    def _attribute_value(self, begin: int, j: int) -> tuple[str, int]:
        """A quoted value, or an unquoted run of ASCII letters, digits, ``.`` and ``-``;
        the raw value and the index after it."""
        source, n = self.source, self.n
        if source[j] in "'\"":
            end = source.find(source[j], j + 1)
            if end < 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.offset(begin)}")
            return source[j + 1 : end], end + 1
        k = j
        while k < n and ((source[k].isascii() and source[k].isalnum()) or source[k] in ".-"):
            k += 1
        return source[j:k], k

    def _check_tag(self, name: str, attrs: dict[str, str], begin: int) -> None:
        """The attributes a span and a custom emoji must have."""
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.offset(begin)}'
            )
        if name == "tg-emoji" and "emoji-id" not in attrs:
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {self.offset(begin)}'
            )


def _html_entity(tag: str, attrs: dict[str, str], start: int, length: int) -> dict[str, Any]:
    kind = _HTML_TAGS[tag]
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": length}
    if tag == "a":
        if attrs.get("href"):
            entity["url"] = attrs["href"]
        else:
            entity["type"] = "url"
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    return entity


# ---------------------------------------------------------------------------------------------
# Small helpers


def _check_button(button: Any) -> None:
    """An inline keyboard button as the Bot API accepts it: text, a kind, and valid
    callback data (1 to 64 bytes) or URL."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad("can't parse inline keyboard button: Text must be a String")
    if not _BUTTON_KINDS & set(button):
        raise _bad("text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url):
            raise _bad("BUTTON_URL_INVALID")


def _decode_form_value(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, or None when unknown; raise for non-images."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content.startswith(b"GIF8") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content.startswith((b"\xff\xd8\xff", b"BM")) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    ):
        return None
    raise _bad("IMAGE_PROCESS_FAILED")


def _scaled(width: int, height: int, limit: int) -> tuple[int, int]:
    biggest = max(width, height)
    if biggest <= limit:
        return width, height
    return max(1, width * limit // biggest), max(1, height * limit // biggest)


def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise _bad("can't parse BotCommandScope JSON object")
    kind: str = scope["type"]
    if kind in ("chat", "chat_administrators"):
        kind = f"{kind}:{scope.get('chat_id')}"
    elif kind == "chat_member":
        kind = f"{kind}:{scope.get('chat_id')}:{scope.get('user_id')}"
    elif kind not in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        raise _bad("wrong parameter scope type")
    return kind, language_code if isinstance(language_code, str) else ""


def _update_kind(update: dict[str, Any]) -> str | None:
    return next((kind for kind in _UPDATE_KINDS if kind in update), None)


def _inline_keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = message.get("reply_markup")
    if isinstance(markup, dict):
        rows = markup.get("inline_keyboard")
        if isinstance(rows, list):
            return cast("list[list[dict[str, Any]]]", rows)
    return []


# ---------------------------------------------------------------------------------------------


class FakeBotApi:
    """An in-process Telegram Bot API server with scripted users and failures."""

    def __init__(
        self,
        token: str = "123456:TEST-token-for-the-fake-bot-api",
        username: str = "alliantie_test_bot",
    ) -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.first_name = "Alliantie Test"
        # With strict_html (default) a bare "&" in HTML text is refused, as the Bot API docs
        # demand; real Telegram (tdlib) lets it through. Set False to mimic tdlib.
        self.strict_html = True

        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.answered_callbacks: set[str] = set()
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.blocked: set[int] = set()  # chats whose user blocked the bot: every call -> 403
        self.allowed_updates: list[str] | None = None

        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: dict[int, list[int]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._next_callback = 1
        self._next_file = 1
        self._failures: list[_Failure] = []
        self._files: dict[str, _File] = {}  # by file_id
        self._document_meta: dict[str, dict[str, Any]] = {}  # file name and type, by id
        self.downloads: list[str] = []  # file paths the bot downloaded, in order
        self._poll_generation = 0

        self._changed = asyncio.Event()
        self._closing = False
        self._last_activity = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        addresses = runner.addresses
        if not addresses:
            await runner.cleanup()
            raise RuntimeError("FakeBotApi could not bind a port")
        self._port = int(addresses[0][1])
        self._runner = runner
        self._last_activity = time.monotonic()

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self._closing = True
        self._notify()  # wake long polls so shutdown does not wait for them
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- inspecting calls -----------------------------------------------------------------

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Every call of ``method`` (optionally to ``chat_id``), failed ones included."""
        return [
            call
            for call in self.calls
            if call.method == method and (chat_id is None or call.chat_id == chat_id)
        ]

    def sent(self, chat_id: int) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendDocument calls to ``chat_id``, in order."""
        return [
            call
            for call in self.calls
            if call.method in SEND_METHODS and call.chat_id == chat_id and call.ok
        ]

    def texts(self, chat_id: int) -> list[str]:
        """Text or caption, as sent (markup included), of every message delivered to a chat."""
        out: list[str] = []
        for call in self.sent(chat_id):
            key = "text" if call.method == "sendMessage" else "caption"
            out.append(str(call.params.get(key) or ""))
        return out

    def clear_calls(self) -> None:
        """Forget recorded calls (state such as stored messages is kept)."""
        self.calls.clear()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates fed but not yet confirmed by getUpdates (copies)."""
        return copy.deepcopy(self._pending)

    # -- messages the fake stored ---------------------------------------------------------

    def stored_message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        return copy.deepcopy(message)

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Current state of every message the bot sent to ``chat_id``, oldest first."""
        return [
            copy.deepcopy(self._messages[(chat_id, mid)])
            for mid in self._bot_messages.get(chat_id, [])
        ]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        ids = self._bot_messages.get(chat_id)
        if not ids:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return copy.deepcopy(self._messages[(chat_id, ids[-1])])

    def keyboard(self, chat_id: int, message_id: int | None = None) -> list[list[dict[str, Any]]]:
        """Current inline keyboard of a bot message (default: the last one sent), [] if none."""
        if message_id is None:
            message = self.last_message(chat_id)
        else:
            message = self.stored_message(chat_id, message_id)
        return copy.deepcopy(_inline_keyboard(message))

    # -- feeding updates ------------------------------------------------------------------

    def add_update(self, update: dict[str, Any], *, enqueue: bool = True) -> dict[str, Any]:
        """Queue ``update`` for getUpdates; return it with update_id (the next one if missing)."""
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        if enqueue:
            self._pending.append(copy.deepcopy(update))
            self._pending.sort(key=lambda u: int(u["update_id"]))
            self._notify()
        return update

    def message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Anna",
        language_code: str | None = "nl",
        reply_to_bot: bool = False,
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """A text message from a user. ``enqueue=False`` only builds it (for post_webhook)."""
        user = self._register_user(user_id, first_name, language_code)
        chat = self._register_chat(user_id, chat_id, chat_type)
        message = self._user_message(user, chat)
        message["text"] = text
        entities = _message_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_bot:
            replied = self.last_message(chat["id"])
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        self._store(message)
        return self.add_update({"message": message}, enqueue=enqueue)

    def sticker(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """A sticker message (no text) from a user."""
        user = self._users.get(user_id) or self._register_user(user_id, "Anna", "nl")
        chat = self._register_chat(user_id, chat_id, chat_type)
        message = self._user_message(user, chat)
        number = self._file_number()
        message["sticker"] = {
            "file_id": f"CAACAgIAAxkBAAF{number:08d}",
            "file_unique_id": f"AgAD{number:06d}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "set_name": "FakeStickers",
        }
        self._store(message)
        return self.add_update({"message": message}, enqueue=enqueue)

    def photo(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        size: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """A photo from a user (``data``: a PNG by default), in two sizes as Telegram
        sends them, smallest first: a thumbnail and the picture itself; each can be
        downloaded (getFile, then the file URL). ``size`` claims a larger file_size for
        the picture than ``data`` has (a photo too large to download)."""
        user = self._users.get(user_id) or self._register_user(user_id, "Anna", "nl")
        chat = self._register_chat(user_id, chat_id, chat_type)
        message = self._user_message(user, chat)
        full = tiny_png() if data is None else data
        width, height = _image_size(full) or (1280, 960)
        sizes: list[dict[str, Any]] = []
        for content, (w, h), claimed in (
            (tiny_png(1, 1), _scaled(width, height, 90), None),
            (full, (width, height), size),
        ):
            file = self._add_file("photo", content, claimed, "photos", ".jpg", sizes)
            sizes.append(
                {
                    "file_id": file.file_id,
                    "file_unique_id": file.unique_id,
                    "width": w,
                    "height": h,
                    "file_size": file.size,
                }
            )
        message["photo"] = sizes
        return self._user_media(message, caption, enqueue)

    def document(
        self,
        user_id: int,
        data: bytes = b"%PDF-1.4 fake document",
        *,
        file_name: str | None = "stuk.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        size: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """A file (document) from a user; ``size`` claims a larger file_size than
        ``data`` has (a file too large to download)."""
        user = self._users.get(user_id) or self._register_user(user_id, "Anna", "nl")
        chat = self._register_chat(user_id, chat_id, chat_type)
        message = self._user_message(user, chat)
        file = self._add_file("document", data, size, "documents", "", [])
        document: dict[str, Any] = {
            "file_id": file.file_id,
            "file_unique_id": file.unique_id,
            "file_size": file.size,
        }
        meta: dict[str, Any] = {}
        if file_name is not None:
            meta["file_name"] = file_name
            guessed = mimetypes.guess_type(file_name)[0]
            meta["mime_type"] = mime_type or guessed or "application/octet-stream"
        elif mime_type is not None:
            meta["mime_type"] = mime_type
        self._document_meta[file.file_id] = meta
        message["document"] = {**document, **meta}
        return self._user_media(message, caption, enqueue)

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The message is deleted (by the user, or by Telegram): editing it fails."""
        self._messages.pop((chat_id, message_id), None)
        ids = self._bot_messages.get(chat_id, [])
        if message_id in ids:
            ids.remove(message_id)

    def file_ids(self) -> set[str]:
        """Every file id the fake knows (uploads by the bot included)."""
        return set(self._files)

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        enqueue: bool = True,
    ) -> dict[str, Any]:
        """A callback_query update for a bot message (default: the last one with a keyboard).

        ``data`` is not checked against the keyboard, so stale or forged presses can be made.
        """
        chat = user_id if chat_id is None else chat_id
        if message_id is None:
            for mid in reversed(self._bot_messages.get(chat, [])):
                if _inline_keyboard(self._messages[(chat, mid)]):
                    message_id = mid
                    break
            else:
                raise AssertionError(f"no bot message with an inline keyboard in chat {chat}")
        message = self.stored_message(chat, message_id)
        if message.get("from", {}).get("id") != self.bot_id:
            raise AssertionError(f"message {message_id} in chat {chat} was not sent by the bot")
        user = self._users.get(user_id) or self._register_user(user_id, "Anna", "nl")
        query_id = str(4_200_000_000_000_000_000 + self._next_callback)
        self._next_callback += 1
        query = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": message,
            "chat_instance": str(-(abs(chat) * 7919 + 1_234_567)),
            "data": data,
        }
        self._callbacks[query_id] = query
        return self.add_update({"callback_query": copy.deepcopy(query)}, enqueue=enqueue)

    def press(
        self, user_id: int, label: str, *, chat_id: int | None = None, enqueue: bool = True
    ) -> dict[str, Any]:
        """Press the button labelled ``label`` on the newest bot message that currently has it."""
        chat = user_id if chat_id is None else chat_id
        seen: list[str] = []
        for mid in reversed(self._bot_messages.get(chat, [])):
            for row in _inline_keyboard(self._messages[(chat, mid)]):
                for button in row:
                    if button.get("text") != label:
                        seen.append(str(button.get("text")))
                        continue
                    if "callback_data" not in button:
                        raise AssertionError(
                            f"button {label!r} in chat {chat} has no callback_data: {button}"
                        )
                    return self.callback(
                        user_id,
                        str(button["callback_data"]),
                        message_id=mid,
                        chat_id=chat,
                        enqueue=enqueue,
                    )
        raise AssertionError(
            f"no button {label!r} on any current keyboard in chat {chat}; available: {seen}"
        )

    # -- scripted failures ----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``) with this error
        (``migrate_to_chat_id``: a group that became a supergroup, as Telegram says it)."""
        self._failures.append(
            _Failure(method, status, description, retry_after, times, chat_id, migrate_to_chat_id)
        )

    def fail_blocked(self, chat_id: int, *, method: str = "sendMessage", times: int = 1) -> None:
        """The next ``times`` sends to ``chat_id`` fail with 403 'bot was blocked by the user'."""
        self.fail_next(method, 403, _BLOCKED, times=times, chat_id=chat_id)

    def fail_flood(
        self,
        method: str = "sendMessage",
        retry_after: int = 3,
        *,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls fail with 429 and parameters.retry_after."""
        self.fail_next(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
            times=times,
            chat_id=chat_id,
        )

    # -- waiting --------------------------------------------------------------------------

    async def wait_for(
        self, method: str, count: int = 1, *, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[Call]:
        """Wait until ``count`` calls of ``method`` (to ``chat_id``) were received; return all."""
        what = f"{count} x {method}" + ("" if chat_id is None else f" to chat {chat_id}")
        await self._wait(lambda: len(self.calls_of(method, chat_id)) >= count, timeout, what)
        return self.calls_of(method, chat_id)

    async def wait_sent(self, chat_id: int, count: int = 1, *, timeout: float = 10.0) -> list[Call]:
        """Wait until ``count`` messages were delivered to ``chat_id``; return sent(chat_id)."""
        await self._wait(
            lambda: len(self.sent(chat_id)) >= count,
            timeout,
            f"{count} delivered message(s) to chat {chat_id}",
        )
        return self.sent(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (re-checked on every call and every 50 ms)."""
        await self._wait(predicate, timeout, "predicate", poll=0.05)

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Wait until no call other than getUpdates arrived for ``quiet`` seconds.

        The quiet window starts no earlier than this call, and while a poller is active the
        fake is not idle as long as fed updates are still unconfirmed.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        started = time.monotonic()
        while True:
            now = time.monotonic()
            polling = self.webhook is None and any(c.method == "getUpdates" for c in self.calls)
            busy = bool(self._pending) and polling
            idle_for = now - max(self._last_activity, started)
            if not busy and idle_for >= quiet:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"FakeBotApi not idle after {timeout}s (pending updates: "
                    f"{len(self._pending)})\n{self._summary()}"
                )
            step = quiet - idle_for if not busy else 0.05
            await asyncio.sleep(max(0.005, min(step, remaining)))

    # -- webhook mode ---------------------------------------------------------------------

    async def post_webhook(
        self, update: dict[str, Any], *, secret: str | None, url: str | None = None
    ) -> int:
        """POST ``update`` to the webhook as Telegram does; return the HTTP status."""
        target = url or (self.webhook or {}).get("url")
        if not target:
            raise AssertionError("no webhook set and no url given")
        if "update_id" not in update:
            update = self.add_update(update, enqueue=False)
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(str(target), data=json.dumps(update), headers=headers) as response,
        ):
            await response.read()
            return response.status

    async def flush_webhook(self) -> list[int]:
        """Deliver every pending update to the webhook (with its secret); return statuses.

        Updates answered with 2xx are removed from the queue, like Telegram does.
        """
        if self.webhook is None:
            raise AssertionError("no webhook set")
        statuses: list[int] = []
        for update in list(self._pending):
            status = await self.post_webhook(
                update, secret=self.webhook.get("secret_token"), url=self.webhook["url"]
            )
            statuses.append(status)
            if 200 <= status <= 299 and update in self._pending:
                self._pending.remove(update)
        return statuses

    # -- internals: waiting ---------------------------------------------------------------

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait(
        self, predicate: Callable[[], bool], timeout: float, what: str, poll: float | None = None
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n{self._summary()}"
                )
            step = remaining if poll is None else min(poll, remaining)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), step)

    def _summary(self) -> str:
        polls = sum(1 for call in self.calls if call.method == "getUpdates")
        lines = [f"recorded calls ({len(self.calls)}, of which {polls} getUpdates):"]
        first = self.calls[0].at if self.calls else 0.0
        for call in self.calls:
            if call.method != "getUpdates":
                lines.append(f"  +{call.at - first:.3f}s {call.summary()}")
        return "\n".join(lines)

    # -- internals: state -----------------------------------------------------------------

    def _register_user(
        self, user_id: int, first_name: str, language_code: str | None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _register_chat(self, user_id: int, chat_id: int | None, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            chat_id = user_id if chat_id is None else chat_id
            if chat_id != user_id:
                raise AssertionError("a private chat's id is the user's id")
            chat = {
                "id": chat_id,
                "type": "private",
                "first_name": self._users[user_id]["first_name"],
            }
        elif chat_type in ("group", "supergroup"):
            if chat_id is None or chat_id >= 0:
                raise AssertionError(f"a {chat_type} needs a negative chat_id")
            existing = self._chats.get(chat_id, {})
            chat = {"id": chat_id, "type": chat_type, "title": existing.get("title", "Test group")}
        else:
            raise AssertionError(f"unsupported chat_type {chat_type!r}")
        self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                user = self._users.get(chat_id, {})
                chat = {
                    "id": chat_id,
                    "type": "private",
                    "first_name": user.get("first_name", "Anna"),
                }
            else:
                chat = {"id": chat_id, "type": "supergroup", "title": "Test group"}
        return copy.deepcopy(chat)

    def _next_message_id(self, chat_id: int) -> int:
        # One counter per chat shared by user and bot messages, as in Telegram.
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _user_message(self, user: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        return {
            "message_id": self._next_message_id(chat["id"]),
            "from": copy.deepcopy(user),
            "chat": chat,
            "date": int(time.time()),
        }

    def _store(self, message: dict[str, Any]) -> None:
        self._messages[(message["chat"]["id"], message["message_id"])] = copy.deepcopy(message)

    def _user_media(
        self, message: dict[str, Any], caption: str | None, enqueue: bool
    ) -> dict[str, Any]:
        if caption is not None:
            if utf16_len(caption) > 1024:
                raise AssertionError("Telegram allows captions of at most 1,024 characters")
            message["caption"] = caption
        self._store(message)
        return self.add_update({"message": message}, enqueue=enqueue)

    def _add_file(
        self,
        kind: str,
        data: bytes,
        size: int | None,
        folder: str,
        suffix: str,
        sizes: list[dict[str, Any]],
    ) -> _File:
        """Keep a file as Telegram would: under a new id, downloadable by its path.
        ``sizes`` is the photo's list of sizes (shared by all of them, filled in by
        the caller)."""
        number = self._file_number()
        prefix = "AgACAgQAAxkBAAF" if kind == "photo" else "BQACAgQAAxkBAAF"
        file = _File(
            file_id=f"{prefix}{number:08d}",
            unique_id=f"AQAD{number:06d}",
            kind=kind,
            size=len(data) if size is None else size,
            data=data,
            path=f"{folder}/file_{number}{suffix}",
            sizes=sizes,
        )
        self._files[file.file_id] = file
        return file

    def _file_number(self) -> int:
        number = self._next_file
        self._next_file += 1
        return number

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # -- internals: HTTP ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/"):
            return self._download(path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]*)", path)
        if match is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        token, raw_method = match.groups()
        if token != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params, files = await self._read_params(request)
        except ValueError:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"},
                status=400,
            )
        method = _CANONICAL.get(raw_method.lower(), raw_method)
        call = Call(method=method, params=params, files=files, at=time.monotonic())
        self.calls.append(call)
        if method != "getUpdates":
            self._last_activity = call.at
        else:
            self._notify()
        body = await self._answer(call)
        if method != "getUpdates":
            self._last_activity = time.monotonic()
        self._notify()
        return web.json_response(body, status=call.status)

    def _download(self, path: str) -> web.StreamResponse:
        """``/file/bot<token>/<file_path>``: the bytes of a file getFile showed."""
        match = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        if match is None or match.group(1) != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        file = next((f for f in self._files.values() if f.path == match.group(2)), None)
        if file is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.downloads.append(file.path)
        self._last_activity = time.monotonic()
        return web.Response(body=file.data, content_type="application/octet-stream")

    async def _answer(self, call: Call) -> dict[str, Any]:
        """Run the method; the response body, also recorded on ``call`` with its status."""
        try:
            result, description = await self._dispatch(call)
        except _ApiError as error:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.status,
                "description": error.description,
            }
            if error.parameters:
                body["parameters"] = error.parameters
            call.status, call.response = error.status, body
        else:
            body = {"ok": True, "result": result}
            if description:
                body["description"] = description
            call.status, call.response = 200, body
        return body

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = {
            key: _decode_form_value(key, value) for key, value in request.query.items()
        }
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            raw = await request.read()
            if raw:
                body = json.loads(raw)
                if isinstance(body, dict):
                    # As Telegram does: "123" where a number is meant (a chat id) is one.
                    params.update(
                        (key, _decode_form_value(key, value) if isinstance(value, str) else value)
                        for key, value in body.items()
                    )
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                elif isinstance(value, str):
                    params[key] = _decode_form_value(key, value)
                else:
                    params[key] = _decode_form_value(key, bytes(value).decode("utf-8"))
        return params, files

    async def _dispatch(self, call: Call) -> tuple[Any, str | None]:
        self._apply_failures(call)
        if call.method == "getUpdates":
            return await self._get_updates(call), None
        handler = self._handlers().get(call.method)
        if handler is None:
            raise _ApiError(404, "Not Found: method not found")
        chat_id = call.params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self.blocked:
            raise _ApiError(403, _BLOCKED)
        return handler(call)

    def _apply_failures(self, call: Call) -> None:
        for failure in self._failures:
            if failure.method != call.method:
                continue
            if failure.chat_id is not None and failure.chat_id != call.chat_id:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            parameters: dict[str, Any] | None = None
            if failure.retry_after is not None:
                parameters = {"retry_after": failure.retry_after}
            if failure.migrate_to_chat_id is not None:
                parameters = {"migrate_to_chat_id": failure.migrate_to_chat_id}
            raise _ApiError(failure.status, failure.description, parameters)

    def _handlers(self) -> dict[str, Callable[[Call], tuple[Any, str | None]]]:
        return {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
        }

    # -- internals: methods ---------------------------------------------------------------

    def _get_me(self, call: Call) -> tuple[Any, str | None]:
        me = self._bot_user()
        me.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return me, None

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit, timeout = self._poll_params(call)
        self._confirm(offset)
        await self._wait_for_updates(timeout)
        if self._closing:
            return []
        updates = copy.deepcopy(self._deliverable()[:limit])
        if updates:
            self._last_activity = time.monotonic()
        return updates

    def _poll_params(self, call: Call) -> tuple[int, int, float]:
        """getUpdates' offset, limit (1 to 100) and timeout, checked; keeps its
        allowed_updates when given."""
        offset = call.params.get("offset", 0)
        limit = call.params.get("limit", 100)
        timeout = call.params.get("timeout", 0)
        allowed = call.params.get("allowed_updates")
        if not isinstance(offset, int) or not isinstance(limit, int):
            raise _bad("wrong parameter offset or limit")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool):
            raise _bad("wrong parameter timeout")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        return offset, min(max(limit, 1), 100), timeout

    async def _wait_for_updates(self, timeout: float) -> None:
        """Long polling: wait up to ``timeout`` seconds for something to deliver, a
        webhook being set or the server closing. A newer getUpdates ends this one with
        a conflict, as Telegram does."""
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, float(timeout))
        while not self._deliverable() and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                break
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self.webhook is not None:
                break

    def _deliverable(self) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates) if self.allowed_updates else _DEFAULT_ALLOWED
        self._pending = [
            u for u in self._pending if (kind := _update_kind(u)) is None or kind in allowed
        ]
        return self._pending

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _set_webhook(self, call: Call) -> tuple[Any, str | None]:
        url = call.params.get("url")
        if not isinstance(url, str):
            raise _bad("bad webhook: an HTTPS URL must be provided for webhook")
        if not url:
            return self._delete_webhook(call)
        if not re.match(r"https?://[^/\s]+", url):
            raise _bad("bad webhook: invalid webhook URL specified")
        secret = call.params.get("secret_token")
        if secret is not None:
            if not isinstance(secret, str) or len(secret) > 256:
                raise _bad("secret token is too long")
            if not _SECRET_RE.fullmatch(secret):
                raise _bad("secret token contains unallowed characters")
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        if call.params.get("drop_pending_updates") is True:
            self._pending.clear()
        self.webhook = dict(call.params)
        self._notify()
        return True, "Webhook was set"

    def _delete_webhook(self, call: Call) -> tuple[Any, str | None]:
        if call.params.get("drop_pending_updates") is True:
            self._pending.clear()
        existed, self.webhook = self.webhook is not None, None
        return True, "Webhook was deleted" if existed else "Webhook is already deleted"

    def _get_webhook_info(self, call: Call) -> tuple[Any, str | None]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["has_custom_certificate"] = "certificate" in self.webhook
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
        if self.allowed_updates:
            info["allowed_updates"] = list(self.allowed_updates)
        return info, None

    def _target_chat(self, call: Call) -> int:
        chat_id = call.params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise _bad("chat not found")
        return chat_id

    def _formatted(
        self, call: Call, key: str, limit: int, too_long: str, *, required: bool
    ) -> tuple[str | None, list[dict[str, Any]]]:
        value = call.params.get(key)
        if value is None:
            if required:
                raise _bad("message text is empty")
            return None, []
        if not isinstance(value, str):
            raise _bad(f"wrong parameter {key}")
        parse_mode = call.params.get("parse_mode")
        entities: list[dict[str, Any]] = []
        plain = value
        if isinstance(parse_mode, str) and parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    plain, entities = parse_html(value, strict_ampersand=self.strict_html)
                except HtmlParseError as error:
                    raise _bad(f"can't parse entities: {error}") from None
            elif mode not in ("markdown", "markdownv2"):
                raise _bad(f"unsupported parse_mode {parse_mode!r}")
        if required and not plain.strip():
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad(too_long)
        return plain, entities

    def _checked_markup(self, call: Call) -> dict[str, Any] | None:
        """The inline keyboard to attach (validated), or None for none / other markups."""
        markup = call.params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if not any(rows):
            return None  # an empty inline keyboard means "no keyboard"
        for row in rows:
            for button in row:
                _check_button(button)
        return copy.deepcopy(markup)

    def _reply_to(self, call: Call, chat_id: int) -> dict[str, Any] | None:
        reply = call.params.get("reply_parameters")
        message_id: Any = None
        allow_missing = bool(call.params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif "reply_to_message_id" in call.params:
            message_id = call.params["reply_to_message_id"]
        if message_id is None:
            return None
        stored = self._messages.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if stored is None:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        replied = copy.deepcopy(stored)
        replied.pop("reply_to_message", None)
        return replied

    def _new_bot_message(
        self, call: Call, chat_id: int, markup: dict[str, Any] | None, content: dict[str, Any]
    ) -> tuple[Any, str | None]:
        reply_to = self._reply_to(call, chat_id)
        message_id = self._next_message_id(chat_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        self._bot_messages.setdefault(chat_id, []).append(message_id)
        return copy.deepcopy(message), None

    def _send_message(self, call: Call) -> tuple[Any, str | None]:
        chat_id = self._target_chat(call)
        text, entities = self._formatted(call, "text", 4096, "message is too long", required=True)
        markup = self._checked_markup(call)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._new_bot_message(call, chat_id, markup, content)

    def _caption_content(self, call: Call) -> dict[str, Any]:
        caption, entities = self._formatted(
            call, "caption", 1024, "message caption is too long", required=False
        )
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return content

    def _upload(self, call: Call, key: str) -> tuple[str, bytes] | str:
        if key in call.files:
            name, data = call.files[key]
            if not data:
                raise _bad("file must be non-empty")
            return name, data
        value = call.params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            attached = call.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad(f"there is no {key} in the request")
            return attached
        if isinstance(value, str) and value:
            return value
        raise _bad(f"there is no {key} in the request")

    def _known_file(self, value: str, kind: str) -> _File | None:
        """A file sent by id (None for an http(s) URL Telegram would fetch): it must be
        one Telegram knows, of the same kind."""
        if re.match(r"https?://\S+$", value):
            return None
        file = self._files.get(value)
        if file is None:
            raise _bad(_WRONG_FILE)
        if file.kind != kind:
            raise _bad("type of file mismatch")
        return file

    def _send_photo(self, call: Call) -> tuple[Any, str | None]:
        chat_id = self._target_chat(call)
        upload = self._upload(call, "photo")
        content = self._caption_content(call)
        markup = self._checked_markup(call)
        known = self._known_file(upload, "photo") if isinstance(upload, str) else None
        if known is not None:  # sent again by its id: the same picture, no upload
            content["photo"] = copy.deepcopy(known.sizes)
            return self._new_bot_message(call, chat_id, markup, content)
        data = b"" if isinstance(upload, str) else upload[1]
        size = _image_size(data) if data else None
        width, height = size or (800, 600)
        photo: list[dict[str, Any]] = []
        for limit in (90, 320, 800, 1280):
            w, h = _scaled(width, height, limit)
            if not photo or (w, h) != (photo[-1]["width"], photo[-1]["height"]):
                length = len(data) or 50_000
                part = max(1, length * w * h // max(1, width * height))
                file = self._add_file("photo", data, part, "photos", ".jpg", photo)
                photo.append(
                    {
                        "file_id": file.file_id,
                        "file_unique_id": file.unique_id,
                        "width": w,
                        "height": h,
                        "file_size": file.size,
                    }
                )
            if max(width, height) <= limit:
                break
        content["photo"] = photo
        return self._new_bot_message(call, chat_id, markup, content)

    def _send_document(self, call: Call) -> tuple[Any, str | None]:
        chat_id = self._target_chat(call)
        upload = self._upload(call, "document")
        content = self._caption_content(call)
        markup = self._checked_markup(call)
        if isinstance(upload, tuple):
            name, data = upload
            file = self._add_file("document", data, None, "documents", "", [])
            self._document_meta[file.file_id] = {
                "file_name": name,
                "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
            }
        else:  # sent again by its id, or an http(s) URL Telegram fetches
            known = self._known_file(upload, "document")
            file = known or self._add_file("document", b"", 50_000, "documents", "", [])
        content["document"] = {
            "file_id": file.file_id,
            "file_unique_id": file.unique_id,
            "file_size": file.size,
            **self._document_meta.get(file.file_id, {}),
        }
        return self._new_bot_message(call, chat_id, markup, content)

    def _get_file(self, call: Call) -> tuple[Any, str | None]:
        file_id = call.params.get("file_id")
        file = self._files.get(file_id) if isinstance(file_id, str) else None
        if file is None:
            raise _bad("invalid file_id")
        if file.size > DOWNLOAD_LIMIT:
            raise _bad("file is too big")
        result = {
            "file_id": file.file_id,
            "file_unique_id": file.unique_id,
            "file_size": file.size,
            "file_path": file.path,
        }
        return result, None

    def _editable(self, call: Call) -> dict[str, Any]:
        if "inline_message_id" in call.params:
            raise _bad("MESSAGE_ID_INVALID")
        chat_id = self._target_chat(call)
        message_id = call.params.get("message_id")
        message = self._messages.get((chat_id, message_id)) if isinstance(message_id, int) else None
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return message

    def _edit_message_text(self, call: Call) -> tuple[Any, str | None]:
        message = self._editable(call)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = self._formatted(call, "text", 4096, "message is too long", required=True)
        markup = self._checked_markup(call)
        same_text = text == message["text"] and entities == message.get("entities", [])
        if same_text and markup == message.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        self._set_markup(message, markup)
        return copy.deepcopy(message), None

    def _edit_message_reply_markup(self, call: Call) -> tuple[Any, str | None]:
        message = self._editable(call)
        markup = self._checked_markup(call)
        if markup == message.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        self._set_markup(message, markup)
        return copy.deepcopy(message), None

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
        if markup is None or not markup.get("inline_keyboard"):
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())

    def _answer_callback_query(self, call: Call) -> tuple[Any, str | None]:
        query_id = call.params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._callbacks:
            raise _bad(_QUERY_INVALID.removeprefix("Bad Request: "))
        if query_id in self.answered_callbacks:
            raise _bad(_QUERY_INVALID.removeprefix("Bad Request: "))
        text = call.params.get("text")
        if text is not None and (not isinstance(text, str) or utf16_len(text) > 200):
            raise _bad("MESSAGE_TOO_LONG")
        self.answered_callbacks.add(query_id)
        self.callback_answers[query_id] = dict(call.params)
        return True, None

    def _set_my_commands(self, call: Call) -> tuple[Any, str | None]:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = command.get("command")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= utf16_len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _scope_key(call.params.get("scope"), call.params.get("language_code"))
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True, None

    def _get_my_commands(self, call: Call) -> tuple[Any, str | None]:
        key = _scope_key(call.params.get("scope"), call.params.get("language_code"))
        return copy.deepcopy(self.commands.get(key, [])), None

    def _delete_my_commands(self, call: Call) -> tuple[Any, str | None]:
        key = _scope_key(call.params.get("scope"), call.params.get("language_code"))
        self.commands.pop(key, None)
        return True, None

    def _send_chat_action(self, call: Call) -> tuple[Any, str | None]:
        self._target_chat(call)
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True, None


def _message_entities(text: str) -> list[dict[str, Any]]:
    """bot_command at offset 0 and @mentions, with UTF-16 offsets, as Telegram marks them."""
    entities: list[dict[str, Any]] = []
    command_end = 0
    command = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text)
    if command:
        command_end = command.end()
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for mention in re.finditer(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])", text):
        if mention.start() < command_end:
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: mention.start()]),
                "length": utf16_len(mention.group()),
            }
        )
    return entities
