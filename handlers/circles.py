"""/kringen: a verbinder composes the year's reflectiecirkels in the chat.

A declared flow (:mod:`bot.core.flow`) over :class:`CirclesData`, stamped buttons
``kr:<run>:<turn>:<code>`` (an old, second or forged press changes nothing). The
steps: year (this year and the next, or the next two in December or when the first
meeting can no longer be this year; or typed; ``/kringen 2027`` goes straight on) →
review: the circles with the organisations' names and the pairs that sat together
before. **Opnieuw** composes again with the next seed (as good, another
composition), **Opslaan** stores the circles with one agenda event per circle
(:mod:`bot.circles.events`: a day with another event at that time moves on a week, and
the reply names the circles that moved; a year whose meetings would run into the next is
refused), **Stoppen** stores nothing. A year stored already is
shown as it is. The participants are the partners of ``content/organisations.yaml``,
the wishes ``content/circles.yaml``. Only verbinders, only in a private chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Self

from bot.agenda.model import EventData
from bot.agenda.words import when
from bot.circles.compose import CirclesError, compose
from bot.circles.events import CircleYearError, circle_events, moved, save_year
from bot.circles.rules import CircleRulesError, FirstMeeting, current_rules
from bot.core.context import Context
from bot.core.dates import month_name
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
from bot.core.messages import Incoming, PrivateChatInvite, Reply
from bot.people.directory import directory
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word
from handlers.years import YEARS_AHEAD, chosen_year, first_offered, not_a_year, this_year

NAME = "kringen"
AGAIN_TRIES = 10  # seeds Opnieuw tries for a composition that differs

STOP = Action("stop", "x", label="circles.stop", words=("cancel",))
BACK = Action("back", "b", label="circles.back", words=("back",))
THIS_YEAR = Action("this_year", "y0")
NEXT_YEAR = Action("next_year", "y1")
AGAIN = Action("again", "r", label="circles.again")
SAVE = Action("save", "s", label="circles.save", words=("done",))

Repeat = tuple[str, str, tuple[int, ...]]  # a pair that met before, and the years


@dataclass(frozen=True, slots=True)
class CirclesData:
    """The year's circles as shown: what Opslaan stores."""

    year: int = 0
    seed: int = 0
    circles: tuple[tuple[str, ...], ...] = ()
    repeated: tuple[Repeat, ...] = ()
    stored: bool = False  # the year's circles are stored already: shown, not changed

    def to_data(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "seed": self.seed,
            "circles": [list(c) for c in self.circles],
            "repeated": [[a, b, list(years)] for a, b, years in self.repeated],
            "stored": self.stored,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            year=int(data["year"]),
            seed=int(data["seed"]),
            circles=tuple(tuple(str(o) for o in c) for c in data["circles"]),
            repeated=tuple(
                (str(a), str(b), tuple(int(y) for y in years)) for a, b, years in data["repeated"]
            ),
            stored=bool(data["stored"]),
        )


# -- entry point ----------------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/kringen [jaar]: verbinders only, in a private chat; anew each time."""
    if not ctx.is_admin:
        return await refuse(ctx, "command=kringen")
    if not msg.is_private:
        invite = PrivateChatInvite("kringen", ctx.t("circles.private_button"))
        return [Reply(text=ctx.t("circles.private_only"), private_invite=invite)]
    if ctx.state is not None and ctx.state.flow == NAME:
        await ctx.clear_state()
    typed = msg.args.strip()
    if not typed:
        return await FLOW.start(ctx, "year", CirclesData())
    go = await on_year(ctx, CirclesData(), Answer(None, typed))
    return await FLOW.start(ctx, go.to or "year", go.data or CirclesData(), say=go.say)


def _stopped(ctx: Context, data: CirclesData) -> Go[CirclesData]:
    return Go(None, say=(Reply(text=ctx.t("circles.stopped")),))


def _say(step: str, ctx: Context, key: str, **params: object) -> Go[CirclesData]:
    return Go(step, say=(Reply(text=ctx.t(key, **params)),))


# -- the year ---------------------------------------------------------------------------


def _first_offered(ctx: Context) -> int:
    """This year while its first meeting can still be in it (and it is not December),
    else next year (:mod:`handlers.years`)."""
    year = this_year(ctx)
    try:
        meeting = current_rules(ctx.settings.content_dir).first_meeting
    except CircleRulesError:
        return first_offered(ctx)
    day = meeting.days(year, 1, ctx.clock.now(), ctx.settings.timezone)[0]
    return first_offered(ctx, this_year_open=day.year == year)


def _ask_year(ctx: Context, data: CirclesData, b: Buttons) -> Reply:
    year = _first_offered(ctx)
    return Reply(
        text=ctx.t("circles.year", example=this_year(ctx) + 1),
        choices=(
            b(THIS_YEAR, key="circles.year_button", year=year),
            b(NEXT_YEAR, key="circles.year_button", year=year + 1),
            b(STOP),
        ),
    )


async def on_year(ctx: Context, data: CirclesData, answer: Answer) -> Go[CirclesData]:
    year = chosen_year(ctx, answer, THIS_YEAR, NEXT_YEAR, _first_offered(ctx))
    if year is None:
        this = this_year(ctx)
        key = "circles.year_not_a_year" if not_a_year(answer) else "circles.year_unclear"
        last, example = this + YEARS_AHEAD, this + 1
        return _say("year", ctx, key, first=this, last=last, example=example)
    return await _composed(ctx, year, seed=0, step="year")


async def _composed(ctx: Context, year: int, seed: int, step: str) -> Go[CirclesData]:
    """The review of ``year``'s circles: stored ones, or a new composition for
    ``seed``; a composition that cannot be made is said at ``step``."""
    stored = await ctx.db.circles.year(year)
    if stored:
        circles = tuple(tuple(c) for c in stored)
        return Go("review", CirclesData(year, seed, circles, stored=True))
    try:
        rules = current_rules(ctx.settings.content_dir)
    except CircleRulesError:
        return _say(step, ctx, "circles.rules_broken")
    partners = [o.id for o in directory(ctx.settings.content_dir).organisations]
    history = await ctx.db.circles.history(before=year)
    try:
        made = compose(partners, year=year, history=history, apart=rules.apart, seed=seed)
    except CirclesError as exc:
        names = _names(ctx)
        pairs = ", ".join(
            ctx.t("circles.pair", a=names.get(a, a), b=names.get(b, b)) for a, b in exc.pairs
        )
        return _say(step, ctx, f"circles.cannot_{exc.code}", count=exc.count, pairs=pairs)
    try:  # the dates must fit in the year (not a year whose day has passed)
        await _events(ctx, year, made.circles, rules.first_meeting)
    except CircleYearError as exc:
        return _say(step, ctx, "circles.year_passed", year=year, last=_day(ctx, exc.last))
    repeated = tuple(
        (a, b, tuple(y for y, cs in history.items() if any(a in c and b in c for c in cs)))
        for a, b in made.repeated
    )
    return Go("review", CirclesData(year, seed, made.circles, repeated))


async def _events(
    ctx: Context, year: int, circles: tuple[tuple[str, ...], ...], meeting: FirstMeeting
) -> list[EventData]:
    """The circles' events, on days without another agenda event at that time."""
    now, zone = ctx.clock.now(), ctx.settings.timezone
    others = await ctx.db.agenda.all()
    return circle_events(year, circles, meeting, _names(ctx), now, zone, others)


def _day(ctx: Context, day: date) -> str:
    return f"{day.day} {month_name(ctx.texts, ctx.lang, day)} {day.year}"


# -- the review -----------------------------------------------------------------------


def _names(ctx: Context) -> dict[str, str]:
    return {o.id: o.name for o in directory(ctx.settings.content_dir).organisations}


def _table(ctx: Context, data: CirclesData) -> str:
    names = _names(ctx)
    return "\n".join(
        ctx.t("circles.line", n=n, names=", ".join(names.get(org, org) for org in circle))
        for n, circle in enumerate(data.circles, start=1)
    )


def _repeats(ctx: Context, data: CirclesData) -> str:
    if not data.repeated:
        return ctx.t("circles.repeated_none")
    names = _names(ctx)
    pairs = "\n".join(
        ctx.t(
            "circles.repeated_pair",
            pair=ctx.t("circles.pair", a=names.get(a, a), b=names.get(b, b)),
            years=", ".join(map(str, years)),
        )
        for a, b, years in data.repeated
    )
    return "\n".join((ctx.t("circles.repeated", count=len(data.repeated)), pairs))


def _ask_review(ctx: Context, data: CirclesData, b: Buttons) -> Reply:
    count = sum(len(c) for c in data.circles)
    if data.stored:
        text = "\n\n".join(
            (
                ctx.t("circles.stored", year=data.year, circles=len(data.circles)),
                _table(ctx, data),
                ctx.t("circles.stored_help"),
            )
        )
        return Reply(text=text, choices=(b(BACK), b(STOP)))
    head = ctx.t("circles.review", year=data.year, count=count, circles=len(data.circles))
    parts = (head, _table(ctx, data), _repeats(ctx, data), ctx.t("circles.review_help"))
    return Reply(text="\n\n".join(parts), choices=(b(AGAIN), b(SAVE), b(BACK), b(STOP)))


async def on_review(ctx: Context, data: CirclesData, answer: Answer) -> Go[CirclesData]:
    if data.stored:
        return _say("review", ctx, "circles.stored_unclear")
    if answer.action == AGAIN.name:
        return await _again(ctx, data)
    if answer.action == SAVE.name:
        return await _save(ctx, data)
    return _say("review", ctx, "circles.review_unclear")


async def _again(ctx: Context, data: CirclesData) -> Go[CirclesData]:
    """The next seed whose composition differs from the one shown (as good: the
    optimiser's seed only picks among the best it finds); after ``AGAIN_TRIES`` the
    same one, saying there is no other."""
    for seed in range(data.seed + 1, data.seed + 1 + AGAIN_TRIES):
        go = await _composed(ctx, data.year, seed, step="review")
        if go.to != "review" or go.data is None:
            return go  # the partners or the wishes changed meanwhile: say why
        if go.data.stored:  # saved meanwhile (circles compose --save, another verbinder)
            return replace(go, say=(Reply(text=ctx.t("circles.taken")),))
        if go.data.circles != data.circles:
            return replace(go, say=(Reply(text=ctx.t("circles.again_done", seed=seed)),))
    return _say("review", ctx, "circles.again_same")


async def _save(ctx: Context, data: CirclesData) -> Go[CirclesData]:
    """The circles as shown, and an event for each; not when the year was stored in
    the meantime (``circles compose --save``, another verbinder)."""
    try:
        rules = current_rules(ctx.settings.content_dir)
    except CircleRulesError:
        return _say("review", ctx, "circles.rules_broken")
    now = ctx.clock.now()
    try:
        events = await _events(ctx, data.year, data.circles, rules.first_meeting)
    except CircleYearError as exc:
        return _say("review", ctx, "circles.year_passed", year=data.year, last=_day(ctx, exc.last))
    if not await save_year(ctx.db.circles, ctx.db.agenda, data.year, data.circles, events, now):
        return Go("review", replace(data, stored=True), say=(Reply(text=ctx.t("circles.taken")),))
    text = ctx.t(
        "circles.saved",
        count=len(data.circles),
        year=data.year,
        first=when(ctx.texts, events[0], ctx.lang),
    )
    shifted = moved(data.year, rules.first_meeting, now, ctx.settings.timezone, events)
    if shifted:
        lines = [ctx.t("circles.moved")] + [
            ctx.t("circles.moved_line", n=n, was=_day(ctx, was), day=_day(ctx, day))
            for n, was, day in shifted
        ]
        text += "\n\n" + "\n".join(lines)
    return Go(None, say=(Reply(text=text),))


FLOW: Flow[CirclesData] = Flow(
    name=NAME,
    prefix="kr",
    data=CirclesData,
    steps=[
        Step("year", verbinders_only(NAME, on_year), _ask_year, (STOP, THIS_YEAR, NEXT_YEAR)),
        Step(
            "review",
            verbinders_only(NAME, on_review),
            _ask_review,
            (STOP, BACK, AGAIN, SAVE),
            back=lambda data: ("year", CirclesData()),
        ),
    ],
    stale="circles.stale",
    on_stale=stale_or_refused(NAME, "circles.stale"),
    ttl=timedelta(days=2),
    means=typed_word,
    stop=STOP,
    stopped=_stopped,
    back=BACK,
    at_first="circles.first",
)
