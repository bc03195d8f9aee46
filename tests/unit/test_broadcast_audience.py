"""Audience expressions: parsed, refused with the word at fault, written back."""

from __future__ import annotations

import pytest

from bot.broadcast.audience import (
    Audience,
    AudienceError,
    closest,
    known_values,
    region_gemeenten,
)
from bot.paths import content_dir

GEMEENTEN = region_gemeenten(content_dir())
ORGANISATIONS = ["Rijn en Duin", "Libertas Leiden", "anders"]


def parse(expression: str) -> Audience:
    return Audience.parse(expression, gemeenten=GEMEENTEN, organisations=ORGANISATIONS)


def test_the_region_has_thirteen_gemeenten() -> None:
    assert len(GEMEENTEN) == 13 and "Kaag en Braassem" in GEMEENTEN


def test_all_is_everyone_with_messages_on() -> None:
    audience = parse("all")
    assert audience == Audience(everyone=True)
    assert audience.text() == "all" and audience.people


def test_one_kind_is_or_and_kinds_are_and() -> None:
    audience = parse("role:gangmaker, gemeente:Leiden,gemeente:teylingen")
    assert audience.roles == {"gangmaker"}
    assert audience.gemeenten == {"Leiden", "Teylingen"}
    assert audience.text() == "role:gangmaker,gemeente:leiden,gemeente:teylingen"


def test_values_match_regardless_of_case_spaces_and_hyphens() -> None:
    audience = parse("gemeente:kaag-en-braassem,organisation:RIJN EN DUIN,topic:agenda")
    assert audience.gemeenten == {"Kaag en Braassem"}
    assert audience.organisations == {"Rijn en Duin"}
    assert audience.topics == {"agenda"}


def test_dutch_words_for_the_kinds() -> None:
    assert parse("rol:partner,organisatie:anders,onderwerp:nieuws") == parse(
        "role:partner,organisation:anders,topic:nieuws"
    )


def test_groups_alone_and_with_people() -> None:
    only = parse("groups")
    assert only.groups and not only.people
    assert parse("all,groups").text() == "all,groups"


def test_the_text_parses_back_to_the_same_audience() -> None:
    audience = parse("topic:spinnenweb-tips,role:bestuurder,gemeente:Alphen aan den Rijn,groups")
    assert (
        audience.text()
        == "role:bestuurder,gemeente:alphen-aan-den-rijn,topic:spinnenweb-tips,groups"
    )
    assert parse(audience.text()) == audience
    assert Audience.stored(audience.text()).text() == audience.text()


@pytest.mark.parametrize(
    ("expression", "word"),
    [
        ("", ""),
        (" , ", ""),
        ("iedereen behalve jan", "iedereen behalve jan"),
        ("role:koning", "role:koning"),
        ("gemeente:den haag", "gemeente:den haag"),
        ("role:gangmaker,stad:leiden", "stad:leiden"),
        ("topic:sport", "topic:sport"),
        ("all,role:gangmaker", "all"),  # everyone and a filter: which was meant?
    ],
)
def test_an_unknown_word_is_named(expression: str, word: str) -> None:
    with pytest.raises(AudienceError) as caught:
        parse(expression)
    assert caught.value.word == word
    assert isinstance(caught.value, ValueError)


def test_known_values_keep_the_first_spelling() -> None:
    assert known_values(["Leiden", None, ""], ["leiden", "Katwijk"]) == ["Leiden", "Katwijk"]


@pytest.mark.parametrize(
    ("expression", "gemeenten", "organisations"),
    [
        ("gemeente:Leiden en Teylingen", {"Leiden", "Teylingen"}, set()),
        ("gemeente:leiden of kaag en braassem", {"Leiden", "Kaag en Braassem"}, set()),
        (
            "gemeente:Leiden & Teylingen,organisatie:rijn en duin",
            {"Leiden", "Teylingen"},
            {"Rijn en Duin"},
        ),
        ("gemeente:leiden,teylingen", {"Leiden", "Teylingen"}, set()),
    ],
)
def test_en_of_and_amp_read_like_a_comma(
    expression: str, gemeenten: set[str], organisations: set[str]
) -> None:
    audience = parse(expression)
    assert (audience.gemeenten, audience.organisations) == (gemeenten, organisations)


def test_a_role_may_be_plural_and_a_label_names_its_value() -> None:
    labels = {"topic": {"Tips over het spinnenweb": "spinnenweb-tips"}}
    audience = Audience.parse(
        "rollen:gangmakers, onderwerp:tips over het spinnenweb",
        gemeenten=GEMEENTEN,
        organisations=ORGANISATIONS,
        labels=labels,
    )
    assert (audience.roles, audience.topics) == ({"gangmaker"}, {"spinnenweb-tips"})


def test_an_unknown_value_names_its_kind_and_a_close_one_is_found() -> None:
    with pytest.raises(AudienceError) as caught:
        parse("role:gangmaker, gemeente:leidn")
    assert (caught.value.word, caught.value.kind, caught.value.value) == (
        "gemeente:leidn",
        "gemeente",
        "leidn",
    )
    assert closest("leidn", GEMEENTEN) == "Leiden"
    assert closest("amsterdam", GEMEENTEN) is None
