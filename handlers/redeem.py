"""Redeeming an invite: ``/code <token>`` (console, Slack, anywhere) and the Telegram
link, ``/start inv_<token>``. A declared flow of one step: what the person will
become, and yes or no. The invite is checked when the code is given and again at
the yes (it may have been revoked or used up in between); one person uses an
invite once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Self

from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
from bot.core.messages import Incoming, Reply
from bot.people.roles import with_role
from bot.people.tokens import read_token, token_hash
from bot.people.vocab import GRANTED_ROLES
from bot.storage.models import Invite
from bot.storage.repositories.people import TWICE, USED
from handlers.earlier import Earlier, back_to, earlier_conversation, read_earlier
from handlers.invite_prompts import describe
from handlers.menu import menu_choices
from handlers.webview import typed_word

ACCEPT = Action("accept", "y", label="code.accept", words=("yes",))
DECLINE = Action("decline", "n", label="code.decline", words=("no", "stop"))


@dataclass(frozen=True, slots=True)
class RedeemData:
    """The invite on offer, and what it makes of the person (shown in the question)."""

    invite: int
    role: str
    organisation: str | None = None
    gemeente: str | None = None
    earlier: Earlier = None  # the conversation open before, to go back to

    def to_data(self) -> dict[str, Any]:
        return {
            "invite": self.invite,
            "role": self.role,
            "organisation": self.organisation,
            "gemeente": self.gemeente,
            "earlier": self.earlier,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        if data["role"] not in GRANTED_ROLES:
            raise ValueError("not a role an invite gives")
        org, gemeente = data["organisation"], data["gemeente"]
        return cls(int(data["invite"]), data["role"], org, gemeente, read_earlier(data))


def problem(invite: Invite | None, now: datetime) -> str | None:
    """Why an invite cannot be used now (a content key); None when it can."""
    if invite is None:
        return "code.unknown"
    if invite.revoked_at is not None:
        return "code.revoked"
    if invite.expires_at <= now:
        return "code.expired"
    if invite.uses >= invite.max_uses:
        return "code.used_up"
    return None


async def redeem_code(msg: Incoming, ctx: Context) -> list[Reply]:
    """/code <token>."""
    return await offer(msg, ctx, msg.args)


async def offer(msg: Incoming, ctx: Context, given: str) -> list[Reply]:
    """The invite behind ``given`` (a code, ``inv_<code>`` or the link), and the
    question whether to accept it."""
    if not msg.is_private:
        return [Reply(text=ctx.t("code.private"))]
    token = read_token(given)
    if token is None:
        return [Reply(text=ctx.t("code.how"))]
    invite = await ctx.db.people.invite_by_hash(token_hash(token))
    refused = problem(invite, ctx.clock.now())
    if (
        invite is not None
        and refused is None
        and await ctx.db.people.used_by(invite.id, ctx.person.id)
    ):
        refused = "code.twice"
    if refused is not None or invite is None:
        return await _refused(ctx, refused or "code.unknown", invite)
    earlier = earlier_conversation(ctx, FLOW.name)
    data = RedeemData(invite.id, invite.role, invite.organisation, invite.gemeente, earlier)
    return await FLOW.start(ctx, "confirm", data)


async def _refused(ctx: Context, key: str, invite: Invite | None) -> list[Reply]:
    detail = f"reason={key.partition('.')[2]}" + (f" invite={invite.id}" if invite else "")
    await ctx.db.audit.record(ctx.clock.now(), "invite.refused", ctx.person.id, detail)
    return [Reply(text=ctx.t(key), choices=menu_choices(ctx))]


def _ask(ctx: Context, data: RedeemData, buttons: Buttons) -> Reply:
    what = describe(ctx, data.role, data.organisation, data.gemeente)
    return Reply(text=ctx.t("code.confirm", what=what), choices=(buttons(ACCEPT), buttons(DECLINE)))


async def confirm(ctx: Context, data: RedeemData, answer: Answer) -> Go[RedeemData]:
    """Yes or no; either way, the conversation from before is open again."""
    go = await _answered(ctx, data, answer)
    return replace(go, effects=(*go.effects, *back_to(ctx, data.earlier)))


async def _answered(ctx: Context, data: RedeemData, answer: Answer) -> Go[RedeemData]:
    if answer.action != ACCEPT.name:
        key = "code.declined" if answer.action == DECLINE.name else "code.not_confirmed"
        return Go(None, say=(Reply(text=ctx.t(key), choices=menu_choices(ctx)),))
    now = ctx.clock.now()
    refused = problem(await ctx.db.people.invite(data.invite), now)
    if refused is not None:
        return Go(None, say=tuple(await _refused(ctx, refused, None)))
    used = await ctx.db.people.use_invite(data.invite, ctx.person.id, now)
    if used != USED:
        return Go(
            None,
            say=tuple(await _refused(ctx, "code.twice" if used == TWICE else "code.used_up", None)),
        )
    person = ctx.person
    person.roles = with_role(person.role_set, data.role)
    if data.organisation is not None:
        person.organisation = data.organisation
    if data.gemeente is not None:
        person.gemeente = data.gemeente
    detail = f"invite={data.invite} role={data.role}"
    await ctx.db.audit.record(now, "invite.redeemed", person.id, detail)
    what = describe(ctx, data.role, data.organisation, data.gemeente)
    return Go(None, say=(Reply(text=ctx.t("code.done", what=what), choices=menu_choices(ctx)),))


FLOW: Flow[RedeemData] = Flow(
    name="code",
    prefix="cd",
    data=RedeemData,
    steps=[Step("confirm", on=confirm, ask=_ask, actions=(ACCEPT, DECLINE))],
    stale="code.stale",
    ttl=timedelta(hours=1),
    means=typed_word,
)
