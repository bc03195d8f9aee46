""" "Wanneer is het volgende leeratelier?" in plain text: the answer from the agenda.

The question is recognised by the knowledge layer, after the crisis check
(:mod:`bot.knowledge.agenda_question`, ``Outcome.AGENDA``); this module answers it with
the next event of that kind that this person may see (as ``/agenda`` shows them), as a
card in the question's language with the agenda's own buttons (``ag:y|m|n|ics:<id>``,
checked by ``handlers.agenda.pressed``), and a word on how many more follow. None
planned: it says so and points to the verbinders, never to a date from the content; one
planned that is not for this person (a gangmakersbijeenkomst for a resident): it says
who it is for, without its title or date. A verbinder sees every event. "Ik kom" typed
with no card to answer: which activity? (``/agenda``).
"""

from __future__ import annotations

from datetime import date

from bot.agenda.model import Event, Viewer
from bot.agenda.words import when
from bot.core.context import Context
from bot.core.dates import month_name
from bot.core.messages import Choice, Reply, is_web_link
from bot.knowledge.answer import Answer
from bot.people.directory import directory
from handlers import agenda

ANY = "any"
SHOWN_ANY = 3  # events shown for "wat staat er op de agenda"


def _key(ctx: Context, prefix: str, kind: str) -> str:
    """``agenda_ask.<prefix>_<kind>``, or the one for any event when the kind has none."""
    key = f"agenda_ask.{prefix}_{kind}"
    return key if ctx.texts.has(key) else f"agenda_ask.{prefix}_{ANY}"


def card(ctx: Context, event: Event, lang: str) -> Reply:
    """The event as ``/agenda`` shows it, in ``lang`` (the question's language)."""

    def say(key: str, **params: object) -> str:
        return ctx.texts.get(lang, key, **params)

    lines = [event.title, say("agenda.when", when=when(ctx.texts, event, lang))]
    if event.address:
        lines.append(say("agenda.where", place=event.address))
    if event.online_url:
        lines.append(say("agenda.online", url=event.online_url))
    if event.hosts:
        found = directory()
        names = (o.name if (o := found.organisation(h)) else h for h in event.hosts)
        lines.append(say("agenda.hosts", hosts=", ".join(names)))
    choices = [
        Choice(say(f"agenda.{answer}"), f"{agenda.ACTION}:{code}:{event.id}")
        for code, answer in (("y", "yes"), ("m", "maybe"), ("n", "no"))
    ]
    choices.append(Choice(say("agenda.ics"), f"{agenda.ACTION}:{agenda.ICS}:{event.id}"))
    if event.online_url and is_web_link(event.online_url):
        choices.append(Choice.link(say("agenda.open_link"), event.online_url))
    return Reply(text="\n".join(lines), choices=tuple(choices))


def _in_month(
    ctx: Context, lang: str, events: list[Event], month: int | None
) -> tuple[list[Event], list[str]]:
    """For "is er in januari een leeratelier?": the events in that month first; none
    then: all of them, after a line that says there is none in that month."""
    if month is None:
        return events, []
    then = [e for e in events if e.start.month == month]
    if then:
        return then, []
    name = month_name(ctx.texts, lang, date(2000, month, 1))
    return events, [ctx.texts.get(lang, "agenda_ask.month_none", month=name)]


async def _none_text(ctx: Context, lang: str, kind: str | None) -> str:
    """None of the kind for this person: none planned at all, or the next one is for
    others (who it is for, not its title or date)."""
    hidden = kind is not None and any(
        e.kind == kind for e in await ctx.db.agenda.upcoming(ctx.clock.now())
    )
    if hidden and kind is not None:
        return ctx.texts.get(lang, _key(ctx, "closed", kind))
    return "\n".join(
        [
            ctx.texts.get(lang, _key(ctx, "none", kind or ANY)),
            ctx.texts.get(lang, "agenda_ask.ask_verbinders"),
        ]
    )


async def answer(ctx: Context, result: Answer) -> list[Reply]:
    """The next event(s) of the kind asked about, for this person."""
    lang = result.language
    if result.agenda is not None and result.agenda.rsvp:
        return [Reply(text=ctx.texts.get(lang, "agenda_ask.which_event"))]
    kind = result.agenda.kind if result.agenda is not None else None
    person = ctx.person
    viewer = Viewer.of(person.role_set, person.gemeente, person.organisation)
    events = await ctx.db.agenda.upcoming(ctx.clock.now(), viewer)
    if kind is not None:
        events = [e for e in events if e.kind == kind]
    label = kind or ANY
    if not events:
        return [Reply(text=await _none_text(ctx, lang, kind))]
    month = result.agenda.month if result.agenda is not None else None
    first, lead = _in_month(ctx, lang, events, month)
    shown = first[: 1 if kind is not None else SHOWN_ANY]
    after = [ctx.texts.get(lang, "agenda_ask.reply_hint")]
    if (left := len(events) - len(shown)) > 0:
        more = "agenda_ask.more_one" if left == 1 else "agenda_ask.more_many"
        after.insert(0, ctx.texts.get(lang, more, count=left))
    return [
        Reply(text="\n".join([*lead, ctx.texts.get(lang, _key(ctx, "next", label))])),
        *(card(ctx, event, lang) for event in shown),
        Reply(
            text="\n".join(after),
            choices=(Choice(ctx.texts.get(lang, "agenda.menu"), "menu:agenda"),),
        ),
    ]
