"""Friendly answers to what the bot cannot handle."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.messages import Incoming, PressOutcome, Reply
from handlers.menu import menu_choices
from handlers.verbinders import refuse


async def unknown_command(msg: Incoming, ctx: Context) -> list[Reply]:
    return [
        Reply(text=ctx.t("fallback.command", command=msg.command or ""), choices=menu_choices(ctx))
    ]


async def unsupported(msg: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(text=ctx.t("fallback.unsupported"), choices=menu_choices(ctx))]


async def stale_action(msg: Incoming, ctx: Context) -> list[Reply]:
    return [
        Reply(
            text=ctx.t("errors.stale_button"),
            choices=menu_choices(ctx),
            press_outcome=PressOutcome.STALE,
        )
    ]


async def forbidden(msg: Incoming, ctx: Context) -> list[Reply]:
    """A verbinders' command from someone else: refused politely, and audited."""
    return await refuse(ctx, f"command={msg.command or ''}")
