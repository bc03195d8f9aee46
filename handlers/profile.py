"""/profiel: the person's language, gemeente, organisation and the topics they hear
about, step by step. A declared flow (:mod:`bot.core.flow`); every answer is kept at
once (an effect on the person), so stopping half-way keeps what was chosen so far.

Language comes first, so the rest is asked in the language chosen. The gemeenten and
organisations come from ``content/`` (:mod:`bot.people.directory`); their buttons are
numbered codes (``g0``, ``o3``) declared up to the lists' maximum, so the flow is
declared once, whatever the content holds. Topics are all on by default; the person
turns off what they do not want (stored as ``users.topics_off``). What each step
offers and asks is in :mod:`handlers.profile_prompts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Self

from bot.core.choices import fold
from bot.core.context import Context
from bot.core.flow import Answer, Effect, Flow, Go, Step
from bot.core.messages import Incoming, Reply
from bot.people.directory import NO_ORGANISATION, OTHER, OUTSIDE, place_id
from bot.people.vocab import TOPICS, join
from handlers.earlier import Earlier, back_to, earlier_conversation, read_earlier
from handlers.menu import menu_choices
from handlers.private import private_only
from handlers.profile_prompts import (
    BACK,
    DONE,
    GEMEENTE,
    LANGUAGE,
    LANGUAGES,
    NO_ORG,
    ORGANISATION,
    OTHER_ORG,
    OUTSIDE_REGION,
    SKIP,
    STOP,
    TOPIC,
    ask_gemeente,
    ask_language,
    ask_organisation,
    ask_topics,
    lists,
    summary,
)
from handlers.webview import typed_word


@dataclass(frozen=True, slots=True)
class ProfileData:
    """The profile as it is being filled in (kept on the person at every answer)."""

    language: str = "nl"
    gemeente: str | None = None
    organisation: str | None = None
    topics_off: tuple[str, ...] = ()
    earlier: Earlier = None  # the conversation open before /profiel, to go back to

    def to_data(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "gemeente": self.gemeente,
            "organisation": self.organisation,
            "topics_off": list(self.topics_off),
            "earlier": self.earlier,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        language, gemeente, organisation = (
            data[k] for k in ("language", "gemeente", "organisation")
        )
        topics = data["topics_off"]
        if language not in LANGUAGES or not isinstance(topics, list):
            raise ValueError("profile data of an unknown shape")
        if not all(v is None or isinstance(v, str) for v in (gemeente, organisation)):
            raise TypeError("gemeente and organisation are text")
        topics_off = tuple(t for t in topics if t in TOPICS)
        return cls(language, gemeente, organisation, topics_off, read_earlier(data))


# -- what each answer does ------------------------------------------------------------


def _keep(ctx: Context, **fields: str | None) -> Effect:
    """Keep an answer on the person at once (in this message's transaction)."""

    def run() -> None:
        person = ctx.person
        for name, value in fields.items():
            if name == "language" and value is not None:
                ctx.set_language(value)  # as /taal does: this reply is in it already
            else:
                setattr(person, name, value)

    return Effect("keep_" + "_".join(fields), run)


def _unclear(step: str, ctx: Context) -> Go[ProfileData]:
    return Go(step, say=(Reply(text=ctx.t("profiel.unclear")),))


def index_of(action: str | None, prefix: str) -> int | None:
    if action is None or not action.startswith(prefix) or not action[len(prefix) :].isdigit():
        return None
    return int(action[len(prefix) :])


def _typed_language(text: str | None) -> str | None:
    word = (text or "").strip().lower().strip(".!")
    typed = {"nl": {"nl", "nederlands", "dutch"}, "en": {"en", "engels", "english"}}
    return next((code for code, words in typed.items() if word in words), None)


async def on_language(ctx: Context, data: ProfileData, answer: Answer) -> Go[ProfileData]:
    if answer.action == SKIP.name:
        return Go("gemeente")
    action = answer.action or ""
    code = action.partition(":")[2] if action.startswith("language:") else None
    code = code or _typed_language(answer.text)
    if code not in LANGUAGES:
        return _unclear("language", ctx)
    return Go("gemeente", replace(data, language=code), effects=(_keep(ctx, language=code),))


def chosen_gemeente(ctx: Context, answer: Answer) -> str | None:
    if answer.action == OUTSIDE_REGION.name:
        return OUTSIDE
    places = lists(ctx).gemeenten
    index = index_of(answer.action, "gemeente")
    if index is not None:
        return places[index].id if index < len(places) else None
    typed = place_id(answer.text or "")
    return next((g.id for g in places if typed and g.id == typed), None)


async def on_gemeente(ctx: Context, data: ProfileData, answer: Answer) -> Go[ProfileData]:
    if answer.action == SKIP.name:
        return Go("organisation")
    code = chosen_gemeente(ctx, answer)
    if code is None:
        return _unclear("gemeente", ctx)
    return Go("organisation", replace(data, gemeente=code), effects=(_keep(ctx, gemeente=code),))


def _chosen_organisation(ctx: Context, answer: Answer) -> tuple[bool, str | None]:
    """(understood, the organisation); "Geen organisation" is :data:`NO_ORGANISATION`."""
    fixed = {OTHER_ORG.name: OTHER, NO_ORG.name: NO_ORGANISATION}
    if answer.action in fixed:
        return True, fixed[answer.action]
    orgs = lists(ctx).organisations
    index = index_of(answer.action, "organisation")
    if index is not None:
        return index < len(orgs), orgs[index].id if index < len(orgs) else None
    typed = fold(answer.text or "")
    by_label = {
        fold(ctx.t("profiel.other")): OTHER,
        fold(ctx.t("profiel.no_organisation")): NO_ORGANISATION,
    }
    by_label |= {fold(o.name): o.id for o in orgs} | {o.id: o.id for o in orgs}
    found = by_label.get(typed) if typed else None
    return found is not None, found


async def on_organisation(ctx: Context, data: ProfileData, answer: Answer) -> Go[ProfileData]:
    if answer.action == SKIP.name:
        return Go("topics")
    understood, code = _chosen_organisation(ctx, answer)
    if not understood:
        return _unclear("organisation", ctx)
    new = replace(data, organisation=code)
    return Go("topics", new, effects=(_keep(ctx, organisation=code),))


async def on_topics(ctx: Context, data: ProfileData, answer: Answer) -> Go[ProfileData]:
    action = answer.action or ""
    if action == DONE.name:
        done = Reply(text=summary(ctx, data), choices=menu_choices(ctx))
        return Go(None, say=(done,), effects=back_to(ctx, data.earlier))
    code = action.partition(":")[2] if action.startswith("topic:") else None
    if code not in TOPICS:
        return _unclear("topics", ctx)
    off = set(data.topics_off) ^ {code}
    stored = join(off, TOPICS)
    new = replace(data, topics_off=tuple(c for c in TOPICS if c in off))
    return Go("topics", new, effects=(_keep(ctx, topics_off=stored),))


def stopped(ctx: Context, data: ProfileData) -> Go[ProfileData]:
    said = Reply(text=ctx.t("profiel.stopped"), choices=menu_choices(ctx))
    return Go(None, say=(said,), effects=back_to(ctx, data.earlier))


# -- opening it -------------------------------------------------------------------------


def _first(ctx: Context) -> tuple[str, ProfileData]:
    person = ctx.person
    off = person.topics_off_set
    data = ProfileData(
        language=person.language if person.language in LANGUAGES else "nl",
        gemeente=person.gemeente,
        organisation=person.organisation,
        topics_off=tuple(c for c in TOPICS if c in off),
        earlier=earlier_conversation(ctx, FLOW.name),
    )
    return "language", data


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/profiel, and its deep link (/start's offer names the command)."""
    if not msg.is_private:
        return [private_only(ctx, "profiel")]
    if ctx.person.profile_offered_at is None:  # found it: /start need not offer it any more
        ctx.person.profile_offered_at = ctx.clock.now()
    return await FLOW.open(ctx)


FLOW: Flow[ProfileData] = Flow(
    name="profiel",
    prefix="pf",
    data=ProfileData,
    steps=[
        Step("language", on=on_language, ask=ask_language, actions=(*LANGUAGE, SKIP, STOP)),
        Step(
            "gemeente",
            on=on_gemeente,
            ask=ask_gemeente,
            actions=(*GEMEENTE, OUTSIDE_REGION, SKIP, BACK, STOP),
            back=lambda data: ("language", data),
        ),
        Step(
            "organisation",
            on=on_organisation,
            ask=ask_organisation,
            actions=(*ORGANISATION, OTHER_ORG, NO_ORG, SKIP, BACK, STOP),
            back=lambda data: ("gemeente", data),
        ),
        Step(
            "topics",
            on=on_topics,
            ask=ask_topics,
            actions=(*TOPIC, DONE, BACK, STOP),
            back=lambda data: ("organisation", data),
        ),
    ],
    stale="profiel.stale",
    ttl=timedelta(days=1),
    means=typed_word,
    first=_first,
    stop=STOP,
    stopped=stopped,
    back=BACK,
    at_first="profiel.at_first",
)
