"""/bericht's state, and choosing who gets the announcement with buttons.

:class:`ComposeData` is what the composer keeps between messages (the audience
chosen so far, the topic, the text, the attachment, when, urgent). The steps here
are the pickers: roles, gemeenten, organisations and topics, each a list of
buttons that turn one value on or off (a check mark shows what is on), or names
typed with commas between them. "Klaar" goes back to the audience step, which
:mod:`handlers.broadcast` declares with the rest of the flow.

The options a picker shows are kept in the state when it is asked
(``options``), so a button (``i<n>``: the n-th option shown) means what its
label said, even if the list changed in between.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Self

from bot.broadcast.audience import KIND_WORDS, Audience, AudienceError, closest, split_names
from bot.core.context import Context
from bot.core.flow import Action, Answer, Ask, Buttons, Go, Handler, Step
from bot.core.messages import Reply
from bot.people.directory import MAX_GEMEENTEN, MAX_ORGANISATIONS, Entry, directory
from bot.people.vocab import GRANTED_ROLES, TOPICS
from handlers.verbinders import verbinders_only

# Buttons a picker can offer: as many as the longest list may hold.
NAME = "bericht"  # the composer's flow (handlers.broadcast)
PICK_SLOTS = max(MAX_GEMEENTEN, MAX_ORGANISATIONS, len(GRANTED_ROLES), len(TOPICS))
ITEMS = tuple(Action(f"item_{n}", f"i{n}") for n in range(PICK_SLOTS))
ITEM_OF = {action.name: n for n, action in enumerate(ITEMS)}
# Typed, only the clear cancel words cancel ("annuleren", "stop": the ``cancel`` words
# of content/spinnenweb.yaml), never "klaar": that is done, and means "go on" where a
# Verder or Klaar button is (the ``done`` words). In a picker a typed cancel word ends
# the picking, not the composing; a pressed Annuleren still cancels.
DONE = Action("done", "d", label="compose.done", words=("yes", "done", "cancel"))
BACK = Action("back", "b", label="compose.back", words=("back",))
STOP = Action("stop", "x", label="compose.cancel", words=("cancel",))
STOP_PRESSED = replace(STOP, words=())
CHECK = "✓"
_LOOSE = re.compile(r"[\s_-]+")
# The kinds of filter: the state's field, and whether its values are codes (shown
# by their label in content/) or names (shown as they are).
PICKS = ("roles", "gemeenten", "organisations", "topics")
CODED = {"roles": GRANTED_ROLES, "topics": TOPICS}


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(name)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class ComposeData:
    """An announcement being composed."""

    everyone: bool = False
    roles: tuple[str, ...] = ()
    gemeenten: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    groups: bool = False
    topic: str = ""  # the announcement's own topic (what the unsubscribe tap turns off)
    text: str = ""
    attachment: dict[str, str] | None = None  # kind, and path, name or url
    urgent: bool = False
    send_at: datetime | None = None  # None: right away
    review: bool = False  # the preview was shown: each step after an edit leads back to it
    options: tuple[str, ...] = ()  # what the open picker shows, in order
    recipients: int = 0  # how many the last preview counted (0: nobody, so no Versturen)
    sent: int = 0  # the announcement's number once it was created (the step "sent")

    def audience(self) -> Audience:
        return Audience(
            everyone=self.everyone,
            roles=frozenset(self.roles),
            gemeenten=frozenset(self.gemeenten),
            organisations=frozenset(self.organisations),
            topics=frozenset(self.topics),
            groups=self.groups,
        )

    def with_audience(self, audience: Audience) -> ComposeData:
        return replace(
            self,
            everyone=audience.everyone,
            roles=tuple(r for r in GRANTED_ROLES if r in audience.roles),
            gemeenten=tuple(sorted(audience.gemeenten)),
            organisations=tuple(sorted(audience.organisations)),
            topics=tuple(t for t in TOPICS if t in audience.topics),
            groups=audience.groups,
        )

    @property
    def chosen(self) -> bool:
        """Someone is chosen: everyone, a filter, or the linked groups."""
        return self.everyone or self.groups or any(getattr(self, kind) for kind in PICKS)

    def to_data(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in (*PICKS, "options"):
            data[name] = list(data[name])
        data["send_at"] = self.send_at.isoformat() if self.send_at is not None else None
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, f.default)
            if f.name in (*PICKS, "options"):
                value = _strings(value, f.name)
            elif f.name == "send_at":
                value = datetime.fromisoformat(value) if value is not None else None
            elif f.name == "attachment":
                value = _attachment(value)
            elif not isinstance(value, type(f.default)):
                raise TypeError(f.name)
            values[f.name] = value
        return cls(**values)


def _attachment(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("attachment: an object of text expected")
    return dict(value)


def unclear(
    step: str, ctx: Context, key: str = "compose.unclear", **params: object
) -> Go[ComposeData]:
    """Not an answer ``step`` can use: say why (``key``) and ask it again."""
    return Go(step, say=(Reply(text=ctx.t(key, **params)),))


def loose(value: str) -> str:
    """A name as compared: case, spaces, hyphens and underscores do not matter."""
    return _LOOSE.sub("", value.strip().casefold())


def places(kind: str) -> tuple[Entry, ...]:
    """The gemeenten or the organisations one can choose (``bot.people.directory``)."""
    found = directory()
    return found.gemeenten if kind == "gemeenten" else found.organisations


def options(kind: str) -> tuple[str, ...]:
    """What the picker of ``kind`` offers: codes or ids, in the order shown."""
    return CODED[kind] if kind in CODED else tuple(e.id for e in places(kind))


def label(ctx: Context, kind: str, value: str) -> str:
    """How a value reads: a role or topic by its label in content/, a gemeente or
    organisation by its name (an id no longer on the list as it is)."""
    if kind in CODED:
        return ctx.t(f"compose.{kind}.{value}")
    return next((e.name for e in places(kind) if e.id == value), value)


def names(ctx: Context, kind: str, values: Sequence[str]) -> str:
    return ctx.t("compose.or").join(label(ctx, kind, v) for v in values)


def _chosen_lines(ctx: Context, data: ComposeData) -> list[str]:
    """Who is chosen, a line per kind ("Rol: Gangmakers", "Gemeente: Leiden of
    Teylingen")."""
    lines = [ctx.t("compose.summary.everyone")] if data.everyone else []
    lines += [
        ctx.t(f"compose.summary.{kind}", names=names(ctx, kind, getattr(data, kind)))
        for kind in PICKS
        if getattr(data, kind)
    ]
    if data.groups:
        lines.append(ctx.t("compose.summary.groups"))
    return lines


def summary(ctx: Context, data: ComposeData) -> str:
    """Who is chosen, a line per kind, and the same as an expression one could type."""
    if not data.chosen:
        return ctx.t("compose.audience_none")
    lines = _chosen_lines(ctx, data)
    lines.append(ctx.t("compose.summary.expression", expression=data.audience().text()))
    return "\n".join(lines)


def in_words(ctx: Context, audience: Audience) -> str:
    """An audience on one line, in words as the composer shows it: "Rol: Gangmakers ·
    Gemeente: Leiden of Teylingen"."""
    data = ComposeData().with_audience(audience)
    if not data.chosen:
        return ctx.t("compose.audience_none")
    return ctx.t("compose.separator").join(_chosen_lines(ctx, data))


# -- typed names: what is known, and what was meant ---------------------------------------

# The kinds of an audience expression (bot.broadcast.audience) and their pickers.
PICK_OF = dict(zip(KIND_WORDS, PICKS, strict=True))


def labels(ctx: Context) -> dict[str, dict[str, str]]:
    """Per kind of an expression, the names on the buttons and the value each names
    ("Gangmakers" → gangmaker, "Kaag en Braassem" → kaag-en-braassem)."""
    return {
        kind: {label(ctx, pick, value): value for value in options(pick)}
        for kind, pick in PICK_OF.items()
    }


def _did_you_mean(ctx: Context, text: str, meant: str | None) -> str:
    if meant is None:
        return text
    return "\n".join((text, ctx.t("compose.did_you_mean", suggestion=meant)))


def not_known(ctx: Context, exc: AudienceError) -> str:
    """A word of a typed audience not understood: which, what one can type there
    (the values of its kind, or the kinds), and what was probably meant."""
    if exc.kind is None:
        head = exc.word.partition(":")[0]
        meant = closest(head, [w for words in KIND_WORDS.values() for w in words])
        return _did_you_mean(ctx, ctx.t("compose.audience_unknown", word=exc.word), meant)
    pick = PICK_OF[exc.kind]
    values = options(pick)
    text = ctx.t(
        "compose.audience_unknown_value",
        word=exc.value or exc.word,
        kind=ctx.t(f"compose.kinds.{pick}"),
        options=", ".join(values),
    )
    meant = closest(exc.value, values) if exc.value else None
    return _did_you_mean(ctx, text, f"{exc.kind}:{meant}" if meant else None)


# -- the pickers ---------------------------------------------------------------------


def open_picker(kind: str, data: ComposeData) -> Go[ComposeData]:
    """Show the picker of ``kind`` with its options now (kept in the state)."""
    return Go(kind, replace(data, options=options(kind)))


def _ask_pick(kind: str) -> Ask[ComposeData]:
    def ask(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
        on = set(getattr(data, kind))
        shown = data.options[:PICK_SLOTS]
        buttons = tuple(
            b.text(ITEMS[n], f"{CHECK} {label(ctx, kind, v)}" if v in on else label(ctx, kind, v))
            for n, v in enumerate(shown)
        )
        return Reply(
            text=ctx.t(f"compose.pick.{kind}"),
            choices=(*buttons, b(DONE), b(BACK), b(STOP_PRESSED)),
        )

    return ask


def _set(data: ComposeData, kind: str, values: tuple[str, ...]) -> ComposeData:
    """``kind`` set to ``values``: a filter, so no longer everyone."""
    changes: dict[str, Any] = {kind: values, "everyone": False}
    return replace(data, **changes)


def _toggle(data: ComposeData, kind: str, value: str) -> ComposeData:
    values = getattr(data, kind)
    return _set(
        data, kind, tuple(v for v in values if v != value) if value in values else (*values, value)
    )


def _typed(ctx: Context, kind: str, data: ComposeData, text: str) -> Go[ComposeData]:
    """Names typed with commas, "en", "of" or "&" between them (as on the buttons, or
    the ids): each one is added, and the audience step is asked again."""
    known = {loose(label(ctx, kind, v)): v for v in data.options}
    known |= {loose(v): v for v in data.options}
    added = dict.fromkeys(getattr(data, kind))
    for piece in text.split(","):
        for word in split_names(piece, lambda name: loose(name) in known):
            value = known.get(loose(word))
            if value is None:
                return Go(kind, say=(Reply(text=_pick_unknown(ctx, kind, data, word)),))
            added[value] = None
    if not added:
        return Go(kind, say=(Reply(text=ctx.t("compose.unclear")),))
    return Go("audience", replace(_set(data, kind, tuple(added)), options=()))


def _pick_unknown(ctx: Context, kind: str, data: ComposeData, word: str) -> str:
    names = [label(ctx, kind, v) for v in data.options]
    text = ctx.t("compose.pick_unknown", word=word, options=", ".join(names))
    return _did_you_mean(ctx, text, closest(word, names))


def _on_pick(kind: str) -> Handler[ComposeData]:
    async def on(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
        if answer.action == DONE.name:
            return Go("audience", replace(data, options=()))
        number = ITEM_OF.get(answer.action or "")
        if number is not None and number < len(data.options):
            return Go(kind, _toggle(data, kind, data.options[number]))
        if answer.action is None and answer.text:
            return _typed(ctx, kind, data, answer.text)
        return Go(kind, say=(Reply(text=ctx.t("compose.unclear")),))

    return on


def _back_to_audience(data: ComposeData) -> tuple[str, ComposeData]:
    return "audience", replace(data, options=())


PICK_STEPS: tuple[Step[ComposeData], ...] = tuple(
    Step(
        kind,
        verbinders_only(NAME, _on_pick(kind)),
        _ask_pick(kind),
        (DONE, STOP_PRESSED, BACK, *ITEMS),
        back=_back_to_audience,
    )
    for kind in PICKS
)
