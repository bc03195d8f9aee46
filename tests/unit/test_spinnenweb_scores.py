"""Typed scores and the spinnenweb model: what people type, and how scores are made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.paths import content_dir
from bot.spinnenweb.model import (
    EXTENDED,
    SHORT,
    Spinnenweb,
    SpinnenwebContentError,
    arrow,
    fmt,
)
from bot.spinnenweb.scores import Verdict, parse_score


@pytest.fixture(scope="module")
def web() -> Spinnenweb:
    return Spinnenweb.load(content_dir())


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("7", 7),
        (" 7 ", 7),
        ("zeven", 7),
        ("Zeven!", 7),
        ("seven", 7),
        ("7/10", 7),
        ("7 / 10", 7),
        ("een 7", 7),
        ("een zeven", 7),
        ("ik geef het een zeven", 7),
        ("7 van de 10", 7),
        ("7 out of 10", 7),
        ("8.0", 8),
        ("0", 0),
        ("nul", 0),
        ("10", 10),
        ("10/10", 10),
        ("tien", 10),
        ("één", 1),
        ("zeven van de 10", 7),
        ("zeven van de tien", 7),
        ("acht/10", 8),
        ("seven out of ten", 7),
        ("7 out of ten", 7),
    ],
)
def test_typed_scores_are_understood(web: Spinnenweb, text: str, score: int) -> None:
    assert parse_score(text, web).verdict is Verdict.OK
    assert parse_score(text, web).score == score


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("11", Verdict.OUT_OF_RANGE),
        ("-1", Verdict.OUT_OF_RANGE),
        ("100", Verdict.OUT_OF_RANGE),
        ("12/10", Verdict.OUT_OF_RANGE),
        ("7,5", Verdict.NOT_WHOLE),
        ("6.5", Verdict.NOT_WHOLE),
        ("7 of 8", Verdict.UNCLEAR),
        ("zes of zeven", Verdict.UNCLEAR),
        ("hallo", Verdict.UNCLEAR),
        ("", Verdict.UNCLEAR),
        ("goed", Verdict.UNCLEAR),
        ("abc7", Verdict.UNCLEAR),
        ("/10", Verdict.UNCLEAR),
        ("van de tien", Verdict.UNCLEAR),
    ],
)
def test_bad_scores_say_what_is_wrong(web: Spinnenweb, text: str, verdict: Verdict) -> None:
    parsed = parse_score(text, web)
    assert parsed.verdict is verdict
    assert parsed.verdict is Verdict.OUT_OF_RANGE or parsed.score is None


def test_modes_ask_six_and_forty_two_questions(web: Spinnenweb) -> None:
    short, extended = web.questions(SHORT), web.questions(EXTENDED)
    assert [q.id for q in short] == [d.id for d in web.dimensions]
    assert len(extended) == web.count(EXTENDED) == 42
    assert extended[0].id == "lichaamsfuncties/gezond-voelen"
    assert extended[0].text("nl") == "Hoe gezond voel je je?"
    assert short[0].text("en") == web.dimensions[0].question["en"]


def test_extended_score_is_the_mean_of_the_aspects(web: Spinnenweb) -> None:
    answers = {}
    for dimension in web.dimensions:
        for i, aspect in enumerate(dimension.aspects):
            answers[f"{dimension.id}/{aspect.id}"] = [6, 6, 6, 7, 7, 6, 7][i]
    scores = web.scores(EXTENDED, answers)
    assert scores == {d.id: 6.4 for d in web.dimensions}
    assert web.scores(SHORT, {d.id: 3 for d in web.dimensions})["zingeving"] == 3.0


def test_arrows_and_numbers_in_both_languages() -> None:
    assert arrow(7, 5) == "↑" and arrow(5, 7) == "↓" and arrow(6.0, 6.01) == "="
    assert arrow(6, None) == ""
    assert fmt(7.0, "nl") == "7" and fmt(6.4, "nl") == "6,4" and fmt(6.4, "en") == "6.4"


def test_words_are_recognised_in_both_languages(web: Spinnenweb) -> None:
    assert web.means("stop", "Stop!") and web.means("stop", "quit")
    assert web.means("back", "terug") and web.means("back", "Back")
    assert web.means("yes", "ja") and web.means("no", "nee")
    assert not web.means("yes", "nee")


def _content() -> dict[str, Any]:
    loaded = yaml.safe_load((content_dir() / "spinnenweb.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize(
    "breakage",
    ["five_dimensions", "missing_english", "ten_numbers", "no_stop_words", "duplicate_aspect"],
)
def test_broken_content_is_refused_with_a_reason(tmp_path: Path, breakage: str) -> None:
    data = _content()
    if breakage == "five_dimensions":
        data["dimensions"] = data["dimensions"][:5]
    elif breakage == "missing_english":
        data["dimensions"][2]["question"].pop("en")
    elif breakage == "ten_numbers":
        data["numbers"]["nl"] = data["numbers"]["nl"][:10]
    elif breakage == "no_stop_words":
        data["words"].pop("stop")
    else:
        aspects = data["dimensions"][0]["aspects"]
        aspects[1]["id"] = aspects[0]["id"]
    (tmp_path / "spinnenweb.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpinnenwebContentError):
        Spinnenweb.load(tmp_path)
