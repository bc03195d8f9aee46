"""/taal: choose Dutch or English, by button, by typing, or as ``/taal en``.

The typed answer is a declared flow (:mod:`bot.core.flow`) of one step. The two
language buttons are plain actions (``taal:nl``, ``taal:en``), not stamped: they
work at any time, also from inside another conversation such as a check-in, where
``/taal`` shows them without opening its own question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
from bot.core.messages import Incoming, PressOutcome, Reply
from handlers.menu import menu_choices

# What people type for each language, in both languages.
WORDS = {
    "nl": {"nl", "nederlands", "dutch", "ned", "nederland"},
    "en": {"en", "engels", "english", "eng"},
}
DUTCH = Action("dutch", "nl", label="taal.nl", words=("nl",))
ENGLISH = Action("english", "en", label="taal.en", words=("en",))
BY_NAME = {DUTCH.name: DUTCH.code, ENGLISH.name: ENGLISH.code}


@dataclass(frozen=True, slots=True)
class NoData:
    """The language question keeps nothing but its step."""

    def to_data(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return cls()


def _parse(text: str) -> str | None:
    word = text.strip().lower().strip(".!")
    for code, words in WORDS.items():
        if word in words:
            return code
    return None


def _languages(ctx: Context) -> Reply:
    return Reply(
        text=ctx.t("taal.ask"),
        choices=(ctx.choice("taal.nl", "taal:nl"), ctx.choice("taal.en", "taal:en")),
    )


def _ask(ctx: Context, data: NoData, buttons: Buttons) -> Reply:
    return _languages(ctx)  # plain actions: see the module's doc


async def ask(msg: Incoming, ctx: Context) -> list[Reply]:
    """/taal, /taal en."""
    if msg.args:
        code = _parse(msg.args)
        if code is not None:
            return await _switch_and_close(ctx, code)
    if ctx.state is None:  # in another conversation (a check-in) the buttons do it alone
        return await FLOW.start(ctx, "choose", NoData())
    return [_languages(ctx)]


async def chosen(msg: Incoming, ctx: Context) -> list[Reply]:
    """A language button, at any time."""
    code = (msg.action or "").partition(":")[2]
    if code not in WORDS:
        return [
            Reply(
                text=ctx.t("errors.stale_button"),
                choices=menu_choices(ctx),
                press_outcome=PressOutcome.STALE,
            )
        ]
    return await _switch_and_close(ctx, code)


async def choose(ctx: Context, data: NoData, answer: Answer) -> Go[NoData]:
    """Typed while the question is open: a language, or not an answer (the text is
    then handled as usual next time)."""
    code = BY_NAME.get(answer.action or "")
    if code is None:
        return Go(None, say=(Reply(text=ctx.t("taal.unclear"), choices=_languages(ctx).choices),))
    return Go(None, say=tuple(_switch(ctx, code)))


async def _switch_and_close(ctx: Context, code: str) -> list[Reply]:
    """A language chosen outside the typed answer (a button, ``/taal en``): the
    language question, if open, is over too."""
    if ctx.state is not None and ctx.state.flow == FLOW.name:
        await ctx.clear_state()
    return _switch(ctx, code)


def _switch(ctx: Context, code: str) -> list[Reply]:
    ctx.set_language(code)  # before the reply, so that it is in the new language
    return [Reply(text=ctx.t("taal.done"), choices=menu_choices(ctx))]


def _means(ctx: Context, word: str, text: str) -> bool:
    return _parse(text) == word


FLOW: Flow[NoData] = Flow(
    name="taal",
    prefix="taal",
    data=NoData,
    steps=[Step("choose", on=choose, ask=_ask, actions=(DUTCH, ENGLISH))],
    stale="errors.stale_button",
    ttl=timedelta(hours=1),
    means=_means,
)
