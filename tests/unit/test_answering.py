"""Normalisation and the decision to answer (issue 10, sections 3 and 4)."""

from __future__ import annotations

import pytest

from bot.knowledge.answer import Answerer, Outcome, _focus
from bot.knowledge.decision import FEATURES, features
from bot.paths import content_dir


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


def test_apostrophe_plurals_are_one_word(answerer: Answerer) -> None:
    index = answerer.indexes["nl"]
    assert index.query_terms("foto's van het leeratelier") == index.query_terms(
        "fotos van het leeratelier"
    )


def test_a_separable_verb_is_also_searched_joined(answerer: Answerer) -> None:
    terms = answerer.indexes["nl"].query_terms("hoe neem ik deel aan de gangmakers")
    assert "meedoen" in terms  # "deelnemen" is in the synonym group of "meedoen"


def test_ordinals_numbers_and_words_are_one_term(answerer: Answerer) -> None:
    index = answerer.indexes["nl"]
    forms = {tuple(index.query_terms(f"het {n} leeratelier")) for n in ("vijfde", "5e", "5de", "5")}
    assert len(forms) == 1


def test_a_long_question_is_also_searched_by_its_core() -> None:
    question = (
        "Wij zijn een fysiopraktijk in Katwijk en we werken veel met ouderen en mantelzorgers. "
        "Kunnen we aansluiten bij de alliantie?"
    )
    assert _focus(question) == ["Kunnen we aansluiten bij de alliantie?"]
    assert _focus("wat is positieve gezondheid") == []


def test_the_decision_weighs_several_scores(answerer: Answerer) -> None:
    assert answerer.decision is not None
    assert set(answerer.decision.weights) == set(FEATURES)
    strong = answerer.search("wat is positieve gezondheid")
    weak = answerer.search("recept voor boerenkool")
    assert features([]) == dict.fromkeys(FEATURES, 0.0)
    assert answerer.decision.probability(strong) > answerer.decision.probability(weak)
    answer_at, clarify_at = answerer.thresholds
    assert 0 < clarify_at < answer_at < 1


def test_a_clear_question_is_answered_and_an_unrelated_one_is_not(answerer: Answerer) -> None:
    assert answerer.answer("wat is positieve gezondheid").outcome is Outcome.ANSWER
    assert answerer.answer("wie heeft de tour de france gewonnen").outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("stop met berichten", "nl"),
        ("hoe meld ik me af voor de berichten?", "nl"),
        ("hoe stop ik de herinneringen", "nl"),
        ("I want to unsubscribe", "en"),
        ("Geen berichten meer over de agenda", "nl"),  # the unsubscribe button, typed
    ],
)
def test_how_to_stop_messages_is_answered_from_the_user_guide(
    answerer: Answerer, question: str, language: str
) -> None:
    found = answerer.answer(question)
    assert found.outcome is Outcome.ANSWER
    assert found.entry is not None and found.entry.id == "berichten-stoppen"
    answer = found.entry.text(language)[2]
    for command in ("/stop", "/start", "/profiel", "/vergeetmij"):
        assert command in answer
    assert "handleiding" in answerer.knowledge.source_label(found.entry, "nl").lower()


@pytest.mark.parametrize("text", ["13-03 10:00", "13 03 10 00", "2026-03-13 10:00", "?!", "4."])
def test_text_without_words_has_the_persons_language(answerer: Answerer, text: str) -> None:
    assert answerer.detect_language(text, "nl") == "nl"
    assert answerer.detect_language(text, "en") == "en"
    assert answerer.answer(text, default_language="nl").language == "nl"


def test_words_still_decide_the_language(answerer: Answerer) -> None:
    assert answerer.detect_language("what is positive health", "nl") == "en"
    assert answerer.detect_language("wat is positieve gezondheid", "en") == "nl"


@pytest.mark.parametrize(
    ("wrapped", "bare"),
    [
        ("Goedemiddag, wat is positieve gezondheid?", "Wat is positieve gezondheid?"),
        ("Vraagje: hoe word ik gangmaker?", "Hoe word ik gangmaker?"),
        ("Wat is een verbinder? Alvast bedankt!", "Wat is een verbinder?"),
        ("Beste bot, wat is een leeratelier? Groetjes", "Wat is een leeratelier?"),
        ("Hallo, wat is het spinnenweb? Dank je wel, fijne dag", "Wat is het spinnenweb?"),
        ("Hi there, what is positive health? Thanks in advance", "What is positive health?"),
        # The sentence that asks, with names, signatures and small talk around it.
        ("Hoi! Even een vraag. Wat is een verbinder? Groetjes, Ria", "Wat is een verbinder?"),
        (
            "Dag meneer/mevrouw, hoe word ik gangmaker? Met vriendelijke groet, Petra",
            "Hoe word ik gangmaker?",
        ),
        ("Hey bot, wat is het spinnenweb? 👍", "Wat is het spinnenweb?"),
        ("Hi all, what is positive health? Best, Mark", "What is positive health?"),
        # A closing that is also a partner's slogan ("een fijne dag") does not win.
        ("Hallo, wat is een verbinder? Fijne dag nog!", "Wat is een verbinder?"),
        ("Hoi, wat is een leeratelier? Bedankt en een fijn weekend!", "Wat is een leeratelier?"),
    ],
)
def test_greetings_and_thanks_around_a_question_do_not_hide_its_answer(
    answerer: Answerer, wrapped: str, bare: str
) -> None:
    expected = answerer.answer(bare)
    assert expected.outcome is Outcome.ANSWER and expected.entry is not None
    found = answerer.answer(wrapped)
    assert found.outcome is Outcome.ANSWER, (wrapped, found.outcome)
    assert found.entry is not None and found.entry.id == expected.entry.id


@pytest.mark.parametrize(
    "message", ["dank je wel", "goedemiddag", "bedankt!", "Fijne dag nog!", "fijn weekend"]
)
def test_a_greeting_or_thanks_alone_is_still_small_talk(answerer: Answerer, message: str) -> None:
    assert answerer.answer(message).outcome in (Outcome.GREETING, Outcome.THANKS)
