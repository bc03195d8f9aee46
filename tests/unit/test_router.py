"""The router's precedence rules, with stub handlers and no database."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.context import Context
from bot.core.messages import Incoming, Kind, Reply
from bot.core.router import Command, Router
from bot.core.state import State


def _handler(name: str) -> Any:
    async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
        return [Reply(text=name)]

    return handle


def _router() -> Router:
    router = Router(
        text=_handler("text"),
        unknown_command=_handler("unknown"),
        unsupported=_handler("unsupported"),
        stale_action=_handler("stale"),
        forbidden=_handler("forbidden"),
    )
    router.command(Command("taal", _handler("taal"), "help.taal", aliases=("language",)))
    router.command(Command("zenden", _handler("zenden"), "help.x", admin_only=True))
    router.action("taal", _handler("taal-button"))
    router.flow("taal", _handler("taal-flow"))
    return router


class FakeUser:
    def __init__(self, roles: str = "") -> None:
        self.role_set = frozenset(r for r in roles.split(",") if r)


def _ctx(state: str | None = None, roles: str = "") -> Context:
    ctx = Context(services=None)  # type: ignore[arg-type]
    ctx.user = FakeUser(roles)  # type: ignore[assignment]
    ctx.state = State(flow=state) if state else None
    return ctx


async def _route(msg: Incoming, ctx: Context) -> str:
    return (await _router().dispatch(msg, ctx))[0].text


@pytest.mark.parametrize(
    ("text", "state", "expected"),
    [
        ("/taal", None, "taal"),
        ("/language", None, "taal"),
        ("/TAAL@bot", "taal", "taal"),  # a command wins over the flow
        ("/onbekend", None, "unknown"),
        ("engels", "taal", "taal-flow"),
        ("engels", None, "text"),
        ("engels", "vanished-flow", "text"),  # state of a removed feature is harmless
    ],
)
async def test_text_and_commands(text: str, state: str | None, expected: str) -> None:
    assert await _route(Incoming.from_text("console", "u", "c", text), _ctx(state)) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("taal:en", "taal-button"),
        ("taal", "taal-button"),
        ("weg:1", "stale"),
        ("", "stale"),
    ],
)
async def test_actions_go_by_prefix(action: str, expected: str) -> None:
    msg = Incoming(platform="console", user_id="u", chat_id="c", kind=Kind.ACTION, action=action)
    assert await _route(msg, _ctx()) == expected


async def test_unsupported_and_admin_only() -> None:
    sticker = Incoming(platform="telegram", user_id="u", chat_id="c", kind=Kind.UNSUPPORTED)
    assert await _route(sticker, _ctx()) == "unsupported"
    zenden = Incoming.from_text("console", "u", "c", "/zenden")
    assert await _route(zenden, _ctx()) == "forbidden"
    assert await _route(zenden, _ctx(roles="verbinder")) == "zenden"


def test_registry_refuses_duplicates() -> None:
    router = _router()
    with pytest.raises(ValueError):
        router.command(Command("language", _handler("x"), "help.x"))
    with pytest.raises(ValueError):
        router.action("taal", _handler("x"))
    assert [c.name for c in router.commands] == ["taal", "zenden"]
