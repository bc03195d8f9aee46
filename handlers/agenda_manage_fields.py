"""/agenda beheer's event, field by field: what each field step accepts, the preview
and saving. The flow is declared in :mod:`handlers.agenda_manage`, the state
(:class:`~handlers.agenda_manage_state.Draft`) and the checks in
:mod:`handlers.agenda_manage_state`.

Dates are read by :mod:`bot.agenda.typed`; an event is checked by the same functions
as an imported file (``bot.agenda.files.event_issues`` and ``stored_issues``), said in
the person's language; the audience by the composer's reader
(``bot.broadcast.audience``), with its "did you mean" for an unknown gemeente.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import fields, replace
from datetime import date, datetime

from bot.agenda.model import PUBLIC, Event, EventData
from bot.agenda.typed import (
    NO_SUCH_DATE,
    NO_SUCH_TIME,
    NO_TIME,
    Span,
    default_end,
    read_end,
    read_span,
)
from bot.agenda.words import when
from bot.broadcast.audience import Audience, AudienceError, closest, kind_of, split_names
from bot.broadcast.when import WEEKDAY
from bot.core.context import Context
from bot.core.dates import month_name, weekday_name
from bot.core.flow import Go
from bot.core.messages import Reply, is_web_link
from bot.people.directory import Entry, directory
from bot.people.vocab import GRANTED_ROLES
from handlers import broadcast_audience as audience
from handlers.agenda import card
from handlers.agenda_manage_state import Draft, moment_words, new_uid, problems, say

TITLE_LIMIT = 200  # the column's length (bot.agenda.files.LIMITS)
MAX_SEATS = 100_000
TIME_CODES = ("end_before_start", "end_at_start")  # event_issues about the times
# Seats as people type them: "12", "12 mensen", "12 plekken", "max 12", "maximaal 12".
_SEATS = re.compile(
    r"(?:(?:max(?:imaal|imum)?|tot|hooguit|up\s+to|at\s+most)\.?\s*)?(\d+)\s*"
    r"(?:mensen|personen|plekken|plaatsen|deelnemers|stoelen|people|persons|seats|places"
    r"|participants)?\.?"
)
# Words around an audience that say nothing of who: "alleen gangmakers", "voor
# bestuurders", "only gangmakers", "alle gangmakers".
_AUDIENCE_FILLER = re.compile(
    r"^(?:(?:alleen|enkel|uitsluitend|voor|only|just|for)\s+)+|^(?:alle|all)\s+(?=\S)",
    re.IGNORECASE,
)
# How the audience help names each kind, in the person's language (the reader knows both).
KIND_KEYWORD = "agenda_manage.audience_kind"


async def next_step(ctx: Context, data: Draft, step: str) -> Go[Draft]:
    """The next field, or the preview again after a change."""
    return await to_preview(ctx, data) if data.review else Go(step, data)


# -- the fields ---------------------------------------------------------------------------


async def take_kind(ctx: Context, data: Draft, kind: str) -> Go[Draft]:
    return await next_step(ctx, replace(data, kind=kind), "title")


async def take_title(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    title = " ".join((text or "").split())
    if not title:
        return say("title", ctx, "agenda_manage.title_empty")
    if len(title) > TITLE_LIMIT:
        return say("title", ctx, "agenda_manage.title_long", limit=TITLE_LIMIT)
    return await next_step(ctx, replace(data, title=title), "when")


def _span_problem(ctx: Context, span: Span, step: str) -> Go[Draft]:
    """Why a typed date is not taken, said once: the step's question (asked again
    right after) shows the examples."""
    if span.problem == NO_TIME:
        return say(step, ctx, "agenda_manage.when_no_time")
    if span.problem == NO_SUCH_TIME and span.moment is not None:
        return say(
            step, ctx, "agenda_manage.when_no_such_time", when=moment_words(ctx, span.moment)
        )
    if span.problem == NO_SUCH_DATE and span.typed is not None:
        day, month, year = span.typed
        return say(
            step,
            ctx,
            "agenda_manage.when_no_such_date",
            day=day,
            month=month_name(ctx.texts, ctx.lang, date(year, month, 1)),
            year=year,
            days=calendar.monthrange(year, month)[1],
        )
    if span.problem == WEEKDAY and span.day is not None and span.weekday is not None:
        named = month_name(ctx.texts, ctx.lang, span.day)
        return say(
            step,
            ctx,
            "agenda_manage.when_weekday",
            date=f"{span.day.day} {named} {span.day.year}",
            weekday=weekday_name(ctx.texts, ctx.lang, span.day.weekday()),
            typed=weekday_name(ctx.texts, ctx.lang, span.weekday),
        )
    return say(step, ctx, f"agenda_manage.{step}_unreadable")


async def _times(
    ctx: Context, data: Draft, step: str, start: datetime, end: datetime | None
) -> Go[Draft]:
    """A start (and an end) read at ``step``: checked as every event is (the end
    against the start, the past, the same kind at the same time), then on."""
    changed = replace(data, start=start.isoformat(), end=end.isoformat() if end else "")
    said = await problems(ctx, changed.data(data.uid or "new"), codes=TIME_CODES if end else ())
    if said:
        return Go(step, say=tuple(said))
    if end is None:
        return Go("end", changed)
    read = Reply(
        text=ctx.t("agenda_manage.read_back", when=when(ctx.texts, changed.data(), ctx.lang))
    )
    went = await next_step(ctx, changed, "place")
    return replace(went, say=(read, *went.say))


async def take_when(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    span = read_span(text or "", ctx.clock.now(), data.zone)
    if span.start is None:
        return _span_problem(ctx, span, "when")
    return await _times(ctx, data, "when", span.start, span.end)


async def take_end(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """``text`` None: the default length of the kind."""
    start = datetime.fromisoformat(data.start)
    if text is None:
        return await _times(ctx, data, "end", start, default_end(data.kind, start))
    span = read_end(text, start, ctx.clock.now(), data.zone)
    if span.start is None:
        return _span_problem(ctx, span, "end")
    return await _times(ctx, data, "end", start, span.start)


async def take_place(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """An address, an online link, or both on one line (the link is the word that is a
    web link); ``text`` None: no place."""
    words = (text or "").split()
    links = [w for w in words if is_web_link(w)]
    if len(links) > 1:
        return say("place", ctx, "agenda_manage.place_two_links")
    if any(w.casefold().startswith(("http:", "https:", "www.")) for w in words) and not links:
        return say("place", ctx, "agenda_manage.place_bad_link")
    address = " ".join(w for w in words if w not in links).strip(" ,")
    return await next_step(
        ctx, replace(data, address=address, online_url=links[0] if links else ""), "hosts"
    )


async def take_hosts(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """Organisations by name or id, with commas or "en" between them (as the
    composer's pickers read them); ``text`` None: none. A name not known is said
    with the organisations whose name holds it (or the closest), and which of the
    others were understood."""
    found = directory().organisations
    known = {audience.loose(e.name): e for e in found} | {audience.loose(e.id): e for e in found}
    chosen: dict[str, Entry] = {}
    unknown: list[str] = []
    for piece in (text or "").split(","):
        for word in split_names(piece, lambda name: audience.loose(name) in known):
            entry = known.get(audience.loose(word))
            if entry is None:
                unknown.append(_host_unknown(ctx, word, found))
            else:
                chosen[entry.id] = entry
    if unknown:
        if chosen:
            names = ", ".join(e.name for e in chosen.values())
            unknown.append(ctx.t("agenda_manage.hosts_understood", names=names))
        return Go("hosts", say=(Reply(text="\n".join(unknown)),))
    return await next_step(ctx, replace(data, hosts=tuple(chosen)), "audience")


def _host_unknown(ctx: Context, word: str, found: tuple[Entry, ...]) -> str:
    """ "De organisatie "GGD" ken ik niet. Bedoel je "Hecht GGD Hollands Midden"?" """
    typed = audience.loose(word)
    meant = [e.name for e in found if typed and typed in audience.loose(e.name)]
    if not meant:
        close = closest(word, [e.name for e in found])
        meant = [close] if close else []
    reply = ctx.t("agenda_manage.hosts_unknown", word=word)
    if not meant:
        return reply
    names = ctx.t("compose.or").join(f'"{name}"' for name in meant)
    return "\n".join((reply, ctx.t("agenda_manage.hosts_meant", names=names)))


def _audience_words(ctx: Context, text: str) -> str:
    """Each comma's part without the words that say nothing of who ("alleen
    gangmakers" → "gangmakers"); roles named alone as roles ("gangmakers" is also a
    topic of announcements, which events do not have)."""
    roles = {audience.loose(name): value for name, value in audience.labels(ctx)["role"].items()}
    roles |= {audience.loose(r): r for r in GRANTED_ROLES}
    roles |= {audience.loose(f"{r}s"): r for r in GRANTED_ROLES}
    parts: list[str] = []
    for part in text.split(","):
        part = _AUDIENCE_FILLER.sub("", part.strip())
        names = split_names(part, lambda name: audience.loose(name) in roles)
        if ":" not in part and names and all(audience.loose(n) in roles for n in names):
            parts += [f"role:{roles[audience.loose(n)]}" for n in names]
        else:
            parts.append(part)
    return ",".join(parts)


async def take_audience(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """``text`` None: everyone; else an expression as in the composer (a role, a
    gemeente or an organisation on its own too); topics and groups are not for events."""
    if text is None:
        return await next_step(ctx, replace(data, audience=PUBLIC), "capacity")
    try:
        chosen = Audience.parse(
            _audience_words(ctx, text),
            gemeenten=audience.options("gemeenten"),
            organisations=audience.options("organisations"),
            labels=audience.labels(ctx),
        )
    except AudienceError as exc:
        if not exc.word:
            return say("audience", ctx, "agenda_manage.audience_empty")
        if exc.word == PUBLIC:
            return say("audience", ctx, "agenda_manage.audience_everyone_and")
        if exc.kind == "topic" or kind_of(exc.word.partition(":")[0]) == "topic":
            return say("audience", ctx, "agenda_manage.problem.audience_not_for_events")
        return Go("audience", say=(Reply(text=_audience_unknown(ctx, exc)),))
    if chosen.topics or chosen.groups:
        return say("audience", ctx, "agenda_manage.problem.audience_not_for_events")
    return await next_step(ctx, replace(data, audience=chosen.text()), "capacity")


def _audience_unknown(ctx: Context, exc: AudienceError) -> str:
    """A word of a typed audience not understood, with what one can type for an
    event, in the person's words (rol:, gemeente:, organisatie:)."""
    if exc.kind is None:
        return ctx.t("agenda_manage.audience_unknown", word=exc.word)
    pick = audience.PICK_OF[exc.kind]
    values = audience.options(pick)
    text = ctx.t(
        "agenda_manage.audience_unknown_value",
        word=exc.value or exc.word,
        kind=ctx.t(f"compose.kinds.{pick}"),
        options=", ".join(values),
    )
    meant = closest(exc.value, values) if exc.value else None
    if meant is None:
        return text
    keyword = ctx.t(f"{KIND_KEYWORD}.{exc.kind}")
    return "\n".join((text, ctx.t("agenda_manage.did_you_mean", suggestion=f"{keyword}:{meant}")))


async def take_capacity(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """A number of seats ("12", "12 mensen", "max 12"); 0 or ``text`` None: no limit."""
    raw = " ".join((text or "0").casefold().split())
    match = _SEATS.fullmatch(raw) if raw.isascii() else None
    if match is None or int(match.group(1)) > MAX_SEATS:
        return say("capacity", ctx, "agenda_manage.capacity_bad", limit=MAX_SEATS)
    return await to_preview(ctx, replace(data, capacity=int(match.group(1))))


# -- the preview and saving ----------------------------------------------------------------


def _fields(ctx: Context, data: Draft) -> str:
    chosen = Audience.stored(data.audience)
    who = ctx.t("agenda_manage.everyone") if chosen.everyone else audience.in_words(ctx, chosen)
    seats = str(data.capacity) if data.capacity else ctx.t("agenda_manage.no_limit")
    lines = [
        ctx.t("agenda_manage.field.kind", kind=ctx.t(f"agenda_manage.kinds.{data.kind}")),
        ctx.t("agenda_manage.field.audience", audience=who),
        ctx.t("agenda_manage.field.capacity", capacity=seats),
    ]
    if not data.address and not data.online_url:
        lines.append(ctx.t("agenda_manage.field.no_place"))
    if data.uid:
        lines.append(ctx.t("agenda_manage.field.uid", uid=data.uid))
    return "\n".join(lines)


async def _stored(ctx: Context, data: Draft) -> Event | None:
    return await ctx.db.agenda.get(data.uid) if data.uid else None


async def to_preview(ctx: Context, data: Draft) -> Go[Draft]:
    """The card exactly as people will see it in /agenda, and the other fields."""
    data = replace(data, review=True, options=(), labels=(), purpose="")
    stored = await _stored(ctx, data)
    event_data = data.data()
    event = Event(**{f.name: getattr(event_data, f.name) for f in fields(EventData)})
    if stored is not None:
        event = replace(event, id=stored.id, status=stored.status, sequence=stored.sequence)
    intro = ctx.t("agenda_manage.preview_edit" if stored else "agenda_manage.preview")
    shown = (
        Reply(text=intro),
        card(ctx, event, None, buttons=False),
        Reply(text=_fields(ctx, data)),
    )
    return Go("preview", data, shown)


async def save(ctx: Context, data: Draft) -> Go[Draft]:
    """Check it as every event is checked, then store it; a problem keeps the preview."""
    stored = await _stored(ctx, data)
    event = data.data(data.uid or new_uid(data.data("new")))
    moved = stored is None or stored.start != event.start or stored.zone != event.zone
    said = await problems(ctx, event, past=moved)
    if said:
        return Go("preview", say=(*said, Reply(text=ctx.t("agenda_manage.fix_first"))))
    saved, what = await ctx.db.agenda.save(event, ctx.clock.now())
    key = {"added": "saved_new", "updated": "saved_changed"}.get(what, "saved_unchanged")
    moment = when(ctx.texts, saved, ctx.lang)
    return Go(
        None, say=(Reply(text=ctx.t(f"agenda_manage.{key}", title=saved.title, when=moment)),)
    )


def current(ctx: Context, data: Draft, step: str) -> str:
    """A field's value now, for its prompt after Wijzigen ("" before the preview)."""
    if not data.review:
        return ""
    value = {
        "kind": lambda: ctx.t(f"agenda_manage.kinds.{data.kind}"),
        "title": lambda: data.title,
        "when": lambda: when(ctx.texts, data.data(), ctx.lang),
        "place": lambda: (
            " ".join(p for p in (data.address, data.online_url) if p)
            or ctx.t("agenda_manage.field.none")
        ),
        "hosts": lambda: ", ".join(data.hosts) or ctx.t("agenda_manage.field.none"),
        "audience": lambda: data.audience,
        "capacity": lambda: (
            str(data.capacity) if data.capacity else ctx.t("agenda_manage.no_limit")
        ),
    }.get(step)
    return ctx.t("agenda_manage.current", value=value()) if value is not None else ""
