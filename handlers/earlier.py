"""A short conversation of ours (/profiel, /code) that opens while another is open (a
check-in half-way, say) keeps that one in its own state and opens it again when it
ends, as /vergeetmij does: a chat has one open conversation at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.context import Context
from bot.core.flow import Effect
from bot.core.state import State

Earlier = dict[str, Any] | None  # {"flow", "step", "data"} of another conversation


def earlier_conversation(ctx: Context, own: str) -> Earlier:
    """The conversation open in this chat (a check-in put aside, say), kept while a
    short one of ours runs, so that it is not lost: ``back_to`` opens it again."""
    state = ctx.state
    if state is None or state.flow == own:
        return None
    return {"flow": state.flow, "step": state.step, "data": dict(state.data)}


def read_earlier(data: Mapping[str, Any]) -> Earlier:
    earlier = data.get("earlier")
    if earlier is not None and not (
        isinstance(earlier, dict) and {"flow", "step", "data"} <= earlier.keys()
    ):
        raise ValueError("earlier conversation of an unknown shape")
    return earlier


def back_to(ctx: Context, earlier: Earlier) -> tuple[Effect, ...]:
    """At the end: the conversation from before is open again (none: nothing to do)."""
    if earlier is None:
        return ()
    state = State(flow=earlier["flow"], step=earlier["step"], data=earlier["data"])
    return (Effect("return_to_earlier_conversation", lambda: ctx.set_state(state)),)
