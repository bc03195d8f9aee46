"""What /profiel offers and asks: its answers (the buttons' actions), its prompts, and
the summary it ends with. The steps' handlers and the flow are in
:mod:`handlers.profile`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.context import Context
from bot.core.flow import Action, Buttons
from bot.core.messages import Reply
from bot.people.directory import (
    MAX_GEMEENTEN,
    MAX_ORGANISATIONS,
    NO_ORGANISATION,
    OTHER,
    OUTSIDE,
    Directory,
    directory,
)
from bot.people.vocab import TOPICS

if TYPE_CHECKING:
    from handlers.profile import ProfileData

LANGUAGES = ("nl", "en")
GEMEENTE = tuple(Action(f"gemeente{i}", f"g{i}") for i in range(MAX_GEMEENTEN))
ORGANISATION = tuple(Action(f"organisation{i}", f"o{i}") for i in range(MAX_ORGANISATIONS))
TOPIC = tuple(Action(f"topic:{code}", f"t{i}") for i, code in enumerate(TOPICS))
LANGUAGE = tuple(Action(f"language:{code}", code) for code in LANGUAGES)
OUTSIDE_REGION = Action("outside", "gx", label="profiel.outside")
OTHER_ORG = Action("other", "ox", label="profiel.other")
NO_ORG = Action("no_organisation", "on", label="profiel.no_organisation")
DONE = Action("done", "d", label="profiel.done_topics")
SKIP = Action("skip", "s", label="profiel.skip")
BACK = Action("back", "b", label="profiel.back", words=("back",))
STOP = Action("stop", "x", label="profiel.stop", words=("stop",))


def lists(ctx: Context) -> Directory:
    return directory(ctx.settings.content_dir)


# -- what each step asks --------------------------------------------------------------


def ask_language(ctx: Context, data: ProfileData, buttons: Buttons) -> Reply:
    labels = (buttons.text(a, ctx.t(f"profiel.language_{a.code}")) for a in LANGUAGE)
    return Reply(
        text=ctx.t("profiel.ask_language"), choices=(*labels, buttons(SKIP), buttons(STOP))
    )


def ask_gemeente(ctx: Context, data: ProfileData, buttons: Buttons) -> Reply:
    places = lists(ctx).gemeenten
    now = gemeente_name(ctx, data.gemeente)
    choices = [buttons.text(a, g.name) for a, g in zip(GEMEENTE, places, strict=False)]
    choices += [
        buttons(OUTSIDE_REGION),
        buttons(SKIP),
        *buttons.back("gemeente", data),
        buttons(STOP),
    ]
    return Reply(text=ctx.t("profiel.ask_gemeente", now=now), choices=tuple(choices))


def ask_organisation(ctx: Context, data: ProfileData, buttons: Buttons) -> Reply:
    orgs = lists(ctx).organisations
    now = organisation_name(ctx, data.organisation)
    choices = [buttons.text(a, o.name) for a, o in zip(ORGANISATION, orgs, strict=False)]
    choices += [buttons(OTHER_ORG), buttons(NO_ORG), buttons(SKIP)]
    choices += [*buttons.back("organisation", data), buttons(STOP)]
    return Reply(text=ctx.t("profiel.ask_organisation", now=now), choices=tuple(choices))


def ask_topics(ctx: Context, data: ProfileData, buttons: Buttons) -> Reply:
    choices = [
        buttons.text(
            action,
            ctx.t(
                "profiel.topic_off" if code in data.topics_off else "profiel.topic_on",
                topic=ctx.t(f"topics.{code}"),
            ),
        )
        for action, code in zip(TOPIC, TOPICS, strict=True)
    ]
    choices += [buttons(DONE), *buttons.back("topics", data), buttons(STOP)]
    return Reply(text=ctx.t("profiel.ask_topics", on=topics_on(ctx, data)), choices=tuple(choices))


def topics_on(ctx: Context, data: ProfileData) -> str:
    """The topics that are on: "alles", "Nieuws, Agenda", or "geen"."""
    if not data.topics_off:
        return ctx.t("profiel.all_topics")
    on = [ctx.t(f"topics.{code}") for code in TOPICS if code not in data.topics_off]
    return ", ".join(on) if on else ctx.t("profiel.no_topics")


def gemeente_name(ctx: Context, code: str | None) -> str:
    if code is None:
        return ctx.t("profiel.not_chosen")
    if code == OUTSIDE:
        return ctx.t("profiel.outside_name")
    found = lists(ctx).gemeente(code)
    return found.name if found else code


def organisation_name(ctx: Context, code: str | None) -> str:
    if code is None:
        return ctx.t("profiel.not_chosen")
    if code == OTHER:
        return ctx.t("profiel.other_name")
    if code == NO_ORGANISATION:
        return ctx.t("profiel.no_organisation_name")
    found = lists(ctx).organisation(code)
    return found.name if found else code


def summary(ctx: Context, data: ProfileData) -> str:
    """The profile in one message: the end of /profiel."""
    on = [ctx.t(f"topics.{code}") for code in TOPICS if code not in data.topics_off]
    return ctx.t(
        "profiel.summary",
        chosen_language=ctx.t(f"profiel.language_{data.language}"),
        gemeente=gemeente_name(ctx, data.gemeente),
        organisation=organisation_name(ctx, data.organisation),
        topics=", ".join(on) if on else ctx.t("profiel.no_topics"),
    )
