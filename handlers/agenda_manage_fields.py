"""/agenda beheer's event, field by field: the state (:class:`Draft`), what each field
step asks and accepts, the preview and saving. The flow is declared in
:mod:`handlers.agenda_manage`.

Dates are read by :mod:`bot.agenda.typed`; an event is checked by the same functions
as an imported file (``bot.agenda.files.event_issues`` and ``stored_issues``), here
said in the person's language; the audience by the composer's reader
(``bot.broadcast.audience``), with its "did you mean" for an unknown gemeente.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Self

from bot.agenda.files import Issue, Vocabulary, event_issues, stored_issues
from bot.agenda.model import PUBLIC, Event, EventData
from bot.agenda.typed import NO_SUCH_TIME, NO_TIME, Span, default_end, read_end, read_span
from bot.agenda.words import when
from bot.broadcast.audience import Audience, AudienceError, closest, split_names
from bot.broadcast.when import WEEKDAY
from bot.broadcast.when import When as Moment
from bot.core.context import Context
from bot.core.dates import month_name, weekday_name
from bot.core.flow import Go
from bot.core.messages import Reply, is_web_link
from bot.paths import content_dir
from bot.people.directory import directory
from handlers import broadcast_audience as audience
from handlers.agenda import card
from handlers.broadcast_preview import when_problem

NAME = "agendabeheer"  # the stored conversation
UID_DOMAIN = "alliantiepg.nl"
TITLE_LIMIT = 200  # the column's length (bot.agenda.files.LIMITS)
MAX_SEATS = 100_000
TIME_CODES = ("end_before_start", "end_at_start")  # event_issues about the times


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(name)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Draft:
    """An event being made or changed. Times are ISO text: naive wall times in
    ``zone``, the RSVP deadline an aware instant (kept as it was, not asked)."""

    uid: str = ""  # "": a new event (its uid is made when it is saved)
    kind: str = ""
    title: str = ""
    start: str = ""
    end: str = ""
    zone: str = ""
    address: str = ""
    online_url: str = ""
    hosts: tuple[str, ...] = ()
    audience: str = PUBLIC
    capacity: int = 0  # 0: no limit
    description: str = ""  # kept as it was (a file may have one)
    rsvp_deadline: str = ""
    review: bool = False  # the preview was shown: each field step leads back to it
    purpose: str = ""  # "edit" or "cancel" while an event is picked
    options: tuple[str, ...] = ()  # the uids the pick list shows, in order
    labels: tuple[str, ...] = ()  # and their lines

    def to_data(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("hosts", "options", "labels"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, f.default)
            if f.name in ("hosts", "options", "labels"):
                value = _strings(value, f.name)
            elif not isinstance(value, type(f.default)):
                raise TypeError(f.name)
            values[f.name] = value
        return cls(**values)

    @classmethod
    def of(cls, event: Event, purpose: str = "edit") -> Draft:
        """A stored event, to change (or to cancel)."""
        deadline = event.rsvp_deadline
        return cls(
            uid=event.uid,
            kind=event.kind,
            title=event.title,
            start=event.start.isoformat(),
            end=event.end.isoformat(),
            zone=event.zone,
            address=event.address or "",
            online_url=event.online_url or "",
            hosts=event.hosts,
            audience=event.audience,
            capacity=event.capacity or 0,
            description=event.description,
            rsvp_deadline=deadline.isoformat() if deadline is not None else "",
            purpose=purpose,
        )

    def data(self, uid: str = "") -> EventData:
        start = datetime.fromisoformat(self.start)
        return EventData(
            uid=uid or self.uid,
            kind=self.kind,
            title=self.title,
            start=start,
            end=datetime.fromisoformat(self.end) if self.end else start,
            zone=self.zone,
            description=self.description,
            address=self.address or None,
            online_url=self.online_url or None,
            hosts=self.hosts,
            audience=self.audience,
            capacity=self.capacity or None,
            rsvp_deadline=datetime.fromisoformat(self.rsvp_deadline)
            if self.rsvp_deadline
            else None,
        )


def say(step: str, ctx: Context, key: str, **params: object) -> Go[Draft]:
    """Say ``key`` and ask ``step`` again (the flow stays where it is)."""
    return Go(step, say=(Reply(text=ctx.t(key, **params)),))


def new_uid(data: EventData) -> str:
    """A new event's uid: ``<kind>-<yyyymmdd>-<8 hex>@alliantiepg.nl``, stable for its
    whole life (a change of date keeps it)."""
    return f"{data.kind}-{data.start:%Y%m%d}-{secrets.token_hex(4)}@{UID_DOMAIN}"


def moment_words(ctx: Context, moment: datetime) -> str:
    """A moment as the cards write it: "donderdag 12 maart 2026, 19.30"."""
    weekday = weekday_name(ctx.texts, ctx.lang, moment.weekday())
    month = month_name(ctx.texts, ctx.lang, moment.date())
    return ctx.t(
        "agenda_manage.moment",
        weekday=weekday,
        day=moment.day,
        month=month,
        year=moment.year,
        time=clock(ctx, moment),
    )


def clock(ctx: Context, moment: datetime) -> str:
    """ "19.30" in Dutch, "19:30" in English (as the cards write it)."""
    sep = ":" if ctx.lang == "en" else "."
    return f"{moment.hour:02d}{sep}{moment.minute:02d}"


def vocabulary(ctx: Context) -> Vocabulary:
    return Vocabulary.from_content(content_dir(ctx.settings.content_dir))


async def issue_text(ctx: Context, issue: Issue, data: EventData) -> str:
    """One problem of the shared checks, in the person's language."""
    key = f"agenda_manage.problem.{issue.code}"
    params: dict[str, object] = {"value": issue.value, "limit": issue.limit}
    if issue.code == "too_long":
        params["value"] = ctx.t(f"agenda_manage.long_field.{issue.value}")
    if issue.code == "duplicate":
        other = await ctx.db.agenda.get(issue.value)
        params["title"] = other.title if other is not None else issue.value
        params["kind"] = ctx.t(f"agenda_manage.kinds.{data.kind}")
    if issue.code in ("end_before_start", "end_at_start", "past", "duplicate"):
        params["start"] = moment_words(ctx, data.start)
        params["end"] = moment_words(ctx, data.end)
    text = ctx.t(key, **params)
    if issue.suggestion:
        text = "\n".join((text, ctx.t("agenda_manage.did_you_mean", suggestion=issue.suggestion)))
    return text


async def problems(
    ctx: Context, data: EventData, *, codes: tuple[str, ...] | None = None, past: bool = True
) -> list[Reply]:
    """What the shared checks find (only ``codes`` of the event's own; ``past``:
    whether a start in the past counts), each a reply; [] when it is fine."""
    found = [i for i in event_issues(data, vocabulary(ctx)) if codes is None or i.code in codes]
    found += [
        i
        for i in await stored_issues(ctx.db.agenda, data, ctx.clock.now())
        if past or i.code != "past"
    ]
    return [Reply(text=await issue_text(ctx, issue, data)) for issue in found]


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
    if span.problem == NO_TIME:
        return say(step, ctx, "agenda_manage.when_no_time")
    if span.problem == NO_SUCH_TIME and span.moment is not None:
        return say(
            step, ctx, "agenda_manage.when_no_such_time", when=moment_words(ctx, span.moment)
        )
    if span.problem == WEEKDAY:
        moment = Moment(None, WEEKDAY, span.day, span.weekday)
        return Go(step, say=(Reply(text=when_problem(ctx, moment, "agenda_manage.unreadable")),))
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
    return await next_step(ctx, changed, "place")


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
    composer's pickers read them); ``text`` None: none."""
    found = directory().organisations
    known = {audience.loose(e.name): e.id for e in found} | {
        audience.loose(e.id): e.id for e in found
    }
    chosen: dict[str, None] = {}
    for piece in (text or "").split(","):
        for word in split_names(piece, lambda name: audience.loose(name) in known):
            value = known.get(audience.loose(word))
            if value is None:
                meant = closest(word, [e.name for e in found])
                reply = ctx.t("agenda_manage.hosts_unknown", word=word)
                if meant:
                    reply = "\n".join(
                        (reply, ctx.t("agenda_manage.did_you_mean", suggestion=meant))
                    )
                return Go("hosts", say=(Reply(text=reply),))
            chosen[value] = None
    return await next_step(ctx, replace(data, hosts=tuple(chosen)), "audience")


async def take_audience(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """``text`` None: everyone; else an expression as in the composer."""
    if text is None:
        return await next_step(ctx, replace(data, audience=PUBLIC), "capacity")
    try:
        chosen = Audience.parse(
            text,
            gemeenten=audience.options("gemeenten"),
            organisations=audience.options("organisations"),
            labels=audience.labels(ctx),
        )
    except AudienceError as exc:
        if not exc.word:
            return say("audience", ctx, "agenda_manage.audience_empty")
        if exc.word == PUBLIC:
            return say("audience", ctx, "compose.audience_everyone_and")
        return Go("audience", say=(Reply(text=audience.not_known(ctx, exc)),))
    if chosen.topics or chosen.groups:
        return say("audience", ctx, "agenda_manage.problem.audience_not_for_events")
    return await next_step(ctx, replace(data, audience=chosen.text()), "capacity")


async def take_capacity(ctx: Context, data: Draft, text: str | None) -> Go[Draft]:
    """A number of seats; ``text`` None: no limit."""
    raw = (text or "").strip()
    if text is not None and not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_SEATS):
        return say("capacity", ctx, "agenda_manage.capacity_bad", limit=MAX_SEATS)
    return await to_preview(ctx, replace(data, capacity=int(raw) if raw else 0))


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
    shown = (Reply(text=intro), card(ctx, event, None), Reply(text=_fields(ctx, data)))
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
