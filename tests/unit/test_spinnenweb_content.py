"""content/spinnenweb.yaml: six dimensions of seven aspects, each asked in Dutch and English."""

from __future__ import annotations

import yaml

from bot.paths import content_dir

DIMENSIONS = [
    "lichaamsfuncties",
    "mentaal-welbevinden",
    "zingeving",
    "kwaliteit-van-leven",
    "meedoen",
    "dagelijks-functioneren",
]


def test_six_dimensions_of_seven_aspects_in_both_languages() -> None:
    data = yaml.safe_load((content_dir() / "spinnenweb.yaml").read_text(encoding="utf-8"))
    assert [d["id"] for d in data["dimensions"]] == DIMENSIONS
    ids = []
    for dimension in data["dimensions"]:
        assert len(dimension["aspects"]) == 7
        for part in (dimension["name"], dimension["explain"], dimension["question"]):
            assert part["nl"].strip() and part["en"].strip()
        for aspect in dimension["aspects"]:
            ids.append(aspect["id"])
            assert aspect["question"]["nl"].strip() and aspect["question"]["en"].strip()
            assert len(aspect["question"]["nl"].split()) <= 16
    assert len(ids) == len(set(ids)) == 42
    assert data["intro"]["nl"] and data["intro"]["en"]
