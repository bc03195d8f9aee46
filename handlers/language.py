"""/taal: choose Dutch or English, by button, by typing, or as ``/taal en``."""

from __future__ import annotations

from datetime import timedelta

from bot.core.context import Context
from bot.core.messages import Incoming, PressOutcome, Reply
from bot.core.state import State
from handlers.menu import menu_choices

FLOW = "taal"
# What people type for each language, in both languages.
WORDS = {
    "nl": {"nl", "nederlands", "dutch", "ned", "nederland"},
    "en": {"en", "engels", "english", "eng"},
}


def _parse(text: str) -> str | None:
    word = text.strip().lower().strip(".!")
    for code, words in WORDS.items():
        if word in words:
            return code
    return None


async def ask(msg: Incoming, ctx: Context) -> list[Reply]:
    if msg.args:
        code = _parse(msg.args)
        if code is not None:
            return await _switch(ctx, code)
    if ctx.state is None:  # in another conversation (a check-in) the buttons do it alone
        await ctx.set_state(State(flow=FLOW), ttl=timedelta(hours=1))
    return [
        Reply(
            text=ctx.t("taal.ask"),
            choices=(ctx.choice("taal.nl", "taal:nl"), ctx.choice("taal.en", "taal:en")),
        )
    ]


async def chosen(msg: Incoming, ctx: Context) -> list[Reply]:
    code = (msg.action or "").partition(":")[2]
    if code not in WORDS:
        return [
            Reply(
                text=ctx.t("errors.stale_button"),
                choices=menu_choices(ctx),
                press_outcome=PressOutcome.STALE,
            )
        ]
    return await _switch(ctx, code)


async def typed(msg: Incoming, ctx: Context) -> list[Reply]:
    code = _parse(msg.text)
    if code is None:
        await ctx.clear_state()  # not an answer: let the text be handled as usual next time
        return [
            Reply(
                text=ctx.t("taal.unclear"),
                choices=(ctx.choice("taal.nl", "taal:nl"), ctx.choice("taal.en", "taal:en")),
            )
        ]
    return await _switch(ctx, code)


async def _switch(ctx: Context, code: str) -> list[Reply]:
    ctx.set_language(code)
    if ctx.state is not None and ctx.state.flow == FLOW:
        await ctx.clear_state()
    return [Reply(text=ctx.t("taal.done"), choices=menu_choices(ctx))]
