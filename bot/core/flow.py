"""Declared conversations: a flow names its steps, what each step asks, the answers
it accepts and where each answer leads; the engine here does the rest.

A flow is declared once (see ``handlers/forget.py`` for a small one)::

    FORGET = Flow(
        name="vergeet", prefix="vm", data=ForgetData, ttl=timedelta(hours=1),
        steps=[Step("confirm", ask="forget.confirm", actions=(YES, NO), on=confirm)],
        stale="forget.stale",
    )

and registered with ``FORGET.register(router)``. What the engine does, in one place:

- **Stamps.** Every prompt gets a new *turn*; every conversation a *run*. A button
  carries both, ``<prefix>:<run>:<turn>:<code>``, so an old button, a second press
  or forged data is refused (``stale``) and changes nothing.
- **Answers.** A button names an :class:`Action` by its short ``code``; typed text
  names one by its ``words`` (``yes``, ``no``, ``stop`` … in Dutch and English, from
  ``content/spinnenweb.yaml``), or is handed to the step as text.
- **State.** Each flow keeps a typed dataclass with ``to_data``/``from_data``; the
  engine stores it (encrypted, with the step, the run and the turn) and reads it
  back. A stored state this version cannot read is dropped with a polite restart.
- **Transitions.** A step's handler returns :class:`Go`: the next step (or the end),
  the new data, what to say first, and :class:`Effect` s that run inside the
  message's unit of work or after it commits.
- **Expiry.** The stored conversation expires after the flow's ``ttl``; a button
  pressed after that is refused like any old button.
- **Stale.** By default an old button gets the flow's ``stale`` line. A flow with an
  ``on_stale`` hook answers it itself; :meth:`Flow.again` re-asks the open step with
  fresh buttons (the check-in: "that button has expired", and where you were).
- **Restart.** ``Go(..., restart=True)`` begins a new run: every button of the old
  one is stale from then on.

Pause, resume and back are not the engine's: the check-in, the one flow that has
them, declares them as its own steps (``paused``, ``resume``) and actions.

Handlers stay small and testable: a step's ``on`` is an ordinary async function of
the context, the data and the answer, so a table of (step, answer) → expected
``Go`` tests a flow without a database (``tests/unit/test_flow.py``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from bot.core.messages import Choice, Incoming, PressOutcome, Reply
from bot.core.state import State

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.router import Router

log = logging.getLogger(__name__)


class FlowData(Protocol):
    """A flow's typed state: written to and read from the stored conversation."""

    def to_data(self) -> dict[str, Any]: ...

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Raise ``KeyError``, ``TypeError`` or ``ValueError`` for a shape it cannot read."""
        ...


D = TypeVar("D", bound=FlowData)


@dataclass(frozen=True, slots=True)
class Action:
    """One answer a step accepts: a button, typed words, or both."""

    name: str  # what it means, in code: "confirm", "keep", "score"
    code: str  # short, on the wire: "yes", "y", "7"
    label: str | None = None  # content key of its button; None: typed only
    words: tuple[str, ...] = ()  # meanings that type it (Spinnenweb.means): "yes", "stop"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the person answered: a named action, typed text, or both."""

    action: str | None  # the action's name; None when the text named none
    text: str | None = None  # the typed text; None for a press


@dataclass(frozen=True, slots=True)
class Effect:
    """Something a transition does besides changing the conversation."""

    name: str  # what it does, for tests and logs: "forget_person"
    run: Callable[[], Awaitable[object] | object]
    after_commit: bool = False  # True: only once the message's transaction landed


@dataclass(frozen=True, slots=True)
class Go(Generic[D]):
    """Where an answer leads."""

    to: str | None  # the next step; None: the conversation ends
    data: D | None = None  # the new state (None: unchanged)
    say: tuple[Reply, ...] = ()  # before the next prompt; at the end, the last words
    effects: tuple[Effect, ...] = ()
    restart: bool = False  # True: a new run, so every earlier button is stale


@dataclass(frozen=True, slots=True)
class Stamp:
    run: str
    turn: int


Handler = Callable[["Context", D, Answer], Awaitable[Go[D]]]
Ask = Callable[["Context", D, "Buttons"], Reply]


@dataclass(frozen=True)
class Step(Generic[D]):
    """One question of a flow: what it asks, what it accepts, what follows."""

    name: str
    on: Handler[D]
    ask: str | Ask[D] = ""  # a content key (the text, with the labelled actions as
    # buttons), or a function that builds the prompt with ``Buttons``
    actions: tuple[Action, ...] = ()

    def by_code(self, code: str) -> Action | None:
        return next((a for a in self.actions if a.code == code), None)


def _new_run() -> Stamp:
    """A new conversation: a fresh run id; the first prompt gets turn 1."""
    return Stamp(secrets.token_hex(3), 0)


@dataclass(frozen=True)
class Buttons:
    """Makes the stamped buttons of one prompt."""

    flow: Flow[Any]
    ctx: Context
    stamp: Stamp

    def __call__(self, action: Action, *, key: str | None = None, **params: object) -> Choice:
        label = key or action.label
        if label is None:
            raise ValueError(f"action {action.name!r} has no button label")
        return self.ctx.choice(label, self.flow.wire(self.stamp, action.code), **params)

    def text(self, action: Action, label: str) -> Choice:
        """A button with a label that is already text (not a content key)."""
        return Choice(label, self.flow.wire(self.stamp, action.code))


@dataclass
class Flow(Generic[D]):
    """A declared conversation; see the module's doc."""

    name: str  # the stored conversation's name
    prefix: str  # of its buttons' data (no ":")
    data: type[D]
    steps: Sequence[Step[D]]
    stale: str  # content key: an old or forged button
    ttl: timedelta = timedelta(days=30)
    restarted: str = "errors.state_reset"  # content key: a stored state we cannot read
    means: Callable[[Context, str, str], bool] | None = None  # does text say a word?
    # An old, second or forged press; None: the ``stale`` line (see :meth:`again`)
    on_stale: Callable[[Context], Awaitable[list[Reply]]] | None = None
    _by_name: dict[str, Step[D]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if ":" in self.prefix:
            raise ValueError(f"flow prefix {self.prefix!r} must not contain ':'")
        self._by_name = {}
        for step in self.steps:
            if step.name in self._by_name:
                raise ValueError(f"flow {self.name!r}: step {step.name!r} declared twice")
            codes = [a.code for a in step.actions]
            if len(set(codes)) != len(codes) or any(":" in c for c in codes):
                raise ValueError(f"flow {self.name!r}, step {step.name!r}: bad action codes")
            self._by_name[step.name] = step

    # -- wiring --------------------------------------------------------------
    def register(self, router: Router, *, stamped_buttons: bool = True) -> None:
        """Route this flow's buttons and the text typed while it is open to it.

        ``stamped_buttons=False``: the prompts offer plain actions that work at any
        time (``/taal``'s languages), handled elsewhere; only typed answers come here.
        """
        if stamped_buttons:
            router.action(self.prefix, self.pressed)
        router.flow(self.name, self.typed)

    def wire(self, stamp: Stamp, code: str) -> str:
        return f"{self.prefix}:{stamp.run}:{stamp.turn}:{code}"

    # -- reading the stored conversation ------------------------------------
    def current(self, ctx: Context) -> tuple[str, D, Stamp] | None:
        """This flow's open conversation: (step, data, stamp); None when there is none.

        Raises ``ValueError`` when it is this flow's but its data cannot be read."""
        state = ctx.state
        if state is None or state.flow != self.name:
            return None
        raw = dict(state.data)
        try:
            stamp = Stamp(str(raw.pop("run")), int(raw.pop("turn")))
            data = self.data.from_data(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"flow {self.name!r}: stored state not readable") from exc
        if state.step not in self._by_name:
            raise ValueError(f"flow {self.name!r}: unknown step {state.step!r}")
        return state.step, data, stamp

    # -- entry points ---------------------------------------------------------
    async def start(
        self, ctx: Context, step: str, data: D, say: Sequence[Reply] = ()
    ) -> list[Reply]:
        """Begin a new run at ``step``."""
        return await self.move(ctx, step, data, _new_run(), say)

    async def again(self, ctx: Context, say: Sequence[Reply] = ()) -> list[Reply] | None:
        """Ask the open step again with fresh buttons (a new turn); nothing else
        changes. None when this flow has no open conversation."""
        open_ = self.current(ctx)
        if open_ is None:
            return None
        step, data, stamp = open_
        return await self.move(ctx, step, data, stamp, say)

    async def pressed(self, msg: Incoming, ctx: Context) -> list[Reply]:
        """A button of this flow: only the current prompt's buttons count."""
        parts = (msg.action or "").split(":")
        try:
            open_ = self.current(ctx)
        except ValueError:
            return await self._restart(ctx)
        if (
            len(parts) != 4
            or open_ is None
            or not (parts[2].isascii() and parts[2].isdigit())
            or (parts[1], int(parts[2])) != (open_[2].run, open_[2].turn)
        ):
            return await self._refuse(ctx)
        step_name, data, stamp = open_
        step = self._by_name[step_name]
        action = step.by_code(parts[3])
        if action is None:  # forged: a code this step never offered
            return await self._refuse(ctx)
        go = await step.on(ctx, data, Answer(action.name))
        return await self._apply(ctx, data, stamp, go)

    async def typed(self, msg: Incoming, ctx: Context) -> list[Reply]:
        """Typed text while this flow is open: the action its words name, or text."""
        try:
            open_ = self.current(ctx)
        except ValueError:
            return await self._restart(ctx)
        if open_ is None:  # the router sends text here only while the flow is open
            return await self._refuse(ctx)
        step_name, data, stamp = open_
        step = self._by_name[step_name]
        action = self._read(ctx, step, msg.text)
        go = await step.on(ctx, data, Answer(action.name if action else None, msg.text))
        return await self._apply(ctx, data, stamp, go)

    # -- the engine ----------------------------------------------------------
    def _read(self, ctx: Context, step: Step[D], text: str) -> Action | None:
        means = self.means
        if means is None:
            return None
        return next((a for a in step.actions if any(means(ctx, w, text) for w in a.words)), None)

    async def _apply(self, ctx: Context, data: D, stamp: Stamp, go: Go[D]) -> list[Reply]:
        for effect in go.effects:
            if effect.after_commit:
                ctx.on_commit(effect.run)
            else:
                result = effect.run()
                if isinstance(result, Awaitable):
                    await result
        new = go.data if go.data is not None else data
        if go.to is None:
            if ctx.state is not None and ctx.state.flow == self.name:
                await ctx.clear_state()
            return list(go.say)
        return await self.move(ctx, go.to, new, _new_run() if go.restart else stamp, go.say)

    async def move(
        self, ctx: Context, to: str, data: D, stamp: Stamp, say: Sequence[Reply]
    ) -> list[Reply]:
        """Store ``to`` with a new turn and ask what it asks."""
        step = self._by_name[to]
        stamp = Stamp(stamp.run, stamp.turn + 1)
        stored = {"run": stamp.run, "turn": stamp.turn, **data.to_data()}
        await ctx.set_state(State(flow=self.name, step=to, data=stored), ttl=self.ttl)
        return [*say, self.prompt(ctx, step, data, stamp)]

    def prompt(self, ctx: Context, step: Step[D], data: D, stamp: Stamp) -> Reply:
        buttons = Buttons(self, ctx, stamp)
        if callable(step.ask):
            return step.ask(ctx, data, buttons)
        labelled = tuple(buttons(a) for a in step.actions if a.label is not None)
        return Reply(text=ctx.t(step.ask), choices=labelled)

    async def _refuse(self, ctx: Context) -> list[Reply]:
        if self.on_stale is not None:
            return await self.on_stale(ctx)
        return [Reply(text=ctx.t(self.stale), press_outcome=PressOutcome.STALE)]

    async def _restart(self, ctx: Context) -> list[Reply]:
        log.warning("conversation %s: stored state not readable; dropped", self.name)
        await ctx.clear_state()
        return [Reply(text=ctx.t(self.restarted))]
