"""/agenda deelnemers: who is coming, for the organisers: the verbinders (every event)
and an event's hosts (people whose organisation is among the event's ``hosts``).

Names are personal data, so only in a private chat. The command lists the upcoming
events this person organises as buttons; a press shows the counts (yes, maybe, no,
waitlist) and the display names, with a button for a CSV file (a private file removed
after ``GENERATED_FILE_HOURS``, as the .ics of ``/agenda``). Buttons carry only the
event's id (``agp:show|csv:<id>``, ``agp:list``); every press checks again that the
chat is private, the event exists and this person organises it. Each press stands
alone (nothing is typed), so this is a set of buttons, not a declared flow.
"""

from __future__ import annotations

from bot.agenda.attendees import to_csv
from bot.agenda.model import Event
from bot.agenda.words import when
from bot.core.context import Context
from bot.core.messages import Document, Incoming, PressOutcome, PrivateChatInvite, Reply
from bot.storage.repositories.rsvp import MAYBE, NO, YES, Attendee
from handlers.agenda import _slug

ACTION = "agp"
SHOW, CSV, LIST = "show", "csv", "list"
SHOWN_EVENTS = 20  # buttons in the list
SHOWN_NAMES = 60  # names per group in the chat; the CSV has everyone


def organises(ctx: Context, event: Event) -> bool:
    """A verbinder organises every event; a host, the events of their organisation."""
    if ctx.is_admin:
        return True
    mine = (ctx.person.organisation or "").casefold()
    return bool(mine) and mine in {h.casefold() for h in event.hosts}


def _private(ctx: Context) -> Reply:
    return Reply(
        text=ctx.t("agenda_people.private"),
        private_invite=PrivateChatInvite("agenda", ctx.t("checkin.private_button")),
    )


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """``/agenda deelnemers``: the upcoming events this person organises, as buttons."""
    if not msg.is_private:
        return [_private(ctx)]
    return await _list(ctx)


async def _list(ctx: Context) -> list[Reply]:
    events = [e for e in await ctx.db.agenda.upcoming(ctx.clock.now()) if organises(ctx, e)]
    if not events:
        key = "agenda_people.none" if ctx.is_admin else "agenda_people.not_organiser"
        return [Reply(text=ctx.t(key))]
    choices = tuple(
        ctx.choice(
            "agenda_people.event_button",
            f"{ACTION}:{SHOW}:{e.id}",
            title=e.title[:40],
            day=f"{e.start.day}-{e.start.month}-{e.start.year}",
        )
        for e in events[:SHOWN_EVENTS]
    )
    return [Reply(text=ctx.t("agenda_people.choose"), choices=choices)]


def _refused(ctx: Context, key: str) -> list[Reply]:
    return [Reply(text=ctx.t(key), press_outcome=PressOutcome.STALE)]


async def pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """``agp:show:<id>``: counts and names; ``agp:csv:<id>``: the CSV; ``agp:list``."""
    if not msg.is_private:
        return [_private(ctx)]
    parts = (msg.action or "").split(":")
    if parts[1:] == [LIST]:
        return await _list(ctx)
    if len(parts) != 3 or parts[1] not in (SHOW, CSV):
        return _refused(ctx, "agenda_people.unknown")
    raw = parts[2]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return _refused(ctx, "agenda_people.unknown")
    event = await ctx.db.agenda.by_id(int(raw))
    if event is None:
        return _refused(ctx, "agenda_people.unknown")
    if not organises(ctx, event):
        return _refused(ctx, "agenda_people.not_yours")
    attendees = await ctx.db.agenda.rsvps.attendees(event.id)
    if parts[1] == CSV:
        return await _csv(ctx, event, attendees)
    return [_summary(ctx, event, attendees)]


def _groups(attendees: list[Attendee]) -> dict[str, list[Attendee]]:
    return {
        YES: [a for a in attendees if a.answer == YES and a.waiting is None],
        MAYBE: [a for a in attendees if a.answer == MAYBE],
        NO: [a for a in attendees if a.answer == NO],
        "waiting": [a for a in attendees if a.waiting is not None],
    }


def _name(ctx: Context, attendee: Attendee) -> str:
    return attendee.name or ctx.t("agenda_people.nameless")


def _summary(ctx: Context, event: Event, attendees: list[Attendee]) -> Reply:
    groups = _groups(attendees)
    lines = [event.title, ctx.t("agenda.when", when=when(ctx.texts, event, ctx.lang))]
    if event.cancelled:
        lines.append(ctx.t("agenda_people.cancelled"))
    counts = {key: len(people) for key, people in groups.items()}
    lines += ["", ctx.t("agenda_people.counts", **counts)]
    if not attendees:
        lines.append(ctx.t("agenda_people.nobody"))
    for key, people in groups.items():
        if not people:
            continue
        lines += ["", ctx.t(f"agenda_people.group_{key}", count=len(people))]
        for attendee in people[:SHOWN_NAMES]:
            if attendee.waiting is not None:
                line = ctx.t(
                    "agenda_people.waiting_line",
                    position=attendee.waiting,
                    name=_name(ctx, attendee),
                )
            else:
                line = ctx.t("agenda_people.line", name=_name(ctx, attendee))
            lines.append(line)
        if len(people) > SHOWN_NAMES:
            lines.append(ctx.t("agenda_people.more_names", count=len(people) - SHOWN_NAMES))
    choices = (
        ctx.choice("agenda_people.csv", f"{ACTION}:{CSV}:{event.id}"),
        ctx.choice("agenda_people.back", f"{ACTION}:{LIST}"),
    )
    return Reply(text="\n".join(lines), choices=choices)


def csv_text(ctx: Context, event: Event, attendees: list[Attendee]) -> str:
    """One row per answer: name, answer, waitlist place, answered at (the event's local
    time, ``YYYY-MM-DD HH:MM``), with the column names in the organiser's language."""
    columns = ("name", "answer", "waiting", "answered_at")
    return to_csv(
        [ctx.t(f"agenda_people.column_{c}") for c in columns],
        attendees,
        event.zone,
        lambda attendee: _name(ctx, attendee),
        lambda answer: ctx.t(f"agenda_people.answer_{answer}"),
    )


async def _csv(ctx: Context, event: Event, attendees: list[Attendee]) -> list[Reply]:
    now = ctx.clock.now()
    name = f"deelnemers-{event.id}-{now:%Y%m%d%H%M%S}.csv"
    path = await ctx.files.export(ctx.person.id, name, csv_text(ctx, event, attendees))
    # who took a list of names, never the names themselves
    await ctx.db.audit.record(now, "agenda.attendees_csv", ctx.person.id, f"event={event.id}")
    return [
        Reply(
            text=ctx.t("agenda_people.csv_sent", title=event.title),
            document=Document(path=path, filename=f"deelnemers-{_slug(event.title)}.csv"),
        )
    ]
