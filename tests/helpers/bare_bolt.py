"""A bare slack-bolt ``AsyncApp`` that echoes every message, for the Slack benchmark's
side-by-side measure (``benchmarks/bench_slack.py``): the library alone, on the same
fake Slack. Here rather than in ``benchmarks/`` because only ``bot/channels`` and the
tests import a platform SDK."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def start_bare(token: str, api_url: str, secret: str, port: int) -> web.AppRunner:
    """Serve the echo app's ``/slack/events`` on 127.0.0.1:``port``; the runner."""
    bare = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url), signing_secret=secret)

    @bare.event("message")
    async def echo(event: dict[str, Any], say: Any) -> None:
        await say(event.get("text", ""))

    runner = web.AppRunner(bare.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner
