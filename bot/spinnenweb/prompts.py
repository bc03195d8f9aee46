"""What the check-in asks, in words, and how a typed reminder choice reads, without
the chat around it. ``t`` is the content lookup of the person's language
(``Context.t``); the texts themselves live in ``content/messages/*.yaml`` and
``content/spinnenweb.yaml``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot.core.choices import pick
from bot.spinnenweb.model import Spinnenweb
from bot.spinnenweb.result import Translate
from bot.spinnenweb.scores import week_vocabulary

REFLECTION = ("noticed", "wish", "helpers")  # the reflection questions, in order
FOLLOW_UP_WEEKS = (2, 4, 6, 12)  # the reminder choices, in weeks
SUGGESTED_WEEKS = 6
WISH_AFTER = timedelta(days=14)  # "how is your wish going?" comes this long after


def question_text(
    t: Translate,
    web: Spinnenweb,
    lang: str,
    mode: str,
    position: int,
    answers: Mapping[str, int],
    marks: Sequence[str],
) -> str:
    """Question ``position`` of ``mode``: the introduction before the very first,
    where the person is, the dimension (explained when the question is the
    dimension itself), the question, and an earlier answer or a mark."""
    question = web.question(mode, position)
    lines = []
    if position == 0 and not answers:
        lines += [web.intro[lang], ""]
    lines.append(
        t(
            "checkin.progress",
            number=position + 1,
            total=web.count(mode),
            dimension=question.dimension.name[lang],
        )
    )
    if question.aspect is None:
        lines.append(question.dimension.explain[lang])
    lines.append(question.text(lang))
    earlier = answers.get(question.id)
    if earlier is not None:
        lines.append(t("checkin.earlier", score=earlier))
    if question.id in marks:
        lines.append(t("checkin.marked"))
    return "\n".join(lines)


def followup_options(t: Translate) -> list[tuple[str, int]]:
    """(label, weeks) of each reminder choice; "no reminder" is 0 weeks."""
    options = [
        (
            t(
                "checkin.followup_weeks_suggested"
                if weeks == SUGGESTED_WEEKS
                else "checkin.followup_weeks",
                weeks=weeks,
            ),
            weeks,
        )
        for weeks in FOLLOW_UP_WEEKS
    ]
    options.append((t("checkin.followup_never"), 0))
    return options


def typed_weeks(t: Translate, web: Spinnenweb, text: str) -> int | None:
    """The reminder choice a typed answer names, in weeks (0: none); None: none.

    The same rule as the console's (``bot/core/choices.py``): a label, or the number
    of weeks an option carries, bare or with a unit ("2", "12 weken"). Positions
    ("1", "2") are not answers here: only the console shows them, and it resolves
    them before the text gets here."""
    options = followup_options(t)
    index = pick(
        text,
        [label for label, _ in options],
        numbers=[weeks or None for _, weeks in options],
        vocabulary=week_vocabulary(web),
    )
    return None if index is None else options[index][1]
