"""The aiohttp transport under python-telegram-bot: errors as the library expects them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_http import AiohttpRequest
from tests.helpers.telegram_bot import free_port

TOKEN = "123456:TEST-token-for-the-fake-bot-api"


@contextlib.asynccontextmanager
async def _bot_api(
    method: str, answer: Callable[[web.Request], Awaitable[web.Response]]
) -> AsyncIterator[str]:
    """A Bot API on loopback that answers ``method`` with ``answer``; its base URL."""
    app = web.Application()
    app.router.add_route("POST", f"/bot{TOKEN}/{method}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    """A Bot API that takes two seconds to answer getMe."""

    async def get_me(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": {}})

    async with _bot_api("getMe", get_me) as url:
        yield url


async def test_a_slow_answer_is_a_timeout(slow_server: str) -> None:
    request = AiohttpRequest(4, read_timeout=0.2)
    bot = Bot(TOKEN, base_url=slow_server, request=request, get_updates_request=AiohttpRequest(1))
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await bot.get_me()
    finally:
        await request.shutdown()
    assert request.closed


async def test_nobody_listening_is_a_network_error() -> None:
    request = AiohttpRequest(4)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_a_request_before_initialize_is_refused() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")


async def test_a_message_goes_as_a_json_body_with_its_keyboard_as_an_object() -> None:
    """Everything but an upload goes as JSON (the Bot API takes it): a form would
    percent-encode a long answer in Python, character by character."""
    seen: list[tuple[str, object]] = []

    async def send_message(request: web.Request) -> web.Response:
        seen.append((request.content_type, await request.json()))
        message = {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}}
        return web.json_response({"ok": True, "result": message})

    async with _bot_api("sendMessage", send_message) as url:
        request = AiohttpRequest(4)
        bot = Bot(TOKEN, base_url=url, request=request)
        await request.initialize()
        try:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="ja")]])
            await bot.send_message(7, "Wat is één spinnenweb? " * 50, reply_markup=keyboard)
        finally:
            await request.shutdown()
    [(content_type, body)] = seen
    assert content_type == "application/json"
    assert isinstance(body, dict) and body["text"] == "Wat is één spinnenweb? " * 50
    assert body["reply_markup"] == {"inline_keyboard": [[{"text": "Ja", "callback_data": "ja"}]]}
