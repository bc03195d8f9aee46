"""Suggestions are related to the question, or there are none (issue 12, point 5).

A "Bedoel je ...?" or the topics under "I don't know" used to list whatever the
search ranked first, also for questions the content has nothing about ("hoeveel
kost een parkeervergunning" → "Gangmaker worden"). A topic is now offered only when
it shares a topic word with the question (see ``Hit.topical``).
"""

from __future__ import annotations

import pytest

from bot.core.texts import Texts
from bot.knowledge.answer import Answerer, Outcome
from bot.paths import content_dir
from handlers.ask import render

TEXTS = Texts.load(content_dir())

# Written for this test: questions the content has nothing about.
OFF_TOPIC = [
    "hoeveel kost een parkeervergunning",
    "hoe laat is het?",
    "hoe laat is het nu in Tokio",
    "welke dag is het vandaag",
    "waar kan ik mijn auto laten wassen",
    "wat is de uitslag van de verkiezingen",
    "hoeveel kost een fietsenstalling per maand",
    "wie heeft het songfestival gewonnen",
    "what time does the supermarket close",
]


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer.load(content_dir())


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_an_off_topic_question_gets_an_honest_dont_know_without_topics(
    answerer: Answerer, question: str
) -> None:
    result = answerer.answer(question)
    assert result.outcome is Outcome.UNKNOWN
    assert result.candidates == []
    [reply] = render(result, TEXTS, answerer.knowledge)
    assert reply.text == TEXTS.get(result.language, "ask.unknown")
    assert reply.choices == ()


@pytest.mark.parametrize(
    "question",
    [
        *OFF_TOPIC,
        "samenwerking in de wijk",
        "ik zoek iets over gezond ouder worden",
        "hoe zit het met mantelzorg",
        "wat kost 2 lessen",
        "spinnenweb voor jongeren",
    ],
)
def test_every_suggestion_shares_a_topic_word_with_the_question(
    answerer: Answerer, question: str
) -> None:
    result = answerer.answer(question)
    if result.outcome not in (Outcome.CLARIFY, Outcome.UNKNOWN):
        return
    topical = {hit.entry.id for hit in result.hits if hit.topical}
    assert {entry.id for entry in result.candidates} <= topical


def test_a_related_topic_is_still_offered(answerer: Answerer) -> None:
    result = answerer.answer("samenwerking in de wijk")
    assert result.outcome is Outcome.CLARIFY
    assert result.candidates and result.hits[0].topical


def test_a_topic_word_is_a_word_of_the_question_not_a_part_of_one(answerer: Answerer) -> None:
    index = answerer.indexes["nl"]
    # "uitslag" is split into "uit" + "slag" for the search; "slag" is no topic of it.
    assert "slag" not in index.topic_words("uitslag van de wedstrijd")
    assert index.topic_words("zes") == set()  # a number is no topic
    assert index.topic_words("wat is een gangmaker") == {"gangmaker"}


def test_a_place_relates_only_entries_about_that_place(answerer: Answerer) -> None:
    hits = answerer.indexes["nl"].search("het weer in katwijk")
    assert hits
    for hit in hits:
        about = " ".join([hit.entry.title, *hit.entry.tags]).lower()
        assert hit.topical == ("katwijk" in about), hit.entry.id
