"""A bare number is never a question (issue 12, point 4).

A number typed after a list that has no such option, or with no list at all, used
to be searched in the knowledge base and answered with full confidence ("9" → an
article about a leeratelier). Safety still comes first: "113" is 113's information.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.channels.console import ConsoleChannel
from bot.core.messages import Choice, Kind, Reply
from bot.core.texts import Texts
from bot.knowledge import cli
from bot.knowledge.answer import Answerer, Outcome
from bot.paths import content_dir
from bot.settings import Settings
from handlers.ask import render

TEXTS = Texts.load(content_dir())


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


@pytest.mark.parametrize(
    "text",
    ["9", "0", "4", "12", " 4 ", "4.", "#4", "(4)", "nummer 4", "optie 2", "Nr. 3", "vier", "2024"],
)
def test_a_bare_number_is_never_a_question(answerer: Answerer, text: str) -> None:
    result = answerer.answer(text)
    assert result.outcome is Outcome.NUMBER
    assert not result.answered
    assert result.confidence == 0.0
    assert result.entry is None and result.candidates == []


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("113", Outcome.INFO),
        ("0800-0113", Outcome.INFO),
        ("112", Outcome.EMERGENCY),
        ("112!", Outcome.EMERGENCY),
        ("bel 112", Outcome.EMERGENCY),
        ("4 ik wil niet meer leven", Outcome.CRISIS),
    ],
)
def test_safety_wins_over_a_number(answerer: Answerer, text: str, outcome: Outcome) -> None:
    assert answerer.answer(text).outcome is outcome


def test_the_emergency_number_alone_gets_what_to_do_in_an_emergency(answerer: Answerer) -> None:
    """A bare "112" is not a menu choice: it gets 112, 113 and the huisarts."""
    from bot.core.texts import Texts
    from bot.paths import content_dir
    from handlers.ask import SAFETY_TEXTS

    texts = Texts.load(content_dir())
    for language in ("nl", "en"):
        reply = texts.get(language, SAFETY_TEXTS[Outcome.EMERGENCY])
        assert "112" in reply and "0800-0113" in reply and "113.nl" in reply
        assert ("huisarts" in reply) if language == "nl" else ("GP" in reply)


@pytest.mark.parametrize(
    "text",
    [
        "wat kost 2 lessen",
        "wanneer is het 5e leeratelier",
        "wat zijn de 6 dimensies",
        "zes dimensies",
    ],
)
def test_numbers_inside_a_question_keep_it_a_question(answerer: Answerer, text: str) -> None:
    assert answerer.answer(text).outcome is not Outcome.NUMBER


def test_a_question_with_a_number_is_still_answered(answerer: Answerer) -> None:
    result = answerer.answer("wat zijn de 6 dimensies van positieve gezondheid")
    assert result.outcome is Outcome.ANSWER and result.entry is not None
    assert result.entry.id == "zes-dimensies"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_number_without_a_list_says_what_to_type(answerer: Answerer, language: str) -> None:
    result = answerer.answer("9", default_language=language)
    assert result.language == language
    [reply] = render(result, TEXTS, answerer.knowledge)
    assert reply.text == TEXTS.get(language, "fallback.number")
    assert reply.choices == ()


def test_a_number_after_a_list_asks_for_a_number_from_it(answerer: Answerer) -> None:
    shown = (Choice("Gangmaker worden", "kb:gangmaker"), Choice("Iets anders", "kb:none"))
    menu = (Choice("Stel een vraag", "menu:vraag"),)
    [reply] = render(answerer.answer("4"), TEXTS, answerer.knowledge, shown=shown, menu=menu)
    assert reply.text == TEXTS.get("nl", "fallback.pick_number")
    assert reply.choices == shown
    [reply] = render(answerer.answer("4"), TEXTS, answerer.knowledge, menu=menu)
    assert TEXTS.get("nl", "fallback.number") in reply.text
    assert TEXTS.get("nl", "fallback.number_menu") in reply.text
    assert reply.choices == menu


def test_the_texts_are_in_both_languages() -> None:
    for key in ("fallback.number", "fallback.number_menu", "fallback.pick_number"):
        assert TEXTS.get("nl", key) != TEXTS.get("en", key)
    assert "kies een nummer uit de lijst" in TEXTS.get("nl", "fallback.pick_number").lower()


@pytest.mark.parametrize("number", ["9", "0", "4"])
def test_ask_json_reports_a_number_not_an_answer(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str], number: str
) -> None:
    assert cli.ask(make_settings(), number, as_json=True, language=None) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["outcome"] == "number"
    assert record["answered"] is False
    assert record["score"] == 0.0
    assert record["topic"] is None and record["candidates"] == [] and record["sources"] == []
    assert record["answer"] == TEXTS.get("nl", "fallback.number")


def test_the_console_passes_the_shown_options_with_a_number_that_chose_none() -> None:
    console = ConsoleChannel(user="fatima", label=lambda key, **kw: key)
    options = (Choice("Een", "x:1"), Choice("Twee", "x:2"), Choice("Drie", "x:3"))
    console.render(Reply(text="Kies", choices=options))
    incoming = console.to_incoming("4")
    assert incoming.kind is Kind.TEXT and incoming.text == "4"
    assert incoming.shown == options
    assert console.to_incoming("2").action == "x:2"
    fresh = ConsoleChannel(user="fatima", label=lambda key, **kw: key)
    assert fresh.to_incoming("4").shown == ()
