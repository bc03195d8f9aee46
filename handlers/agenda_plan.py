"""/agenda plan: a verbinder plans a year of a series (the leerateliers) in the chat.

A declared flow (:mod:`bot.core.flow`) over :class:`PlanData`, stamped buttons
``ap:<run>:<turn>:<code>`` (an old, second or forged press changes nothing). The
steps: kind (a button per kind that has rules in ``content/agenda_series.yaml``) →
year (this year and the next, or the next two when this year has no date left or
it is December; or typed: :mod:`handlers.years`) → review (the proposal of
:func:`bot.agenda.plan.plan` as a numbered list with the dates in words) → item (what
to change about number N) → date / theme / title (typed), back to the review. Opslaan
stores the new dates with ``ctx.db.agenda.save`` (checked again first); Stoppen ends
with nothing stored. Dates already in the agenda are shown, never saved over. Only
verbinders, only in a private chat; every step checks again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, Self

from bot.agenda.files import LIMITS
from bot.agenda.model import KINDS, EventData, instant
from bot.agenda.plan import (
    HOLIDAY,
    PAST,
    TAKEN,
    Planned,
    conflict,
    moved_to,
    nth_weekday,
    plan,
    with_hosts,
)
from bot.agenda.rotation import HOSTS_PER_MEETING
from bot.agenda.series import NoRules, SeriesRules, SeriesRulesError, current_rules
from bot.agenda.typed import NO_TIME, read_span
from bot.agenda.words import when
from bot.broadcast.audience import closest
from bot.broadcast.when import WEEKDAY
from bot.broadcast.when import When as Moment
from bot.core.context import Context
from bot.core.dates import month_name, weekday_name
from bot.core.flow import Action, Answer, Ask, Buttons, Flow, Go, Handler, Step
from bot.core.messages import Incoming, PrivateChatInvite, Reply
from bot.people.directory import directory
from handlers import broadcast_audience as audience
from handlers.agenda_hosts import ask_hosts, names, org_name
from handlers.broadcast_preview import when_problem
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word
from handlers.years import YEARS_AHEAD, chosen_year, first_offered, not_a_year, this_year

NAME = "agenda_plan"
MAX_ITEMS = 12  # one date a month at most (the rules refuse a month twice)
_YEAR = re.compile(r"\b(\d{4})\b")

STOP = Action("stop", "x", label="agenda_plan.stop", words=("cancel",))
BACK = Action("back", "b", label="agenda_plan.back", words=("back",))
SAVE = Action("save", "s", label="agenda_plan.save", words=("done",))
KIND = tuple(Action(f"kind_{n}", f"k{n}") for n in range(len(KINDS)))
THIS_YEAR = Action("this_year", "y0")
NEXT_YEAR = Action("next_year", "y1")
EDIT = tuple(Action(f"edit_{n}", f"e{n}") for n in range(MAX_ITEMS))
DATE = Action("date", "d", label="agenda_plan.item_date")
THEME = Action("theme", "t", label="agenda_plan.item_theme")
TITLE = Action("title", "n", label="agenda_plan.item_title")
REMOVE = Action("remove", "r", label="agenda_plan.item_remove")
SWAP = tuple(Action(f"swap_{n}", f"w{n}") for n in range(HOSTS_PER_MEETING))


# -- the state ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One date of the proposal, as the review shows it."""

    data: EventData
    rule_day: date
    moved: str = ""  # "holiday" or "taken": why it is not on the rule's day
    stored: bool = False  # in the agenda already: shown, not saved over
    swapped: tuple[str, ...] = ()  # hosts the verbinder swapped out: not asked after a decline

    def to_data(self) -> dict[str, Any]:
        event = {f.name: getattr(self.data, f.name) for f in fields(EventData)}
        for name in ("start", "end", "rsvp_deadline"):
            event[name] = event[name].isoformat() if event[name] is not None else None
        event["hosts"] = list(self.data.hosts)
        return {
            "event": event,
            "rule_day": self.rule_day.isoformat(),
            "moved": self.moved,
            "stored": self.stored,
            "swapped": list(self.swapped),
        }

    @classmethod
    def from_data(cls, raw: Mapping[str, Any]) -> Item:
        event = dict(raw["event"])
        for name in ("start", "end", "rsvp_deadline"):
            event[name] = datetime.fromisoformat(event[name]) if event[name] else None
        event["hosts"] = tuple(str(h) for h in event["hosts"])
        return cls(
            EventData(**event),
            date.fromisoformat(str(raw["rule_day"])),
            str(raw["moved"]),
            bool(raw["stored"]),
            tuple(str(s) for s in raw.get("swapped", ())),
        )


@dataclass(frozen=True, slots=True)
class PlanData:
    """A year being planned."""

    kinds: tuple[str, ...] = ()  # what the kind step offers, in order
    kind: str = ""
    year: int = 0
    items: tuple[Item, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (the rule's day, why) of dates left out
    chosen: int = 0  # the number (1, 2 ...) being changed
    theme_title: str = ""  # the rules' title_with_theme: "Leeratelier: {theme}"
    example: str = ""  # the date step's example day (ISO): one this plan would accept
    rotation: bool = False  # hosts in turn (the gangmakers): each item's hosts shown, swappable
    swap: int = 0  # the host (0, 1) of the chosen item being swapped

    def to_data(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "kind": self.kind,
            "year": self.year,
            "items": [item.to_data() for item in self.items],
            "skipped": [list(s) for s in self.skipped],
            "chosen": self.chosen,
            "theme_title": self.theme_title,
            "example": self.example,
            "rotation": self.rotation,
            "swap": self.swap,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            kinds=tuple(str(k) for k in data["kinds"]),
            kind=str(data["kind"]),
            year=int(data["year"]),
            items=tuple(Item.from_data(i) for i in data["items"]),
            skipped=tuple((str(d), str(w)) for d, w in data["skipped"]),
            chosen=int(data["chosen"]),
            theme_title=str(data["theme_title"]),
            example=str(data.get("example", "")),
            rotation=bool(data.get("rotation", False)),
            swap=int(data.get("swap", 0)),
        )

    @property
    def item(self) -> Item:
        return self.items[self.chosen - 1]

    def titled(self, theme: str) -> str:
        """The title of the item being changed with ``theme``, as the rules make it."""
        return self.theme_title.format(n=self.chosen, year=self.year, theme=theme.strip())

    def with_item(self, changed: Item) -> PlanData:
        items = list(self.items)
        items[self.chosen - 1] = changed
        return replace(self, items=tuple(items))


# -- the rules ------------------------------------------------------------------------


def rules(ctx: Context) -> SeriesRules:
    """The series rules (read again when the file changed)."""
    return current_rules(ctx.settings.content_dir)


# -- entry point ----------------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/agenda plan: verbinders only, in a private chat; a new plan each time."""
    if not ctx.is_admin:
        return await refuse(ctx, "command=agenda_plan")
    if not msg.is_private:
        invite = PrivateChatInvite("agenda", ctx.t("agenda_plan.private_button"))
        return [Reply(text=ctx.t("agenda_plan.private_only"), private_invite=invite)]
    try:
        kinds = rules(ctx).kinds
    except SeriesRulesError:
        return [Reply(text=ctx.t("agenda_plan.rules_broken"))]
    if not kinds:
        return [Reply(text=ctx.t("agenda_plan.no_rules"))]
    if ctx.state is not None and ctx.state.flow == NAME:
        await ctx.clear_state()
    data = PlanData(kinds=kinds)
    words = msg.args.split()[1:]  # "/agenda plan leerateliers 2027": straight on
    if not words:
        return await FLOW.start(ctx, "kind", data)
    try:
        data = replace(data, kind=rules(ctx).find(words[0]).kind)
    except NoRules:
        names = ", ".join(ctx.t(f"agenda_plan.kinds.{k}") for k in kinds)
        say = Reply(text=ctx.t("agenda_plan.unknown_kind", word=words[0], kinds=names))
        return await FLOW.start(ctx, "kind", data, say=(say,))
    if len(words) == 1:
        return await FLOW.start(ctx, "year", data)
    go = await on_year(ctx, data, Answer(None, words[1]))
    return await FLOW.start(ctx, go.to or "year", go.data or data, say=go.say)


def _stopped(ctx: Context, data: PlanData) -> Go[PlanData]:
    return Go(None, say=(Reply(text=ctx.t("agenda_plan.stopped")),))


def _unclear(step: str, ctx: Context, key: str, **params: object) -> Go[PlanData]:
    return Go(step, say=(Reply(text=ctx.t(key, **params)),))


# -- kind and year ----------------------------------------------------------------------


def _ask_kind(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    kinds = tuple(b(KIND[n], key=f"agenda_plan.kinds.{k}") for n, k in enumerate(data.kinds))
    return Reply(text=ctx.t("agenda_plan.kind"), choices=(*kinds, b(STOP)))


async def on_kind(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
    chosen = next((n for n, a in enumerate(KIND) if a.name == answer.action), None)
    if chosen is None or chosen >= len(data.kinds):
        return _unclear("kind", ctx, "agenda_plan.kind_unclear")
    return Go("year", replace(data, kind=data.kinds[chosen]))


def _first_offered(ctx: Context, data: PlanData) -> int:
    """This year while one of the series' dates in it is still ahead (and it is not
    December), else next year (:mod:`handlers.years`)."""
    year = this_year(ctx)
    try:
        rule = rules(ctx).rules[data.kind]
    except (SeriesRulesError, KeyError):
        return first_offered(ctx)
    now, zone = ctx.clock.now(), ctx.settings.timezone
    ahead = any(
        instant(datetime.combine(nth_weekday(year, s.month, s.weekday, s.week), rule.start), zone)
        > now
        for s in rule.slots
    )
    return first_offered(ctx, this_year_open=ahead)


def _ask_year(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    year = _first_offered(ctx, data)
    return Reply(
        text=ctx.t("agenda_plan.year", example=this_year(ctx) + 1),
        choices=(
            b(THIS_YEAR, key="agenda_plan.year_button", year=year),
            b(NEXT_YEAR, key="agenda_plan.year_button", year=year + 1),
            b(BACK),
            b(STOP),
        ),
    )


async def on_year(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
    year = chosen_year(ctx, answer, THIS_YEAR, NEXT_YEAR, _first_offered(ctx, data))
    if year is None:
        this = this_year(ctx)
        key = "agenda_plan.year_not_a_year" if not_a_year(answer) else "agenda_plan.year_unclear"
        last, example = this + YEARS_AHEAD, this + 1
        return _unclear("year", ctx, key, first=this, last=last, example=example)
    try:
        rule = rules(ctx).rules[data.kind]
    except (SeriesRulesError, KeyError):
        return Go(None, say=(Reply(text=ctx.t("agenda_plan.rules_broken")),))
    now = ctx.clock.now()
    existing = await ctx.db.agenda.all()
    proposal = plan(rule, year, zone=ctx.settings.timezone, now=now, existing=existing)
    if rule.rotation is not None:  # two hosts a date in turn; the year is the seed
        organisations = tuple(e.id for e in directory().organisations)
        volunteers = rule.rotation.volunteers_from(organisations)
        proposal = with_hosts(proposal, volunteers, existing, year)
    items = tuple(_item(p) for p in proposal.items)
    skipped = tuple((s.rule_day.isoformat(), s.why) for s in proposal.skipped)
    planned = replace(data, year=year, items=items, skipped=skipped, chosen=0)
    rotation = rule.rotation is not None
    return Go("review", replace(planned, theme_title=rule.title_with_theme, rotation=rotation))


def _item(planned: Planned) -> Item:
    return Item(planned.data, planned.rule_day, planned.moved or "", planned.stored)


# -- the review -----------------------------------------------------------------------


def _day(ctx: Context, day: date) -> str:
    """``donderdag 25 maart 2027``: the date part of :func:`when`."""
    return f"{weekday_name(ctx.texts, ctx.lang, day.weekday())} {_date_words(ctx, day)}"


def _date_words(ctx: Context, day: date) -> str:
    return f"{day.day} {month_name(ctx.texts, ctx.lang, day)} {day.year}"


def _hosts_line(ctx: Context, item: Item) -> str:
    hosts = item.data.hosts
    if not hosts:
        return ctx.t("agenda_hosts.no_hosts")
    line = ctx.t("agenda_hosts.line_hosts", hosts=names(hosts, ctx.t("agenda_hosts.and")))
    if len(hosts) < HOSTS_PER_MEETING:  # nobody else can in its month
        line += "\n" + ctx.t("agenda_hosts.line_alone")
    return line


def _line(ctx: Context, n: int, item: Item, rotation: bool = False) -> str:
    data = item.data
    moment = when(ctx.texts, data, ctx.lang)
    hosts = [_hosts_line(ctx, item)] if rotation else []
    if item.stored:
        return "\n".join(
            [ctx.t("agenda_plan.line_stored", n=n, title=data.title, when=moment), *hosts]
        )
    place = data.address or data.online_url or ctx.t("agenda_plan.no_place")
    lines = [ctx.t("agenda_plan.line", n=n, title=data.title, when=moment, place=place), *hosts]
    if item.moved in (HOLIDAY, TAKEN):
        lines.append(ctx.t(f"agenda_plan.moved_{item.moved}", day=_day(ctx, item.rule_day)))
    return "\n".join(lines)


def _ask_review(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    kind = ctx.t(f"agenda_plan.kinds.{data.kind}")
    parts = [ctx.t("agenda_plan.review", kind=kind, year=data.year)]
    parts += [_line(ctx, n, item, data.rotation) for n, item in enumerate(data.items, start=1)]
    parts += [
        ctx.t(f"agenda_plan.skipped_{why}", day=_day(ctx, date.fromisoformat(day)))
        for day, why in data.skipped
    ]
    new = [n for n, item in enumerate(data.items) if not item.stored]
    parts.append(ctx.t("agenda_plan.review_help" if new else "agenda_plan.nothing"))
    edits = tuple(b(EDIT[n], key="agenda_plan.edit_button", n=n + 1) for n in new)
    save = (b(SAVE),) if new else ()
    return Reply(text="\n\n".join(parts), choices=(*edits, *save, b(BACK), b(STOP)))


async def on_review(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
    if answer.action == SAVE.name:
        return await _save(ctx, data)
    chosen = next((n for n, a in enumerate(EDIT) if a.name == answer.action), None)
    if chosen is None or chosen >= len(data.items) or data.items[chosen].stored:
        return _unclear("review", ctx, "agenda_plan.review_unclear")
    return Go("item", replace(data, chosen=chosen + 1))


async def _save(ctx: Context, data: PlanData) -> Go[PlanData]:
    """Check every new date again (time went on; the agenda may have changed), then
    store them all, or none."""
    now = ctx.clock.now()
    stored = await ctx.db.agenda.all()
    # saved in the meantime (events plan --save, another verbinder): not saved over
    there = {event.uid for event in stored}
    new = [item for item in data.items if not item.stored and item.data.uid not in there]
    others = [*stored, *(item.data for item in data.items)]
    for n, item in enumerate(data.items, start=1):
        why = None if item not in new else conflict(item.data, others, now)
        if why is not None:
            day = _day(ctx, item.data.start.date())
            text = ctx.t(
                "agenda_plan.save_refused", n=n, day=day, why=ctx.t(f"agenda_plan.why_{why}")
            )
            return Go("review", say=(Reply(text=text),))
    added = asked = 0
    for item in new:
        event, saved = await ctx.db.agenda.save(item.data, now)
        added += saved == "added"
        if data.rotation and saved == "added":  # the hosts are asked, in this transaction
            asked += await ask_hosts(ctx, event, event.hosts, swapped=item.swapped)
    kind = ctx.t(f"agenda_plan.kinds.{data.kind}")
    key = "agenda_plan.saved" if added else "agenda_plan.saved_none"
    text = ctx.t(key, count=added, kind=kind, year=data.year)
    if asked:
        text += "\n" + ctx.t("agenda_hosts.saved_asked")
    return Go(None, say=(Reply(text=text),))


# -- one item -------------------------------------------------------------------------


def _ask_item(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    item = data.item
    text = ctx.t(
        "agenda_plan.item",
        n=data.chosen,
        title=item.data.title,
        when=when(ctx.texts, item.data, ctx.lang),
    )
    hosts = item.data.hosts[: len(SWAP)] if data.rotation else ()
    swaps = tuple(
        b(SWAP[n], key="agenda_hosts.swap_button", name=org_name(h)) for n, h in enumerate(hosts)
    )
    return Reply(
        text=text, choices=(b(DATE), b(THEME), b(TITLE), *swaps, b(REMOVE), b(BACK), b(STOP))
    )


async def on_item(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
    if answer.action == DATE.name:
        return Go("date", replace(data, example=(await _example_day(ctx, data)).isoformat()))
    step = {THEME.name: "theme", TITLE.name: "title"}.get(answer.action or "")
    if step is not None:
        return Go(step)
    swap = next((n for n, a in enumerate(SWAP) if a.name == answer.action), None)
    if swap is not None and data.rotation and swap < len(data.item.data.hosts):
        return Go("host", replace(data, swap=swap))
    if answer.action == REMOVE.name:
        items = data.items[: data.chosen - 1] + data.items[data.chosen :]
        say = Reply(text=ctx.t("agenda_plan.removed", n=data.chosen))
        return Go("review", replace(data, items=items, chosen=0), say=(say,))
    return _unclear("item", ctx, "agenda_plan.item_unclear")


async def _example_day(ctx: Context, data: PlanData) -> date:
    """A day to show as the date step's example that this plan would take as it is:
    in the plan's year, after today, the item's weekday (a week or more from its own
    day), and free (no other date of the kind that day). Computed from the clock and
    the plan, so an example never goes stale; the item's own day when none is free."""
    old, now = data.item.data, ctx.clock.now()
    today = now.astimezone(ctx.settings.zone).date()
    others = [*(await ctx.db.agenda.all()), *(i.data for i in data.items)]
    for weeks in (w * sign for w in range(1, 53) for sign in (1, -1)):
        day = old.start.date() + weeks * timedelta(days=7)
        if day.year != data.year or day <= today:
            continue
        if conflict(moved_to(old, day), others, now) is None:
            return day
    return old.start.date()


def _examples(ctx: Context, data: PlanData) -> dict[str, str]:
    """The date step's two examples: ``donderdag 1 april`` and ``1-4 19:30``."""
    day = date.fromisoformat(data.example) if data.example else data.item.data.start.date()
    name = weekday_name(ctx.texts, ctx.lang, day.weekday())
    return {
        "example": f"{name} {day.day} {month_name(ctx.texts, ctx.lang, day)}",
        "short": f"{day.day}-{day.month} 19:30",
    }


def _ask_date(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    start = data.item.data.start
    sep = ":" if ctx.lang == "en" else "."
    text = ctx.t(
        "agenda_plan.date", start=f"{start.hour:02d}{sep}{start.minute:02d}", **_examples(ctx, data)
    )
    return Reply(text=text, choices=(b(BACK), b(STOP)))


async def on_date(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
    """A new date (and maybe a time, or a time range) as the verbinder types it. No
    time: the item's start time; no end: as long as it was. No year: the plan's."""
    text = (answer.text or "").strip()
    old, now, zone = data.item.data, ctx.clock.now(), ctx.settings.timezone
    # "15 juni" is read as in the plan's year: from its first day on, when that is later
    year_begins = instant(datetime(data.year, 1, 1), zone)
    reference = max(now, year_begins)
    span = read_span(text, reference, zone)
    if span.problem == NO_TIME:
        span = read_span(f"{text} {old.start:%H:%M}", reference, zone)
    if span.problem == WEEKDAY and span.day is not None and span.weekday is not None:
        # the same words as /agenda beheer and the composer
        moment = Moment(None, WEEKDAY, span.day, span.weekday)
        said = when_problem(ctx, moment, "agenda_plan.date_unreadable")
        return Go("date", say=(Reply(text=said),))
    if span.start is None:
        return _unclear("date", ctx, "agenda_plan.date_unreadable", **_examples(ctx, data))
    start, end = span.start, span.end
    if start.year != data.year and _YEAR.search(text) is None:
        try:
            start, end = _in_year(start, data.year), end and _in_year(end, data.year)
        except ValueError:  # 29 February
            return _unclear("date", ctx, "agenda_plan.date_unreadable", **_examples(ctx, data))
    if start.year != data.year:
        return _unclear("date", ctx, "agenda_plan.date_other_year", year=data.year)
    if end is None or end <= start:
        end = start + (old.end - old.start)
    changed = replace(old, start=start, end=end)
    others = [*(await ctx.db.agenda.all()), *(i.data for i in data.items)]
    why = conflict(changed, others, now)
    if why == PAST:
        return _unclear("date", ctx, "agenda_plan.date_past")
    if why == TAKEN:
        return _unclear("date", ctx, "agenda_plan.date_taken", day=_day(ctx, start.date()))
    item = replace(data.item, data=changed, moved="")
    return _changed(ctx, data.with_item(item))


def _in_year(moment: datetime, year: int) -> datetime:
    return moment.replace(year=year)


def _changed(ctx: Context, data: PlanData) -> Go[PlanData]:
    say = Reply(text=ctx.t("agenda_plan.changed", n=data.chosen))
    return Go("review", replace(data, chosen=0), say=(say,))


def _ask_host(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    name = org_name(data.item.data.hosts[data.swap])
    return Reply(text=ctx.t("agenda_hosts.swap_ask", name=name), choices=(b(BACK), b(STOP)))


async def on_host(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
    """An organisation typed (its name or id, any case; "did you mean" when close)
    takes the place of the host being swapped: not one hosting this date already, not
    one that cannot host in its month (the rules' ``not_in``)."""
    typed = " ".join((answer.text or "").split())
    found = directory().organisations
    known = {audience.loose(e.name): e for e in found} | {audience.loose(e.id): e for e in found}
    entry = known.get(audience.loose(typed)) if typed else None
    if entry is None:
        loose = audience.loose(typed)
        meant = [e.name for e in found if loose and loose in audience.loose(e.name)]
        close = closest(typed, [e.name for e in found]) if typed else None
        meant = meant or ([close] if close else [])
        if meant:
            listed = " / ".join(f'"{m}"' for m in meant[:3])
            return _unclear("host", ctx, "agenda_hosts.swap_meant", typed=typed, meant=listed)
        return _unclear("host", ctx, "agenda_hosts.swap_unknown", typed=typed)
    item = data.item
    hosts = list(item.data.hosts)
    if entry.id in hosts:
        return _unclear("host", ctx, "agenda_hosts.swap_already", name=entry.name, n=data.chosen)
    month = item.data.start.month
    try:
        rotation = rules(ctx).rules[data.kind].rotation
    except (SeriesRulesError, KeyError):
        rotation = None
    if rotation is not None and month in dict(rotation.not_in).get(entry.id, frozenset()):
        name = month_name(ctx.texts, ctx.lang, item.data.start.date())
        return _unclear("host", ctx, "agenda_hosts.swap_month", name=entry.name, month=name)
    old, hosts[data.swap] = hosts[data.swap], entry.id
    swapped = tuple(o for o in (*item.swapped, old) if o not in hosts)
    changed = replace(item, data=replace(item.data, hosts=tuple(hosts)), swapped=swapped)
    text = ctx.t("agenda_hosts.swapped", n=data.chosen, new=entry.name, old=org_name(old))
    also = [  # the other dates of this year it hosts already: accepted, but said
        str(n)
        for n, other in enumerate(data.items, start=1)
        if n != data.chosen and entry.id in other.data.hosts
    ]
    if also:
        others = (
            also[0]
            if len(also) == 1
            else f"{', '.join(also[:-1])} {ctx.t('agenda_hosts.and')} {also[-1]}"
        )
        text += "\n" + ctx.t("agenda_hosts.swapped_twice", new=entry.name, others=others)
    say = Reply(text=text)
    return Go("review", replace(data.with_item(changed), chosen=0, swap=0), say=(say,))


def _ask_theme(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    example = data.titled("…")
    return Reply(
        text=ctx.t("agenda_plan.theme", n=data.chosen, example=example), choices=(b(BACK), b(STOP))
    )


def _ask_title(ctx: Context, data: PlanData, b: Buttons) -> Reply:
    text = ctx.t("agenda_plan.title", n=data.chosen, limit=LIMITS["title"])
    return Reply(text=text, choices=(b(BACK), b(STOP)))


def _typed_title(step: str, make: Callable[[Context, PlanData, str], str]) -> Handler[PlanData]:
    """A step that takes typed text and makes the item's title of it."""

    async def on(ctx: Context, data: PlanData, answer: Answer) -> Go[PlanData]:
        text = " ".join((answer.text or "").split())
        if not text:
            return _unclear(step, ctx, "agenda_plan.text_empty")
        title, limit = make(ctx, data, text), LIMITS["title"]
        if len(title) > limit:
            return _unclear(step, ctx, "agenda_plan.text_long", length=len(title), limit=limit)
        item = replace(data.item, data=replace(data.item.data, title=title))
        return _changed(ctx, data.with_item(item))

    return on


def _with_theme(ctx: Context, data: PlanData, theme: str) -> str:
    return data.titled(theme)


def _as_title(ctx: Context, data: PlanData, title: str) -> str:
    return title


def _back(step: str) -> Callable[[PlanData], tuple[str, PlanData] | None]:
    return lambda data: (step, data)


def _step(
    name: str,
    on: Handler[PlanData],
    ask: Ask[PlanData],
    actions: tuple[Action, ...],
    back: str | None,
) -> Step[PlanData]:
    return Step(
        name,
        verbinders_only(NAME, on),
        ask,
        (STOP, BACK, *actions) if back else (STOP, *actions),
        back=_back(back) if back else None,
    )


FLOW: Flow[PlanData] = Flow(
    name=NAME,
    prefix="ap",
    data=PlanData,
    steps=[
        _step("kind", on_kind, _ask_kind, KIND, None),
        _step("year", on_year, _ask_year, (THIS_YEAR, NEXT_YEAR), "kind"),
        _step("review", on_review, _ask_review, (*EDIT, SAVE), "year"),
        _step("item", on_item, _ask_item, (DATE, THEME, TITLE, *SWAP, REMOVE), "review"),
        _step("host", on_host, _ask_host, (), "item"),
        _step("date", on_date, _ask_date, (), "item"),
        _step("theme", _typed_title("theme", _with_theme), _ask_theme, (), "item"),
        _step("title", _typed_title("title", _as_title), _ask_title, (), "item"),
    ],
    stale="agenda_plan.stale",
    on_stale=stale_or_refused(NAME, "agenda_plan.stale"),
    ttl=timedelta(days=2),
    means=typed_word,
    stop=STOP,
    stopped=_stopped,
    back=BACK,
    at_first="agenda_plan.first",
)
