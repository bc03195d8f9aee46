"""Telegram's rendering rules: escaping, splitting at 4,096, keyboards, deep links."""

from __future__ import annotations

import pytest

from bot.channels.telegram_format import (
    CALLBACK_DATA_LIMIT,
    MESSAGE_LIMIT,
    command_and_target,
    deep_link,
    escape,
    keyboard_rows,
    split_text,
    utf16_len,
    valid_callback_data,
    without_mention,
)
from bot.core.messages import Choice


def test_escape_leaves_only_safe_html() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert escape("<b>niet vet</b>") == "&lt;b&gt;niet vet&lt;/b&gt;"
    # Markdown characters mean nothing in HTML mode: they stay as typed.
    assert escape("*ster* _laag_ [link](x) `code`") == "*ster* _laag_ [link](x) `code`"
    assert escape('"quote"') == '"quote"'


def test_utf16_length_counts_emoji_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("🙂") == 2
    assert utf16_len("é") == 1


def test_short_text_is_one_message() -> None:
    assert split_text("Hallo") == ["Hallo"]
    assert split_text("") == []
    assert split_text("\n\n") == []


def test_long_text_splits_between_paragraphs() -> None:
    paragraphs = [f"Alinea {n}. " + "woord " * 150 for n in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert utf16_len(text) > MESSAGE_LIMIT
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(utf16_len(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    # No paragraph is cut: every chunk is whole paragraphs.
    for chunk in chunks:
        for part in chunk.split("\n\n"):
            assert part.startswith("Alinea ")
    assert "\n\n".join(chunks) == text


def test_one_huge_paragraph_splits_between_lines_then_words() -> None:
    lines = "\n".join("regel " * 50 for _ in range(40))
    chunks = split_text(lines)
    assert all(utf16_len(c) <= MESSAGE_LIMIT for c in chunks)
    assert sum(c.count("regel") for c in chunks) == 2000
    words = "woord " * 2000
    chunks = split_text(words)
    assert len(chunks) == 3
    assert all(utf16_len(c) <= MESSAGE_LIMIT for c in chunks)
    assert sum(c.split().count("woord") for c in chunks) == 2000


def test_text_without_spaces_is_cut_hard_and_emoji_are_not_halved() -> None:
    text = "🙂" * 3000  # 6,000 UTF-16 units
    chunks = split_text(text)
    assert [utf16_len(c) for c in chunks] == [4096, 1904]
    assert "".join(chunks) == text


def test_callback_data_limits() -> None:
    assert valid_callback_data("sw:abc:3:7")
    assert valid_callback_data("x" * CALLBACK_DATA_LIMIT)
    assert not valid_callback_data("x" * (CALLBACK_DATA_LIMIT + 1))
    assert not valid_callback_data("é" * 33)  # 66 bytes
    assert not valid_callback_data("")
    assert not valid_callback_data(None)
    assert not valid_callback_data("a\nb")


def test_deep_link_only_for_safe_payloads() -> None:
    assert deep_link("alliantie_bot", "checkin") == "https://t.me/alliantie_bot?start=checkin"
    assert deep_link("alliantie_bot", "a b") is None
    assert deep_link("alliantie_bot", "x" * 65) is None
    assert deep_link("", "checkin") is None


def test_scores_in_rows_of_six_and_short_buttons_side_by_side() -> None:
    scores = [Choice(str(n), f"sw:r:1:{n}") for n in range(11)]
    others = [Choice("Terug", "sw:r:1:b"), Choice("Pauze", "sw:r:1:p"), Choice("Stop", "sw:r:1:s")]
    rows = keyboard_rows([*scores, *others])
    assert [[c.label for c in row] for row in rows] == [
        ["0", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10"],
        ["Terug", "Pauze", "Stop"],
    ]
    long = [Choice("Een heel lange keuze om te maken", "a"), Choice("Nog een", "b")]
    assert [[c.label for c in row] for row in keyboard_rows(long)] == [
        ["Een heel lange keuze om te maken"],
        ["Nog een"],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", ("start", None)),
        ("/start@Alliantie_bot checkin", ("start", "Alliantie_bot")),
        ("/HELP@other_bot", ("help", "other_bot")),
        ("", ("", None)),
    ],
)
def test_command_and_target(text: str, expected: tuple[str, str | None]) -> None:
    assert command_and_target(text) == expected


def test_mention_is_removed_from_the_text() -> None:
    assert without_mention("@Alliantie_Bot wat is een gangmaker?", "alliantie_bot") == (
        "wat is een gangmaker?"
    )
    assert without_mention("Hoi @alliantie_bot, hoe gaat het?", "alliantie_bot") == (
        "Hoi , hoe gaat het?"
    )
    assert without_mention("@alliantie_botje hoi", "alliantie_bot") == "@alliantie_botje hoi"
