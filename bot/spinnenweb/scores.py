"""Reading a typed score: "7", "zeven", "7/10", "een 7", "7 van de 10", "seven".

Returns a :class:`Parsed` that tells the handler what to say: the score, a
number outside 0-10, a number that is not whole, or nothing recognisable.
:func:`week_vocabulary` gives the words of a typed number of weeks ("over 4
weken", "4w", "twee weken") to :mod:`bot.core.choices`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.core.choices import Vocabulary
from bot.spinnenweb.model import LANGUAGES, Spinnenweb, normalise


class Verdict(enum.Enum):
    OK = "ok"
    OUT_OF_RANGE = "out_of_range"
    NOT_WHOLE = "not_whole"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Parsed:
    verdict: Verdict
    score: int | None = None


# "/10", "van de 10", "out of ten" after the score: the scale, not a second number.
_OUT_OF_TEN = re.compile(r"\s*(?:/|van de|van|out of|uit)\s*(?:10|tien|ten)\s*$")
_NUMBER = re.compile(r"(?<![\w.,])(-?\d+(?:[.,]\d+)?)(?![\w])")


def parse_score(text: str, web: Spinnenweb) -> Parsed:
    folded = _OUT_OF_TEN.sub("", normalise(text))
    if not folded:
        return Parsed(Verdict.UNCLEAR)
    numbers = _NUMBER.findall(folded)
    if numbers:
        if len(set(numbers)) > 1:
            return Parsed(Verdict.UNCLEAR)
        raw = numbers[0].replace(",", ".")
        value = float(raw)
        if not value.is_integer():
            return Parsed(Verdict.NOT_WHOLE)
        if not 0 <= value <= 10:
            return Parsed(Verdict.OUT_OF_RANGE, int(value))
        return Parsed(Verdict.OK, int(value))
    tokens = re.findall(r"[a-zë]+", folded.replace("één", "een"))
    found = set()
    for lang in LANGUAGES:
        words = web.numbers[lang]
        found |= {words.index(t) for t in tokens if t in words}
    # "een zeven" is "a seven": the article "een" (also the word for 1) gives way.
    if len(found) > 1:
        found.discard(1)
    if len(found) == 1:
        return Parsed(Verdict.OK, found.pop())
    return Parsed(Verdict.UNCLEAR)


def week_vocabulary(web: Spinnenweb) -> Vocabulary:
    """Units, words before the number and number words for weeks, both languages."""
    return Vocabulary(
        units=frozenset().union(*web.words["weeks"].values()),
        fillers=frozenset().union(*web.words["within"].values()),
        numbers={word: n for lang in LANGUAGES for n, word in enumerate(web.numbers[lang])},
    )
