"""Membership of the region and people named in the seeds are answered as facts."""

from __future__ import annotations

import pytest

from bot.knowledge.people import People
from bot.knowledge.region import Region
from bot.paths import content_dir


@pytest.fixture(scope="module")
def region() -> Region:
    loaded = Region.load(content_dir())
    assert loaded is not None
    return loaded


@pytest.mark.parametrize(
    ("question", "gemeente"),
    [
        ("hoort Sassenheim bij de regio?", "Teylingen"),
        ("valt rijnsburg er ook onder de alliantie?", "Katwijk"),
        ("doet Lisse mee?", "Lisse"),
        ("Does Leiden belong to the region?", "Leiden"),
        ("is Noordwijkerhout onderdeel van het werkgebied", "Noordwijk"),
        ("hoort Nieuwveen ook bij zuid-holland noord", "Nieuwkoop"),
    ],
)
def test_places_inside_get_a_yes_with_their_gemeente(
    region: Region, question: str, gemeente: str
) -> None:
    found = region.membership(question)
    assert found is not None
    assert found.gemeente == gemeente
    assert len(found.gemeenten) == 13


@pytest.mark.parametrize(
    "question",
    [
        "hoort Zoetermeer bij de regio?",
        "ik woon in wassenaar, val ik onder jullie regio",
        "valt Den Haag onder zuid-holland noord",
        "hoort Heiloo erbij?",  # not on any list: a place named with a capital
    ],
)
def test_places_outside_get_a_no(region: Region, question: str) -> None:
    found = region.membership(question)
    assert found is not None
    assert found.gemeente is None


@pytest.mark.parametrize(
    "question",
    ["wat doet de alliantie in Leiden", "doet iedereen mee?", "hoort mijn gemeente er ook bij"],
)
def test_other_questions_are_not_membership(region: Region, question: str) -> None:
    assert region.membership(question) is None


def test_people_are_found_by_name_alias_typo_or_unique_surname() -> None:
    people = People.load(content_dir())
    assert people is not None
    assert len(people.people) >= 50
    assert people.find("wie is Lotte Coenen?").name == "Lotte Coenen"  # type: ignore[union-attr]
    assert people.find("wie is Cintha de Vaal").name == "Cinthya de Vaal"  # type: ignore[union-attr]
    assert people.find("wie is lote coenen").name == "Lotte Coenen"  # type: ignore[union-attr]
    assert people.find("mail van coenen").name == "Lotte Coenen"  # type: ignore[union-attr]
    assert people.find("wat is positieve gezondheid") is None
