"""/agenda verslag <event> <url>: a verbinder sends the report of an event.

Without arguments it lists the events that have begun (newest first, numbered); the
event is then its number on that list, or its UID. An event that has not begun yet gets
no report (the reply says when it is). The link goes through the outbox
(kind ``agenda``, key ``verslag:<event>:<user>``, so sending it again reaches only
whoever did not have it) to who said yes and had a seat, and for a leeratelier also to
everyone in its audience who did not turn off the topic "leerateliers". Nobody who said
/stop, blocked the bot or turned agenda messages off gets it. Nothing new is stored.
"""

from __future__ import annotations

from bot.agenda.model import LEERATELIER, Event
from bot.agenda.words import when
from bot.core.context import Context
from bot.core.messages import Choice, Incoming, Reply, is_web_link
from handlers.agenda_vote import _send, held_line
from handlers.verbinders import refuse

NAME = "agenda_verslag"
SHOWN = 10  # events on the list


async def _recent(ctx: Context) -> list[Event]:
    """The events that have begun and were not cancelled, newest first."""
    now = ctx.clock.now()
    began = [e for e in await ctx.db.agenda.all() if e.starts_at <= now and not e.cancelled]
    return sorted(began, key=lambda e: (e.starts_at, e.uid), reverse=True)[:SHOWN]


def _listing(ctx: Context, events: list[Event]) -> list[Reply]:
    if not events:
        return [Reply(text=ctx.t("agenda_verslag.none"))]
    lines = [ctx.t("agenda_verslag.choose"), ""]
    lines += [
        ctx.t("agenda_verslag.line", number=n, title=e.title, when=when(ctx.texts, e, ctx.lang))
        for n, e in enumerate(events, start=1)
    ]
    lines += ["", ctx.t("agenda_verslag.usage")]
    return [Reply(text="\n".join(lines))]


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """``/agenda verslag [<event> <url>]``: verbinders only."""
    if not ctx.is_admin:
        return await refuse(ctx, f"command={NAME}")
    words = msg.args.split()[1:]
    events = await _recent(ctx)
    if not words:
        return _listing(ctx, events)
    ref = words[0]
    event: Event | None
    if ref.isdigit():
        number = int(ref)
        event = events[number - 1] if 1 <= number <= len(events) else None
    else:
        event = await ctx.db.agenda.get(ref)
    if event is None and not events:
        return _listing(ctx, events)  # no list to choose from: only say so
    if event is None:
        return [Reply(text=ctx.t("agenda_verslag.unknown", event=ref)), *_listing(ctx, events)]
    if event.cancelled:
        return [Reply(text=ctx.t("agenda_verslag.cancelled", title=event.title))]
    if event.starts_at > ctx.clock.now():
        return [
            Reply(
                text=ctx.t(
                    "agenda_verslag.not_yet",
                    title=event.title,
                    when=when(ctx.texts, event, ctx.lang),
                )
            )
        ]
    if len(words) < 2 or not is_web_link(words[1]):
        return [Reply(text=ctx.t("agenda_verslag.no_link", title=event.title))]
    return await _send_report(ctx, event, words[1])


async def _send_report(ctx: Context, event: Event, url: str) -> list[Reply]:
    people = await ctx.db.prompts.report_recipients(
        event.id, event.audience, event.kind == LEERATELIER
    )
    replies = {
        lang: Reply(
            text=ctx.texts.get(
                lang,
                "agenda_verslag.message",
                title=event.title,
                when=when(ctx.texts, event, lang),
                url=url,
            ),
            choices=(Choice.link(ctx.texts.get(lang, "agenda_verslag.open"), url),),
        )
        for lang in ctx.texts.languages
    }
    sent = await _send(ctx, people, f"verslag:{event.id}:", replies)
    now = ctx.clock.now()
    await ctx.db.audit.record(now, "agenda.report_sent", ctx.person.id, f"event={event.id}")
    if sent == 0 and people:
        already = "already_one" if len(people) == 1 else "already_many"
        return [
            Reply(text=ctx.t(f"agenda_verslag.{already}", title=event.title, count=len(people)))
        ]
    text = ctx.t(
        f"agenda_verslag.{'sent_one' if sent == 1 else 'sent'}", title=event.title, count=sent
    )
    return [Reply(text=text + (held_line(ctx) if sent else ""))]
