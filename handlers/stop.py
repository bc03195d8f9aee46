"""/stop: no more messages from the bot that the person did not ask for."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.messages import Incoming, Reply


async def stop(msg: Incoming, ctx: Context) -> list[Reply]:
    user = ctx.person
    await ctx.db.state.clear(user.id)
    cancelled = await ctx.outbox.cancel_for(user.id)
    ctx.reminders.cancel_all(user.id)
    if user.messages_enabled:
        user.messages_enabled = False
        await ctx.db.audit.record(
            ctx.clock.now(), "messages.stopped", user.id, f"cancelled={cancelled}"
        )
    ctx.state = None
    return [Reply(text=ctx.t("stop.done"))]
