"""/start (welcome), /help, and the main menu's buttons."""

from __future__ import annotations

from dataclasses import replace

from bot.core.context import Context
from bot.core.messages import Incoming, PressOutcome, Reply
from bot.core.router import Handler
from handlers import ask, checkin, forget, language, mydata
from handlers.menu import menu_choices

# Deep-link payloads (Telegram: t.me/<bot>?start=<payload>) that open a feature:
# a group sends people to a private chat with these (see checkin.private_only).
DEEP_LINKS: dict[str, Handler] = {
    "checkin": checkin.begin,
    "spinnenweb": checkin.begin,
    "mijnweb": mydata.my_web,
    "mijngegevens": mydata.my_data,
    "vergeetmij": forget.begin,
}


async def start(msg: Incoming, ctx: Context) -> list[Reply]:
    payload = msg.args.strip().lower()
    opens = DEEP_LINKS.get(payload)
    if opens is not None:  # as if the person typed the command, without arguments
        return await opens(replace(msg, text=f"/{payload}"), ctx)
    user = ctx.person
    replies = []
    if not user.messages_enabled:
        user.messages_enabled = True
        await ctx.db.audit.record(ctx.clock.now(), "messages.resumed", user.id)
        replies.append(Reply(text=ctx.t("stop.resumed")))
    name = user.display_name or ""
    key = "start.welcome_named" if name else "start.welcome"
    replies.append(Reply(text=ctx.t(key, name=name), choices=menu_choices(ctx)))
    return replies


async def help_(msg: Incoming, ctx: Context) -> list[Reply]:
    router = ctx.services.router
    lines = [ctx.t("help.intro")]
    if router is not None:
        for command in router.commands:
            if not command.listed or (command.admin_only and not ctx.is_admin):
                continue
            lines.append(ctx.t("help.line", command=command.name, text=ctx.t(command.help_key)))
    lines.append(ctx.t("help.outro"))
    return [Reply(text="\n".join(lines), choices=menu_choices(ctx))]


async def menu(msg: Incoming, ctx: Context) -> list[Reply]:
    target = (msg.action or "").partition(":")[2]
    if target == "help":
        return await help_(msg, ctx)
    if target == "taal":
        return await language.ask(msg, ctx)
    if target == "vraag":
        return await ask.intro(msg, ctx)
    if target == "spinnenweb":
        return await checkin.begin(msg, ctx)
    if target == "start":
        return await start(msg, ctx)
    return [
        Reply(
            text=ctx.t("errors.stale_button"),
            choices=menu_choices(ctx),
            press_outcome=PressOutcome.STALE,
        )
    ]
