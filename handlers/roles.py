"""/rollen (verbinders): who holds which role, and granting or revoking one, by
display name or platform id (``telegram:123``).

``/rollen`` lists; ``/rollen geef <wie> <rol>`` and ``/rollen neem <wie> <rol>`` (or
``grant``/``revoke``) change, after a check: a declared flow (``who`` when the name
fits several people, then ``confirm``). Every change is written to the audit log
(who, what, when); BOT_ADMINS stay verbinders, and nobody takes away their own
verbinder role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Self

from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
from bot.core.messages import Incoming, Reply
from bot.people.roles import read_role, why_not_revoke, with_role, without_role
from bot.people.vocab import GRANTED_ROLES, ROLES
from bot.storage.models import User
from bot.storage.repositories.people import TARGET
from handlers.menu import menu_choices
from handlers.verbinders import stale_or_refused, verbinders_only
from handlers.webview import typed_word

GRANT_WORDS, REVOKE_WORDS = {"geef", "grant", "give"}, {"neem", "revoke", "intrekken", "take"}
CANDIDATES = 10  # people offered when a name fits several
PICK = tuple(Action(f"person{i}", f"p{i}") for i in range(CANDIDATES))
YES = Action("yes", "y", label="rollen.yes", words=("yes",))
STOP = Action("stop", "x", label="rollen.stop", words=("no", "stop"))


@dataclass(frozen=True, slots=True)
class RoleData:
    """The change on offer: grant or revoke, the role, and who (or who it may be)."""

    grant: bool
    role: str
    people: tuple[tuple[int, str], ...] = ()  # (user id, label) of the candidates
    target: int | None = None

    def to_data(self) -> dict[str, Any]:
        people = [list(p) for p in self.people]
        return {"grant": self.grant, "role": self.role, "people": people, "target": self.target}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        role, people, target = data["role"], data["people"], data["target"]
        if read_role(role) is None or not isinstance(people, list):
            raise ValueError("role data of an unknown shape")
        found = tuple((int(i), str(label)) for i, label in people)
        return cls(bool(data["grant"]), role, found, None if target is None else int(target))

    def label(self) -> str:
        return next((label for i, label in self.people if i == self.target), "")


def label(user: User) -> str:
    """ "Anna (telegram:123)": a name with the platform id that tells two Annas apart;
    only the platform id ("telegram:123") for someone without a name."""
    where = f"{user.platform}:{user.platform_user_id}"
    return f"{user.display_name} ({where})" if user.display_name else where


def _role_names(ctx: Context, user: User) -> str:
    return ", ".join(ctx.t(f"roles.{r}") for r in ROLES if r in user.role_set)


async def rollen(msg: Incoming, ctx: Context) -> list[Reply]:
    """/rollen [geef|neem <wie> <rol>]."""
    words = msg.args.split()
    if not words:
        return await _overview(ctx)
    op = words[0].lower()
    if op not in GRANT_WORDS | REVOKE_WORDS or len(words) < 3:
        return [Reply(text=ctx.t("rollen.how"))]
    role = read_role(words[-1])
    if role is None:
        return [Reply(text=_not_a_role(ctx, words[-1]))]
    who = " ".join(words[1:-1])
    found = await ctx.db.people.find_people(who)
    if not found:
        return [Reply(text=ctx.t("rollen.nobody", who=who))]
    people = tuple((u.id, label(u)) for u in found[:CANDIDATES])
    data = RoleData(op in GRANT_WORDS, role, people)
    if len(found) == 1:
        refused = _refusal(ctx, data, found[0])
        if refused is not None:  # said at once: no question that can only end in "no"
            return [Reply(text=refused)]
        return await FLOW.start(ctx, "confirm", replace(data, target=found[0].id))
    return await FLOW.start(ctx, "who", data)


def _not_a_role(ctx: Context, typed: str) -> str:
    names = ", ".join(ctx.t(f"roles.{r}") for r in GRANTED_ROLES)
    return ctx.t("rollen.not_a_role", role=typed, roles=names)


def _refusal(ctx: Context, data: RoleData, target: User) -> str | None:
    """Why this change cannot or need not be made (said before any question), or None:
    BOT_ADMINS and one's own verbinder role stay; a role held is not given again,
    nor one not held taken."""
    who, role = label(target), ctx.t(f"roles.{data.role}")
    if data.grant:
        held = data.role in target.role_set
        return ctx.t("rollen.has_already", who=who, role=role) if held else None
    bot_admin = ctx.settings.is_admin(target.platform, target.platform_user_id)
    why = why_not_revoke(data.role, bot_admin=bot_admin, self_=target.id == ctx.person.id)
    if why is not None:
        return ctx.t(why)
    if data.role not in target.role_set:
        return ctx.t("rollen.not_held", who=who, role=role)
    return None


async def _overview(ctx: Context) -> list[Reply]:
    people = await ctx.db.people.with_roles()
    lines = [ctx.t("rollen.intro", count=len(people))]
    lines += [ctx.t("rollen.line", who=label(u), roles=_role_names(ctx, u)) for u in people]
    lines.append(ctx.t("rollen.how"))
    return [Reply(text="\n".join(lines))]


def _ask_who(ctx: Context, data: RoleData, buttons: Buttons) -> Reply:
    picks = [buttons.text(a, name) for a, (_, name) in zip(PICK, data.people, strict=False)]
    return Reply(text=ctx.t("rollen.which"), choices=(*picks, buttons(STOP)))


def _ask_confirm(ctx: Context, data: RoleData, buttons: Buttons) -> Reply:
    key = "rollen.confirm_grant" if data.grant else "rollen.confirm_revoke"
    text = ctx.t(key, who=data.label(), role=ctx.t(f"roles.{data.role}"))
    return Reply(text=text, choices=(buttons(YES), buttons(STOP)))


async def on_who(ctx: Context, data: RoleData, answer: Answer) -> Go[RoleData]:
    action = answer.action or ""
    index = int(action[6:]) if action.startswith("person") else -1
    if not 0 <= index < len(data.people):
        return Go("who", say=(Reply(text=ctx.t("rollen.unclear")),))
    target = await ctx.db.users.get(data.people[index][0])
    if target is None:
        return _end(ctx, "rollen.gone")
    refused = _refusal(ctx, data, target)
    if refused is not None:
        return Go(None, say=(Reply(text=refused, choices=menu_choices(ctx)),))
    return Go("confirm", replace(data, target=target.id))


async def on_confirm(ctx: Context, data: RoleData, answer: Answer) -> Go[RoleData]:
    if answer.action != YES.name:
        return Go("confirm", say=(Reply(text=ctx.t("rollen.unclear")),))
    target = await ctx.db.users.get(data.target) if data.target is not None else None
    if target is None:
        return _end(ctx, "rollen.gone")
    refused = _refusal(ctx, data, target)  # again: things may have changed since the question
    if refused is not None:
        return Go(None, say=(Reply(text=refused, choices=menu_choices(ctx)),))
    change = with_role if data.grant else without_role
    target.roles = change(target.role_set, data.role)
    action = "role.granted" if data.grant else "role.revoked"
    detail = f"{TARGET}{target.id} role={data.role}"
    await ctx.db.audit.record(ctx.clock.now(), action, ctx.person.id, detail)
    key = "rollen.granted" if data.grant else "rollen.revoked"
    return _end(ctx, key, who=label(target), role=ctx.t(f"roles.{data.role}"))


def _end(ctx: Context, key: str, **params: object) -> Go[RoleData]:
    return Go(None, say=(Reply(text=ctx.t(key, **params), choices=menu_choices(ctx)),))


def _stopped(ctx: Context, data: RoleData) -> Go[RoleData]:
    return _end(ctx, "rollen.stopped")


FLOW: Flow[RoleData] = Flow(
    name="rollen",
    prefix="rl",
    data=RoleData,
    steps=[
        Step("who", on=verbinders_only("rollen", on_who), ask=_ask_who, actions=(*PICK, STOP)),
        Step(
            "confirm",
            on=verbinders_only("rollen", on_confirm),
            ask=_ask_confirm,
            actions=(YES, STOP),
        ),
    ],
    stale="rollen.stale",
    ttl=timedelta(hours=1),
    means=typed_word,
    on_stale=stale_or_refused("rollen", "rollen.stale"),
    stop=STOP,
    stopped=_stopped,
)
