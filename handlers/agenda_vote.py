"""/agenda stemming: a verbinder puts the themes gangmakers brought in to a vote.

A declared flow (:mod:`bot.core.flow`, buttons ``prs:<run>:<turn>:<code>``), verbinders
only (every step checks again), in a private chat (the themes come with names):

event (the upcoming gangmaker meetings) → themes (the inbreng, numbered; type the
numbers to vote on, "1 3 4", or press Allemaal) → preview (the poll as gangmakers will
see it, and how many get it) → Versturen: the poll is stored (``Repos.prompts``) and
one message per gangmaker (role gangmaker, in the event's audience, not stopped,
blocked or muted) goes through the outbox, with a button per option
(``pr:v:<poll>:<n>``, answered by :func:`vote`).

``/agenda stemming uitslag`` (or the Uitslag button, ``pr:res:<poll>``): the newest
poll's result for the verbinder, sent to the people of the host organisations through
the outbox; the poll closes (later presses are told the vote is over).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Self

from bot.agenda.model import GANGMAKERS, Event, sees
from bot.agenda.prompts import PROMPT_ACTION
from bot.agenda.reminders import OUTBOX_KIND
from bot.agenda.words import when
from bot.broadcast.quiet import QuietHours
from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
from bot.core.messages import Choice, Incoming, PressOutcome, PrivateChatInvite, Reply
from bot.outbox.queue import Outgoing
from bot.storage.repositories.prompts import INBRENG, Poll, Recipient
from handlers.agenda import _viewer
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word

ACTION = PROMPT_ACTION  # pr:v:<poll>:<n>, pr:res:<poll>
NAME = "agenda_stemming"  # for the audit log of a refusal
SHOWN = 10  # meetings to choose from
MAX_OPTIONS = 10  # options (buttons) in one poll
BUTTON_CHARS = 48  # an option's text on its button
RESULT_WORDS = ("uitslag", "result", "results")
ALL_WORDS = ("alle", "allemaal", "all")

STOP = Action("stop", "x", label="agenda_vote.stop", words=("cancel",))
EVENTS = tuple(Action(f"event_{n}", f"e{n}") for n in range(SHOWN))
ALL = Action("all", "a", label="agenda_vote.all")
SEND = Action("send", "s", label="agenda_vote.send")
AGAIN = Action("again", "c", label="agenda_vote.choose_again")


@dataclass(frozen=True, slots=True)
class VoteData:
    """The meetings offered, the one chosen with its themes ([text, name]) and the
    options chosen for the vote, and how many gangmakers will get it."""

    events: list[list[Any]] = field(default_factory=list)  # [id, label]
    event_id: int | None = None
    title: str = ""
    themes: list[list[str]] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    recipients: int = 0

    def to_data(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "event_id": self.event_id,
            "title": self.title,
            "themes": self.themes,
            "options": self.options,
            "recipients": self.recipients,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        events = [[int(i), str(label)] for i, label in data["events"]]
        themes = [[str(text), str(name)] for text, name in data["themes"]]
        raw_id = data["event_id"]
        return cls(
            events,
            None if raw_id is None else int(raw_id),
            str(data["title"]),
            themes,
            [str(o) for o in data["options"]],
            int(data["recipients"]),
        )


def _private(ctx: Context) -> Reply:
    invite = PrivateChatInvite("agenda", ctx.t("agenda_manage.private_button"))
    return Reply(text=ctx.t("agenda_vote.private_only"), private_invite=invite)


async def _meetings(ctx: Context) -> list[Event]:
    """The gangmaker meetings still to begin, soonest first."""
    now = ctx.clock.now()
    return [
        e
        for e in await ctx.db.agenda.upcoming(now)
        if e.kind == GANGMAKERS and e.starts_at > now and not e.cancelled
    ]


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """``/agenda stemming [uitslag]``: verbinders only, in a private chat."""
    if not ctx.is_admin:
        return await refuse(ctx, f"command={NAME}")
    if not msg.is_private:
        return [_private(ctx)]
    rest = msg.args.strip().partition(" ")[2].strip().casefold()
    if rest in RESULT_WORDS:
        ids = [e.id for e in await ctx.db.agenda.all() if e.kind == GANGMAKERS]
        poll = await ctx.db.prompts.latest_poll(ids)
        if poll is None:
            return [Reply(text=ctx.t("agenda_vote.no_poll"))]
        return await _result(ctx, poll)
    meetings = (await _meetings(ctx))[:SHOWN]
    if not meetings:
        return [Reply(text=ctx.t("agenda_vote.no_meetings"))]
    events = [
        [e.id, ctx.t("agenda_vote.event_button", title=e.title[:40], day=_day(e))] for e in meetings
    ]
    return await FLOW.start(ctx, "event", VoteData(events=events))


def _day(event: Event) -> str:
    return f"{event.start.day}-{event.start.month}-{event.start.year}"


def _stopped(ctx: Context, data: VoteData) -> Go[VoteData]:
    return Go(None, say=(Reply(text=ctx.t("agenda_vote.stopped")),))


# -- event ------------------------------------------------------------------------------


def _ask_event(ctx: Context, data: VoteData, buttons: Buttons) -> Reply:
    choices = [buttons.text(EVENTS[n], str(label)) for n, (_, label) in enumerate(data.events)]
    return Reply(text=ctx.t("agenda_vote.choose_event"), choices=(*choices, buttons(STOP)))


async def _on_event(ctx: Context, data: VoteData, answer: Answer) -> Go[VoteData]:
    index = _picked(answer, len(data.events))
    if index is None:
        return Go("event", say=(Reply(text=ctx.t("agenda_vote.pick_event")),))
    event = await ctx.db.agenda.by_id(int(data.events[index][0]))
    if event is None or event.cancelled or event.starts_at <= ctx.clock.now():
        return Go(None, say=(Reply(text=ctx.t("agenda_vote.event_gone")),))
    answers = await ctx.db.prompts.answers(event.id, INBRENG)
    if not answers:
        return Go(None, say=(Reply(text=ctx.t("agenda_vote.no_themes", title=event.title)),))
    nameless = ctx.t("agenda_answers.nameless")
    themes = [[a.text, a.name or nameless] for a in answers]
    return Go("themes", replace(data, event_id=event.id, title=event.title, themes=themes))


def _picked(answer: Answer, count: int) -> int | None:
    """The index of the meeting pressed or typed (its number), or None."""
    if answer.action is not None and answer.action.startswith("event_"):
        index = int(answer.action.removeprefix("event_"))
    elif (answer.text or "").strip().isdigit():
        index = int((answer.text or "").strip()) - 1
    else:
        return None
    return index if 0 <= index < count else None


# -- themes -------------------------------------------------------------------------------


def _ask_themes(ctx: Context, data: VoteData, buttons: Buttons) -> Reply:
    lines = [ctx.t("agenda_vote.themes_intro", title=data.title, count=len(data.themes)), ""]
    lines += [
        ctx.t("agenda_vote.theme_line", number=n, text=text, name=name)
        for n, (text, name) in enumerate(data.themes, start=1)
    ]
    lines += ["", ctx.t("agenda_vote.themes_hint", most=MAX_OPTIONS)]
    return Reply(text="\n".join(lines), choices=(buttons(ALL), buttons(STOP)))


def chosen_numbers(text: str, count: int) -> list[int] | None:
    """The numbers typed ("1 3 4", "1, 3 en 4"; "alle": every one), each once, in the
    order typed; None when a number is not on the list or nothing is chosen."""
    if text.strip().casefold() in ALL_WORDS:
        return list(range(1, count + 1))
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not numbers or any(not 1 <= n <= count for n in numbers):
        return None
    return list(dict.fromkeys(numbers))


async def _on_themes(ctx: Context, data: VoteData, answer: Answer) -> Go[VoteData]:
    count = len(data.themes)
    if answer.action == ALL.name:
        numbers: list[int] | None = list(range(1, count + 1))
    else:
        numbers = chosen_numbers(answer.text or "", count)
    if numbers is None:
        return Go("themes", say=(Reply(text=ctx.t("agenda_vote.bad_numbers", count=count)),))
    if len(numbers) < 2:
        return Go("themes", say=(Reply(text=ctx.t("agenda_vote.too_few")),))
    if len(numbers) > MAX_OPTIONS:
        return Go("themes", say=(Reply(text=ctx.t("agenda_vote.too_many", most=MAX_OPTIONS)),))
    event = await ctx.db.agenda.by_id(data.event_id or 0)
    if event is None or event.cancelled:
        return Go(None, say=(Reply(text=ctx.t("agenda_vote.event_gone")),))
    recipients = len(await ctx.db.prompts.gangmakers(event.audience))
    options = [data.themes[n - 1][0] for n in numbers]
    return Go("preview", replace(data, options=options, recipients=recipients))


# -- preview and send -------------------------------------------------------------------------


def poll_text(ctx: Context, lang: str, title: str, moment: str, options: list[str]) -> str:
    lines = [ctx.texts.get(lang, "agenda_vote.poll", title=title, when=moment), ""]
    lines += [
        ctx.texts.get(lang, "agenda_vote.option_line", number=n, text=text)
        for n, text in enumerate(options, start=1)
    ]
    return "\n".join(lines)


def poll_buttons(poll_id: int, options: list[str]) -> tuple[Choice, ...]:
    def short(text: str) -> str:
        return text if len(text) <= BUTTON_CHARS else text[: BUTTON_CHARS - 1].rstrip() + "…"

    return tuple(
        Choice(f"{n}. {short(text)}", f"{ACTION}:v:{poll_id}:{n}")
        for n, text in enumerate(options, start=1)
    )


def _ask_preview(ctx: Context, data: VoteData, buttons: Buttons) -> Reply:
    sample = "\n".join(
        ctx.t("agenda_vote.option_line", number=n, text=text)
        for n, text in enumerate(data.options, start=1)
    )
    text = ctx.t(
        "agenda_vote.preview_one" if data.recipients == 1 else "agenda_vote.preview",
        title=data.title,
        options=sample,
        count=data.recipients,
    )
    return Reply(text=text, choices=(buttons(SEND), buttons(AGAIN), buttons(STOP)))


async def _on_preview(ctx: Context, data: VoteData, answer: Answer) -> Go[VoteData]:
    if answer.action == AGAIN.name:
        return Go("themes", replace(data, options=[]))
    if answer.action != SEND.name:
        return Go("preview", say=(Reply(text=ctx.t("agenda_vote.press_a_button")),))
    now = ctx.clock.now()
    event = await ctx.db.agenda.by_id(data.event_id or 0)
    if event is None or event.cancelled or event.starts_at <= now:
        return Go(None, say=(Reply(text=ctx.t("agenda_vote.event_gone")),))
    poll_id = await ctx.db.prompts.create_poll(event.id, data.options, ctx.person.id, now)
    people = await ctx.db.prompts.gangmakers(event.audience)
    sent = await _send(
        ctx, people, f"stemming:{poll_id}:", _poll_replies(ctx, event, poll_id, data)
    )
    await ctx.db.audit.record(now, "agenda.poll_sent", ctx.person.id, f"poll={poll_id}")
    done = Reply(
        text=ctx.t(_one("agenda_vote.sent", sent), count=sent, title=event.title) + held_line(ctx),
        choices=(ctx.choice("agenda_vote.result_button", f"{ACTION}:res:{poll_id}"),),
    )
    return Go(None, say=(done,))


def _poll_replies(ctx: Context, event: Event, poll_id: int, data: VoteData) -> dict[str, Reply]:
    buttons = poll_buttons(poll_id, data.options)
    return {
        lang: Reply(
            text=poll_text(ctx, lang, event.title, when(ctx.texts, event, lang), data.options),
            choices=buttons,
        )
        for lang in ctx.texts.languages
    }


def held_until(ctx: Context) -> datetime | None:
    """The end of the quiet hours (``QUIET_HOURS``) when it is quiet now, else None:
    what a verbinder sends waits for it, as the prompts do."""
    quiet = QuietHours.parse(ctx.settings.quiet_hours, ctx.settings.zone)
    now = ctx.clock.now()
    return quiet.ends_after(now) if quiet is not None and quiet.contains(now) else None


def held_line(ctx: Context) -> str:
    """What the verbinder is told when the messages wait for the quiet hours' end."""
    until = held_until(ctx)
    if until is None:
        return ""
    local = until.astimezone(ctx.settings.zone)
    return "\n" + ctx.t("agenda_vote.held", time=f"{local.hour}:{local.minute:02d}")


async def _send(
    ctx: Context, people: list[Recipient], prefix: str, replies: dict[str, Reply]
) -> int:
    """One message per person in their language, through the outbox, after the quiet
    hours; the key ``<prefix><user id>`` makes sending it twice a no-op. How many
    were new."""
    default = ctx.settings.default_language
    not_before = held_until(ctx)
    items = [
        Outgoing(
            key=f"{prefix}{person.user_id}",
            platform=person.platform,
            chat_id=person.chat_id,
            reply=replies.get(person.language or default) or replies[default],
            user_id=person.user_id,
            kind=OUTBOX_KIND,
            not_before=not_before,
        )
        for person in people
    ]
    return await ctx.outbox.enqueue(items)


# -- votes ------------------------------------------------------------------------------------


def _refused(ctx: Context, key: str, **params: object) -> list[Reply]:
    return [Reply(text=ctx.t(f"agenda_vote.{key}", **params), press_outcome=PressOutcome.STALE)]


async def vote(ctx: Context, raw_poll: str, raw_option: str) -> list[Reply]:
    """``pr:v:<poll>:<n>``: a vote for option n; a second press changes the vote."""
    if not (raw_poll.isascii() and raw_poll.isdigit() and len(raw_poll) <= 18):
        return _refused(ctx, "unknown")
    if not (raw_option.isascii() and raw_option.isdigit() and len(raw_option) <= 3):
        return _refused(ctx, "unknown")
    poll = await ctx.db.prompts.poll(int(raw_poll))
    option = int(raw_option)
    if poll is None or not 1 <= option <= len(poll.options):
        return _refused(ctx, "unknown")
    event = await ctx.db.agenda.by_id(poll.event_id)
    if event is None or not sees(event.audience, _viewer(ctx)):
        return _refused(ctx, "not_for_you")
    if poll.closed_at is not None or event.cancelled or event.starts_at <= ctx.clock.now():
        return _refused(ctx, "closed", title=event.title)
    before = await ctx.db.prompts.vote(poll.id, ctx.person.id, option, ctx.clock.now())
    chosen = poll.options[option - 1]
    if before is None:
        return [Reply(text=ctx.t("agenda_vote.voted", option=chosen))]
    if before == option:
        return [Reply(text=ctx.t("agenda_vote.voted_same", option=chosen))]
    was = poll.options[before - 1] if 0 < before <= len(poll.options) else "?"
    return [Reply(text=ctx.t("agenda_vote.vote_changed", option=chosen, was=was))]


# -- the result ----------------------------------------------------------------------------------


async def result_pressed(msg: Incoming, ctx: Context, raw_poll: str) -> list[Reply]:
    """``pr:res:<poll>``: the result, for verbinders only."""
    if not ctx.is_admin:
        return await refuse(ctx, f"button={NAME}")
    if not msg.is_private:
        return [_private(ctx)]
    poll = None
    if raw_poll.isascii() and raw_poll.isdigit() and len(raw_poll) <= 18:
        poll = await ctx.db.prompts.poll(int(raw_poll))
    if poll is None:
        return _refused(ctx, "unknown")
    return await _result(ctx, poll)


def result_text(ctx: Context, lang: str, title: str, results: list[tuple[str, int]]) -> str:
    """The options by votes, most first (a tie in the poll's order)."""
    total = sum(n for _, n in results)
    ranked = sorted(results, key=lambda r: -r[1])
    lines = [ctx.texts.get(lang, _one("agenda_vote.result", total), title=title, total=total), ""]
    lines += [ctx.texts.get(lang, "agenda_vote.result_line", votes=n, text=t) for t, n in ranked]
    return "\n".join(lines)


async def _result(ctx: Context, poll: Poll) -> list[Reply]:
    event = await ctx.db.agenda.by_id(poll.event_id)
    if event is None:
        return _refused(ctx, "unknown")
    results = await ctx.db.prompts.results(poll.id)
    await ctx.db.prompts.close_poll(poll.id, ctx.clock.now())
    hosts = await ctx.db.prompts.hosts(event.hosts)
    replies = {
        lang: Reply(text=result_text(ctx, lang, event.title, results))
        for lang in ctx.texts.languages
    }
    sent = await _send(ctx, hosts, f"uitslag:{poll.id}:", replies)
    key = _one("agenda_vote.result_sent", sent) if sent else "agenda_vote.result_not_sent"
    told = ctx.t(key, count=sent if sent else len(hosts)) + (held_line(ctx) if sent else "")
    return [Reply(text=result_text(ctx, ctx.lang, event.title, results) + "\n\n" + told)]


def _one(key: str, count: int) -> str:
    """``key``, or ``key_one`` for exactly one (1 persoon, 1 stem)."""
    return f"{key}_one" if count == 1 else key


FLOW: Flow[VoteData] = Flow(
    name="agenda_stemming",
    prefix="prs",
    data=VoteData,
    steps=[
        Step(
            "event",
            on=verbinders_only(NAME, _on_event),
            ask=_ask_event,
            actions=(*EVENTS, STOP),
        ),
        Step(
            "themes",
            on=verbinders_only(NAME, _on_themes),
            ask=_ask_themes,
            actions=(ALL, STOP),
        ),
        Step(
            "preview",
            on=verbinders_only(NAME, _on_preview),
            ask=_ask_preview,
            actions=(SEND, AGAIN, STOP),
        ),
    ],
    stale="agenda_vote.stale",
    ttl=timedelta(days=1),
    means=typed_word,
    stop=STOP,
    stopped=_stopped,
    on_stale=stale_or_refused(NAME, "agenda_vote.stale"),
)
