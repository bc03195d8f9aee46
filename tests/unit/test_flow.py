"""The flow engine (bot/core/flow.py) and a declared flow, step by step, without a
database: a fake context keeps the conversation in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.core.flow import Action, Answer, Effect, Flow, Go, Step
from bot.core.messages import Choice, Incoming, Kind, PressOutcome, Reply
from bot.core.state import State
from handlers import forget
from handlers import language as language_flow


class FakeContext:
    """What a flow uses of Context: the stored conversation, texts and buttons."""

    def __init__(self, words: dict[str, set[str]] | None = None) -> None:
        self.state: State | None = None
        self.after_commit: list[Callable[[], object]] = []
        self.saved: list[State] = []
        self.words = words or {}

    def t(self, key: str, **params: object) -> str:
        return key

    def choice(self, key: str, action: str, **params: object) -> Choice:
        return Choice(label=key, action=action)

    def on_commit(self, step: Callable[[], object]) -> None:
        self.after_commit.append(step)

    async def set_state(self, state: State, ttl: timedelta | None = None) -> None:
        self.state = state
        self.saved.append(state)

    async def clear_state(self) -> None:
        self.state = None


@dataclass(frozen=True)
class Order:
    size: str = ""
    log: tuple[str, ...] = field(default=())

    def to_data(self) -> dict[str, Any]:
        return {"size": self.size}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Order:
        size = data["size"]
        if not isinstance(size, str):
            raise TypeError("size")
        return cls(size)


SMALL = Action("small", "s", label="pizza.small", words=("small",))
LARGE = Action("large", "l", label="pizza.large")
YES = Action("yes", "y", label="pizza.yes", words=("yes",))
SECRET = Action("secret", "z")  # typed only: never a button
RAN: list[str] = []


async def choose_size(ctx: Any, data: Order, answer: Answer) -> Go[Order]:
    if answer.action in (SMALL.name, LARGE.name):
        return Go("confirm", Order(answer.action))
    return Go("size", say=(Reply(text="pizza.unclear"),))


async def confirm(ctx: Any, data: Order, answer: Answer) -> Go[Order]:
    if answer.action == YES.name:
        return Go(
            None,
            say=(Reply(text="pizza.ordered"),),
            effects=(
                Effect("now", lambda: RAN.append("now")),
                Effect("later", lambda: RAN.append("later"), after_commit=True),
            ),
        )
    return Go("size", Order())


def pizza(**overrides: Any) -> Flow[Order]:
    values: dict[str, Any] = {
        "name": "pizza",
        "prefix": "pz",
        "data": Order,
        "steps": [
            Step("size", on=choose_size, ask="pizza.size", actions=(SMALL, LARGE, SECRET)),
            Step("confirm", on=confirm, ask="pizza.confirm", actions=(YES,)),
        ],
        "stale": "pizza.stale",
        "means": lambda ctx, word, text: text.strip().lower() in ctx.words.get(word, set()),
    }
    values.update(overrides)
    return Flow(**values)


def press(action: str) -> Incoming:
    return Incoming(platform="t", user_id="1", chat_id="1", kind=Kind.ACTION, action=action)


def typed(text: str) -> Incoming:
    return Incoming(platform="t", user_id="1", chat_id="1", kind=Kind.TEXT, text=text)


async def test_start_stores_the_step_with_a_stamp_and_asks_with_stamped_buttons() -> None:
    flow, ctx = pizza(), FakeContext()
    (prompt,) = await flow.start(ctx, "size", Order())  # type: ignore[arg-type]
    assert ctx.state is not None and (ctx.state.flow, ctx.state.step) == ("pizza", "size")
    run, turn = ctx.state.data["run"], ctx.state.data["turn"]
    assert turn == 1
    assert prompt.text == "pizza.size"
    # Only labelled actions are buttons; each carries the run, the turn and its code.
    assert [c.action for c in prompt.choices] == [f"pz:{run}:1:s", f"pz:{run}:1:l"]


async def test_a_press_moves_on_and_the_old_buttons_are_then_stale() -> None:
    flow, ctx = pizza(), FakeContext()
    (prompt,) = await flow.start(ctx, "size", Order())  # type: ignore[arg-type]
    old_large = prompt.choices[1].action
    replies = await flow.pressed(press(old_large), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "confirm"
    assert ctx.state.data["size"] == "large" and ctx.state.data["turn"] == 2
    assert replies[-1].text == "pizza.confirm"
    before = ctx.state
    (refused,) = await flow.pressed(press(old_large), ctx)  # type: ignore[arg-type]
    assert refused.text == "pizza.stale" and refused.press_outcome is PressOutcome.STALE
    assert ctx.state is before  # nothing changed


@pytest.mark.parametrize(
    "forged",
    [
        "pz",
        "pz:",
        "pz:{run}:1",  # three parts
        "pz:{run}:x:s",  # not a turn
        "pz:{run}:²:s",  # a digit int() cannot read
        "pz:other:1:s",  # another run
        "pz:{run}:1:q",  # a code this step never offered
        "pz:{run}:1:y",  # a code of another step
    ],
)
async def test_forged_button_data_is_refused_and_changes_nothing(forged: str) -> None:
    flow, ctx = pizza(), FakeContext()
    await flow.start(ctx, "size", Order())  # type: ignore[arg-type]
    before = ctx.state
    assert before is not None
    action = forged.format(run=before.data["run"])
    (refused,) = await flow.pressed(press(action), ctx)  # type: ignore[arg-type]
    assert refused.text == "pizza.stale"
    assert ctx.state is before


async def test_a_press_with_no_conversation_open_is_stale() -> None:
    (refused,) = await pizza().pressed(press("pz:abc:1:s"), FakeContext())  # type: ignore[arg-type]
    assert refused.press_outcome is PressOutcome.STALE


@pytest.mark.parametrize(
    ("text", "step", "say"),
    [
        ("small", "confirm", None),  # a word names the action
        ("SMALL ", "confirm", None),
        ("medium", "size", "pizza.unclear"),  # no action: the step gets the text
        ("z", "size", "pizza.unclear"),  # a code is not a word
    ],
)
async def test_typed_text_names_an_action_by_its_words_or_goes_on_as_text(
    text: str, step: str, say: str | None
) -> None:
    flow, ctx = pizza(), FakeContext({"small": {"small"}})
    await flow.start(ctx, "size", Order())  # type: ignore[arg-type]
    replies = await flow.typed(typed(text), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == step
    assert [r.text for r in replies[:-1]] == ([say] if say else [])


async def test_the_end_clears_the_conversation_and_effects_run_now_or_after_commit() -> None:
    RAN.clear()
    flow, ctx = pizza(), FakeContext({"yes": {"ja"}})
    await flow.start(ctx, "confirm", Order("small"))  # type: ignore[arg-type]
    replies = await flow.typed(typed("ja"), ctx)  # type: ignore[arg-type]
    assert [r.text for r in replies] == ["pizza.ordered"]
    assert ctx.state is None
    assert RAN == ["now"]  # the other waits for the commit
    for step in ctx.after_commit:
        step()
    assert RAN == ["now", "later"]


async def test_a_stored_state_in_a_shape_this_version_cannot_read_restarts_politely() -> None:
    flow, ctx = pizza(), FakeContext()
    ctx.state = State(flow="pizza", step="size", data={"token": "abc"})  # no run, no turn
    (reply,) = await flow.typed(typed("small"), ctx)  # type: ignore[arg-type]
    assert reply.text == "errors.state_reset" and ctx.state is None
    ctx.state = State(flow="pizza", step="gone", data={"run": "a", "turn": 1, "size": ""})
    (reply,) = await flow.pressed(press("pz:a:1:s"), ctx)  # type: ignore[arg-type]
    assert reply.text == "errors.state_reset" and ctx.state is None


def test_a_declaration_with_clashing_names_or_codes_is_refused() -> None:
    step = Step("size", on=choose_size, ask="pizza.size", actions=(SMALL,))
    with pytest.raises(ValueError, match="declared twice"):
        pizza(steps=[step, step])
    with pytest.raises(ValueError, match="must not contain"):
        pizza(prefix="p:z")
    twice = Action("again", "s")
    with pytest.raises(ValueError, match="bad action codes"):
        pizza(steps=[Step("size", on=choose_size, actions=(SMALL, twice))])


# -- /vergeetmij, declared on the engine: each answer and where it leads --------


@pytest.mark.parametrize(
    ("answer", "says", "effects"),
    [
        (Answer("forget"), "forget.done", ["forget_person"]),
        (Answer("forget", "ja"), "forget.done", ["forget_person"]),
        (Answer("keep"), "forget.kept", ["return_to_earlier_conversation"]),
        (Answer(None, "misschien"), "forget.not_confirmed", ["return_to_earlier_conversation"]),
    ],
)
async def test_forget_me_answers(answer: Answer, says: str, effects: list[str]) -> None:
    ctx = FakeContext()
    go = await forget.confirm(ctx, forget.ForgetData(), answer)  # type: ignore[arg-type]
    assert go.to is None  # every answer ends the question
    assert [r.text for r in go.say] == [says]
    assert [e.name for e in go.effects] == effects


@pytest.mark.parametrize(
    "stored",
    [{}, {"earlier": {"flow": "checkin", "step": "question", "data": {"pos": 2}}}],
)
def test_forget_me_keeps_the_earlier_conversation_through_its_state(stored: dict[str, Any]) -> None:
    data = forget.ForgetData.from_data(stored)
    assert data.to_data() == stored
    with pytest.raises(ValueError):
        forget.ForgetData.from_data({"earlier": "checkin"})


# -- /taal, declared on the engine: typed answers only; its buttons are plain actions --


class LanguageContext(FakeContext):
    def __init__(self) -> None:
        super().__init__()
        self.language = "nl"

    def set_language(self, code: str) -> None:
        self.language = code


@pytest.mark.parametrize(
    ("text", "language", "says"),
    [
        ("engels", "en", "taal.done"),
        ("Nederlands!", "nl", "taal.done"),
        ("klingon", "nl", "taal.unclear"),
    ],
)
async def test_the_language_question_typed(text: str, language: str, says: str) -> None:
    ctx = LanguageContext()
    ctx.language = "fr"  # neither: a typed language must set it
    (prompt,) = await language_flow.FLOW.start(ctx, "choose", language_flow.NoData())  # type: ignore[arg-type]
    assert [c.action for c in prompt.choices] == ["taal:nl", "taal:en"]  # plain, not stamped
    replies = await language_flow.FLOW.typed(typed(text), ctx)  # type: ignore[arg-type]
    assert [r.text for r in replies] == [says]
    assert ctx.state is None  # an answer or not, the question is over
    assert ctx.language == (language if says == "taal.done" else "fr")
    if says == "taal.unclear":
        assert [c.action for c in replies[0].choices] == ["taal:nl", "taal:en"]


def test_a_flow_with_plain_buttons_registers_only_its_typed_answers() -> None:
    registered: list[tuple[str, str]] = []

    class Router:
        def action(self, prefix: str, handler: object) -> None:
            registered.append(("action", prefix))

        def flow(self, name: str, handler: object) -> None:
            registered.append(("flow", name))

    language_flow.FLOW.register(Router(), stamped_buttons=False)  # type: ignore[arg-type]
    forget.FLOW.register(Router())  # type: ignore[arg-type]
    assert registered == [("flow", "taal"), ("action", "vm"), ("flow", "vergeet")]
