"""Invites: a verbinder makes one (/uitnodiging), someone redeems it (/code, or the
Telegram link ``/start inv_<token>``).

Both are declared flows (:mod:`bot.core.flow`). Making one: the role, optionally an
organisation and a gemeente, how long it is valid, how many may use it, a check, and
then the link and the code, shown once: only the token's SHA-256 is stored
(:mod:`bot.people.tokens`). The same flow lists the open invites and revokes them.
What each step offers and asks is in :mod:`handlers.invite_prompts`.
Redeeming shows what the person will become and asks to confirm; an unknown,
expired, used-up or revoked code gets a clear reply, and one person uses an invite
once (``invite_uses``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Self

from bot.core.choices import Vocabulary, read_number
from bot.core.context import Context
from bot.core.flow import Answer, Effect, Flow, Go, Step
from bot.core.messages import Incoming, Reply, ShareLink
from bot.people.tokens import LINK_PREFIX, new_token, token_hash
from bot.people.vocab import GRANTED_ROLES
from handlers.invite_prompts import (
    BACK,
    DONE,
    EXPIRY,
    LIMITS,
    LIST,
    LISTED,
    MAKE,
    MAX_USES,
    NEW,
    NO_GEMEENTE,
    NO_ORG,
    REVOKE,
    REVOKE_NO,
    REVOKE_YES,
    ROLE,
    STOP,
    ask_confirm,
    ask_days,
    ask_gemeente,
    ask_list,
    ask_organisation,
    ask_revoke,
    ask_role,
    ask_uses,
    days_text,
    describe,
    uses_text,
)
from handlers.menu import menu_choices
from handlers.private import private_only
from handlers.profile import chosen_gemeente
from handlers.profile_prompts import GEMEENTE, ORGANISATION, lists
from handlers.verbinders import stale_or_refused, verbinders_only
from handlers.webview import typed_word


@dataclass(frozen=True, slots=True)
class InviteData:
    """The invite being made, or the open invites listed (their ids) and the one
    about to be revoked."""

    role: str = ""
    organisation: str | None = None
    gemeente: str | None = None
    days: int = 7
    uses: int = 1
    listed: tuple[int, ...] = ()
    revoking: int | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "organisation": self.organisation,
            "gemeente": self.gemeente,
            "days": self.days,
            "uses": self.uses,
            "listed": list(self.listed),
            "revoking": self.revoking,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        role, days, uses, listed = data["role"], data["days"], data["uses"], data["listed"]
        if role not in ("", *GRANTED_ROLES) or not isinstance(listed, list):
            raise ValueError("invite data of an unknown shape")
        org, gemeente = data["organisation"], data["gemeente"]
        if not all(v is None or isinstance(v, str) for v in (org, gemeente)):
            raise TypeError("organisation and gemeente are text")
        revoking = data.get("revoking")  # absent in a conversation begun before it was
        found = tuple(int(i) for i in listed)
        return cls(
            role,
            org,
            gemeente,
            int(days),
            int(uses),
            found,
            None if revoking is None else int(revoking),
        )


# -- making one: what each answer does -----------------------------------------------


def _unclear(step: str, ctx: Context) -> Go[InviteData]:
    return Go(step, say=(Reply(text=ctx.t("uitnodiging.unclear")),))


def _vocabulary(ctx: Context, kind: str) -> Vocabulary:
    """What may come with a typed number of ``kind``: its units (content, e.g.
    "dagen", "days") and the number words of both languages ("twee", "two")."""
    units = ctx.t(f"uitnodiging.{kind}_units").casefold().split()
    words = {word: n for found in ctx.web.numbers.values() for n, word in enumerate(found)}
    return Vocabulary(units=frozenset(units), numbers=words)


def _number(ctx: Context, answer: Answer, kind: str) -> int | None:
    """A button's number (``days:7``), or a number typed within the limits: bare or
    with a unit ("2", "2 dagen", "twee dagen"), the rule of :mod:`bot.core.choices`."""
    action = answer.action or ""
    if action.startswith(kind + ":"):
        return int(action.partition(":")[2])
    number = read_number(answer.text or "", _vocabulary(ctx, kind))
    low, high = LIMITS[kind]
    return number if number is not None and low <= number <= high else None


async def on_role(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    action = answer.action or ""
    if action == LIST.name:
        return await _listing(ctx)
    typed = (answer.text or "").strip().lower()
    role = action[5:] if action.startswith("role:") else typed
    if role not in GRANTED_ROLES:
        return _unclear("role", ctx)
    return Go("organisation", InviteData(role=role))


async def on_organisation(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    if answer.action == NO_ORG.name:
        return Go("gemeente", replace(data, organisation=None))
    orgs = lists(ctx).organisations
    action = answer.action or ""
    index = int(action[12:]) if action.startswith("organisation") else -1
    if not 0 <= index < len(orgs):
        return _unclear("organisation", ctx)
    return Go("gemeente", replace(data, organisation=orgs[index].id))


async def on_gemeente(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    if answer.action == NO_GEMEENTE.name:
        return Go("days", replace(data, gemeente=None))
    code = chosen_gemeente(ctx, answer)
    if code is None:
        return _unclear("gemeente", ctx)
    return Go("days", replace(data, gemeente=code))


async def on_days(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    days = _number(ctx, answer, "days")
    return _unclear("days", ctx) if days is None else Go("uses", replace(data, days=days))


async def on_uses(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    uses = _number(ctx, answer, "uses")
    return _unclear("uses", ctx) if uses is None else Go("confirm", replace(data, uses=uses))


async def on_confirm(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    if answer.action != MAKE.name:
        return _unclear("confirm", ctx)
    token = new_token()
    made = Reply(
        text=ctx.t(
            "uitnodiging.made",
            what=describe(ctx, data.role, data.organisation, data.gemeente),
            code=token,
            days=days_text(ctx, data.days),
            uses=uses_text(ctx, data.uses),
        ),
        share_link=ShareLink(LINK_PREFIX + token, ctx.t("uitnodiging.link_label")),
    )
    return Go(
        None, say=(made,), effects=(Effect("create_invite", lambda: _create(ctx, data, token)),)
    )


async def _create(ctx: Context, data: InviteData, token: str) -> None:
    now = ctx.clock.now()
    invite = await ctx.db.people.create_invite(
        token_hash=token_hash(token),
        role=data.role,
        organisation=data.organisation,
        gemeente=data.gemeente,
        created_by=ctx.person.id,
        now=now,
        expires_at=now + timedelta(days=data.days),
        max_uses=data.uses,
    )
    detail = f"invite={invite.id} role={data.role} days={data.days} uses={data.uses}"
    await ctx.db.audit.record(now, "invite.created", ctx.person.id, detail)


# -- the open invites -------------------------------------------------------------------


async def _listing(ctx: Context, say: tuple[Reply, ...] = ()) -> Go[InviteData]:
    now = ctx.clock.now()
    invites = await ctx.db.people.open_invites(now)
    lines = [ctx.t("uitnodiging.list_intro", count=len(invites))]
    zone = ctx.settings.zone
    lines += [
        ctx.t(
            "uitnodiging.list_line",
            number=i.id,
            what=describe(ctx, i.role, i.organisation, i.gemeente),
            used=i.uses,
            uses=i.max_uses,
            until=f"{i.expires_at.astimezone(zone):%d-%m-%Y} {i.expires_at.astimezone(zone):%H:%M}",
        )
        for i in invites
    ]
    listed = tuple(i.id for i in invites[:LISTED])
    return Go("list", InviteData(listed=listed), say=(*say, Reply(text="\n".join(lines))))


async def on_list(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    action = answer.action or ""
    if action == NEW.name:
        return Go("role", InviteData())
    if action == DONE.name:
        return Go(
            None, say=(Reply(text=ctx.t("uitnodiging.done_said"), choices=menu_choices(ctx)),)
        )
    index = int(action[6:]) if action.startswith("revoke") and action[6:].isdigit() else -1
    if not 0 <= index < len(data.listed):
        return _unclear("list", ctx)
    return Go("revoke", replace(data, revoking=data.listed[index]))


async def on_revoke(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    """Revoke the invite chosen in the list, after a yes; a no goes back to the list."""
    invite_id = data.revoking
    if answer.action == REVOKE_NO.name or invite_id is None:
        return await _listing(ctx)
    if answer.action != REVOKE_YES.name:
        return _unclear("revoke", ctx)
    now = ctx.clock.now()
    revoked = await ctx.db.people.revoke_invite(invite_id, now)
    if revoked:
        await ctx.db.audit.record(now, "invite.revoked", ctx.person.id, f"invite={invite_id}")
    key = "uitnodiging.revoked" if revoked else "uitnodiging.revoked_already"
    return await _listing(ctx, (Reply(text=ctx.t(key, number=invite_id)),))


def _stopped(ctx: Context, data: InviteData) -> Go[InviteData]:
    return Go(None, say=(Reply(text=ctx.t("uitnodiging.stopped"), choices=menu_choices(ctx)),))


def _back_to(step: str) -> Any:
    return lambda data: (step, data)


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/uitnodiging (verbinders; the router refuses anyone else): in a private chat,
    since the code it ends with is a key to a role."""
    if not msg.is_private:
        return [private_only(ctx, "uitnodiging")]
    return await FLOW.start(ctx, "role", InviteData())


def _guard(step: Any) -> Any:
    return verbinders_only("uitnodiging", step)


FLOW: Flow[InviteData] = Flow(
    name="uitnodiging",
    prefix="ui",
    data=InviteData,
    steps=[
        Step("role", on=_guard(on_role), ask=ask_role, actions=(*ROLE, LIST, STOP)),
        Step(
            "organisation",
            on=_guard(on_organisation),
            ask=ask_organisation,
            actions=(*ORGANISATION, NO_ORG, BACK, STOP),
            back=_back_to("role"),
        ),
        Step(
            "gemeente",
            on=_guard(on_gemeente),
            ask=ask_gemeente,
            actions=(*GEMEENTE, NO_GEMEENTE, BACK, STOP),
            back=_back_to("organisation"),
        ),
        Step(
            "days",
            on=_guard(on_days),
            ask=ask_days,
            actions=(*EXPIRY, BACK, STOP),
            back=_back_to("gemeente"),
        ),
        Step(
            "uses",
            on=_guard(on_uses),
            ask=ask_uses,
            actions=(*MAX_USES, BACK, STOP),
            back=_back_to("days"),
        ),
        Step(
            "confirm",
            on=_guard(on_confirm),
            ask=ask_confirm,
            actions=(MAKE, BACK, STOP),
            back=_back_to("uses"),
        ),
        Step("list", on=_guard(on_list), ask=ask_list, actions=(*REVOKE, NEW, DONE)),
        Step("revoke", on=_guard(on_revoke), ask=ask_revoke, actions=(REVOKE_YES, REVOKE_NO)),
    ],
    stale="uitnodiging.stale",
    ttl=timedelta(hours=2),
    means=typed_word,
    on_stale=stale_or_refused("uitnodiging", "uitnodiging.stale"),
    stop=STOP,
    stopped=_stopped,
    back=BACK,
    at_first="uitnodiging.at_first",
)
