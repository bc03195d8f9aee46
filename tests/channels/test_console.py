"""The console channel: rendering, choosing by number or label, scripted input."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.channels.console import ConsoleChannel
from bot.core.clock import FrozenClock
from bot.core.messages import Choice, FileKind, Image, Incoming, Kind, Reply
from bot.settings import Settings
from tests.helpers.conversation import typed_in_console


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


def test_choices_that_carry_numbers_are_chosen_by_that_number_not_by_position() -> None:
    console, out = _console()
    weeks = (2, 4, 6, 12)
    choices = tuple(Choice(f"Over {w} weken", f"r:{w}") for w in weeks)
    choices += (Choice("Geen herinnering", "r:0"),)
    console.render(Reply(text="Herinnering?", choices=choices, choice_numbers=(*weeks, None)))
    assert "  - Over 2 weken\n  - Over 4 weken\n" in out.getvalue()  # no positions shown
    assert "1." not in out.getvalue()
    assert console.to_incoming("2").action == "r:2"  # not option two ("Over 4 weken")
    assert console.to_incoming("12").action == "r:12"
    assert console.to_incoming("geen herinnering").action == "r:0"
    for other in ("3", "5", "0", "2 weken"):  # to the flow as text: it re-asks or knows units
        assert console.to_incoming(other).kind is Kind.TEXT, other


def test_a_number_in_a_label_that_is_not_the_option_number_leaves_positions() -> None:
    console, out = _console()
    modes = (Choice("Kort (6 vragen)", "m:k"), Choice("Uitgebreid (42 vragen)", "m:u"))
    console.render(Reply(text="Hoe?", choices=modes))
    assert "  1. Kort (6 vragen)\n  2. Uitgebreid (42 vragen)\n" in out.getvalue()
    assert console.to_incoming("2").action == "m:u"
    assert console.to_incoming("6").kind is Kind.TEXT
    assert console.to_incoming("²").kind is Kind.TEXT  # was int("²"): ValueError


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


# -- what announcements need: link buttons, edits, files ----------------------------


def test_a_link_button_is_printed_with_its_link_and_not_numbered() -> None:
    console, out = _console()
    choices = (
        Choice("Ik kom", "rsvp:1"),
        Choice.link("Meer informatie", "https://alliantie.example/agenda"),
        Choice("Ik kom niet", "rsvp:0"),
    )
    console.render(Reply(text="Leeratelier", choices=choices))
    text = out.getvalue()
    assert "  1. Ik kom\n  2. Ik kom niet\n" in text
    link = "  <channels.console.link label=Meer informatie url=https://alliantie.example/agenda>"
    assert link in text
    assert console.to_incoming("2").action == "rsvp:0"  # the link has no number
    assert console.to_incoming("meer informatie").kind is Kind.TEXT  # nor can it be chosen


def test_numbers_declared_for_choices_with_a_link_among_them_stay_with_their_choice() -> None:
    console, out = _console()
    choices = (
        Choice("Over 2 weken", "r:2"),
        Choice.link("Uitleg", "https://alliantie.example/uitleg"),
        Choice("Over 4 weken", "r:4"),
    )
    console.render(Reply(text="Wanneer?", choices=choices, choice_numbers=(2, None, 4)))
    assert "  - Over 2 weken\n  - Over 4 weken\n" in out.getvalue()
    assert console.to_incoming("4").action == "r:4"


async def test_an_edit_is_printed_again_as_an_update_with_the_same_id() -> None:
    console, out = _console()
    first = await console.send("fatima", Reply(text="Verzonden: 0 van 3"))
    again = await console.send("fatima", Reply(text="Verzonden: 3 van 3", edit_of=first))
    assert again == first
    text = out.getvalue()
    assert text.count("<console.message>") == 1
    assert "<channels.console.updated>\nVerzonden: 3 van 3\n" in text


async def test_bijlage_sends_a_local_file_with_its_caption(tmp_path: Path) -> None:
    picture = tmp_path / "mijn foto.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    console, _ = _console()
    incoming = await console.read_line(f'/bijlage "{picture}" Onze bijeenkomst, zo\'n 20 mensen')
    assert incoming is not None and incoming.kind is Kind.UNSUPPORTED
    assert incoming.text == "Onze bijeenkomst, zo'n 20 mensen"
    file = incoming.attachment
    assert file is not None and file.kind is FileKind.IMAGE and file.mime_type == "image/png"
    assert file.path == picture and file.filename == "mijn foto.png" and file.size == 108
    pdf = tmp_path / "programma.pdf"
    pdf.write_bytes(b"%PDF")
    incoming = await console.read_line(f"/bijlage {pdf}")
    assert incoming is not None and incoming.text == ""
    assert incoming.attachment is not None and incoming.attachment.kind is FileKind.DOCUMENT


async def test_bijlage_copies_into_the_media_folder_and_knows_the_limit(tmp_path: Path) -> None:
    media = tmp_path / "media"
    console = ConsoleChannel(
        user="fatima", label=_label, stdout=io.StringIO(), media_dir=media, media_max_bytes=50
    )
    small, big = tmp_path / "klein.txt", tmp_path / "groot.txt"
    small.write_bytes(b"kort")
    big.write_bytes(b"x" * 51)
    incoming = await console.read_line(f"/bijlage {small}")
    assert incoming is not None and incoming.attachment is not None
    copy = incoming.attachment.path
    assert copy is not None and copy.parent == media and copy.read_bytes() == b"kort"
    assert copy.name.startswith("console-fatima-") and copy.suffix == ".txt"
    assert copy.stat().st_mode & 0o777 == 0o600
    incoming = await console.read_line(f"/bijlage {big}")
    assert incoming is not None and incoming.attachment is not None
    assert incoming.attachment.too_large and incoming.attachment.path is None
    assert incoming.attachment.size == 51
    assert [p.name for p in media.iterdir()] == [copy.name]


async def test_bijlage_without_a_file_says_so_and_sends_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "weg.png"
    console, out = _console(f"/bijlage {missing}\n/bijlage\n/bijlage {tmp_path}\nhallo\n")
    seen: list[Incoming] = []

    async def handle(msg: Incoming) -> list[Reply]:
        seen.append(msg)
        return [Reply(text="ok")]

    await console.converse(handle, intro=False)
    assert [m.text for m in seen] == ["hallo"]
    text = out.getvalue()
    assert f"<channels.console.attach_missing path={missing}>" in text
    assert f"<channels.console.attach_missing path={tmp_path}>" in text  # a folder
    assert "<channels.console.attach_usage command=/bijlage>" in text


async def test_a_file_typed_in_the_console_reaches_the_bot(tmp_path: Path) -> None:
    picture = tmp_path / "web.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    console, out = _console(f"/bijlage {picture} kijk\n")
    seen: list[Incoming] = []

    async def handle(msg: Incoming) -> list[Reply]:
        seen.append(msg)
        return [Reply(text="Mooi plaatje")]

    await console.converse(handle, intro=False)
    [incoming] = seen
    assert incoming.attachment is not None and incoming.attachment.path == picture
    assert "Mooi plaatje" in out.getvalue()


# -- the reminder step of a real check-in: options that carry numbers ---------------


@pytest.fixture
async def live_app(settings: Settings) -> AsyncIterator[tuple[App, FrozenClock]]:
    """The bot with a scheduler (on real time), so a chosen reminder is a real job."""
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    application = App(settings, clock=clock)
    await application.start(sender=False)
    try:
        yield application, clock
    finally:
        await application.stop()


async def _check_in_until_the_reminder(app: App, user: str, answer: str) -> str:
    """A quick check-in in the console, typed the way a person would, then ``answer``
    at the reminder question; returns what the console printed."""
    script = [
        "/spinnenweb",
        "1",  # Ja, bewaar mijn antwoorden (options without numbers: by position)
        "1",  # Kort (6 vragen): the 6 is not the option's number
        *["5"] * 6,  # scores: the label, not the position
        "2",  # Nee, klaar (no reflection)
        answer,
    ]
    return await typed_in_console(app, script, user=user)


@pytest.mark.parametrize(("answer", "weeks"), [("2", 2), ("12", 12)])
async def test_a_number_at_the_reminder_means_that_many_weeks(
    live_app: tuple[App, FrozenClock], answer: str, weeks: int
) -> None:
    app, clock = live_app
    out = await _check_in_until_the_reminder(app, "fatima", answer)
    remind_at = clock.now() + timedelta(weeks=weeks)
    local = remind_at.astimezone(app.settings.zone).strftime("%d-%m-%Y")
    assert f"Goed. Ik stuur je over {weeks} weken een herinnering, rond {local}." in out
    assert app.scheduler is not None
    assert [at for _, at in await app.scheduler.list_jobs("user:")] == [remind_at]
    # The weeks are shown as they are chosen: by their number, not by a position.
    assert "  1. Over 2 weken" not in out and "Over 12 weken" in out
    assert "  1. Ja, bewaar mijn antwoorden" in out  # positions where labels carry none


async def test_a_number_without_an_option_at_the_reminder_is_asked_again(
    live_app: tuple[App, FrozenClock],
) -> None:
    app, _ = live_app
    out = await _check_in_until_the_reminder(app, "fatima", "3")
    assert app.services is not None
    assert app.services.texts.get("nl", "checkin.followup_unclear") in out
    assert out.count(app.services.texts.get("nl", "checkin.followup")) == 2
    assert app.scheduler is not None
    assert await app.scheduler.list_jobs("user:") == []


def test_text_in_the_markup_is_printed_without_markers_and_a_link_with_its_address() -> None:
    console, out = _console()
    typed = "*Leeratelier* op _3 april_: [aanmelden](https://alliantie.example/agenda)."
    console.render(Reply(text=typed, markup=True))
    console.render(Reply(text="Ik gaf een *5*, _echt_"))  # not in the markup: as typed
    assert out.getvalue() == (
        "Leeratelier op 3 april: aanmelden (https://alliantie.example/agenda).\n\n"
        "Ik gaf een *5*, _echt_\n\n"
    )


async def test_the_choices_of_several_replies_are_numbered_on_and_each_can_be_chosen() -> None:
    """Three /agenda cards at once: 1-2 on the first, 3-4 on the second: any card can be
    answered by its number, not only the last one."""
    console, out = _console()

    async def cards(incoming: Incoming) -> list[Reply]:
        return [
            Reply(text="Intro"),
            Reply(text="A", choices=(Choice("Ik kom", "ag:y:1"), Choice("Niet", "ag:n:1"))),
            Reply(text="B", choices=(Choice("Ik kom", "ag:y:2"), Choice("Niet", "ag:n:2"))),
        ]

    await console._answer(cards, "/agenda")
    assert "A\n  1. Ik kom\n  2. Niet\n" in out.getvalue()
    assert "B\n  3. Ik kom\n  4. Niet\n" in out.getvalue()
    assert console.to_incoming("1").action == "ag:y:1"
    assert console.to_incoming("4").action == "ag:n:2"

    async def one(incoming: Incoming) -> list[Reply]:
        return [Reply(text="C", choices=(Choice("Ja", "c:y"),))]

    await console._answer(one, "/next")  # the next answer starts at 1 again
    assert "C\n  1. Ja\n" in out.getvalue()
    assert console.to_incoming("1").action == "c:y"
    assert console.to_incoming("4").kind is Kind.TEXT


async def test_outbox_messages_that_arrive_together_number_their_choices_on() -> None:
    """An invitation and a prompt at once: both sets of buttons can be chosen, by number
    or by their words; the next answer of the bot starts at 1 again."""
    console, out = _console()
    await console.send("fatima", Reply(text="Uitnodiging", choices=(Choice("Ik kom", "ag:y:1"),)))
    await console.send(
        "fatima", Reply(text="Inbreng", choices=(Choice("Ik wil iets inbrengen", "pr:in:1"),))
    )
    assert "Inbreng\n  2. Ik wil iets inbrengen\n" in out.getvalue()
    assert console.to_incoming("1").action == "ag:y:1"
    assert console.to_incoming("2").action == "pr:in:1"
    assert console.to_incoming("ik wil iets inbrengen").action == "pr:in:1"

    async def answer(incoming: Incoming) -> list[Reply]:
        return [Reply(text="Dank", choices=(Choice("Nog iets", "pr:in:1"),))]

    await console._answer(answer, "2")
    assert "Dank\n  1. Nog iets\n" in out.getvalue()
