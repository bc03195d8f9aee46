"""Group chats as an audience: /koppel (inside the group) links it, /ontkoppel
unlinks it, /groepen lists the linked groups. Verbinders only (the router refuses
anyone else, audited); every change is in the audit log."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.messages import Incoming, Reply, clean_name


async def koppel(msg: Incoming, ctx: Context) -> list[Reply]:
    """/koppel [naam]: link this group; the name is how /groepen shows it."""
    if msg.is_private:
        return [Reply(text=ctx.t("groepen.in_group", command="koppel"))]
    title = clean_name(msg.args)
    now = ctx.clock.now()
    group, new = await ctx.db.people.link_group(
        msg.platform, msg.chat_id, title, ctx.person.id, now
    )
    if new:
        await ctx.db.audit.record(now, "group.linked", ctx.person.id, f"group={group.id}")
    return [Reply(text=ctx.t("groepen.linked" if new else "groepen.linked_already"))]


async def ontkoppel(msg: Incoming, ctx: Context) -> list[Reply]:
    """/ontkoppel: this group is no longer an audience."""
    if msg.is_private:
        return [Reply(text=ctx.t("groepen.in_group", command="ontkoppel"))]
    group = await ctx.db.people.unlink_group(msg.platform, msg.chat_id)
    if group is None:
        return [Reply(text=ctx.t("groepen.not_linked"))]
    await ctx.db.audit.record(ctx.clock.now(), "group.unlinked", ctx.person.id, f"group={group.id}")
    return [Reply(text=ctx.t("groepen.unlinked"))]


async def list_groups(msg: Incoming, ctx: Context) -> list[Reply]:
    """/groepen: the linked groups, with the date each was linked."""
    groups = await ctx.db.people.groups()
    zone = ctx.settings.zone
    lines = [ctx.t("groepen.intro", count=len(groups))]
    lines += [
        ctx.t(
            "groepen.line",
            name=g.title or ctx.t("groepen.no_name"),
            where=f"{g.platform}:{g.chat_id}",
            since=g.linked_at.astimezone(zone).strftime("%d-%m-%Y"),
        )
        for g in groups
    ]
    return [Reply(text="\n".join(lines))]
