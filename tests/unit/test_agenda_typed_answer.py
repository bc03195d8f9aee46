""" "Ik kom" typed with no card to answer is not a question: the bot asks which activity
(docs/agenda.md, "Asking when"), also in ``alliantiebot ask`` (no database); only when
the whole text is that answer, and the crisis check stays first."""

from __future__ import annotations

import pytest

from bot.core.texts import Texts
from bot.knowledge.answer import Answerer, Outcome
from bot.paths import content_dir
from handlers.ask import render

TEXTS = Texts.load(content_dir())
WHICH = "Op welke activiteit? Stuur /agenda en tik bij de activiteit op Ik kom."


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


@pytest.mark.parametrize("text", ["Ik kom", "ik kom!", "Misschien", "Ik kan niet", "ik ben erbij"])
def test_a_typed_answer_asks_which_activity(answerer: Answerer, text: str) -> None:
    result = answerer.answer(text, default_language="nl")
    assert result.outcome is Outcome.AGENDA
    assert result.agenda is not None and result.agenda.rsvp
    [reply] = render(result, TEXTS, answerer.knowledge)
    assert reply.text == WHICH


@pytest.mark.parametrize(
    "text",
    ["ik kom niet uit mijn bed", "misschien moet ik stoppen met roken", "ik kan niet slapen"],
)
def test_more_than_the_answer_is_a_question(answerer: Answerer, text: str) -> None:
    result = answerer.answer(text, default_language="nl")
    assert result.agenda is None or not result.agenda.rsvp


def test_the_crisis_check_stays_first(answerer: Answerer) -> None:
    assert answerer.answer("ik kom niet meer, ik wil dood").outcome is Outcome.CRISIS
