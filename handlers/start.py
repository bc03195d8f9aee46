"""/start (welcome), /help, and the main menu's buttons."""

from __future__ import annotations

from dataclasses import replace

from bot.core.context import Context
from bot.core.messages import Incoming, PressOutcome, Reply
from bot.people.directory import has_profile
from bot.people.tokens import LINK_PREFIX
from handlers import redeem
from handlers.menu import menu_choices, registrations


async def start(msg: Incoming, ctx: Context) -> list[Reply]:
    # A deep link (Telegram: t.me/<bot>?start=<payload>) opens the command whose
    # registration names the payload: a group sends people to a private chat
    # with one (see handlers.private). Anything else gets the welcome.
    payload = msg.args.strip().lower()
    if payload.startswith(LINK_PREFIX):  # an invite: t.me/<bot>?start=inv_<token>
        return await redeem.offer(msg, ctx, payload)
    router = registrations(ctx)
    opens = router.deep_link(payload) if router is not None and payload else None
    if opens is not None and (not opens.admin_only or ctx.is_admin):
        # as if the person typed the command, without arguments
        return await opens.handler(replace(msg, text=f"/{payload}"), ctx)
    user = ctx.person
    replies = []
    if not user.messages_enabled:
        user.messages_enabled = True
        await ctx.db.audit.record(ctx.clock.now(), "messages.resumed", user.id)
        replies.append(Reply(text=ctx.t("stop.resumed")))
    name = user.display_name or ""
    key = "start.welcome_named" if name else "start.welcome"
    text = ctx.t(key, name=name)
    profile = has_profile(user.gemeente, user.organisation, user.topics_off)
    if msg.is_private and user.profile_offered_at is None and not profile:  # once, if empty
        user.profile_offered_at = ctx.clock.now()
        text += "\n\n" + ctx.t("profiel.offer")
    replies.append(Reply(text=text, choices=menu_choices(ctx)))
    return replies


async def help_(msg: Incoming, ctx: Context) -> list[Reply]:
    router = registrations(ctx)
    lines = [ctx.t("help.intro")]
    if router is not None:
        for command in router.commands:
            if not command.listed or (command.admin_only and not ctx.is_admin):
                continue
            lines.append(ctx.t("help.line", command=command.name, text=ctx.t(command.help_key)))
    lines.append(ctx.t("help.outro"))
    return [Reply(text="\n".join(lines), choices=menu_choices(ctx))]


async def menu(msg: Incoming, ctx: Context) -> list[Reply]:
    """A main-menu button, ``menu:<name>``: the command offered under that name,
    or ``menu:start``, the menu itself."""
    target = (msg.action or "").partition(":")[2]
    if target == "start":
        return await start(msg, ctx)
    router = registrations(ctx)
    offered = router.menu_command(target, is_admin=True) if router is not None else None
    if offered is not None and (not offered.admin_only or ctx.is_admin):
        return await offered.handler(msg, ctx)
    return [
        Reply(
            text=ctx.t("errors.stale_button"),
            choices=menu_choices(ctx),
            press_outcome=PressOutcome.STALE,
        )
    ]
