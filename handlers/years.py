"""Choosing a year in a verbinder's flow (``/agenda plan``, ``/kringen``): this year or
the next by a button, or a typed year up to :data:`YEARS_AHEAD` years on."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.flow import Action, Answer

YEARS_AHEAD = 5  # a typed year: this year up to this many years on


def this_year(ctx: Context) -> int:
    """The year it is now in the bot's zone."""
    return ctx.clock.now().astimezone(ctx.settings.zone).year


def chosen_year(ctx: Context, answer: Answer, this: Action, following: Action) -> int | None:
    """The year the press (``this``, ``following``) or the typed number names; None when
    it names none, or one outside this year to :data:`YEARS_AHEAD` on."""
    now = this_year(ctx)
    typed = (answer.text or "").strip()
    year = {this.name: now, following.name: now + 1}.get(answer.action or "")
    if year is None and typed.isascii() and typed.isdigit():
        year = int(typed)
    return year if year is not None and now <= year <= now + YEARS_AHEAD else None
