"""/vergeetmij: delete everything the bot keeps about the person, after a yes.

A declared flow (:mod:`bot.core.flow`) of one step. The question is asked in a
private chat only; its buttons are stamped, so an old or forged button deletes
nothing. "No", "stop" or any other answer keeps everything and takes the person
back to the conversation they were in (a check-in, say) before they asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

from bot.core.context import Context
from bot.core.flow import Action, Answer, Effect, Flow, Go, Step
from bot.core.messages import Incoming, Reply
from bot.core.state import State
from handlers import agenda
from handlers.menu import menu_choices
from handlers.private import private_only
from handlers.webview import typed_word

FORGET = Action("forget", "yes", label="forget.yes", words=("yes",))
KEEP = Action("keep", "no", label="forget.no", words=("no", "stop"))


@dataclass(frozen=True, slots=True)
class ForgetData:
    """The conversation the person was in when they asked, to go back to on a no."""

    earlier: dict[str, Any] | None = None  # {"flow", "step", "data"} of that conversation

    def to_data(self) -> dict[str, Any]:
        return {} if self.earlier is None else {"earlier": self.earlier}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        earlier = data.get("earlier")
        if earlier is not None and not (
            isinstance(earlier, dict) and {"flow", "step", "data"} <= earlier.keys()
        ):
            raise ValueError("earlier conversation of an unknown shape")
        return cls(earlier)


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/vergeetmij (and the deep link): ask, in a private chat only."""
    if not msg.is_private:
        return [private_only(ctx, "vergeetmij")]
    earlier = ctx.state
    kept = None
    if earlier is not None and earlier.flow != FLOW.name:
        kept = {"flow": earlier.flow, "step": earlier.step, "data": earlier.data}
    return await FLOW.start(ctx, "confirm", ForgetData(kept))


async def confirm(ctx: Context, data: ForgetData, answer: Answer) -> Go[ForgetData]:
    if answer.action == FORGET.name:
        forget = Effect("forget_person", lambda: _forget(ctx))
        return Go(None, say=(Reply(text=ctx.t("forget.done")),), effects=(forget,))
    back = Effect("return_to_earlier_conversation", lambda: _back(ctx, data))
    key = "forget.kept" if answer.action == KEEP.name else "forget.not_confirmed"
    return Go(None, say=(Reply(text=ctx.t(key), choices=menu_choices(ctx)),), effects=(back,))


async def _back(ctx: Context, data: ForgetData) -> None:
    """No deletion: the conversation from before /vergeetmij is open again."""
    if data.earlier is not None:
        earlier = data.earlier
        await ctx.set_state(State(flow=earlier["flow"], step=earlier["step"], data=earlier["data"]))


async def _forget(ctx: Context) -> None:
    user_id, platform, platform_id = ctx.person.id, ctx.person.platform, ctx.person.platform_user_id
    now = ctx.clock.now()
    needed = await ctx.db.announcements.open_attachments()  # a verbinder's scheduled picture
    await agenda.give_up_seats(ctx, user_id)  # a seat goes to the waitlist
    await ctx.db.people.forget(user_id)  # the verbinders' role changes keep no id
    await ctx.db.personal.forget(user_id)
    ctx.user, ctx.state = None, None
    await ctx.db.audit.record(now, "user.forgotten")  # no id: there is no one left to name
    ctx.reminders.cancel_all(user_id)
    ctx.files.remove_owner(user_id)
    ctx.files.remove_sent(platform, platform_id, keep=needed)


FLOW: Flow[ForgetData] = Flow(
    name="vergeet",
    prefix="vm",
    data=ForgetData,
    steps=[Step("confirm", on=confirm, ask="forget.confirm", actions=(FORGET, KEEP))],
    stale="forget.stale",
    ttl=timedelta(hours=1),
    means=typed_word,
)
