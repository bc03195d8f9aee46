"""/agendafeed: a personal calendar link (webcal) with the events for this person.

In a private chat only: the link is personal. ``/agendafeed`` makes a new link and
shows it once (only the token's SHA-256 is stored); making a new one stops the old.
``/agendafeed stop`` revokes it. The link's base is PUBLIC_BASE_URL; without it the
bot says there is no public address. The feed itself is :mod:`bot.agenda.feeds`.
"""

from __future__ import annotations

from bot.agenda.feeds import personal_path
from bot.core.context import Context
from bot.core.messages import Incoming, Reply
from bot.people.tokens import new_token, token_hash
from handlers.private import private_only

STOP_WORDS = frozenset({"stop", "intrekken", "revoke", "uit", "off"})


async def agenda_feed(msg: Incoming, ctx: Context) -> list[Reply]:
    if not msg.is_private:
        return [private_only(ctx, "agendafeed")]
    if msg.args.strip().casefold() in STOP_WORDS:
        return [await _revoke(ctx)]
    base = ctx.settings.public_base_url
    if not base:
        return [Reply(text=ctx.t("agenda_feed.no_address"))]
    token = new_token()
    replaced = await ctx.db.feeds.replace(ctx.person.id, token_hash(token), ctx.clock.now())
    https = base.rstrip("/") + personal_path(token)
    webcal = "webcal://" + https.split("://", 1)[1]
    text = ctx.t("agenda_feed.link", webcal=webcal, https=https)
    if replaced:
        text += "\n\n" + ctx.t("agenda_feed.old_stopped")
    return [Reply(text=text)]


async def _revoke(ctx: Context) -> Reply:
    if await ctx.db.feeds.revoke(ctx.person.id, ctx.clock.now()):
        return Reply(text=ctx.t("agenda_feed.revoked"))
    return Reply(text=ctx.t("agenda_feed.none"))
