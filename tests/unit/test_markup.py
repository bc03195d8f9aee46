"""The light markup of announcements (bot/core/markup.py): what is formatting, what
stays as typed, and the plain text with its spans."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.markup import Marked, Span, marked_text, parse, readable
from bot.core.messages import Reply

B, IT, L = "bold", "italic", "link"


def shown(text: str) -> tuple[str, list[tuple[str, str, str | None]]]:
    """The plain text and each span as (kind, the text it covers, url)."""
    marked = parse(text)
    return marked.plain, [(s.kind, marked.plain[s.start : s.end], s.url) for s in marked.spans]


@pytest.mark.parametrize(
    ("typed", "plain", "spans"),
    [
        ("*vet*", "vet", [(B, "vet", None)]),
        ("_cursief_", "cursief", [(IT, "cursief", None)]),
        (
            "Kom *dinsdag*, _echt_!",
            "Kom dinsdag, echt!",
            [(B, "dinsdag", None), (IT, "echt", None)],
        ),
        ("*twee woorden*", "twee woorden", [(B, "twee woorden", None)]),
        ("(*let op*)", "(let op)", [(B, "let op", None)]),
        (
            "Zie [de agenda](https://www.alliantiepg.nl/agenda).",
            "Zie de agenda.",
            [(L, "de agenda", "https://www.alliantiepg.nl/agenda")],
        ),
        (
            "[Leiden](https://nl.wikipedia.org/wiki/Leiden_(stad))",
            "Leiden",
            [(L, "Leiden", "https://nl.wikipedia.org/wiki/Leiden_(stad)")],
        ),
    ],
)
def test_bold_italic_and_links_become_spans(
    typed: str, plain: str, spans: list[tuple[str, str, str | None]]
) -> None:
    assert shown(typed) == (plain, spans)


@pytest.mark.parametrize(
    ("typed", "plain", "spans"),
    [
        (
            "*vet en _cursief_*",
            "vet en cursief",
            [(B, "vet en cursief", None), (IT, "cursief", None)],
        ),
        ("_schuin en *vet*_", "schuin en vet", [(IT, "schuin en vet", None), (B, "vet", None)]),
        ("*_beide_*", "beide", [(B, "beide", None), (IT, "beide", None)]),
        (
            "*zie [hier](https://x.nl/a)*",
            "zie hier",
            [(B, "zie hier", None), (L, "hier", "https://x.nl/a")],
        ),
        # A link's own text is taken as typed; bold inside bold cannot be.
        ("[*niet vet*](https://x.nl)", "*niet vet*", [(L, "*niet vet*", "https://x.nl")]),
        ("*a *b* c*", "a *b c*", [(B, "a *b", None)]),
    ],
)
def test_bold_and_italic_nest_in_each_other_and_hold_links(
    typed: str, plain: str, spans: list[tuple[str, str, str | None]]
) -> None:
    assert shown(typed) == (plain, spans)


@pytest.mark.parametrize(
    "typed",
    [
        "een * ster",
        "*",
        "* punt een\n* punt twee",
        "5 * 3 * 2",
        "2*3*4",
        "snake_case_naam",
        "**vet**",
        "___",
        "*open",
        "*niet over\ntwee regels*",
        "* spatie binnen*",
        "*spatie binnen *",
        "*vet*s",
        "**",
        "[tekst](javascript:alert(1))",
        "[tekst](www.alliantiepg.nl)",
        "[tekst](https://)",
        "[tekst]",
        "[](https://x.nl)",
        "https://x.nl/a_b_c*d*",
        "kijk op https://x.nl/_pad_/*ster* en zo",
    ],
)
def test_what_is_not_well_formed_stays_as_typed(typed: str) -> None:
    assert parse(typed) == Marked(typed)


def test_a_bare_link_inside_italic_keeps_its_underscores() -> None:
    assert shown("_kijk op https://x.nl/a_b_") == (
        "kijk op https://x.nl/a_b",
        [(IT, "kijk op https://x.nl/a_b", None)],
    )


def test_slice_and_strip_cut_the_spans_to_fit() -> None:
    marked = parse("  *vet _en_* rest  ")
    assert marked.strip() == Marked("vet en rest", (Span(B, 0, 6), Span(IT, 4, 6)))
    assert marked.strip().slice(4, 9) == Marked("en re", (Span(B, 0, 2), Span(IT, 0, 2)))
    assert marked.strip().slice(7, 11) == Marked("rest")


def test_only_a_reply_in_the_markup_is_parsed() -> None:
    assert marked_text(Reply(text="*vet*", markup=True)) == Marked("vet", (Span(B, 0, 3),))
    assert marked_text(Reply(text="*vet*")) == Marked("*vet*")


def test_readable_puts_a_links_address_after_its_text() -> None:
    marked = parse("*Zie* [de agenda](https://x.nl/agenda) en [https://x.nl](https://x.nl).")
    assert readable(marked) == "Zie de agenda (https://x.nl/agenda) en https://x.nl."


class _Context:
    """What ``text_problem`` asks of the context: a sentence, here its key and values."""

    def t(self, key: str, **params: object) -> str:
        return f"{key} {sorted(params.items())}"


def test_the_composers_limit_counts_the_text_as_recipients_see_it() -> None:
    from bot.broadcast.render import TEXT_LIMIT
    from handlers.broadcast import text_problem

    context: Any = _Context()
    fits = "*" + "x" * (TEXT_LIMIT - 11) + "* [" + "y" * 10 + "](https://www.alliantiepg.nl)"
    assert len(fits) > TEXT_LIMIT and text_problem(context, fits) is None
    too_long = "_" + "x" * (TEXT_LIMIT + 1) + "_"
    problem = text_problem(context, too_long)
    assert problem is not None
    assert problem.text == context.t("compose.text_too_long", length=4001, limit=TEXT_LIMIT)
