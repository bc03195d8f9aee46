"""Which offered option a typed answer chooses: one rule for every channel.

A number never means two things:

- the option's own label ("Over 4 weken", "Nee, klaar") chooses it;
- where the options carry numbers (scores "0".."10", "Over 2 weken"), a number
  chooses the option with that number: bare ("2") or with a unit the caller's
  :class:`Vocabulary` knows ("2 weken", "over 2 weken", "2w", "twee weken");
  a number that no option carries ("3", "3 weken") chooses nothing;
- positions ("1", "2", ...) count only where the channel shows the options
  numbered (the console) and no option carries a number;
- anything else chooses nothing, and the flow says how to answer.

The handler (typed text, as Telegram delivers it) and the console (before the
text reaches the handler) both use :func:`pick`, so they cannot disagree. The
words (units, "over", number words) come from content; nothing here is language.
A flow whose option labels carry numbers that are not bare says which numbers
in ``Reply.choice_numbers``, so the console shows and reads them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+|\S")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The words a number may come with: ``units`` after it ("weken", "w"),
    ``fillers`` before it ("over", "in") and number ``words`` ("twee" -> 2).
    All lower case, single words."""

    units: frozenset[str] = frozenset()
    fillers: frozenset[str] = frozenset()
    numbers: Mapping[str, int] = field(default_factory=dict)


PLAIN = Vocabulary()  # digits only, without units


def fold(text: str) -> str:
    """Lower case, outer punctuation and extra spaces gone: how labels are compared."""
    return " ".join(text.casefold().strip(" .,!?¿¡\"'").split())


def read_number(text: str, vocabulary: Vocabulary = PLAIN) -> int | None:
    """The whole number ``text`` says, alone or with a known unit, else None.

    "2", "2 weken", "over 2 weken", "2w" and "twee weken" are 2 (with the week
    vocabulary); "2 maanden", "2,5", "2 of 4", "-2" and "" are None.
    """
    tokens = _TOKEN.findall(fold(text))
    while tokens and tokens[0] in vocabulary.fillers:
        tokens.pop(0)
    if tokens and tokens[-1] in vocabulary.units:
        tokens.pop()
    if len(tokens) != 1:
        return None
    (token,) = tokens
    if token.isascii() and token.isdigit():
        return int(token)
    return vocabulary.numbers.get(token)


def option_numbers(labels: Sequence[str]) -> tuple[int | None, ...]:
    """The number each label carries when nothing else says: a label that is a
    number (a score button) carries it; "Kort (6 vragen)" carries none."""
    return tuple(read_number(label) for label in labels)


def pick(
    text: str,
    labels: Sequence[str],
    *,
    numbers: Sequence[int | None] | None = None,
    positions: bool = False,
    vocabulary: Vocabulary = PLAIN,
) -> int | None:
    """The index of the option ``text`` chooses, or None.

    ``numbers``: the number each option carries (default: :func:`option_numbers`).
    ``positions``: the options are shown numbered 1, 2, ... (the console).
    """
    carried = option_numbers(labels) if numbers is None else tuple(numbers)
    if len(carried) != len(labels):
        raise ValueError("one number per option (None for an option without one)")
    folded = fold(text)
    if not folded:
        return None
    for index, label in enumerate(labels):
        if fold(label) == folded:
            return index
    if any(n is not None for n in carried):
        value = read_number(text, vocabulary)
        return carried.index(value) if value is not None and value in carried else None
    if positions and folded.isascii() and folded.isdigit():
        position = int(folded)
        if 1 <= position <= len(labels):
            return position - 1
    return None


def carried_numbers(
    declared: Sequence[int | None] | None, labels: Sequence[str]
) -> tuple[int | None, ...]:
    """The number each option carries: as the flow declared them
    (``Reply.choice_numbers``) when there is one per option, else as the labels say."""
    if declared is not None and len(declared) == len(labels):
        return tuple(declared)
    return option_numbers(labels)
