"""What the verbinders' commands share: the polite, audited refusal for anyone else,
and the check every step of their flows makes (a verbinder may have lost the role
while a conversation was open; a non-verbinder may replay or forge a button)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.core.context import Context
from bot.core.flow import Answer, FlowData, Go
from bot.core.messages import PressOutcome, Reply

D = TypeVar("D", bound=FlowData)
REFUSED = "admin.refused"  # the audit action: who tried what (never any text)


async def refuse(ctx: Context, what: str) -> list[Reply]:
    """Not a verbinder: say so, and note who tried ``what`` in the audit log."""
    actor = ctx.user.id if ctx.user is not None else None
    await ctx.db.audit.record(ctx.clock.now(), REFUSED, actor, what)
    return [Reply(text=ctx.t("errors.forbidden"), press_outcome=PressOutcome.STALE)]


def stale_or_refused(flow: str, stale: str) -> Callable[[Context], Awaitable[list[Reply]]]:
    """A flow's ``on_stale``: an old press by a verbinder gets ``stale``; any press by
    someone else is refused and audited."""

    async def answer(ctx: Context) -> list[Reply]:
        if not ctx.is_admin:
            return await refuse(ctx, f"button={flow}")
        return [Reply(text=ctx.t(stale), press_outcome=PressOutcome.STALE)]

    return answer


def verbinders_only(
    flow: str, step: Callable[[Context, D, Answer], Awaitable[Go[D]]]
) -> Callable[[Context, D, Answer], Awaitable[Go[D]]]:
    """A flow step that only a verbinder may answer: anyone else ends the conversation
    with the refusal (audited)."""

    async def guarded(ctx: Context, data: D, answer: Answer) -> Go[D]:
        if ctx.is_admin:
            return await step(ctx, data, answer)
        refused = await refuse(ctx, f"step={flow}")
        return Go(None, say=tuple(refused))

    return guarded
