"""/agenda beheer: a verbinder adds, changes or cancels an event in the chat.

A declared flow (:mod:`bot.core.flow`) over :class:`~handlers.agenda_manage_fields.Draft`
with stamped buttons (``am:<run>:<turn>:<code>``), so an old, second or forged press
changes nothing. Only verbinders (every step checks again; anyone else is refused and
audited, as in /bericht), only in a private chat. The steps:

menu → new: kind → title → when (a date and a start, and an end on the same line or
asked next, with a default length per kind) → place → hosts → audience → capacity →
preview → Opslaan / Wijzigen (a field, then the preview again) / Stoppen.
menu → change: pick (the upcoming events, numbered) → preview → ...
menu → cancel: pick → confirm → ``repos.agenda.cancel``.

Saving is ``repos.agenda.save``: a change raises the event's sequence, which the
reminders and the calendars follow by themselves. What each field accepts is in
:mod:`handlers.agenda_manage_fields`, the state and the checks in
:mod:`handlers.agenda_manage_state`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from bot.agenda.model import KINDS
from bot.agenda.typed import default_end
from bot.agenda.words import when
from bot.core.context import Context
from bot.core.flow import Action, Answer, Ask, Buttons, Flow, Go, Handler, Step
from bot.core.messages import Incoming, PrivateChatInvite, Reply
from bot.people.directory import directory
from handlers import agenda_manage_fields as fields
from handlers.agenda import card
from handlers.agenda_manage_state import NAME, Draft, clock, examples, moment_words, say
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word

SHOWN = 10  # events the pick list offers (the soonest)

STOP = Action("stop", "x", label="agenda_manage.stop", words=("cancel",))
BACK = Action("back", "b", label="agenda_manage.back", words=("back",))
NEW = Action("new", "mn", label="agenda_manage.new")
CHANGE = Action("change", "me", label="agenda_manage.change")
CANCEL = Action("cancel_event", "mc", label="agenda_manage.cancel")
ITEMS = tuple(Action(f"item_{n}", f"i{n}") for n in range(SHOWN))
CONFIRM = Action("confirm", "cy", label="agenda_manage.confirm_cancel", words=("yes",))
KIND = {
    kind: Action(f"kind_{kind}", f"k{n}", label=f"agenda_manage.kinds.{kind}")
    for n, kind in enumerate(KINDS)
}
DEFAULT_END = Action("default_end", "de", label="agenda_manage.end_default")
NO_PLACE = Action("no_place", "p0", label="agenda_manage.place_none", words=("skip",))
NO_HOSTS = Action("no_hosts", "h0", label="agenda_manage.hosts_none", words=("skip",))
EVERYONE = Action("everyone", "a0", label="agenda_manage.everyone")
NO_LIMIT = Action("no_limit", "c0", label="agenda_manage.no_limit", words=("skip",))
SAVE = Action("save", "s", label="agenda_manage.save")
EDIT = Action("edit", "e", label="agenda_manage.edit")
FIELDS = ("kind", "title", "when", "place", "hosts", "audience", "capacity")
EDITS = {
    f: Action(f"edit_{f}", f"f{n}", label=f"agenda_manage.edit_{f}") for n, f in enumerate(FIELDS)
}
TO_PREVIEW = Action("to_preview", "ep", label="agenda_manage.to_preview")


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """``/agenda beheer``: verbinders only, in a private chat; always a new run."""
    if not ctx.is_admin:
        return await refuse(ctx, f"command={NAME}")
    if not msg.is_private:
        invite = PrivateChatInvite("agenda", ctx.t("agenda_manage.private_button"))
        return [Reply(text=ctx.t("agenda_manage.private_only"), private_invite=invite)]
    return await FLOW.start(ctx, "menu", Draft(zone=ctx.settings.timezone))


def _stopped(ctx: Context, data: Draft) -> Go[Draft]:
    return Go(None, say=(Reply(text=ctx.t("agenda_manage.stopped")),))


# -- what each step asks --------------------------------------------------------------------


def _ask(key: str, *offered: Action, step: str = "") -> Ask[Draft]:
    """A prompt: ``key``, the field's value now (after Wijzigen), its buttons."""

    def ask(ctx: Context, data: Draft, b: Buttons) -> Reply:
        prompt = ctx.t(key, **examples(ctx))
        text = "\n\n".join(t for t in (prompt, fields.current(ctx, data, step)) if t)
        back = b.back(step, data) if step else ()
        return Reply(text=text, choices=(*(b(a) for a in offered), *back, b(STOP)))

    return ask


def _ask_menu(ctx: Context, data: Draft, b: Buttons) -> Reply:
    return Reply(text=ctx.t("agenda_manage.menu"), choices=(b(NEW), b(CHANGE), b(CANCEL), b(STOP)))


def _ask_pick(ctx: Context, data: Draft, b: Buttons) -> Reply:
    key = "agenda_manage.pick_cancel" if data.purpose == "cancel" else "agenda_manage.pick_edit"
    lines = [ctx.t(key), *(f"{n}. {label}" for n, label in enumerate(data.labels, start=1))]
    buttons = tuple(b.text(ITEMS[n], str(n + 1)) for n in range(len(data.options)))
    return Reply(text="\n".join(lines), choices=(*buttons, b(BACK), b(STOP)))


def _ask_confirm(ctx: Context, data: Draft, b: Buttons) -> Reply:
    text = ctx.t(
        "agenda_manage.confirm", title=data.title, when=when(ctx.texts, data.data(), ctx.lang)
    )
    return Reply(text=text, choices=(b(CONFIRM), b(BACK), b(STOP)))


def _ask_kind(ctx: Context, data: Draft, b: Buttons) -> Reply:
    return _ask("agenda_manage.ask_kind", *KIND.values(), step="kind")(ctx, data, b)


def _ask_end(ctx: Context, data: Draft, b: Buttons) -> Reply:
    start = data.data().start
    end = default_end(data.kind, start)
    hours, minutes = divmod(int((end - start).total_seconds()) // 60, 60)
    length = ctx.t(
        "agenda_manage.length_hm" if minutes else "agenda_manage.length_h",
        hours=hours,
        minutes=minutes,
    )
    example = clock(ctx, start + timedelta(hours=2))
    text = ctx.t("agenda_manage.ask_end", start=moment_words(ctx, start), example=example)
    default = b(DEFAULT_END, time=clock(ctx, end), length=length)
    return Reply(text=text, choices=(default, *b.back("end", data), b(STOP)))


def _ask_hosts(ctx: Context, data: Draft, b: Buttons) -> Reply:
    names = ", ".join(e.name for e in directory().organisations)
    prompt = _ask("agenda_manage.ask_hosts", NO_HOSTS, step="hosts")(ctx, data, b)
    return replace(
        prompt, text="\n\n".join((prompt.text, ctx.t("agenda_manage.hosts_known", names=names)))
    )


def _ask_capacity(ctx: Context, data: Draft, b: Buttons) -> Reply:
    prompt = _ask("agenda_manage.ask_capacity", NO_LIMIT, step="capacity")(ctx, data, b)
    # Geen maximum is 0 seats: a typed number is seats, never a button's position.
    numbers = (0, *(None for _ in prompt.choices[1:]))
    return replace(prompt, choice_numbers=numbers)


def _ask_preview(ctx: Context, data: Draft, b: Buttons) -> Reply:
    return Reply(text=ctx.t("agenda_manage.preview_what"), choices=(b(SAVE), b(EDIT), b(STOP)))


def _ask_edit(ctx: Context, data: Draft, b: Buttons) -> Reply:
    edits = tuple(b(action) for action in EDITS.values())
    return Reply(text=ctx.t("agenda_manage.edit_what"), choices=(*edits, b(TO_PREVIEW), b(STOP)))


# -- what each answer does -------------------------------------------------------------------


async def on_menu(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
    if answer.action == NEW.name:
        return Go("kind", Draft(zone=ctx.settings.timezone))
    if answer.action in (CHANGE.name, CANCEL.name):
        events = await ctx.db.agenda.upcoming(ctx.clock.now(), limit=SHOWN)
        if not events:
            return say("menu", ctx, "agenda_manage.pick_none")
        purpose = "cancel" if answer.action == CANCEL.name else "edit"
        labels = tuple(f"{e.title}, {when(ctx.texts, e, ctx.lang)}" for e in events)
        options = tuple(e.uid for e in events)
        return Go("pick", replace(data, purpose=purpose, options=options, labels=labels))
    return say("menu", ctx, "agenda_manage.unclear")


async def on_pick(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
    number = next((n for n, a in enumerate(ITEMS) if a.name == answer.action), None)
    typed = (answer.text or "").strip().rstrip(".")
    if number is None and typed.isascii() and typed.isdigit():
        number = int(typed) - 1
    if number is None or not 0 <= number < len(data.options):
        return say("pick", ctx, "agenda_manage.pick_unclear", count=len(data.options))
    event = await ctx.db.agenda.get(data.options[number])
    if event is None or event.cancelled or event.ends_at <= ctx.clock.now():
        return say("menu", ctx, "agenda_manage.pick_gone")
    if data.purpose == "cancel":
        picked = replace(Draft.of(event, "cancel"), options=data.options, labels=data.labels)
        return Go("confirm", picked, say=(card(ctx, event, None, buttons=False),))
    return await fields.to_preview(ctx, Draft.of(event))


async def on_confirm(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
    if answer.action != CONFIRM.name:
        return say("confirm", ctx, "agenda_manage.unclear")
    event = await ctx.db.agenda.cancel(data.uid, ctx.clock.now())
    if event is None:
        return say("menu", ctx, "agenda_manage.pick_gone")
    return Go(None, say=(Reply(text=ctx.t("agenda_manage.cancelled", title=event.title)),))


async def on_kind(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
    kind = next((k for k, a in KIND.items() if a.name == answer.action), None)
    if kind is None:
        return say("kind", ctx, "agenda_manage.kind_unclear")
    return await fields.take_kind(ctx, data, kind)


Take = Callable[[Context, Draft, str | None], Awaitable[Go[Draft]]]


def _typed(step: str, take: Take, none: Action | None = None) -> Handler[Draft]:
    """A step that takes typed text, or ``none``'s button (``take`` gets None)."""

    async def on(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
        if none is not None and answer.action == none.name:
            return await take(ctx, data, None)
        if answer.action is None and (answer.text or "").strip():
            return await take(ctx, data, answer.text)
        return say(step, ctx, "agenda_manage.unclear")

    return on


async def on_preview(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
    if answer.action == SAVE.name:
        return await fields.save(ctx, data)
    if answer.action == EDIT.name:
        return Go("edit")
    return say("preview", ctx, "agenda_manage.unclear")


async def on_edit(ctx: Context, data: Draft, answer: Answer) -> Go[Draft]:
    if answer.action == TO_PREVIEW.name:
        return await fields.to_preview(ctx, data)
    field = next((f for f, a in EDITS.items() if a.name == answer.action), None)
    return Go(field) if field is not None else say("edit", ctx, "agenda_manage.unclear")


# -- back ----------------------------------------------------------------------------------


def _back(before: str) -> Callable[[Draft], tuple[str, Draft] | None]:
    """Back to ``before``; after the preview was shown, to the choice of a field."""
    return lambda data: ("edit" if data.review else before, data)


def _step(
    name: str,
    on: Handler[Draft],
    ask: Ask[Draft],
    actions: tuple[Action, ...],
    back: str,
) -> Step[Draft]:
    """A step after the menu: Stoppen and Terug besides its own ``actions``."""
    return Step(name, verbinders_only(NAME, on), ask, (STOP, BACK, *actions), back=_back(back))


def _field(name: str, take: Take, back: str, none: Action | None = None) -> Step[Draft]:
    """A field that is typed (or ``none``: no value): asked with ``agenda_manage.ask_<name>``."""
    offered = (none,) if none is not None else ()
    ask = _ask(f"agenda_manage.ask_{name}", *offered, step=name)
    return _step(name, _typed(name, take, none), ask, offered, back)


FLOW: Flow[Draft] = Flow(
    name=NAME,
    prefix="am",
    data=Draft,
    steps=[
        Step("menu", verbinders_only(NAME, on_menu), _ask_menu, (STOP, NEW, CHANGE, CANCEL)),
        _step("pick", on_pick, _ask_pick, ITEMS, "menu"),
        Step(
            "confirm",
            verbinders_only(NAME, on_confirm),
            _ask_confirm,
            (STOP, BACK, CONFIRM),
            back=lambda data: ("pick", replace(data, purpose="cancel")),
        ),
        _step("kind", on_kind, _ask_kind, tuple(KIND.values()), "menu"),
        _field("title", fields.take_title, "kind"),
        _field("when", fields.take_when, "title"),
        _step("end", _typed("end", fields.take_end, DEFAULT_END), _ask_end, (DEFAULT_END,), "when"),
        _field("place", fields.take_place, "when", NO_PLACE),
        _step(
            "hosts", _typed("hosts", fields.take_hosts, NO_HOSTS), _ask_hosts, (NO_HOSTS,), "place"
        ),
        _field("audience", fields.take_audience, "hosts", EVERYONE),
        _step(
            "capacity",
            _typed("capacity", fields.take_capacity, NO_LIMIT),
            _ask_capacity,
            (NO_LIMIT,),
            "audience",
        ),
        Step("preview", verbinders_only(NAME, on_preview), _ask_preview, (STOP, SAVE, EDIT)),
        Step(
            "edit", verbinders_only(NAME, on_edit), _ask_edit, (STOP, *EDITS.values(), TO_PREVIEW)
        ),
    ],
    stale="agenda_manage.stale",
    on_stale=stale_or_refused(NAME, "agenda_manage.stale"),
    ttl=timedelta(days=2),
    means=typed_word,
    stop=STOP,
    stopped=_stopped,
    back=BACK,
    at_first="agenda_manage.first",
)
