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

- **Stop, back, pause and resume.** A flow may name the :class:`Action` that ends
  it from any step (``stop`` with ``stopped``: what is said), the one that goes
  back (a step's ``back`` says where to; at the first step the flow's ``at_first``
  line), and :class:`Pause`: the answer that puts it aside, the ``paused`` prompt,
  and what :meth:`Flow.open` asks when the person opens the flow while it is open
  ("go on where you were, or begin again?"). The engine keeps the two steps this
  takes (``paused``, ``resume``) and where "go on" leads, in the stored state.

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
    on: Handler[D] | None  # None only for the engine's own steps (``paused``, ``resume``)
    ask: str | Ask[D] = ""  # a content key (the text, with the labelled actions as
    # buttons), or a function that builds the prompt with ``Buttons``
    actions: tuple[Action, ...] = ()
    # Where the flow's ``back`` answer leads from here: (step, data), or None when
    # there is nothing before (the flow's ``at_first`` line). None: no back here.
    back: Callable[[D], tuple[str, D] | None] | None = None

    def by_code(self, code: str) -> Action | None:
        return next((a for a in self.actions if a.code == code), None)


def _new_run() -> Stamp:
    """A new conversation: a fresh run id; the first prompt gets turn 1."""
    return Stamp(secrets.token_hex(3), 0)


PAUSED, RESUME = "paused", "resume"  # the engine's own steps of a flow with a Pause
# Where "go on" leads from them, stored beside the run and the turn (the names the
# check-in stored before the engine, so an older conversation resumes).
_GO_ON_KEY = {PAUSED: "paused_step", RESUME: "resume_step"}

TextHandler = Callable[[Incoming, "Context"], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Pause(Generic[D]):
    """A flow that can be put aside and picked up again (the check-in)."""

    pause: Action  # puts it aside; a step that offers it lists it in its actions
    go_on: Action  # picks it up where it was: on the paused and the reopened prompt
    again: Action  # begins anew, a new run at ``Flow.first``: on the reopened prompt
    paused: str  # content key: the prompt while it is put aside
    reopened: Ask[D]  # asked by ``Flow.open`` while a conversation is open
    unclear: str  # content key: an answer the reopened prompt does not understand
    # Typed text while put aside is not an answer: it goes here (the check-in: a
    # question to the bot). None: the paused prompt again.
    aside: TextHandler | None = None


@dataclass(frozen=True, slots=True)
class Open(Generic[D]):
    """A flow's open conversation, as stored."""

    step: str
    data: D
    stamp: Stamp
    go_on: str | None = None  # paused or reopened: where "go on" leads


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

    def back(self, step: str, data: Any) -> tuple[Choice, ...]:
        """The flow's back button, when ``step`` has somewhere to go back to."""
        back, declared = self.flow.back, self.flow.step_named(step).back
        if back is None or declared is None or declared(data) is None:
            return ()
        return (self(back),)


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
    # Where a new conversation begins (``open``; ``Pause.again``): (step, data)
    first: Callable[[Context], tuple[str, D]] | None = None
    # The answer that ends the conversation from any step that lists it, and what
    # that ends with (the last words).
    stop: Action | None = None
    stopped: Callable[[Context, D], Go[D]] | None = None
    back: Action | None = None  # goes back, where the step's ``back`` says
    at_first: str = ""  # content key: "back" where there is nothing before
    pause: Pause[D] | None = None
    _by_name: dict[str, Step[D]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if ":" in self.prefix:
            raise ValueError(f"flow prefix {self.prefix!r} must not contain ':'")
        self._by_name = {}
        if any(step.on is None for step in self.steps):
            raise ValueError(f"flow {self.name!r}: every declared step needs a handler")
        for step in [*self.steps, *self._pause_steps()]:
            if step.name in self._by_name:
                raise ValueError(f"flow {self.name!r}: step {step.name!r} declared twice")
            codes = [a.code for a in step.actions]
            if len(set(codes)) != len(codes) or any(":" in c for c in codes):
                raise ValueError(f"flow {self.name!r}, step {step.name!r}: bad action codes")
            if step.back is not None and self.back is None:
                raise ValueError(f"flow {self.name!r}, step {step.name!r}: back, but no action")
            self._by_name[step.name] = step
        self._check_codes()
        if (self.stop is None) != (self.stopped is None):
            raise ValueError(f"flow {self.name!r}: stop and stopped go together")
        if self.pause is not None and self.first is None:
            raise ValueError(f"flow {self.name!r}: a pause needs ``first`` to begin again")

    def _check_codes(self) -> None:
        """One code, one meaning, in the whole flow: the legend is a table."""
        meanings: dict[str, str] = {}
        for action in self._all_actions():
            if meanings.setdefault(action.code, action.name) != action.name:
                raise ValueError(f"flow {self.name!r}: code {action.code!r} means two things")

    def _pause_steps(self) -> list[Step[D]]:
        pause = self.pause
        if pause is None:
            return []
        stop = (self.stop,) if self.stop is not None else ()
        return [
            Step(PAUSED, on=None, ask=pause.paused, actions=(pause.go_on,)),
            Step(RESUME, on=None, ask=pause.reopened, actions=(*stop, pause.go_on, pause.again)),
        ]

    def _all_actions(self) -> list[Action]:
        return [a for step in self._by_name.values() for a in step.actions]

    def legend(self) -> dict[str, Action]:
        """Every button code of this flow and the action it names (one per code)."""
        return {a.code: a for a in self._all_actions()}

    def step_named(self, name: str) -> Step[D]:
        return self._by_name[name]

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
    def current(self, ctx: Context) -> Open[D] | None:
        """This flow's open conversation; None when there is none.

        Raises ``ValueError`` when it is this flow's but cannot be read."""
        state = ctx.state
        if state is None or state.flow != self.name:
            return None
        raw = dict(state.data)
        go_on = [raw.pop(key, None) for key in _GO_ON_KEY.values()]
        try:
            stamp = Stamp(str(raw.pop("run")), int(raw.pop("turn")))
            data = self.data.from_data(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"flow {self.name!r}: stored state not readable") from exc
        back_to = next((str(g) for g in go_on if g), None)
        if state.step not in self._by_name or (
            back_to is not None and back_to not in self._by_name
        ):
            raise ValueError(f"flow {self.name!r}: unknown step {state.step!r}/{back_to!r}")
        return Open(state.step, data, stamp, back_to)

    # -- entry points ---------------------------------------------------------
    async def start(
        self, ctx: Context, step: str, data: D, say: Sequence[Reply] = ()
    ) -> list[Reply]:
        """Begin a new run at ``step``."""
        return await self.move(ctx, step, data, _new_run(), say)

    async def open(self, ctx: Context) -> list[Reply]:
        """The person asks for this flow (its command, a menu button, a deep link): a
        new conversation at ``first``; while one is open, the ``Pause.reopened``
        prompt (go on or begin again), or without a pause the open step again. A
        stored conversation this version cannot read is dropped and begun anew."""
        try:
            open_ = self.current(ctx)
        except ValueError:
            log.warning("conversation %s: stored state not readable; a new one begins", self.name)
            await ctx.clear_state()
            open_ = None
        if open_ is None:
            return await self._begin(ctx)
        if self.pause is None:
            return await self.move(ctx, open_.step, open_.data, open_.stamp, ())
        go_on = open_.go_on if open_.step in _GO_ON_KEY else open_.step
        return await self.move(ctx, RESUME, open_.data, open_.stamp, (), go_on=go_on)

    async def _begin(self, ctx: Context) -> list[Reply]:
        if self.first is None:
            raise RuntimeError(f"flow {self.name!r} declares no first step")
        step, data = self.first(ctx)
        return await self.start(ctx, step, data)

    async def again(self, ctx: Context, say: Sequence[Reply] = ()) -> list[Reply] | None:
        """Ask the open step again with fresh buttons (a new turn); nothing else
        changes. None when this flow has no open conversation."""
        open_ = self.current(ctx)
        if open_ is None:
            return None
        return await self.move(ctx, open_.step, open_.data, open_.stamp, say, go_on=open_.go_on)

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
            or (parts[1], int(parts[2])) != (open_.stamp.run, open_.stamp.turn)
        ):
            return await self._refuse(ctx)
        action = self._by_name[open_.step].by_code(parts[3])
        if action is None:  # forged: a code this step never offered
            return await self._refuse(ctx)
        return await self._answer(ctx, open_, Answer(action.name))

    async def typed(self, msg: Incoming, ctx: Context) -> list[Reply]:
        """Typed text while this flow is open: the action its words name, or text."""
        try:
            open_ = self.current(ctx)
        except ValueError:
            return await self._restart(ctx)
        if open_ is None:  # the router sends text here only while the flow is open
            return await self._refuse(ctx)
        if open_.step == PAUSED and self.pause is not None and self.pause.aside is not None:
            return await self.pause.aside(msg, ctx)  # put aside: text is not an answer
        action = self._read(ctx, self._by_name[open_.step], msg.text)
        return await self._answer(ctx, open_, Answer(action.name if action else None, msg.text))

    # -- the engine ----------------------------------------------------------
    def _read(self, ctx: Context, step: Step[D], text: str) -> Action | None:
        means = self.means
        if means is None:
            return None
        return next((a for a in step.actions if any(means(ctx, w, text) for w in a.words)), None)

    async def _answer(self, ctx: Context, open_: Open[D], answer: Answer) -> list[Reply]:
        """What an answer does: the flow's stop, back and pause first (the engine's),
        then the step's own handler."""
        step, data, name = self._by_name[open_.step], open_.data, answer.action
        go_on: str | None = None
        if self.stop is not None and self.stopped is not None and name == self.stop.name:
            go = self.stopped(ctx, data)
        elif self.back is not None and step.back is not None and name == self.back.name:
            target = step.back(data)
            if target is None:
                go = Go(step.name, say=(Reply(text=ctx.t(self.at_first)),))
            else:
                go = Go(target[0], target[1])
        elif self.pause is not None and name == self.pause.pause.name:
            go, go_on = Go(PAUSED), step.name
        elif step.on is None:
            return await self._put_aside(ctx, open_, answer)
        else:
            go = await step.on(ctx, data, answer)
        return await self._apply(ctx, data, open_.stamp, go, go_on)

    async def _put_aside(self, ctx: Context, open_: Open[D], answer: Answer) -> list[Reply]:
        """An answer on the engine's own ``paused`` or ``resume`` prompt."""
        pause = self.pause
        if pause is None:  # only a flow with a pause has steps without a handler
            raise RuntimeError(f"flow {self.name!r}: step {open_.step!r} has no handler")
        if answer.action == pause.go_on.name and open_.go_on is not None:
            return await self._apply(ctx, open_.data, open_.stamp, Go(open_.go_on))
        if answer.action in (pause.again.name, pause.go_on.name):  # nowhere to go on to
            return await self._begin(ctx)
        unclear: Go[D] = Go(open_.step, say=(Reply(text=ctx.t(pause.unclear)),))
        return await self._apply(ctx, open_.data, open_.stamp, unclear, open_.go_on)

    async def _apply(
        self, ctx: Context, data: D, stamp: Stamp, go: Go[D], go_on: str | None = None
    ) -> list[Reply]:
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
        stamp = _new_run() if go.restart else stamp
        return await self.move(ctx, go.to, new, stamp, go.say, go_on=go_on)

    async def move(
        self,
        ctx: Context,
        to: str,
        data: D,
        stamp: Stamp,
        say: Sequence[Reply],
        *,
        go_on: str | None = None,
    ) -> list[Reply]:
        """Store ``to`` with a new turn and ask what it asks. ``go_on``: where "go on"
        leads from the engine's ``paused`` and ``resume`` (kept only there)."""
        step = self._by_name[to]
        stamp = Stamp(stamp.run, stamp.turn + 1)
        stored = {"run": stamp.run, "turn": stamp.turn, **data.to_data()}
        if to in _GO_ON_KEY and go_on is not None:
            stored[_GO_ON_KEY[to]] = go_on
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
