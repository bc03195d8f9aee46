"""/agenda: the upcoming events for this person, each a card with RSVP buttons and an
.ics file; ``/agenda mijn``: my answers.

Buttons carry only an event id (``ag:<answer>:<id>``, ``ag:ics:<id>``); the person is
who pressed. Every press is checked against the database: the event must exist, be
for this person, not be cancelled or over, and (for an answer) its RSVP deadline must
not have passed. Otherwise the reply says why and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime
from importlib import import_module

from bot.agenda import words
from bot.agenda.ical import to_ical
from bot.agenda.model import Event, Viewer, sees
from bot.agenda.words import when
from bot.core.context import Context
from bot.core.messages import Choice, Document, Incoming, PressOutcome, Reply, is_web_link
from bot.core.router import Handler
from bot.outbox.queue import Outgoing
from bot.people.directory import directory
from bot.storage.repositories.rsvp import MAYBE, NO, YES, Answered, Rsvp
from handlers.private import private_only

ACTION = words.ACTION  # ag:<code>:<event id>
ICS = "ics"
MUTE, UNMUTE = "mute", "unmute"  # reminders for one event off / on again
CODES = {"y": YES, "m": MAYBE, "n": NO}
SHOWN = 10  # events on one /agenda
MINE_WORDS = ("mijn", "mine", "my")
PLAN_WORDS = ("plan", "plannen", "planning")  # /agenda plan: handlers/agenda_plan.py
PEOPLE_WORDS = ("deelnemers", "attendees", "participants")  # handlers/agenda_people.py
MANAGE_WORDS = ("beheer", "beheren", "manage")  # verbinders: handlers/agenda_manage.py
QUIET_WORDS = ("stil", "quiet", "mute")  # /agenda stil: no invitations or reminders
REMINDER_WORDS = ("herinneringen", "reminders")  # /agenda herinneringen aan|uit
OFF_WORDS = ("uit", "off")
HELP_WORDS = ("hulp", "help", "?")  # /agenda hulp: the subcommands
REPORT_WORDS = ("verslag", "report")  # verbinders: handlers/agenda_verslag.py
VOTE_WORDS = ("stemming", "vote", "poll")  # verbinders: handlers/agenda_vote.py
# The subcommands whose module has a ``begin`` of its own, by their words.
ELSEWHERE = {
    **dict.fromkeys(PLAN_WORDS, "agenda_plan"),
    **dict.fromkeys(PEOPLE_WORDS, "agenda_people"),
    **dict.fromkeys(MANAGE_WORDS, "agenda_manage"),
    **dict.fromkeys(REPORT_WORDS, "agenda_verslag"),
    **dict.fromkeys(VOTE_WORDS, "agenda_vote"),
}


def _viewer(ctx: Context) -> Viewer:
    person = ctx.person
    return Viewer.of(person.role_set, person.gemeente, person.organisation)


def _hosts(event: Event) -> str:
    found = directory()
    return ", ".join(
        entry.name if (entry := found.organisation(h)) is not None else h for h in event.hosts
    )


def _status_line(ctx: Context, rsvp: Rsvp | None) -> str | None:
    if rsvp is None:
        return None
    if rsvp.waiting is not None:
        return ctx.t("agenda.status_waiting", position=rsvp.waiting)
    return ctx.t(f"agenda.status_{rsvp.answer}")


def card(ctx: Context, event: Event, rsvp: Rsvp | None, *, buttons: bool = True) -> Reply:
    """An event as people see it in /agenda; ``buttons=False``: without the answer and
    .ics buttons (a verbinder's preview, where a press would answer for real)."""
    lines = [event.title, ctx.t("agenda.when", when=when(ctx.texts, event, ctx.lang))]
    if event.address:
        lines.append(ctx.t("agenda.where", place=event.address))
    if event.online_url:
        lines.append(ctx.t("agenda.online", url=event.online_url))
    if event.hosts:
        lines.append(ctx.t("agenda.hosts", hosts=_hosts(event)))
    status = _status_line(ctx, rsvp)
    if status:
        lines.append(status)
    choices = [
        ctx.choice("agenda.yes", f"{ACTION}:y:{event.id}"),
        ctx.choice("agenda.maybe", f"{ACTION}:m:{event.id}"),
        ctx.choice("agenda.no", f"{ACTION}:n:{event.id}"),
        ctx.choice("agenda.ics", f"{ACTION}:{ICS}:{event.id}"),
    ]
    if not buttons:
        choices = []
    if event.online_url and is_web_link(event.online_url):
        choices.append(Choice.link(ctx.t("agenda.open_link"), event.online_url))
    return Reply(text="\n".join(lines), choices=tuple(choices))


async def agenda(msg: Incoming, ctx: Context) -> list[Reply]:
    """/agenda, and its subcommands by their first word (the modules of the others are
    imported where they are used: they import this one)."""
    word, _, rest = msg.args.strip().partition(" ")
    word = word.casefold()
    if word in MINE_WORDS:
        # my answers are mine: not in a group
        return await mine(ctx) if msg.is_private else [private_only(ctx, "agenda")]
    elsewhere = ELSEWHERE.get(word)
    if elsewhere is not None:  # beheer, plan, deelnemers, verslag, stemming
        handler: Handler = import_module(f"handlers.{elsewhere}").begin
        return await handler(msg, ctx)
    if word in QUIET_WORDS or word in REMINDER_WORDS:
        # /agenda stil, /agenda herinneringen uit: off; /agenda stil uit, ... aan: on
        off = rest.strip().casefold() in OFF_WORDS
        return await mute_all(ctx, off != (word in QUIET_WORDS))
    if word in HELP_WORDS:
        return [Reply(text=ctx.t("agenda.subcommands"))]
    if word:  # not a subcommand: say which there are, rather than guess
        unknown = ctx.t("agenda.unknown_subcommand", word=word[:40])
        return [Reply(text=f"{unknown}\n{ctx.t('agenda.subcommands')}")]
    events = await ctx.db.agenda.upcoming(ctx.clock.now(), _viewer(ctx), limit=SHOWN)
    if not events:
        return [Reply(text=ctx.t("agenda.none"))]
    answers = await ctx.db.agenda.rsvps.of(ctx.person.id)
    return [
        Reply(text=ctx.t("agenda.intro", count=len(events))),
        *(card(ctx, event, answers.get(event.id)) for event in events),
    ]


async def mine(ctx: Context) -> list[Reply]:
    """My answers (yes, maybe, the waitlist, no) for events still to come."""
    answers = await ctx.db.agenda.rsvps.of(ctx.person.id)
    events = await ctx.db.agenda.upcoming(ctx.clock.now())
    lines = [
        ctx.t("agenda.mine_line", title=e.title, when=when(ctx.texts, e, ctx.lang), status=status)
        for e in events
        if (status := _status_line(ctx, answers.get(e.id)))
    ]
    if not lines:
        return [Reply(text=ctx.t("agenda.mine_none"))]
    return [Reply(text="\n".join([ctx.t("agenda.mine_intro"), *lines]))]


async def mute_all(ctx: Context, muted: bool) -> list[Reply]:
    """Every agenda invitation and reminder off, or on again (changes and cancellations
    of what the person goes to still come)."""
    user = await ctx.db.users.get(ctx.person.id)
    if user is not None:
        user.agenda_muted = muted
    return [Reply(text=ctx.t("agenda_remind.muted_all" if muted else "agenda_remind.unmuted_all"))]


async def _mute(ctx: Context, event: Event, muted: bool) -> list[Reply]:
    """Reminders for one event off, with a button to turn them on again (and back)."""
    if not await ctx.db.agenda.rsvps.mute(event.id, ctx.person.id, muted):
        return _refused(ctx, "agenda.unknown")
    key, undo, code = (
        ("agenda_remind.muted_event", "agenda_remind.unmute", UNMUTE)
        if muted
        else ("agenda_remind.unmuted_event", "agenda_remind.mute", MUTE)
    )
    return [
        Reply(
            text=ctx.t(key, title=event.title),
            choices=(ctx.choice(undo, f"{ACTION}:{code}:{event.id}"),),
        )
    ]


def _refused(ctx: Context, key: str, **params: object) -> list[Reply]:
    return [Reply(text=ctx.t(key, **params), press_outcome=PressOutcome.STALE)]


async def _event_for(ctx: Context, raw_id: str) -> Event | None:
    """The event a button names, when it exists and is for this person."""
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return None
    event = await ctx.db.agenda.by_id(int(raw_id))
    if event is None or not sees(event.audience, _viewer(ctx)):
        return None
    return event


async def pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """``ag:y|m|n:<id>``: an answer; ``ag:ics:<id>``: the event as an .ics file."""
    parts = (msg.action or "").split(":")
    if len(parts) != 3 or (parts[1] not in CODES and parts[1] not in (ICS, MUTE, UNMUTE)):
        return _refused(ctx, "agenda.unknown")
    event = await _event_for(ctx, parts[2])
    if event is None:
        return _refused(ctx, "agenda.unknown")
    if event.cancelled:
        return _refused(ctx, "agenda.cancelled", title=event.title)
    now = ctx.clock.now()
    if event.ends_at <= now:
        return _refused(ctx, "agenda.over", title=event.title)
    if parts[1] == ICS:
        return await _ics(ctx, event)
    if parts[1] in (MUTE, UNMUTE):
        return await _mute(ctx, event, parts[1] == MUTE)
    if event.rsvp_deadline is not None and now > event.rsvp_deadline:
        return _refused(ctx, "agenda.deadline_passed", title=event.title)
    answered = await ctx.db.agenda.rsvps.answer(event.id, ctx.person.id, CODES[parts[1]], now)
    await _tell_promoted(ctx, event, answered, now)
    return [Reply(text=_answer_text(ctx, event, answered))]


def _answer_text(ctx: Context, event: Event, answered: Answered) -> str:
    if answered.waiting is not None:
        return ctx.t("agenda.waitlisted", title=event.title, position=answered.waiting)
    return ctx.t(f"agenda.answered_{answered.answer}", title=event.title)


async def _tell_promoted(ctx: Context, event: Event, answered: Answered, now: datetime) -> None:
    """A message to each person who got a seat from the waitlist, in this transaction."""
    items = []
    for user_id in answered.promoted:
        person = await ctx.db.users.get(user_id)
        chat = person.private_chat_id if person is not None else None
        if person is None or not chat or not person.active or not person.messages_enabled:
            continue  # gone, no private chat, blocked the bot, or said /stop
        lang = person.language or ctx.settings.default_language
        moment = when(ctx.texts, event, lang)
        text = ctx.texts.get(lang, "agenda.promoted", title=event.title, when=moment)
        items.append(
            Outgoing(
                key=f"agenda-promoted:{event.id}:{user_id}:{now.isoformat()}",
                platform=person.platform,
                chat_id=chat,
                reply=Reply(text=text),
                user_id=user_id,
            )
        )
    await ctx.outbox.enqueue(items)


async def give_up_seats(ctx: Context, user_id: int) -> None:
    """Before /vergeetmij deletes the person: their seats at events still to come go to
    the first on each waitlist, who are told (the answers go with the person)."""
    now = ctx.clock.now()
    answers = await ctx.db.agenda.rsvps.of(user_id)
    for event in await ctx.db.agenda.upcoming(now):
        rsvp = answers.get(event.id)
        if rsvp is not None and rsvp.answer == YES and rsvp.waiting is None:
            answered = await ctx.db.agenda.rsvps.answer(event.id, user_id, NO, now)
            await _tell_promoted(ctx, event, answered, now)


async def _ics(ctx: Context, event: Event) -> list[Reply]:
    name = f"agenda-{event.id}-{ctx.clock.now():%Y%m%d%H%M%S}.ics"
    path = await ctx.files.export(ctx.person.id, name, to_ical([event]).decode("utf-8"))
    return [
        Reply(
            text=ctx.t("agenda.ics_sent", title=event.title),
            document=Document(path=path, filename=f"{_slug(event.title)}.ics"),
        )
    ]


def _slug(title: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in title.casefold())
    return "-".join(p for p in kept.split("-") if p)[:60] or "agenda"
