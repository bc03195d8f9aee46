"""The console channel: rendering, choosing by number or label, scripted input."""

from __future__ import annotations

import io
from pathlib import Path

from bot.channels.console import ConsoleChannel
from bot.core.messages import Choice, Image, Incoming, Kind, Reply


def _label(key: str, **params: object) -> str:
    return f"<{key}" + "".join(f" {k}={v}" for k, v in params.items()) + ">"


def _console(stdin: str = "") -> tuple[ConsoleChannel, io.StringIO]:
    out = io.StringIO()
    channel = ConsoleChannel(
        user="fatima",
        label=_label,
        stdin=io.StringIO(stdin),
        stdout=out,
        echo=True,
    )
    return channel, out


def test_choices_are_numbered_and_chosen_by_number_or_label() -> None:
    console, out = _console()
    console.render(
        Reply(text="Kies", choices=(Choice("Nederlands", "taal:nl"), Choice("English", "taal:en")))
    )
    assert "  1. Nederlands\n  2. English\n" in out.getvalue()
    assert console.to_incoming("2").action == "taal:en"
    assert console.to_incoming("english!").action == "taal:en"
    assert console.to_incoming("3").kind is Kind.TEXT  # no such option: plain text
    assert console.to_incoming("/help").kind is Kind.COMMAND


def test_numeric_labels_win_over_positions() -> None:
    console, out = _console()
    console.render(Reply(text="Score?", choices=tuple(Choice(str(n), f"s:{n}") for n in range(11))))
    assert "[0]  [1]" in out.getvalue()
    assert console.to_incoming("7").action == "s:7"  # the label "7", not option seven ("6")


def test_scores_on_one_row_and_other_choices_by_their_words() -> None:
    console, out = _console()
    scores = tuple(Choice(str(n), f"s:{n}") for n in range(11))
    others = (Choice("Terug", "s:b"), Choice("Pauze", "s:p"))
    console.render(Reply(text="Vraag 2 van 6", choices=scores + others))
    assert "  [0]  [1]  [2]" in out.getvalue()
    assert "  Terug  ·  Pauze\n" in out.getvalue()
    assert console.to_incoming("10").action == "s:10"
    assert console.to_incoming("terug").action == "s:b"
    assert console.to_incoming("12").kind is Kind.TEXT  # not a position: the flow re-asks


def test_pictures_and_outbox_messages_are_printed(tmp_path: Path) -> None:
    console, out = _console()
    console.render(Reply(text="Je web", image=Image(tmp_path / "web.png", "spinnenweb")))
    assert f"<console.image alt=spinnenweb path={tmp_path / 'web.png'}>" in out.getvalue()


async def test_outbox_delivery_returns_an_id() -> None:
    console, out = _console()
    first = await console.send("fatima", Reply(text="Herinnering"))
    second = await console.send("fatima", Reply(text="Nog een"))
    assert first != second
    assert "Herinnering" in out.getvalue() and "<console.message>" in out.getvalue()


async def test_converse_reads_until_end_of_input_and_skips_blank_lines() -> None:
    console, out = _console("/start\n\n   \nhallo\n")
    seen: list[Incoming] = []

    async def handle(msg: Incoming) -> list[Reply]:
        seen.append(msg)
        return [Reply(text=f"ok {len(seen)}")]

    await console.converse(handle)
    assert [m.text for m in seen] == ["/start", "hallo"]
    assert all(m.display_name == "fatima" for m in seen)
    text = out.getvalue()
    assert "> /start\nok 1" in text and "> hallo\nok 2" in text
    assert text.rstrip().endswith("<console.bye>")
