"""The platform-neutral message types."""

from __future__ import annotations

import pytest

from bot.core.messages import Choice, Incoming, Kind


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
