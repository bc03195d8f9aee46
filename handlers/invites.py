"""Invites: a verbinder makes one (/uitnodiging), someone redeems it (/code, or the
Telegram link ``/start inv_<token>``).

Both are declared flows (:mod:`bot.core.flow`). Making one: the role, optionally an
organisation and a gemeente, how long it is valid, how many may use it, a check, and
then the link and the code, shown once: only the token's SHA-256 is stored
(:mod:`bot.people.tokens`). The same flow lists the open invites and revokes them.
Redeeming shows what the person will become and asks to confirm; an unknown,
expired, used-up or revoked code gets a clear reply, and one person uses an invite
once (``invite_uses``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Self

from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Effect, Flow, Go, Step
from bot.core.messages import Incoming, Reply, ShareLink
from bot.people.tokens import LINK_PREFIX, new_token, token_hash
from bot.people.vocab import GRANTED_ROLES
from handlers.menu import menu_choices
from handlers.private import private_only
from handlers.profile import GEMEENTE, ORGANISATION, chosen_gemeente, lists
from handlers.verbinders import stale_or_refused, verbinders_only
from handlers.webview import typed_word

ROLE = tuple(Action(f"role:{code}", f"r-{code}") for code in GRANTED_ROLES)
NO_ORG = Action("no_organisation", "on", label="uitnodiging.none")
NO_GEMEENTE = Action("no_gemeente", "gn", label="uitnodiging.none")
DAYS = (1, 7, 30)
USES = (1, 5, 25, 100)
EXPIRY = tuple(Action(f"days:{n}", f"e{n}") for n in DAYS)
MAX_USES = tuple(Action(f"uses:{n}", f"u{n}") for n in USES)
MAKE = Action("make", "m", label="uitnodiging.make", words=("yes",))
LIST = Action("list", "l", label="uitnodiging.list")
NEW = Action("new", "n", label="uitnodiging.new")
LISTED = 10  # open invites offered for revoking at once
REVOKE = tuple(Action(f"revoke{i}", f"v{i}") for i in range(LISTED))
BACK = Action("back", "b", label="uitnodiging.back", words=("back",))
STOP = Action("stop", "x", label="uitnodiging.stop", words=("stop",))
LIMITS = {"days": (1, 365), "uses": (1, 1000)}  # what may be typed instead of a button


@dataclass(frozen=True, slots=True)
class InviteData:
    """The invite being made, or the open invites listed (their ids)."""

    role: str = ""
    organisation: str | None = None
    gemeente: str | None = None
    days: int = 7
    uses: int = 1
    listed: tuple[int, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "organisation": self.organisation,
            "gemeente": self.gemeente,
            "days": self.days,
            "uses": self.uses,
            "listed": list(self.listed),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        role, days, uses, listed = data["role"], data["days"], data["uses"], data["listed"]
        if role not in ("", *GRANTED_ROLES) or not isinstance(listed, list):
            raise ValueError("invite data of an unknown shape")
        org, gemeente = data["organisation"], data["gemeente"]
        if not all(v is None or isinstance(v, str) for v in (org, gemeente)):
            raise TypeError("organisation and gemeente are text")
        return cls(role, org, gemeente, int(days), int(uses), tuple(int(i) for i in listed))


def describe(ctx: Context, role: str, organisation: str | None, gemeente: str | None) -> str:
    """ "gangmaker, bij DSV, in Leiden": what an invite makes of someone."""
    places = lists(ctx)
    parts = [ctx.t(f"roles.{role}")]
    org = places.organisation(organisation)
    if organisation is not None:
        parts.append(ctx.t("uitnodiging.at", organisation=org.name if org else organisation))
    place = places.gemeente(gemeente)
    if gemeente is not None:
        parts.append(ctx.t("uitnodiging.in", gemeente=place.name if place else gemeente))
    return ", ".join(parts)


# -- making one: what each step asks ---------------------------------------------------


def _ask_role(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    roles = [buttons.text(a, ctx.t(f"roles.{a.name[5:]}")) for a in ROLE]
    return Reply(text=ctx.t("uitnodiging.ask_role"), choices=(*roles, buttons(LIST), buttons(STOP)))


def _ask_organisation(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    orgs = lists(ctx).organisations
    choices = [buttons.text(a, o.name) for a, o in zip(ORGANISATION, orgs, strict=False)]
    choices += [buttons(NO_ORG), buttons(BACK), buttons(STOP)]
    return Reply(text=ctx.t("uitnodiging.ask_organisation"), choices=tuple(choices))


def _ask_gemeente(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    places = lists(ctx).gemeenten
    choices = [buttons.text(a, g.name) for a, g in zip(GEMEENTE, places, strict=False)]
    choices += [buttons(NO_GEMEENTE), buttons(BACK), buttons(STOP)]
    return Reply(text=ctx.t("uitnodiging.ask_gemeente"), choices=tuple(choices))


def _ask_days(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    days = [
        buttons.text(a, ctx.t("uitnodiging.days", days=n))
        for a, n in zip(EXPIRY, DAYS, strict=True)
    ]
    return Reply(text=ctx.t("uitnodiging.ask_days"), choices=(*days, buttons(BACK), buttons(STOP)))


def _ask_uses(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    uses = [buttons.text(a, str(n)) for a, n in zip(MAX_USES, USES, strict=True)]
    return Reply(text=ctx.t("uitnodiging.ask_uses"), choices=(*uses, buttons(BACK), buttons(STOP)))


def _ask_confirm(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    text = ctx.t(
        "uitnodiging.check",
        what=describe(ctx, data.role, data.organisation, data.gemeente),
        days=data.days,
        uses=data.uses,
    )
    return Reply(text=text, choices=(buttons(MAKE), buttons(BACK), buttons(STOP)))


def _ask_list(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    revoke = [
        buttons.text(a, ctx.t("uitnodiging.revoke", number=invite_id))
        for a, invite_id in zip(REVOKE, data.listed, strict=False)
    ]
    key = "uitnodiging.list_ask" if data.listed else "uitnodiging.list_none"
    return Reply(text=ctx.t(key), choices=(*revoke, buttons(NEW), buttons(STOP)))


# -- making one: what each answer does -----------------------------------------------


def _unclear(step: str, ctx: Context) -> Go[InviteData]:
    return Go(step, say=(Reply(text=ctx.t("uitnodiging.unclear")),))


def _number(answer: Answer, kind: str) -> int | None:
    """A button's number (``days:7``), or a number typed within the limits."""
    action = answer.action or ""
    if action.startswith(kind + ":"):
        return int(action.partition(":")[2])
    text = (answer.text or "").strip()
    low, high = LIMITS[kind]
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


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
    days = _number(answer, "days")
    return _unclear("days", ctx) if days is None else Go("uses", replace(data, days=days))


async def on_uses(ctx: Context, data: InviteData, answer: Answer) -> Go[InviteData]:
    uses = _number(answer, "uses")
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
            days=data.days,
            uses=data.uses,
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
    index = int(action[6:]) if action.startswith("revoke") else -1
    if not 0 <= index < len(data.listed):
        return _unclear("list", ctx)
    invite_id = data.listed[index]
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
        Step("role", on=_guard(on_role), ask=_ask_role, actions=(*ROLE, LIST, STOP)),
        Step(
            "organisation",
            on=_guard(on_organisation),
            ask=_ask_organisation,
            actions=(*ORGANISATION, NO_ORG, BACK, STOP),
            back=_back_to("role"),
        ),
        Step(
            "gemeente",
            on=_guard(on_gemeente),
            ask=_ask_gemeente,
            actions=(*GEMEENTE, NO_GEMEENTE, BACK, STOP),
            back=_back_to("organisation"),
        ),
        Step(
            "days",
            on=_guard(on_days),
            ask=_ask_days,
            actions=(*EXPIRY, BACK, STOP),
            back=_back_to("gemeente"),
        ),
        Step(
            "uses",
            on=_guard(on_uses),
            ask=_ask_uses,
            actions=(*MAX_USES, BACK, STOP),
            back=_back_to("days"),
        ),
        Step(
            "confirm",
            on=_guard(on_confirm),
            ask=_ask_confirm,
            actions=(MAKE, BACK, STOP),
            back=_back_to("uses"),
        ),
        Step("list", on=_guard(on_list), ask=_ask_list, actions=(*REVOKE, NEW, STOP)),
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
