"""What happens when people press the buttons of the meeting prompts (issue 16).

The prompts themselves (which, to whom, when) are the reminder engine's
(:mod:`bot.agenda.prompts`); their buttons come here, ``pr:<code>:...``:

- ``pr:done:<event>:<item>``: a host marks a checklist point done (only people of the
  event's host organisations, and verbinders); the reply says what is still open, with
  a button for each open point.
- ``pr:in:<event>``: "Ik wil iets inbrengen": a declared flow asks for a theme or a
  question in free text and keeps it (one answer per press; pressing again adds one).
  Only people the event is for, only before it begins.
- ``pr:mee:<event>``: "Wat neem je mee?": a flow asks for free text, then "Mag de groep
  dit zien?" (yes with my name, or only the verbinders) and keeps both. Only people
  the event is for or who said yes, from the moment it begins.
- ``pr:csv:<event>``: the inbreng as a CSV file (naam, inbreng, wanneer) for the hosts
  and verbinders, in a private chat.
- ``pr:v:<poll>:<n>``: a vote for option n of a theme poll (:mod:`handlers.agenda_vote`);
  one per person, a second press changes it. ``pr:res:<poll>``: the result (verbinders).

Every press is checked again against the database (the event exists, is not cancelled,
the moment fits, this person may); a forged or stale press changes nothing. Typed
answers go through the middleware like any text, so the crisis check comes first and
a crisis text is never kept as an answer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

from bot.agenda.attendees import safe_cell
from bot.agenda.model import Event, sees, wall_time
from bot.agenda.prompts import PROMPT_ACTION
from bot.core.context import Context
from bot.core.flow import Action, Answer, Ask, Buttons, Flow, Go, Step
from bot.core.messages import Document, Incoming, PressOutcome, PrivateChatInvite, Reply
from bot.storage.repositories.prompts import INBRENG, MEENEMEN, PromptAnswer
from bot.storage.repositories.rsvp import YES
from handlers import agenda_vote
from handlers.agenda import _slug, _viewer
from handlers.agenda_people import organises
from handlers.webview import typed_word

ACTION = PROMPT_ACTION  # pr:<code>:...: the buttons of the prompts
DONE, IN, MEE, CSV, VOTE, RESULT = "done", "in", "mee", "csv", "v", "res"
MAX_TEXT = 1000  # characters of one answer
AFTER = timedelta(days=30)  # "wat neem je mee?" is answered until this long after the end

STOP = Action("stop", "x", label="agenda_answers.stop", words=("stop",))
SHARE = Action("share", "y", label="agenda_answers.share_yes", words=("yes",))
PRIVATE = Action("private", "n", label="agenda_answers.share_no", words=("no",))


def _refused(ctx: Context, key: str, **params: object) -> list[Reply]:
    return [Reply(text=ctx.t(f"agenda_answers.{key}", **params), press_outcome=PressOutcome.STALE)]


def _number(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def item_label(ctx: Context, item: str) -> str:
    """A checklist point by its name in content (``agenda_prompts.items.<item>``)."""
    key = f"agenda_prompts.items.{item}"
    return ctx.t(key) if ctx.texts.has(key) else item


async def event_of(ctx: Context, raw: str) -> Event | None:
    number = _number(raw)
    return None if number is None else await ctx.db.agenda.by_id(number)


async def pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """A button of a meeting prompt; see the module's doc."""
    parts = (msg.action or "").split(":")
    code = parts[1] if len(parts) > 1 else ""
    if code == VOTE and len(parts) == 4:
        return await agenda_vote.vote(ctx, parts[2], parts[3])
    if code == RESULT and len(parts) == 3:
        return await agenda_vote.result_pressed(msg, ctx, parts[2])
    if (code, len(parts)) not in ((DONE, 4), (IN, 3), (MEE, 3), (CSV, 3)):
        return _refused(ctx, "unknown")
    event = await event_of(ctx, parts[2])
    if event is None:
        return _refused(ctx, "unknown")
    if event.cancelled:
        return _refused(ctx, "cancelled", title=event.title)
    if code == DONE:
        return await _done(ctx, event, parts[3])
    if code == CSV:
        return await _csv(msg, ctx, event)
    if not msg.is_private:  # an answer is typed: only in a private chat
        return [_private(ctx)]
    if code == IN:
        return await _begin_inbreng(ctx, event)
    return await _begin_meenemen(ctx, event)


def _private(ctx: Context) -> Reply:
    return Reply(
        text=ctx.t("agenda_answers.private"),
        private_invite=PrivateChatInvite("agenda", ctx.t("checkin.private_button")),
    )


# -- the hosts' checklist ----------------------------------------------------------------


async def _done(ctx: Context, event: Event, item: str) -> list[Reply]:
    if not organises(ctx, event):
        return _refused(ctx, "not_host", title=event.title)
    now = ctx.clock.now()
    if event.ends_at <= now:
        return _refused(ctx, "over", title=event.title)
    items = await ctx.db.prompts.items(event.id)
    if item not in items:
        return _refused(ctx, "unknown")
    changed = await ctx.db.prompts.mark_done(event.id, item, ctx.person.id, now)
    label = item_label(ctx, item)
    lines = [ctx.t("agenda_answers.done" if changed else "agenda_answers.done_already", item=label)]
    still = await ctx.db.prompts.open_items(event.id, items)
    if not still:
        lines.append(ctx.t("agenda_answers.all_done", title=event.title))
        return [Reply(text="\n".join(lines))]
    lines.append(ctx.t("agenda_answers.still_open", title=event.title))
    lines += [ctx.t("agenda_answers.open_line", item=item_label(ctx, i)) for i in still]
    choices = tuple(
        ctx.choice(
            "agenda_prompts.done", f"{ACTION}:{DONE}:{event.id}:{i}", item=item_label(ctx, i)
        )
        for i in still
    )
    return [Reply(text="\n".join(lines), choices=choices)]


# -- the inbreng as CSV ------------------------------------------------------------------


def csv_text(ctx: Context, event: Event, answers: list[PromptAnswer]) -> str:
    """One row per inbreng: naam, inbreng, wanneer (the event's local time)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = ("name", "inbreng", "when")
    writer.writerow([safe_cell(ctx.t(f"agenda_answers.column_{c}")) for c in columns])
    for answer in answers:
        local = wall_time(answer.created_at, event.zone)
        name = answer.name or ctx.t("agenda_answers.nameless")
        writer.writerow(
            [safe_cell(name), safe_cell(answer.text), local.isoformat(sep=" ", timespec="minutes")]
        )
    return out.getvalue()


async def _csv(msg: Incoming, ctx: Context, event: Event) -> list[Reply]:
    if not organises(ctx, event):
        return _refused(ctx, "not_host", title=event.title)
    if not msg.is_private:  # names and what they wrote: only in a private chat
        return [_private(ctx)]
    answers = await ctx.db.prompts.answers(event.id, INBRENG)
    now = ctx.clock.now()
    name = f"inbreng-{event.id}-{now:%Y%m%d%H%M%S}.csv"
    path = await ctx.files.export(ctx.person.id, name, csv_text(ctx, event, answers))
    # who took the list, never what is in it
    await ctx.db.audit.record(now, "agenda.inbreng_csv", ctx.person.id, f"event={event.id}")
    return [
        Reply(
            text=ctx.t("agenda_answers.csv_sent", title=event.title, count=len(answers)),
            document=Document(path=path, filename=f"inbreng-{_slug(event.title)}.csv"),
        )
    ]


# -- typed answers: the two flows ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerData:
    """The event an answer is for (its id, and its title for the question), and
    (``meenemen``) the text typed before the consent."""

    event_id: int
    title: str
    text: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "title": self.title, "text": self.text}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        text, title = data.get("text"), data["title"]
        if (text is not None and not isinstance(text, str)) or not isinstance(title, str):
            raise TypeError("text")
        return cls(int(data["event_id"]), title, text)


def may_bring_in(ctx: Context, event: Event) -> bool:
    """The event is for this person (its audience)."""
    return sees(event.audience, _viewer(ctx))


async def may_take_home(ctx: Context, event: Event) -> bool:
    """The event is for this person, or they said yes to it."""
    if sees(event.audience, _viewer(ctx)):
        return True
    rsvp = (await ctx.db.agenda.rsvps.of(ctx.person.id)).get(event.id)
    return rsvp is not None and rsvp.answer == YES


async def _begin_inbreng(ctx: Context, event: Event) -> list[Reply]:
    if not may_bring_in(ctx, event):
        return _refused(ctx, "not_for_you", title=event.title)
    if event.starts_at <= ctx.clock.now():
        return _refused(ctx, "inbreng_closed", title=event.title)
    return await INBRENG_FLOW.start(ctx, "text", AnswerData(event.id, event.title))


async def _begin_meenemen(ctx: Context, event: Event) -> list[Reply]:
    if not await may_take_home(ctx, event):
        return _refused(ctx, "not_for_you", title=event.title)
    now = ctx.clock.now()
    if event.starts_at > now:
        return _refused(ctx, "meenemen_early", title=event.title)
    if event.ends_at + AFTER < now:
        return _refused(ctx, "meenemen_closed", title=event.title)
    return await MEENEMEN_FLOW.start(ctx, "text", AnswerData(event.id, event.title))


def _ask(key: str) -> Ask[AnswerData]:
    def ask(ctx: Context, data: AnswerData, buttons: Buttons) -> Reply:
        return Reply(text=ctx.t(key, title=data.title), choices=(buttons(STOP),))

    return ask


async def _still_open(ctx: Context, data: AnswerData, prompt: str) -> Event | str:
    """The event when an answer may still be given; otherwise the message key why not."""
    event = await ctx.db.agenda.by_id(data.event_id)
    if event is None:
        return "unknown"
    if event.cancelled:
        return "gone"
    now = ctx.clock.now()
    if prompt == INBRENG and event.starts_at <= now:
        return "inbreng_closed"
    if prompt == MEENEMEN and event.ends_at + AFTER < now:
        return "meenemen_closed"
    return event


def _read_text(ctx: Context, answer: Answer) -> str | Reply:
    """The typed text, or a reply asking again (empty, too long)."""
    text = (answer.text or "").strip()
    if not text:
        return Reply(text=ctx.t("agenda_answers.type_text"))
    if len(text) > MAX_TEXT:
        return Reply(text=ctx.t("agenda_answers.too_long", limit=MAX_TEXT, length=len(text)))
    return text


async def _inbreng_text(ctx: Context, data: AnswerData, answer: Answer) -> Go[AnswerData]:
    event = await _still_open(ctx, data, INBRENG)
    if isinstance(event, str):
        return Go(None, say=(Reply(text=ctx.t(f"agenda_answers.{event}", title=data.title)),))
    read = _read_text(ctx, answer)
    if isinstance(read, Reply):
        return Go("text", say=(read,))
    await ctx.db.prompts.add_answer(event.id, ctx.person.id, INBRENG, read, True, ctx.clock.now())
    again = ctx.choice("agenda_answers.inbreng_more", f"{ACTION}:{IN}:{event.id}")
    thanks = Reply(text=ctx.t("agenda_answers.inbreng_thanks", title=event.title), choices=(again,))
    return Go(None, say=(thanks,))


async def _meenemen_text(ctx: Context, data: AnswerData, answer: Answer) -> Go[AnswerData]:
    event = await _still_open(ctx, data, MEENEMEN)
    if isinstance(event, str):
        return Go(None, say=(Reply(text=ctx.t(f"agenda_answers.{event}", title=data.title)),))
    read = _read_text(ctx, answer)
    if isinstance(read, Reply):
        return Go("text", say=(read,))
    return Go("share", AnswerData(event.id, event.title, read))


async def _meenemen_share(ctx: Context, data: AnswerData, answer: Answer) -> Go[AnswerData]:
    if answer.action not in (SHARE.name, PRIVATE.name) or data.text is None:
        return Go("share", say=(Reply(text=ctx.t("agenda_answers.share_unclear")),))
    event = await _still_open(ctx, data, MEENEMEN)
    if isinstance(event, str):
        return Go(None, say=(Reply(text=ctx.t(f"agenda_answers.{event}", title=data.title)),))
    share = answer.action == SHARE.name
    now = ctx.clock.now()
    await ctx.db.prompts.add_answer(event.id, ctx.person.id, MEENEMEN, data.text, share, now)
    key = "agenda_answers.meenemen_shared" if share else "agenda_answers.meenemen_private"
    return Go(None, say=(Reply(text=ctx.t(key, title=event.title)),))


def _share_ask(ctx: Context, data: AnswerData, buttons: Buttons) -> Reply:
    return Reply(
        text=ctx.t("agenda_answers.share_ask"),
        choices=(buttons(SHARE), buttons(PRIVATE), buttons(STOP)),
    )


def _stopped(ctx: Context, data: AnswerData) -> Go[AnswerData]:
    return Go(None, say=(Reply(text=ctx.t("agenda_answers.stopped")),))


INBRENG_FLOW: Flow[AnswerData] = Flow(
    name="agenda_inbreng",
    prefix="pri",
    data=AnswerData,
    steps=[Step("text", on=_inbreng_text, ask=_ask("agenda_answers.inbreng_ask"), actions=(STOP,))],
    stale="agenda_answers.stale",
    ttl=timedelta(days=2),
    means=typed_word,
    stop=STOP,
    stopped=_stopped,
)
MEENEMEN_FLOW: Flow[AnswerData] = Flow(
    name="agenda_meenemen",
    prefix="prm",
    data=AnswerData,
    steps=[
        Step("text", on=_meenemen_text, ask=_ask("agenda_answers.meenemen_ask"), actions=(STOP,)),
        Step("share", on=_meenemen_share, ask=_share_ask, actions=(SHARE, PRIVATE, STOP)),
    ],
    stale="agenda_answers.stale",
    ttl=timedelta(days=2),
    means=typed_word,
    stop=STOP,
    stopped=_stopped,
)
