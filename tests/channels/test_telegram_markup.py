"""Bold, italic and links on Telegram (``Reply.markup``): the HTML it becomes, split
over messages without breaking a tag, in a caption and an edit, checked by the fake
Bot API's parser as Telegram would parse it; and an announcement with bold that
reaches a recipient as bold, through the whole bot and the outbox."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.broadcast.engine import BroadcastEngine
from bot.channels.telegram_format import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    escape,
    split_marked,
    split_text,
    to_html,
    utf16_len,
)
from bot.core.clock import FrozenClock
from bot.core.markup import Marked, Span, parse
from bot.core.messages import Image, Incoming, Reply
from bot.outbox.sender import OutboxSender
from bot.settings import Settings
from tests.helpers.fake_telegram import FakeBotApi, parse_html
from tests.helpers.telegram_bot import ObservedChannel, running_bot, tiny_png

ANNA, LOTTE = 4401, 4402
URL = "https://www.alliantiepg.nl/agenda?w=1&x=2"

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def entities(message: dict[str, Any], key: str = "entities") -> list[tuple[str, str, str]]:
    """(type, the text it covers, url) of each entity, offsets in UTF-16 as Telegram's."""
    units = str(message.get("text") or message.get("caption") or "").encode("utf-16-le")
    return [
        (
            e["type"],
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"),
            e.get("url", ""),
        )
        for e in message.get(key, [])
    ]


# -- the HTML ---------------------------------------------------------------------------


def test_spans_become_tags_around_escaped_text() -> None:
    marked = parse(f'*Let op* <Leiden> & _"meer"_: [de "agenda"]({URL})')
    html = to_html(marked)
    assert html == (
        '<b>Let op</b> &lt;Leiden&gt; &amp; <i>"meer"</i>: '
        '<a href="https://www.alliantiepg.nl/agenda?w=1&amp;x=2">de "agenda"</a>'
    )
    plain, found = parse_html(html)
    assert plain == marked.plain == 'Let op <Leiden> & "meer": de "agenda"'
    assert [(e["type"], e.get("url")) for e in found] == [
        ("bold", None),
        ("italic", None),
        ("text_link", URL),
    ]


def test_a_quote_in_a_links_address_cannot_end_the_attribute() -> None:
    html = to_html(Marked("hier", (Span("link", 0, 4, 'https://x.nl/"><b>'),)))
    assert html == '<a href="https://x.nl/&quot;&gt;&lt;b&gt;">hier</a>'
    assert parse_html(html)[1] == [
        {"type": "text_link", "offset": 0, "length": 4, "url": 'https://x.nl/"><b>'}
    ]


def test_nested_and_crossing_spans_close_in_order() -> None:
    assert to_html(parse("*vet _en schuin_*")) == "<b>vet <i>en schuin</i></b>"
    assert to_html(parse("_schuin *en vet*_")) == "<i>schuin <b>en vet</b></i>"
    crossing = Marked("abcdef", (Span("bold", 0, 4), Span("italic", 2, 6)))
    assert to_html(crossing) == "<b>ab<i>cd</i></b><i>ef</i>"
    assert parse_html(to_html(crossing))[0] == "abcdef"


@pytest.mark.parametrize("limit", [MESSAGE_LIMIT, CAPTION_LIMIT])
def test_a_long_text_is_split_with_every_tag_closed_in_its_part(limit: int) -> None:
    # Words with an emoji (two UTF-16 units each); bold runs across every split point.
    paragraph = "*" + " ".join(f"woord{n}🙂" for n in range(600)) + "* en _einde_"
    marked = parse("\n\n".join([paragraph] * 3))
    parts = split_marked(marked, limit)
    assert len(parts) > 3
    texts = []
    for part in parts:
        plain, found = parse_html(to_html(part))  # raises on a broken tag
        assert plain == part.plain and utf16_len(plain) <= limit
        assert found and {e["type"] for e in found} <= {"bold", "italic"}
        texts.append(plain)
    assert "".join(texts).replace("\n", "").replace(" ", "") == marked.plain.replace(
        "\n", ""
    ).replace(" ", "")


def test_plain_text_splits_as_before() -> None:
    text = "Een *ster* & <punt>.\n\n" * 400
    parts = split_marked(Marked(text))
    assert [to_html(p) for p in parts] == [escape(chunk) for chunk in split_text(text)]


# -- the channel on the fake Bot API ----------------------------------------------------


@dataclass
class Core:
    seen: list[Incoming] = field(default_factory=list)

    async def __call__(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        return []


@contextlib.asynccontextmanager
async def started(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[tuple[FakeBotApi, ObservedChannel]]:
    async with FakeBotApi() as fake:
        settings = make_settings(
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            media_dir=tmp_path / "media",
        )
        channel = ObservedChannel(settings)
        await channel.start(Core())
        try:
            yield fake, channel
        finally:
            await channel.stop()


@pytest.fixture
async def tg(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[tuple[FakeBotApi, ObservedChannel]]:
    async with started(make_settings, tmp_path) as pair:
        yield pair


TYPED = f"*Leeratelier* op _3 april_ <Leiden> & meer: [aanmelden]({URL})"


async def test_a_reply_in_the_markup_arrives_bold_italic_and_linked(
    tg: tuple[FakeBotApi, ObservedChannel],
) -> None:
    fake, channel = tg
    await channel.send(str(ANNA), Reply(text=TYPED, markup=True))
    message = fake.last_message(ANNA)
    assert message["text"] == "Leeratelier op 3 april <Leiden> & meer: aanmelden"
    assert entities(message) == [
        ("bold", "Leeratelier", ""),
        ("italic", "3 april", ""),
        ("text_link", "aanmelden", URL),
    ]


async def test_a_reply_not_in_the_markup_shows_its_markers_as_typed(
    tg: tuple[FakeBotApi, ObservedChannel],
) -> None:
    fake, channel = tg
    await channel.send(str(ANNA), Reply(text=TYPED))
    message = fake.last_message(ANNA)
    assert message["text"] == TYPED
    assert "entities" not in message


async def test_a_long_marked_text_is_split_with_bold_on_both_sides(
    tg: tuple[FakeBotApi, ObservedChannel],
) -> None:
    fake, channel = tg
    words = " ".join(f"woord{n}🙂" for n in range(700))  # over 4,096 UTF-16 units
    await channel.send(str(ANNA), Reply(text=f"_Begin_ *{words}* [eind]({URL})", markup=True))
    first, second = fake.bot_messages(ANNA)
    assert utf16_len(first["text"]) <= MESSAGE_LIMIT
    assert entities(first)[0] == ("italic", "Begin", "")
    assert entities(first)[1][0] == "bold" and first["text"].endswith(entities(first)[1][1])
    assert entities(second)[0][0] == "bold" and second["text"].startswith(entities(second)[0][1])
    assert entities(second)[-1] == ("text_link", "eind", URL)
    bold = entities(first)[1][1] + " " + entities(second)[0][1]
    assert bold == words


async def test_a_caption_and_an_edit_carry_the_formatting_too(
    tg: tuple[FakeBotApi, ObservedChannel], tmp_path: Path
) -> None:
    fake, channel = tg
    picture = tmp_path / "poster.png"
    picture.write_bytes(tiny_png())
    image = Image(picture, "poster")
    await channel.send(str(ANNA), Reply(text="*Poster* voor _maart_", image=image, markup=True))
    captioned = fake.last_message(ANNA)
    assert captioned["caption"] == "Poster voor maart"
    assert entities(captioned, "caption_entities") == [
        ("bold", "Poster", ""),
        ("italic", "maart", ""),
    ]
    first = await channel.send(str(ANNA), Reply(text="Bezig", markup=True))
    again = await channel.send(str(ANNA), Reply(text="*Klaar*: [zie]({URL})", edit_of=first))
    assert again == first  # not in the markup: as typed
    assert fake.last_message(ANNA)["text"] == "*Klaar*: [zie]({URL})"
    edit = Reply(text=f"*Klaar*: [zie]({URL})", edit_of=first, markup=True)
    assert await channel.send(str(ANNA), edit) == first
    [*_, call] = fake.calls_of("editMessageText")
    edited = fake.stored_message(ANNA, int(first))
    assert call.params["parse_mode"] == "HTML" and edited["text"] == "Klaar: zie"
    assert entities(edited) == [("bold", "Klaar", ""), ("text_link", "zie", URL)]


# -- an announcement, end to end --------------------------------------------------------


async def test_an_announcement_with_bold_reaches_a_telegram_recipient_as_bold(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, bot_admins=f"telegram:{LOTTE}"
    ) as bot:
        await bot.say(ANNA, "/start")
        await bot.say(LOTTE, "/bericht")
        await bot.press(LOTTE, bot.t("compose.everyone"))
        await bot.press(LOTTE, bot.t("compose.next"))
        await bot.press(LOTTE, bot.t("compose.topics.nieuws"))
        await bot.say(LOTTE, f"*Leeratelier* op 3 april, _gratis_: [aanmelden]({URL})")
        _intro, shown, _counts, _confirm = await bot.press(LOTTE, bot.t("compose.extra_none"))
        # The preview: as Anna will see it.
        assert shown.result["text"] == "Leeratelier op 3 april, gratis: aanmelden"
        assert entities(shown.result) == [
            ("bold", "Leeratelier", ""),
            ("italic", "gratis", ""),
            ("text_link", "aanmelden", URL),
        ]
        await bot.press(LOTTE, bot.t("compose.send_now"))
        services = bot.services
        engine = BroadcastEngine(
            sessions=services.sessions,
            outbox=services.outbox,
            texts=services.texts,
            clock=services.clock,
            interval=0.0,
        )
        sender = OutboxSender(services.outbox, bot.app.channels, before_claim=[engine.tick])
        assert await sender.drain() > 0
        received = [
            m for m in bot.fake.bot_messages(ANNA) if m.get("text", "").startswith("Leeratelier")
        ]
        assert [m["text"] for m in received] == ["Leeratelier op 3 april, gratis: aanmelden"]
        assert entities(received[0]) == [
            ("bold", "Leeratelier", ""),
            ("italic", "gratis", ""),
            ("text_link", "aanmelden", URL),
        ]
        unsubscribe = bot.t("announce.unsubscribe", topic="nieuws")
        assert [
            b["text"] for row in received[0]["reply_markup"]["inline_keyboard"] for b in row
        ] == [unsubscribe]


def test_any_text_becomes_html_telegram_parses_back_to_its_plain_text() -> None:
    pieces = ["*", "_", "[", "]", "(", ")", " ", "\n", "\n\n", "a", "b🙂", "<", "&", '"']
    pieces += ["https://x.nl/a_b", "[hier](https://x.nl/*)", "*vet*", "_schuin_"]
    generator = random.Random(14)
    for _ in range(500):
        typed = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 40)))
        marked = parse(typed)
        for limit in (MESSAGE_LIMIT, 12):
            for part in split_marked(marked, limit):
                plain, _found = parse_html(to_html(part))
                assert plain == part.plain, typed
                assert utf16_len(plain) <= limit, typed
