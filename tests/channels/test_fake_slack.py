"""Self-test of the fake Slack (tests/helpers/fake_slack.py), driven by the real slack_sdk
and slack-bolt."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.helpers.fake_slack import (
    UPLOAD,
    FakeSlack,
    block_errors,
    post_signed,
    signed_headers,
)

SECRET = "fake-signing-secret"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


def web_client(fake: FakeSlack, token: str | None = None, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(
        token=fake.bot_token if token is None else token, base_url=fake.api_url, **kwargs
    )


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(value: str, action_id: str = "choose") -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Ja"},
                "action_id": action_id,
                "value": value,
            }
        ],
    }


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


# -- Web API ----------------------------------------------------------------------------------


async def test_auth_test_ok_with_the_bot_token(fake: FakeSlack) -> None:
    response = await web_client(fake).auth_test()
    assert response["ok"] is True
    assert response["user_id"] == fake.bot_user_id
    assert response["team_id"] == fake.team_id
    call = fake.calls_of("auth.test")[0]
    assert call.token == fake.bot_token
    assert call.headers["Authorization"] == f"Bearer {fake.bot_token}"


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-wrong", "invalid_auth"), ("", "not_authed")],
)
async def test_auth_test_refuses_a_bad_or_missing_token(
    fake: FakeSlack, token: str, error: str
) -> None:
    failure = await api_error(web_client(fake, token=token).auth_test())
    assert failure.response["error"] == error
    assert fake.calls_of("auth.test", ok=False)[0].error == error


async def test_post_message_records_the_call_and_the_message(fake: FakeSlack) -> None:
    client = web_client(fake)
    response = await client.chat_postMessage(channel="D1", text="hoi", blocks=[section("*hoi*")])
    assert response["channel"] == "D1"
    call = fake.calls_of("chat.postMessage")[0]
    assert call.params == {"channel": "D1", "text": "hoi", "blocks": [section("*hoi*")]}
    assert call.headers["Content-Type"].startswith("application/json")
    await client.chat_update(channel="D1", ts=response["ts"], text="✓ Ja")
    assert fake.texts("D1") == ["✓ Ja"]
    assert "blocks" not in fake.messages["D1"][0]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "", "text": "no channel"}, "channel_not_found"),
        ({"channel": "D1"}, "no_text"),
        ({"channel": "D1", "text": "x" * 40001}, "msg_too_long"),
        ({"channel": "D1", "blocks": [section("x")] * 51}, "invalid_blocks"),
        ({"channel": "D1", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        ({"channel": "D1", "blocks": [button("v" * 2001)]}, "invalid_blocks"),
        ({"channel": "D1", "blocks": [button("v", "a" * 256)]}, "invalid_blocks"),
        ({"channel": "D1", "blocks": [{"type": "nonsense"}]}, "invalid_blocks"),
    ],
)
async def test_post_message_is_validated_like_slack(
    fake: FakeSlack, kwargs: dict[str, Any], error: str
) -> None:
    with warnings.catch_warnings():  # slack_sdk warns about blocks without text
        warnings.simplefilter("ignore", UserWarning)
        failure = await api_error(web_client(fake).chat_postMessage(**kwargs))
    assert failure.response["error"] == error
    assert fake.messages == {}
    if error == "invalid_blocks":
        assert failure.response["response_metadata"]["messages"]


def test_block_limits_are_exact() -> None:
    assert block_errors([section("x")] * 50) == []
    assert block_errors([section("x" * 3000)]) == []
    assert block_errors([button("v" * 2000, "a" * 255)]) == []
    assert block_errors([section("x")] * 51)
    assert block_errors([{**section("a"), "block_id": "b"}, {**section("c"), "block_id": "b"}])


async def test_an_app_token_is_refused_for_bot_methods_and_the_reverse(fake: FakeSlack) -> None:
    failure = await api_error(web_client(fake, token=fake.app_token).auth_test())
    assert failure.response["error"] == "not_allowed_token_type"
    failure = await api_error(web_client(fake).apps_connections_open(app_token=fake.bot_token))
    assert failure.response["error"] == "not_allowed_token_type"
    opened = await web_client(fake).apps_connections_open(app_token=fake.app_token)
    assert opened["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket")


async def test_ephemeral_dm_users_and_views(fake: FakeSlack) -> None:
    client = web_client(fake)
    fake.add_user("U1", "anna", real_name="Anna de Vries", display_name="Anna")
    info = await client.users_info(user="U1")
    assert info["user"]["profile"]["display_name"] == "Anna"
    assert fake.calls_of("users.info")[0].params["user"] == "U1"
    opened = await client.conversations_open(users=["U1"])
    again = await client.conversations_open(users="U1")
    assert opened["channel"]["id"] == again["channel"]["id"] == fake.dms["U1"]
    assert again["already_open"] is True
    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="privé")
    assert fake.ephemerals[0]["ts"] == ephemeral["message_ts"]
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("Hoi")]})
    assert fake.views["U1"]["blocks"] == [section("Hoi")]
    failure = await api_error(client.views_publish(user_id="U1", view={"type": "modal"}))
    assert failure.response["error"] == "invalid_arguments"


async def test_scripted_errors_for_a_channel_or_user(fake: FakeSlack) -> None:
    client = web_client(fake)
    fake.fail("chat.postMessage", "account_inactive", channel="D9")
    fake.fail("users.info", "user_not_found", user="U9")
    fake.fail("conversations.open", "channel_not_found", times=1)
    for _ in range(2):  # it keeps failing
        failure = await api_error(client.chat_postMessage(channel="D9", text="hoi"))
        assert failure.response["error"] == "account_inactive"
    await client.chat_postMessage(channel="D1", text="hoi")  # another channel is fine
    failure = await api_error(client.users_info(user="U9"))
    assert failure.response["error"] == "user_not_found"
    await client.users_info(user="U1")
    failure = await api_error(client.conversations_open(users="U1"))
    assert failure.response["error"] == "channel_not_found"
    await client.conversations_open(users="U1")  # times=1: only the next call
    assert [c.error for c in fake.calls_of("chat.postMessage")] == [
        "account_inactive",
        "account_inactive",
        None,
    ]


async def test_a_429_then_success_with_the_sdk_retry_handler(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler sleeps Retry-After plus random() seconds: no jitter, so Retry-After 0 is 0 s.
    monkeypatch.setattr(random, "random", lambda: 0.0)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds: float, *args: Any) -> Any:
        waits.append(seconds)
        return await real_sleep(0)

    handler = AsyncRateLimitErrorRetryHandler(max_retry_count=2)
    monkeypatch.setattr(
        "slack_sdk.http_retry.builtin_async_handlers.asyncio.sleep", recording_sleep
    )
    fake.rate_limit("chat.postMessage", times=2, retry_after=7)
    handlers: list[AsyncRetryHandler] = [handler]
    client = web_client(fake, retry_handlers=handlers)
    response = await client.chat_postMessage(channel="D1", text="eindelijk")
    assert response["ok"] is True
    assert [c.status for c in fake.calls_of("chat.postMessage")] == [429, 429, 200]
    assert waits == [7, 7]  # Retry-After respected
    assert fake.texts("D1") == ["eindelijk"]


async def test_a_429_without_a_retry_handler_is_an_error(fake: FakeSlack) -> None:
    fake.rate_limit("users.info", retry_after=3)
    failure = await api_error(web_client(fake, retry_handlers=[]).users_info(user="U1"))
    assert failure.response.status_code == 429
    assert failure.response.headers["Retry-After"] == "3"
    assert failure.response["error"] == "ratelimited"


async def test_files_upload_v2_end_to_end(fake: FakeSlack) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    client = web_client(fake)
    response = await client.files_upload_v2(
        channel="D1", content=picture, filename="web.png", title="Spinnenweb"
    )
    file_id = response["file"]["id"]
    assert fake.files[file_id]["content"] == picture
    assert fake.files[file_id]["channels"] == ["D1"]
    assert response["file"]["title"] == "Spinnenweb"
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        UPLOAD,
        "files.completeUploadExternal",
    ]
    assert fake.calls_of(UPLOAD)[0].body == picture


async def test_files_upload_v2_into_an_inactive_channel_fails(fake: FakeSlack) -> None:
    fake.fail("files.completeUploadExternal", "channel_not_found", channel="D9")
    failure = await api_error(
        web_client(fake).files_upload_v2(channel="D9", content=b"abc", filename="a.txt")
    )
    assert failure.response["error"] == "channel_not_found"


# -- Socket Mode ------------------------------------------------------------------------------


@pytest.fixture
async def socket_client(fake: FakeSlack) -> AsyncIterator[SocketModeClient]:
    client = SocketModeClient(
        app_token=fake.app_token,
        web_client=web_client(fake),
        logger=logging.getLogger("test_fake_slack.socket"),
    )

    async def ack(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        payload = {"text": "ok"} if request.type == "slash_commands" else None
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        )

    client.socket_mode_request_listeners.append(ack)
    try:
        yield client
    finally:
        await client.close()


async def test_socket_envelope_and_ack_round_trip(
    fake: FakeSlack, socket_client: SocketModeClient
) -> None:
    await socket_client.connect()
    await fake.wait_connections(1)
    assert fake.calls_of("apps.connections.open")[0].token == fake.app_token
    event_id = await fake.send_event({"type": "message", "channel": "D1", "user": "U1"})
    assert await fake.wait_ack(event_id) == {"envelope_id": event_id}
    command_id = await fake.send_slash_command("/alliantie", "help", user_id="U1", channel_id="C1")
    assert await fake.wait_ack(command_id) == {"envelope_id": command_id, "payload": {"text": "ok"}}
    action_id = await fake.send_interactive({"type": "block_actions", "actions": []})
    assert (await fake.wait_ack(action_id))["envelope_id"] == action_id


async def test_socket_disconnect_makes_the_client_reconnect(
    fake: FakeSlack, socket_client: SocketModeClient
) -> None:
    await socket_client.connect()
    await fake.wait_connections(1)
    await fake.send_disconnect()
    await fake.wait_connections(2)
    assert len(fake.calls_of("apps.connections.open")) == 2
    envelope_id = await fake.send_event({"type": "app_home_opened", "user": "U1"})
    assert (await fake.wait_ack(envelope_id))["envelope_id"] == envelope_id


async def test_bolt_socket_mode_app_answers_through_the_fake(fake: FakeSlack) -> None:
    app = AsyncApp(client=web_client(fake))

    @app.event("message")
    async def echo(event: dict[str, Any], say: Any) -> None:
        await say(f"echo: {event['text']}")

    handler = AsyncSocketModeHandler(app, fake.app_token)
    await handler.connect_async()
    try:
        envelope_id = await fake.send_event(
            {"type": "message", "channel": "D1", "user": "U1", "text": "hoi", "ts": "1.000001"}
        )
        assert await fake.wait_ack(envelope_id) == {"envelope_id": envelope_id}
        await fake.wait_for("chat.postMessage")
        assert fake.texts("D1") == ["echo: hoi"]
    finally:
        await handler.close_async()


async def test_a_socket_ticket_is_good_for_one_connection(fake: FakeSlack) -> None:
    url = (await web_client(fake).apps_connections_open(app_token=fake.app_token))["url"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json()
            assert hello["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)


# -- HTTP mode signatures ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "valid"), [("right", True), ("wrong", False), ("expired", False)])
def test_signed_headers_against_the_sdk_verifier(kind: Any, valid: bool) -> None:
    body = json.dumps({"type": "event_callback"})
    headers = signed_headers(SECRET, body, signature=kind)
    assert SignatureVerifier(SECRET).is_valid_request(body, headers) is valid


@pytest.mark.parametrize(("kind", "status"), [("right", 200), ("wrong", 401), ("expired", 401)])
async def test_signed_requests_through_bolt_http_mode(
    fake: FakeSlack, kind: Any, status: int
) -> None:
    app = AsyncApp(signing_secret=SECRET, client=web_client(fake))
    seen: list[str] = []

    @app.event("app_mention")
    async def mention(event: dict[str, Any]) -> None:
        seen.append(event["text"])

    runner = web.AppRunner(app.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        body = fake.event_callback({"type": "app_mention", "text": "hoi", "user": "U1"})
        got, _ = await post_signed(
            f"http://127.0.0.1:{port}/slack/events", body, SECRET, signature=kind
        )
        assert got == status
        if status == 200:
            await fake.wait_until(lambda: seen == ["hoi"])
    finally:
        await runner.cleanup()
