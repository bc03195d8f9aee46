"""The flow engine (bot/core/flow.py) and a declared flow, step by step, without a
database: a fake context keeps the conversation in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.core.flow import Action, Answer, Effect, Flow, Go, Pause, Step
from bot.core.messages import Choice, Incoming, Kind, PressOutcome, Reply
from bot.core.state import State
from handlers import checkin, forget
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


# -- a flow's own answer to a stale press (on_stale), again() and a restart --------


async def _stale_again(ctx: Any) -> list[Reply]:
    """The check-in's way: where you were, with fresh buttons; or a way to start."""
    again = await STALE_AGAIN.again(ctx, [Reply(text="pizza.expired")])
    return again if again is not None else [Reply(text="pizza.none_open")]


STALE_AGAIN = pizza(on_stale=_stale_again)


async def test_on_stale_asks_the_open_step_again_with_fresh_buttons() -> None:
    ctx = FakeContext()
    (prompt,) = await STALE_AGAIN.start(ctx, "size", Order())  # type: ignore[arg-type]
    old_small = prompt.choices[0].action
    await STALE_AGAIN.pressed(press(prompt.choices[1].action), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "confirm"
    run, data = ctx.state.data["run"], dict(ctx.state.data)
    expired, asked = await STALE_AGAIN.pressed(press(old_small), ctx)  # type: ignore[arg-type]
    assert expired.text == "pizza.expired"
    assert asked.text == "pizza.confirm"
    # The same step, the same data and run, a new turn: only the new buttons work.
    assert ctx.state.step == "confirm" and ctx.state.data["run"] == run
    assert ctx.state.data["turn"] == data["turn"] + 1
    assert {**ctx.state.data, "turn": data["turn"]} == data
    assert [c.action for c in asked.choices] == [f"pz:{run}:{data['turn'] + 1}:y"]
    replies = await STALE_AGAIN.pressed(press(asked.choices[0].action), ctx)  # type: ignore[arg-type]
    assert [r.text for r in replies] == ["pizza.ordered"] and ctx.state is None


@pytest.mark.parametrize("action", ["pz:abc:1:s", "pz:{run}:1:q", "pz"])
async def test_on_stale_answers_old_forged_and_orphaned_presses(action: str) -> None:
    ctx = FakeContext()
    replies = await STALE_AGAIN.pressed(press("pz:abc:1:s"), ctx)  # type: ignore[arg-type]
    assert [r.text for r in replies] == ["pizza.none_open"] and ctx.state is None
    await STALE_AGAIN.start(ctx, "size", Order())  # type: ignore[arg-type]
    assert ctx.state is not None
    turn = ctx.state.data["turn"]
    replies = await STALE_AGAIN.pressed(press(action.format(run=ctx.state.data["run"])), ctx)  # type: ignore[arg-type]
    assert [r.text for r in replies] == ["pizza.expired", "pizza.size"]
    assert ctx.state.step == "size" and ctx.state.data["turn"] == turn + 1


async def test_again_without_an_open_conversation_is_none() -> None:
    ctx = FakeContext()
    assert await STALE_AGAIN.again(ctx) is None  # type: ignore[arg-type]
    ctx.state = State(flow="other", step="x", data={})
    assert await STALE_AGAIN.again(ctx) is None  # type: ignore[arg-type]


async def test_a_restart_begins_a_new_run_and_the_old_buttons_are_stale() -> None:
    async def start_over(ctx: Any, data: Order, answer: Answer) -> Go[Order]:
        return Go("size", Order(), restart=True)

    size = Step("size", on=choose_size, ask="pizza.size", actions=(SMALL, LARGE))
    flow, ctx = (
        pizza(steps=[size, Step("confirm", on=start_over, ask="pizza.confirm")]),
        FakeContext(),
    )
    await flow.start(ctx, "confirm", Order("small"))  # type: ignore[arg-type]
    assert ctx.state is not None
    old = (ctx.state.data["run"], ctx.state.data["turn"])
    (prompt,) = await flow.typed(typed("anything"), ctx)  # type: ignore[arg-type]
    assert ctx.state.step == "size" and ctx.state.data["turn"] == 1
    assert ctx.state.data["run"] != old[0]
    (refused,) = await flow.pressed(press(f"pz:{old[0]}:{old[1] + 1}:s"), ctx)  # type: ignore[arg-type]
    assert refused.text == "pizza.stale"
    assert prompt.choices[0].action == f"pz:{ctx.state.data['run']}:1:s"


# -- the check-in, declared on the engine ---------------------------------------


def test_the_check_in_keeps_its_stored_keys_so_an_older_check_in_resumes() -> None:
    # A check-in stored before the flow engine: the same keys, read and written back.
    stored = {
        "store": True,
        "mode": "kort",
        "pos": 2,
        "answers": {"mentaal": 7, "zingeving": 6},
        "marks": ["zingeving"],
    }
    data = checkin.CheckinData.from_data(stored)
    assert data.pos == 2 and data.answers == {"mentaal": 7, "zingeving": 6}
    assert data.to_data() == stored
    after = {"store": True, "mode": "kort", "checkin": 12, "rpos": 1, "refl": {"noticed": "x"}}
    assert checkin.CheckinData.from_data(after).to_data() == after
    assert checkin.CheckinData().to_data() == {}
    for unreadable in ({"pos": "twee"}, {"answers": ["mentaal"]}, {"answers": 7}):
        with pytest.raises((TypeError, ValueError)):
            checkin.CheckinData.from_data(unreadable)


def test_the_check_in_has_one_table_of_codes_and_every_step_uses_it() -> None:
    assert len(checkin.ACTIONS) == len({a.name for a in checkin.ACTIONS.values()})
    for step in checkin.FLOW.steps:
        for action in step.actions:
            assert checkin.ACTIONS[action.code].name == action.name, (step.name, action)
    assert {s.name for s in checkin.FLOW.steps} == {
        "consent", "mode", "question", "reflect_offer", "reflect", "followup", "wish",
    }  # fmt: skip
    # The engine adds its own two for the pause; their codes are in the legend too.
    assert {"r", "n", "p", "b", "x"} <= checkin.ACTIONS.keys()
    assert checkin.FLOW.step_named("resume").on is None


D = checkin.CheckinData


@pytest.mark.parametrize(
    ("on", "data", "answer", "to", "changed", "says"),
    [
        (checkin.on_mode, D(store=True), Answer("short"), "question",
         {"mode": "kort", "pos": 0, "answers": {}, "marks": []}, []),
        (checkin.on_mode, D(), Answer(None, "misschien"), "mode", {}, ["checkin.unclear"]),
        (checkin.on_consent, D(), Answer("decline"), "mode", {"store": False},
         ["checkin.consent_declined"]),
        (checkin.on_reflect_offer, D(checkin=3), Answer("reflect"), "reflect", {"rpos": 0}, []),
        (checkin.on_reflect_offer, D(checkin=3), Answer("no_reflection"), "followup", {}, []),
        (checkin.on_reflect, D(rpos=0), Answer("skip"), "reflect", {"rpos": 1}, []),
        (checkin.on_reflect, D(rpos=0), Answer(None, "  "), "reflect", {}, ["checkin.unclear"]),
        (checkin.on_reflect, D(rpos=1), Answer("no_reflection", "stop"), "followup", {}, []),
    ],
)  # fmt: skip
async def test_check_in_answers(
    on: Any, data: Any, answer: Answer, to: str, changed: dict[str, Any], says: list[str]
) -> None:
    go = await on(FakeContext(), data, answer)
    assert go.to == to and not go.restart
    after = data.to_data() if go.data is None else go.data.to_data()
    expected = {**data.to_data(), **changed}
    assert after == {k: v for k, v in expected.items() if v is not None}
    assert [r.text for r in go.say] == says


# -- stop, back, pause and "go on where you were?": the engine's, for any flow --------


@dataclass(frozen=True)
class Survey:
    at: int = 0
    said: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"at": self.at, "said": list(self.said)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Survey:
        return cls(int(data["at"]), tuple(str(x) for x in data["said"]))


S_STOP = Action("stop", "x", label="survey.stop", words=("stop",))
S_BACK = Action("back", "b", label="survey.back", words=("back",))
S_PAUSE = Action("pause", "p", label="survey.pause", words=("pause",))
S_GO_ON = Action("go_on", "g", label="survey.go_on", words=("yes",))
S_AGAIN = Action("again", "a", label="survey.again", words=("again",))
ASIDE: list[str] = []


async def survey_answer(ctx: Any, data: Survey, answer: Answer) -> Go[Survey]:
    said = (*data.said, answer.text or "")
    return (
        Go("q", Survey(data.at + 1, said)) if data.at < 2 else Go(None, say=(Reply(text="done"),))
    )


def survey_prompt(ctx: Any, data: Survey, b: Any) -> Reply:
    return Reply(text=f"q{data.at}", choices=(*b.back("q", data), b(S_PAUSE), b(S_STOP)))


def survey_reopened(ctx: Any, data: Survey, b: Any) -> Reply:
    return Reply(text="survey.reopened", choices=(b(S_GO_ON), b(S_AGAIN), b(S_STOP)))


async def survey_aside(msg: Incoming, ctx: Any) -> list[Reply]:
    ASIDE.append(msg.text)
    return [Reply(text="a question, answered")]


SURVEY: Flow[Survey] = Flow(
    name="survey",
    prefix="sv",
    data=Survey,
    steps=[
        Step(
            "q",
            survey_answer,
            survey_prompt,
            (S_STOP, S_BACK, S_PAUSE),
            back=lambda d: None if d.at == 0 else ("q", Survey(d.at - 1, d.said)),
        )
    ],
    stale="survey.stale",
    means=lambda ctx, word, text: text.strip().lower() == word,
    first=lambda ctx: ("q", Survey()),
    stop=S_STOP,
    stopped=lambda ctx, data: Go(None, say=(Reply(text=f"stopped at {data.at}"),)),
    back=S_BACK,
    at_first="survey.first",
    pause=Pause(
        pause=S_PAUSE,
        go_on=S_GO_ON,
        again=S_AGAIN,
        paused="survey.paused",
        reopened=survey_reopened,
        unclear="survey.unclear",
        aside=survey_aside,
    ),
)


def labels(reply: Reply) -> list[str]:
    return [c.label for c in reply.choices]


async def test_open_begins_at_first_and_back_goes_where_the_step_says() -> None:
    ctx = FakeContext()
    (prompt,) = await SURVEY.open(ctx)  # type: ignore[arg-type]
    assert prompt.text == "q0"
    assert labels(prompt) == ["survey.pause", "survey.stop"]  # no back at the first
    first, again = await SURVEY.typed(typed("back"), ctx)  # type: ignore[arg-type]
    assert (first.text, again.text) == ("survey.first", "q0")
    await SURVEY.typed(typed("seven"), ctx)  # type: ignore[arg-type]
    (prompt,) = await SURVEY.typed(typed("eight"), ctx)  # type: ignore[arg-type]
    assert prompt.text == "q2" and labels(prompt)[0] == "survey.back"
    (prompt,) = await SURVEY.pressed(press(prompt.choices[0].action), ctx)  # type: ignore[arg-type]
    assert prompt.text == "q1"
    assert ctx.state is not None and ctx.state.data["said"] == ["seven", "eight"]  # kept


async def test_stop_ends_from_any_step_with_the_flows_last_words() -> None:
    ctx = FakeContext()
    await SURVEY.open(ctx)  # type: ignore[arg-type]
    await SURVEY.typed(typed("one"), ctx)  # type: ignore[arg-type]
    assert [r.text for r in await SURVEY.typed(typed("stop"), ctx)] == ["stopped at 1"]  # type: ignore[arg-type]
    assert ctx.state is None


async def test_pause_puts_aside_text_goes_aside_and_go_on_returns() -> None:
    ASIDE.clear()
    ctx = FakeContext()
    await SURVEY.open(ctx)  # type: ignore[arg-type]
    await SURVEY.typed(typed("one"), ctx)  # type: ignore[arg-type]
    (paused,) = await SURVEY.typed(typed("pause"), ctx)  # type: ignore[arg-type]
    assert paused.text == "survey.paused" and labels(paused) == ["survey.go_on"]
    assert ctx.state is not None and ctx.state.step == "paused"
    assert ctx.state.data["paused_step"] == "q"  # the name the check-in stored before
    (aside,) = await SURVEY.typed(typed("what is a gangmaker?"), ctx)  # type: ignore[arg-type]
    assert aside.text == "a question, answered" and ASIDE == ["what is a gangmaker?"]
    assert ctx.state.step == "paused"  # still put aside
    (back,) = await SURVEY.pressed(press(paused.choices[0].action), ctx)  # type: ignore[arg-type]
    assert back.text == "q1" and ctx.state.step == "q"
    assert "paused_step" not in ctx.state.data


@pytest.mark.parametrize("from_paused", [False, True])
async def test_open_while_open_asks_go_on_or_again(from_paused: bool) -> None:
    ctx = FakeContext()
    await SURVEY.open(ctx)  # type: ignore[arg-type]
    await SURVEY.typed(typed("one"), ctx)  # type: ignore[arg-type]
    if from_paused:
        await SURVEY.typed(typed("pause"), ctx)  # type: ignore[arg-type]
    (reopened,) = await SURVEY.open(ctx)  # type: ignore[arg-type]
    assert reopened.text == "survey.reopened"
    assert ctx.state is not None and ctx.state.data["resume_step"] == "q"
    unclear, asked = await SURVEY.typed(typed("hmm"), ctx)  # type: ignore[arg-type]
    assert (unclear.text, asked.text) == ("survey.unclear", "survey.reopened")
    (reopened,) = await SURVEY.open(ctx)  # asked twice: still goes on to the question
    assert ctx.state.data["resume_step"] == "q"
    (went_on,) = await SURVEY.typed(typed("yes"), ctx)  # type: ignore[arg-type]
    assert went_on.text == "q1" and ctx.state.data["said"] == ["one"]


async def test_again_begins_a_new_run_and_the_old_buttons_are_stale() -> None:
    ctx = FakeContext()
    (prompt,) = await SURVEY.open(ctx)  # type: ignore[arg-type]
    await SURVEY.typed(typed("one"), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None
    old_run = ctx.state.data["run"]
    (reopened,) = await SURVEY.open(ctx)  # type: ignore[arg-type]
    (fresh,) = await SURVEY.pressed(press(reopened.choices[1].action), ctx)  # type: ignore[arg-type]
    assert fresh.text == "q0" and ctx.state.data["run"] != old_run
    assert ctx.state.data["said"] == []
    (refused,) = await SURVEY.pressed(press(prompt.choices[0].action), ctx)  # type: ignore[arg-type]
    assert refused.press_outcome is PressOutcome.STALE


async def test_a_conversation_stored_before_the_engine_resumes_from_paused() -> None:
    """The check-in's stored shape from before: ``paused`` with ``paused_step``."""
    ctx = FakeContext()
    data = {"store": True, "mode": "kort", "pos": 2, "answers": {"a": 7, "b": 6}, "marks": []}
    ctx.state = State(
        flow="checkin",
        step="paused",
        data={"run": "ab12cd", "turn": 9, **data, "paused_step": "question"},
    )
    open_ = checkin.FLOW.current(ctx)  # type: ignore[arg-type]
    assert open_ is not None and (open_.step, open_.go_on, open_.data.pos) == (
        "paused",
        "question",
        2,
    )
    ctx.state = State(
        flow="checkin", step="paused", data={"run": "ab12cd", "turn": 9, "paused_step": "gone"}
    )
    with pytest.raises(ValueError):
        checkin.FLOW.current(ctx)  # type: ignore[arg-type]


def test_a_flow_with_a_pause_must_say_where_to_begin_and_stop_needs_last_words() -> None:
    def survey(**declared: Any) -> Flow[Survey]:
        return Flow(name="s", prefix="s", data=Survey, stale="x", **declared)

    with pytest.raises(ValueError, match="first"):
        survey(steps=SURVEY.steps, back=S_BACK, pause=SURVEY.pause)
    with pytest.raises(ValueError, match="stop and stopped"):
        survey(steps=SURVEY.steps, stop=S_STOP, back=S_BACK)
    with pytest.raises(ValueError, match="back, but no action"):
        survey(steps=SURVEY.steps)
    clash = Action("other", "x")
    with pytest.raises(ValueError, match="means two things"):
        survey(
            steps=[
                Step("a", survey_answer, actions=(S_STOP,)),
                Step("b", survey_answer, actions=(clash,)),
            ]
        )
