"""Questions in free text, answered from the curated content; /vraag; /herlaad."""

from __future__ import annotations

import logging

from bot import metrics
from bot.core.context import Context
from bot.core.messages import Choice, Incoming, PressOutcome, Reply
from bot.core.texts import Texts
from bot.knowledge.answer import Answer, Outcome
from bot.knowledge.content import Entry, Knowledge
from bot.knowledge.people import Person
from bot.knowledge.region import REGION_ENTRY, Membership
from bot.knowledge.text import fold
from handlers import agenda_ask
from handlers.menu import menu_choices

log = logging.getLogger(__name__)
ACTION = "kb"
NONE = "none"


def _topic_choices(entries: list[Entry], language: str) -> tuple[Choice, ...]:
    return tuple(Choice(e.text(language)[0], f"{ACTION}:{e.id}") for e in entries)


def entry_reply(entry: Entry, texts: Texts, language: str, knowledge: Knowledge) -> Reply:
    """An entry as the person sees it: title, answer, source, related topics."""
    title, _, body = entry.text(language)
    source = knowledge.source_label(entry, language)
    lines = [title, "", body, "", texts.get(language, "ask.source", source=source)]
    if language == "en" and entry.en is None:
        lines.append(texts.get(language, "ask.only_dutch"))
    related = [r for i in entry.related if (r := knowledge.get(i)) is not None]
    return Reply(text="\n".join(lines), choices=_topic_choices(related[:3], language))


SAFETY_TEXTS = {
    Outcome.CRISIS: "safety.crisis",
    Outcome.CRISIS_OTHER: "safety.crisis_other",
    Outcome.INFO: "safety.info",
    Outcome.EMERGENCY: "safety.emergency",
    Outcome.MEDICAL: "safety.medical",
}


def support_reply(result: Answer, texts: Texts, language: str) -> Reply:
    """Warmth for the feeling, help nearby, 113 as a safety net, and two ways on:
    the spinnenweb and one entry that fits."""
    topic = result.support_topic or "overig"
    lines = [texts.get(language, f"support.{topic}"), "", texts.get(language, "support.help")]
    if topic == "mantelzorg":
        lines.append(texts.get(language, "support.help_mantelzorg"))
    lines += [
        "",
        texts.get(language, "support.safety_net"),
        "",
        texts.get(language, "support.offer"),
    ]
    choices = [Choice(texts.get(language, "support.spinnenweb"), "menu:spinnenweb")]
    if result.entry is not None:
        choices.append(Choice(result.entry.text(language)[0], f"{ACTION}:{result.entry.id}"))
    return Reply(text="\n".join(lines), choices=tuple(choices))


def membership_reply(place: Membership, texts: Texts, language: str, knowledge: Knowledge) -> Reply:
    """Yes or no, the gemeente, the 13, the source, and the entry about the region."""
    if place.gemeente is None:
        first = texts.get(language, "region.outside", place=place.place)
    elif place.is_gemeente:
        first = texts.get(language, "region.gemeente", place=place.place)
    else:
        first = texts.get(language, "region.inside", place=place.place, gemeente=place.gemeente)
    gemeenten = ", ".join(place.gemeenten)
    entry = knowledge.get(REGION_ENTRY)
    source = knowledge.source_label(entry, language) if entry else ""
    lines = [first, "", texts.get(language, "region.list", gemeenten=gemeenten)]
    if source:
        lines += ["", texts.get(language, "ask.source", source=source)]
    choices = _topic_choices([entry], language) if entry else ()
    return Reply(text="\n".join(lines), choices=choices)


def person_reply(person: Person, texts: Texts, language: str, knowledge: Knowledge) -> Reply:
    """Who someone is, how to reach them if the seeds say so, the source, and always how
    to reach the Alliantie."""
    lines = [person.name, "", person.text(language)]
    if person.contact:
        lines += ["", texts.get(language, "people.contact", contact=person.contact)]
    lines += ["", texts.get(language, "people.reach")]
    source = person.source.label(knowledge.source_names(language))
    lines += ["", texts.get(language, "ask.source", source=source)]
    return Reply(text="\n".join(lines))


def number_reply(
    texts: Texts, language: str, shown: tuple[Choice, ...], menu: tuple[Choice, ...]
) -> Reply:
    """A bare number is no question: with a list shown, "choose a number from the
    list" and the list again; without one, what to type, and the menu if there is one."""
    if shown:
        return Reply(text=texts.get(language, "fallback.pick_number"), choices=shown)
    text = texts.get(language, "fallback.number")
    if menu:
        text += "\n" + texts.get(language, "fallback.number_menu")
    return Reply(text=text, choices=menu)


SMALL_TALK = {Outcome.GREETING: "ask.greeting", Outcome.THANKS: "ask.thanks"}
# The outcomes /metrics counts (bot/metrics.py); small talk, referrals, a bare number
# are not questions answered or missed, and are not counted.
COUNTED: dict[Outcome, metrics.AnswerOutcome] = {
    Outcome.ANSWER: "answered",
    Outcome.FACT: "answered",
    Outcome.AGENDA: "answered",
    Outcome.CLARIFY: "clarified",
    Outcome.UNKNOWN: "unknown",
    Outcome.CRISIS: "crisis",
    Outcome.CRISIS_OTHER: "crisis",
}


def render(
    result: Answer,
    texts: Texts,
    knowledge: Knowledge,
    *,
    shown: tuple[Choice, ...] = (),
    menu: tuple[Choice, ...] = (),
) -> list[Reply]:
    """The replies for an answer; shared by the chat handler and ``alliantiebot ask``.
    ``shown``: the options the person sees numbered; ``menu``: the main menu's."""
    direct = _without_search(result, texts, knowledge, shown=shown, menu=menu)
    return [direct if direct is not None else _from_search(result, texts, knowledge)]


def _without_search(
    result: Answer,
    texts: Texts,
    knowledge: Knowledge,
    *,
    shown: tuple[Choice, ...],
    menu: tuple[Choice, ...],
) -> Reply | None:
    """A reply that needs no entry of the search: a bare number, safety, a feeling, a
    fact, small talk. None for the others."""
    lang, outcome = result.language, result.outcome
    if outcome is Outcome.NUMBER:
        return number_reply(texts, lang, shown, menu)
    if outcome in SAFETY_TEXTS:
        return Reply(text=texts.get(lang, SAFETY_TEXTS[outcome]))
    if outcome is Outcome.SUPPORT:
        return support_reply(result, texts, lang)
    if outcome is Outcome.FACT and result.membership is not None:
        return membership_reply(result.membership, texts, lang, knowledge)
    if outcome is Outcome.FACT and result.person is not None:
        return person_reply(result.person, texts, lang, knowledge)
    if outcome in SMALL_TALK:
        return Reply(text=texts.get(lang, SMALL_TALK[outcome]))
    if outcome is Outcome.AGENDA:  # in the chat, handlers.agenda_ask answers from the agenda
        typed = result.agenda is not None and result.agenda.rsvp  # "Ik kom": which one?
        return Reply(
            text=texts.get(lang, "agenda_ask.which_event" if typed else "agenda_ask.see_agenda")
        )
    return None


def _from_search(result: Answer, texts: Texts, knowledge: Knowledge) -> Reply:
    """An entry, a "Bedoel je ...?" with related topics, or an honest "I don't know"."""
    lang = result.language
    if result.outcome is Outcome.ANSWER and result.entry is not None:
        return entry_reply(result.entry, texts, lang, knowledge)
    if result.outcome is Outcome.CLARIFY:
        choices = (
            *_topic_choices(result.candidates, lang),
            Choice(texts.get(lang, "ask.none_of_these"), f"{ACTION}:{NONE}"),
        )
        return Reply(text=texts.get(lang, "ask.clarify"), choices=choices)
    text = texts.get(lang, "ask.unknown")
    if result.candidates:
        text += "\n" + texts.get(lang, "ask.unknown_topics")
    return Reply(text=text, choices=_topic_choices(result.candidates, lang))


async def question(msg: Incoming, ctx: Context) -> list[Reply]:
    service = ctx.knowledge
    result = service.answer(msg.text, default_language=ctx.lang)
    if result.gap:  # not answered outright: the text only, never who asked
        normalized = " ".join(fold(msg.text).split())
        await ctx.db.gaps.record(msg.text.strip(), normalized, result.language, ctx.clock.now())
    if result.outcome is Outcome.AGENDA:  # "wanneer is het volgende leeratelier?"
        replies = await agenda_ask.answer(ctx, result)
    else:
        replies = render(result, ctx.texts, service.loaded, shown=msg.shown, menu=menu_choices(ctx))
    # Counted once the database has been reached, if at all: on the express path
    # (bot.core.middleware.express) reaching it starts the question over.
    log.info(
        "question answered: outcome=%s confidence=%.2f topic=%s",
        result.outcome.value,
        result.confidence,
        result.entry.id if result.entry else "-",
    )
    if (counted := COUNTED.get(result.outcome)) is not None:
        metrics.answer(counted)
    return replies


async def topic(msg: Incoming, ctx: Context) -> list[Reply]:
    """A pressed topic button: show that entry, in the person's language."""
    knowledge = ctx.knowledge.loaded
    entry_id = (msg.action or "").partition(":")[2]
    if entry_id == NONE:
        return [Reply(text=ctx.t("ask.something_else"))]
    entry = knowledge.get(entry_id)
    if entry is None:
        return [Reply(text=ctx.t("errors.stale_button"), press_outcome=PressOutcome.STALE)]
    return [entry_reply(entry, ctx.texts, ctx.lang, knowledge)]


async def intro(msg: Incoming, ctx: Context) -> list[Reply]:
    """/vraag: how to ask, and popular topics; ``/vraag <question>`` asks at once."""
    if msg.args.strip():
        return await question(
            Incoming.from_text(msg.platform, msg.user_id, msg.chat_id, msg.args), ctx
        )
    knowledge = ctx.knowledge.loaded
    popular = [e for i in knowledge.popular if (e := knowledge.get(i)) is not None]
    return [Reply(text=ctx.t("ask.intro"), choices=_topic_choices(popular[:6], ctx.lang))]


async def reload(msg: Incoming, ctx: Context) -> list[Reply]:
    """/herlaad (verbinders): read content/ again without a restart."""
    try:
        count = await ctx.knowledge.reload_content()
    except Exception as exc:
        return [Reply(text=ctx.t("content.reload_failed", error=str(exc)[:200]))]
    await ctx.db.audit.record(ctx.clock.now(), "content.reloaded", ctx.user_key, f"entries={count}")
    return [Reply(text=ctx.t("content.reloaded", entries=count))]
