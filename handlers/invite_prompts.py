"""What /uitnodiging offers and asks: its answers (the buttons' actions), its prompts,
and how an invite reads ("gangmaker, bij DSV, in Leiden"). The steps' handlers and the
flow are in :mod:`handlers.invites`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.context import Context
from bot.core.flow import Action, Buttons
from bot.core.messages import Reply
from bot.people.vocab import GRANTED_ROLES
from handlers.profile_prompts import GEMEENTE, ORGANISATION, lists

if TYPE_CHECKING:
    from handlers.invites import InviteData

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
DONE = Action("done", "k", label="uitnodiging.done", words=("stop",))  # the list: nothing more
REVOKE_YES = Action("revoke_yes", "ry", label="uitnodiging.revoke_yes", words=("yes",))
REVOKE_NO = Action("revoke_no", "rn", label="uitnodiging.revoke_no", words=("no", "stop", "back"))
LISTED = 10  # open invites offered for revoking at once
REVOKE = tuple(Action(f"revoke{i}", f"v{i}") for i in range(LISTED))
BACK = Action("back", "b", label="uitnodiging.back", words=("back",))
STOP = Action("stop", "x", label="uitnodiging.stop", words=("stop",))
LIMITS = {"days": (1, 365), "uses": (1, 1000)}  # what may be typed instead of a button


def counted(ctx: Context, key: str, number: int) -> str:
    """ "1 dag", "7 dagen": ``key`` for any number, ``key_one`` for 1 (``{count}``)."""
    return ctx.t(f"{key}_one" if number == 1 else key, count=number)


def days_text(ctx: Context, days: int) -> str:
    return counted(ctx, "uitnodiging.days", days)


def uses_text(ctx: Context, uses: int) -> str:
    return counted(ctx, "uitnodiging.people", uses)


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


def ask_role(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    roles = [buttons.text(a, ctx.t(f"roles.{a.name[5:]}")) for a in ROLE]
    return Reply(text=ctx.t("uitnodiging.ask_role"), choices=(*roles, buttons(LIST), buttons(STOP)))


def ask_organisation(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    orgs = lists(ctx).organisations
    choices = [buttons.text(a, o.name) for a, o in zip(ORGANISATION, orgs, strict=False)]
    choices += [buttons(NO_ORG), buttons(BACK), buttons(STOP)]
    return Reply(text=ctx.t("uitnodiging.ask_organisation"), choices=tuple(choices))


def ask_gemeente(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    places = lists(ctx).gemeenten
    choices = [buttons.text(a, g.name) for a, g in zip(GEMEENTE, places, strict=False)]
    choices += [buttons(NO_GEMEENTE), buttons(BACK), buttons(STOP)]
    return Reply(text=ctx.t("uitnodiging.ask_gemeente"), choices=tuple(choices))


def ask_days(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    days = [buttons.text(a, days_text(ctx, n)) for a, n in zip(EXPIRY, DAYS, strict=True)]
    return Reply(
        text=ctx.t("uitnodiging.ask_days"),
        choices=(*days, buttons(BACK), buttons(STOP)),
        # The options carry their days: a typed "2" is 2 days, on every channel.
        choice_numbers=(*DAYS, None, None),
    )


def ask_uses(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    uses = [buttons.text(a, str(n)) for a, n in zip(MAX_USES, USES, strict=True)]
    return Reply(
        text=ctx.t("uitnodiging.ask_uses"),
        choices=(*uses, buttons(BACK), buttons(STOP)),
        choice_numbers=(*USES, None, None),  # a typed "2" is 2 people
    )


def ask_confirm(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    text = ctx.t(
        "uitnodiging.check",
        what=describe(ctx, data.role, data.organisation, data.gemeente),
        days=days_text(ctx, data.days),
        uses=uses_text(ctx, data.uses),
    )
    return Reply(text=text, choices=(buttons(MAKE), buttons(BACK), buttons(STOP)))


def ask_list(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    revoke = [
        buttons.text(a, ctx.t("uitnodiging.revoke", number=invite_id))
        for a, invite_id in zip(REVOKE, data.listed, strict=False)
    ]
    key = "uitnodiging.list_ask" if data.listed else "uitnodiging.list_none"
    return Reply(text=ctx.t(key), choices=(*revoke, buttons(NEW), buttons(DONE)))


def ask_revoke(ctx: Context, data: InviteData, buttons: Buttons) -> Reply:
    text = ctx.t("uitnodiging.revoke_check", number=data.revoking)
    return Reply(text=text, choices=(buttons(REVOKE_YES), buttons(REVOKE_NO)))
