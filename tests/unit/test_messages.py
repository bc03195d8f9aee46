"""The platform-neutral message types."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.messages import Choice, FileKind, Incoming, IncomingFile, Kind, Reply


@pytest.mark.parametrize(
    ("text", "kind", "command", "args"),
    [
        ("/start", Kind.COMMAND, "start", ""),
        ("/Taal en", Kind.COMMAND, "taal", "en"),
        ("/start@AlliantieBot  welkom terug", Kind.COMMAND, "start", "welkom terug"),
        ("wat is positieve gezondheid?", Kind.TEXT, None, ""),
        ("/", Kind.TEXT, None, ""),
    ],
)
def test_commands_are_recognised(text: str, kind: Kind, command: str | None, args: str) -> None:
    msg = Incoming.from_text("console", "u", "c", text)
    assert msg.kind is kind
    assert msg.command == command
    assert msg.args == args


def test_choice_data_must_fit_telegram_callback_limit() -> None:
    Choice("ok", "x" * 64)
    with pytest.raises(ValueError, match="64 bytes"):
        Choice("te lang", "é" * 33)


def test_a_link_button_opens_a_web_link_and_sends_no_data() -> None:
    button = Choice.link("Lees meer", "https://positievegezondheid.nl/agenda?x=1")
    assert button.url == "https://positievegezondheid.nl/agenda?x=1"
    assert button.action == ""
    assert Choice.link("Oud", "http://example.org").url == "http://example.org"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "tg://resolve?domain=x",
        "ftp://example.org/a",
        "/agenda",
        "www.example.org",
        "https://",
        "https://exa mple.org",
        "https://example.org/\nx",
        "https://example.org:poort/",
        "https://example.org/" + "a" * 2048,
        "",
    ],
)
def test_a_link_button_refuses_anything_but_a_web_link(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        Choice.link("Lees meer", url)


def test_a_choice_is_either_a_button_with_data_or_a_link() -> None:
    with pytest.raises(ValueError, match="action data"):
        Choice("Niets")
    with pytest.raises(ValueError, match="no action data"):
        Choice("Beide", "x:1", url="https://example.org")


def test_a_reply_edits_nothing_unless_told() -> None:
    assert Reply(text="Bezig").edit_of is None
    assert Reply(text="Klaar", edit_of="42").edit_of == "42"


def test_a_message_has_no_attachment_unless_the_channel_adds_one() -> None:
    msg = Incoming.from_text("console", "u", "c", "hallo")
    assert msg.attachment is None
    photo = IncomingFile(FileKind.IMAGE, Path("/m/a.jpg"), "a.jpg", 1234, "image/jpeg")
    assert not photo.too_large
    big = IncomingFile(FileKind.DOCUMENT, None, "groot.pdf", 50_000_000, too_large=True)
    msg = Incoming("telegram", "u", "c", Kind.UNSUPPORTED, text="bijschrift", attachment=big)
    assert msg.attachment is big and msg.attachment.path is None
