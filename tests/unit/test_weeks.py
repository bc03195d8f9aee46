"""Typed answers to a question with offered options: one rule for every channel.

A number with a unit ("2 weken") means that many; where the options carry numbers
("Over 2 weken", a score) a bare number means the number in the label; positions
("1", "2") only where the options are shown numbered and carry no numbers.
"""

from __future__ import annotations

import pytest

from bot.core.choices import PLAIN, option_numbers, pick, read_number
from bot.paths import content_dir
from bot.spinnenweb.model import Spinnenweb
from bot.spinnenweb.scores import week_vocabulary

LABELS_NL = ("Over 2 weken", "Over 4 weken", "Over 6 weken (aangeraden)", "Over 12 weken", "Nee")
WEEKS = (2, 4, 6, 12, None)


@pytest.fixture(scope="module")
def web() -> Spinnenweb:
    return Spinnenweb.load(content_dir())


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        (" 12 ", 12),
        ("2 weken", 2),
        ("12 weken", 12),
        ("1 week", 1),
        ("over 4 weken", 4),
        ("Over 4 weken!", 4),
        ("na 6 weken", 6),
        ("2w", 2),
        ("12wk", 12),
        ("2 w", 2),
        ("twee weken", 2),
        ("zes", 6),
        ("12 weeks", 12),
        ("in 4 weeks", 4),
        ("after 6 weeks", 6),
        ("two weeks", 2),
        ("0", 0),
    ],
)
def test_a_number_with_or_without_a_week_unit(web: Spinnenweb, text: str, number: int) -> None:
    assert read_number(text, week_vocabulary(web)) == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12 maanden",
        "2 months",
        "2 dagen",
        "weken",
        "over weken",
        "2 of 4 weken",
        "2 4",
        "2,5 weken",
        "2.5",
        "-2",
        "²",
        "٣",  # a digit, but not one people type here: ASCII digits only
        "2 weken 2 weken",
        "weken 2",
        "abc2",
        "twaalf weken",  # number words go to ten, like the scores
    ],
)
def test_no_number_or_another_unit_is_not_a_number_of_weeks(web: Spinnenweb, text: str) -> None:
    assert read_number(text, week_vocabulary(web)) is None


def test_without_a_vocabulary_only_bare_numbers_count() -> None:
    assert read_number("12", PLAIN) == 12
    assert read_number("2 weken", PLAIN) is None
    assert read_number("twee", PLAIN) is None


def test_week_words_come_from_content(web: Spinnenweb) -> None:
    vocabulary = week_vocabulary(web)
    assert {"weken", "week", "weeks"} <= vocabulary.units
    assert {"over", "in", "after"} <= vocabulary.fillers
    assert vocabulary.numbers["twee"] == vocabulary.numbers["two"] == 2


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("2", 0),  # the number in the label, not option two
        ("12", 3),
        ("4", 1),
        ("2 weken", 0),
        ("12 weeks", 3),
        ("over 4 weken", 1),
        ("Over 6 weken (aangeraden)", 2),  # the label itself
        ("nee", 4),
        ("3", None),  # no option for 3 weeks
        ("3 weken", None),
        ("5", None),  # not option five either
        ("0", None),
        ("12 maanden", None),
        ("", None),
    ],
)
def test_week_options_are_chosen_by_their_number(
    web: Spinnenweb, text: str, index: int | None
) -> None:
    vocabulary = week_vocabulary(web)
    assert pick(text, LABELS_NL, numbers=WEEKS, vocabulary=vocabulary) == index
    # Positions never count where the options carry numbers, even if shown numbered.
    assert pick(text, LABELS_NL, numbers=WEEKS, positions=True, vocabulary=vocabulary) == index


def test_scores_are_options_that_are_numbers() -> None:
    labels = (*(str(n) for n in range(11)), "Terug", "Pauze")
    assert option_numbers(labels) == (*range(11), None, None)
    assert pick("7", labels, positions=True) == 7  # the score 7, not option seven
    assert pick("0", labels, positions=True) == 0
    assert pick("12", labels, positions=True) is None
    assert pick("terug", labels, positions=True) == 11


def test_positions_only_where_shown_numbered_and_labels_carry_no_numbers() -> None:
    labels = ("Ja, bewaar mijn antwoorden", "Nee, niet bewaren")
    assert pick("2", labels, positions=True) == 1
    assert pick("2", labels) is None  # buttons without numbers: "2" is no answer
    assert pick("3", labels, positions=True) is None
    assert pick("0", labels, positions=True) is None
    assert pick("²", labels, positions=True) is None
    assert pick("nee, niet bewaren!", labels) == 1
    # A number in a label that is not the option's number ("6 vragen") leaves positions.
    modes = ("Kort (6 vragen)", "Uitgebreid (42 vragen)", "Stoppen")
    assert option_numbers(modes) == (None, None, None)
    assert pick("2", modes, positions=True) == 1
    assert pick("6", modes, positions=True) is None


def test_numbers_must_match_the_options() -> None:
    with pytest.raises(ValueError, match="one number per option"):
        pick("2", LABELS_NL, numbers=(2, 4))
