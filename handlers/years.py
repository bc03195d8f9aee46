"""Choosing a year in a verbinder's flow (``/agenda plan``, ``/kringen``): two buttons
and a typed year up to :data:`YEARS_AHEAD` years on.

The buttons offer this year and the next, except in the last month of the year
(:data:`LAST_MONTH`) or when the flow says this year has no date left to plan (the
series' dates, the circles' first meeting are all past): then the next year and the
year after. A typed year may still be this year. Typed text that is no number is
"not a year" (:func:`not_a_year`); a number outside the range is another message."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.flow import Action, Answer

YEARS_AHEAD = 5  # a typed year: this year up to this many years on
LAST_MONTH = 12  # in this month the buttons start at next year


def this_year(ctx: Context) -> int:
    """The year it is now in the bot's zone."""
    return ctx.clock.now().astimezone(ctx.settings.zone).year


def first_offered(ctx: Context, this_year_open: bool = True) -> int:
    """The year of the first button: this year, or the next in the last month of the
    year or when this year has nothing left to plan (``this_year_open`` False)."""
    now = ctx.clock.now().astimezone(ctx.settings.zone)
    return now.year if this_year_open and now.month < LAST_MONTH else now.year + 1


def chosen_year(
    ctx: Context, answer: Answer, this: Action, following: Action, first: int | None = None
) -> int | None:
    """The year the press (``this``: the first button's year ``first``, ``following``:
    the one after) or the typed number names; None when it names none, or one outside
    this year to :data:`YEARS_AHEAD` on."""
    now = this_year(ctx)
    start = now if first is None else first
    typed = (answer.text or "").strip()
    year = {this.name: start, following.name: start + 1}.get(answer.action or "")
    if year is None and typed.isascii() and typed.isdigit():
        year = int(typed)
    return year if year is not None and now <= year <= now + YEARS_AHEAD else None


def not_a_year(answer: Answer) -> bool:
    """Typed text that is no number at all ("abc"), rather than a year out of range."""
    typed = (answer.text or "").strip()
    return not answer.action and not (typed.isascii() and typed.isdigit())
