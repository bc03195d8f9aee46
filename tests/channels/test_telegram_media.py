"""What announcements need of the Telegram channel, on the fake Bot API: link buttons,
a message edited in place, pictures and files people send (downloaded, or too large),
and a picture uploaded once for many recipients.

The channel runs on its own here (no App, no database): a recording handler stands
in for the core, so each test shows exactly what the channel hands over and what it
sends. One test goes through the whole bot and the outbox (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot.channels.base import DeliveryError
from bot.channels.telegram_media import FileRef, MediaFetcher
from bot.channels.telegram_updates import Me, UpdateReader
from bot.channels.telegram_uploads import upload_key
from bot.core.clock import FrozenClock
from bot.core.messages import (
    Choice,
    Document,
    FileKind,
    Image,
    Incoming,
    Kind,
    Reply,
    ShareLink,
)
from bot.outbox.queue import SENT, Outgoing
from bot.outbox.sender import OutboxSender
from bot.settings import Settings
from bot.storage.models import OutboxMessage
from tests.helpers.fake_telegram import FakeBotApi
from tests.helpers.telegram_bot import ObservedChannel, TelegramBot, running_bot, tiny_png

ANNA, BOB, CAROL = 4201, 4202, 4203
GROUP = -1001234567890
MB = 1024 * 1024

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@dataclass
class Core:
    """Stands in for the bot: records what the channel hands over, answers ``replies``."""

    seen: list[Incoming] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)

    async def __call__(self, incoming: Incoming) -> list[Reply]:
        self.seen.append(incoming)
        return list(self.replies)


@dataclass
class Rig:
    fake: FakeBotApi
    channel: ObservedChannel
    core: Core
    media: Path

    async def feed(self, update: dict[str, Any]) -> None:
        await self.channel.wait_finished(int(update["update_id"]))


@contextlib.asynccontextmanager
async def channel_rig(
    make_settings: Callable[..., Settings], tmp_path: Path, **overrides: Any
) -> AsyncIterator[Rig]:
    async with FakeBotApi() as fake:
        media = tmp_path / "media"
        settings = make_settings(
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            media_dir=media,
            **overrides,
        )
        channel = ObservedChannel(settings)
        core = Core()
        await channel.start(core)
        try:
            yield Rig(fake, channel, core, media)
        finally:
            await channel.stop()


@pytest.fixture
async def rig(make_settings: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[Rig]:
    async with channel_rig(make_settings, tmp_path) as r:
        yield r


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


# -- link buttons ------------------------------------------------------------------------


async def test_a_link_button_opens_its_link_beside_the_answer_buttons(rig: Rig) -> None:
    reply = Reply(
        text="Leeratelier op 12 maart",
        choices=(
            Choice("Ik kom", "rsvp:1"),
            Choice.link("Meer informatie", "https://alliantie.example/leeratelier?id=3"),
        ),
    )
    sent_id = await rig.channel.send(str(ANNA), reply)
    assert sent_id is not None
    buttons = [b for row in rig.fake.keyboard(ANNA) for b in row]
    assert {"text": "Ik kom", "callback_data": "rsvp:1"} in buttons
    assert {"text": "Meer informatie", "url": "https://alliantie.example/leeratelier?id=3"} in (
        buttons
    )


# -- a message edited in place -----------------------------------------------------------


async def test_an_edit_replaces_the_message_and_keeps_its_id(rig: Rig) -> None:
    first = await rig.channel.send(str(ANNA), Reply(text="Verzonden: 0 van 300"))
    assert first is not None
    again = await rig.channel.send(
        str(ANNA),
        Reply(text="Verzonden: 150 van 300", choices=(Choice("Stop", "ann:stop"),), edit_of=first),
    )
    assert again == first
    [message] = rig.fake.bot_messages(ANNA)
    assert text_of(message) == "Verzonden: 150 van 300"
    assert rig.fake.keyboard(ANNA) == [[{"text": "Stop", "callback_data": "ann:stop"}]]
    # The last edit drops the buttons; an edit that changes nothing is done too.
    done = Reply(text="Klaar: 300 afgeleverd", edit_of=first)
    assert await rig.channel.send(str(ANNA), done) == first
    assert await rig.channel.send(str(ANNA), done) == first
    [message] = rig.fake.bot_messages(ANNA)
    assert text_of(message) == "Klaar: 300 afgeleverd" and "reply_markup" not in message
    edits = rig.fake.calls_of("editMessageText", ANNA)
    assert [c.status for c in edits] == [200, 200, 400]  # the last: "not modified"
    assert len(rig.fake.sent(ANNA)) == 1


@pytest.mark.parametrize("why", ["deleted", "cannot be edited", "a picture", "not an id"])
async def test_an_edit_that_cannot_be_made_goes_out_as_a_new_message(
    rig: Rig, tmp_path: Path, why: str
) -> None:
    picture = tmp_path / "web.png"
    picture.write_bytes(tiny_png())
    if why == "a picture":
        first = await rig.channel.send(str(ANNA), Reply(image=Image(picture, "web")))
    else:
        first = await rig.channel.send(str(ANNA), Reply(text="Verzonden: 0 van 3"))
    assert first is not None
    if why == "deleted":
        rig.fake.delete_message(ANNA, int(first))
    elif why == "cannot be edited":
        rig.fake.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    elif why == "not an id":
        first = "console-7"
    new = await rig.channel.send(str(ANNA), Reply(text="Verzonden: 3 van 3", edit_of=first))
    assert new is not None and new != first
    tried = [c.status for c in rig.fake.calls_of("editMessageText")]
    assert tried == ([] if why == "not an id" else [400])
    assert text_of(rig.fake.last_message(ANNA)) == "Verzonden: 3 van 3"


async def test_an_invites_share_link_goes_below_the_text_when_sent_or_edited(rig: Rig) -> None:
    invite = Reply(text="Uitnodiging klaar.", share_link=ShareLink("inv_abc123", "Link:"))
    first = await rig.channel.send(str(ANNA), invite)
    link = f"https://t.me/{rig.fake.username}?start=inv_abc123"
    assert text_of(rig.fake.last_message(ANNA)) == f"Uitnodiging klaar.\n\nLink:\n{link}"
    edited = dataclasses.replace(invite, text="Uitnodiging verlengd.", edit_of=first)
    assert await rig.channel.send(str(ANNA), edited) == first
    assert text_of(rig.fake.last_message(ANNA)) == f"Uitnodiging verlengd.\n\nLink:\n{link}"


async def test_an_edit_fails_like_a_send_when_the_chat_is_gone(rig: Rig) -> None:
    first = await rig.channel.send(str(ANNA), Reply(text="Bezig"))
    rig.fake.fail_next("editMessageText", 400, "Bad Request: chat not found")
    with pytest.raises(DeliveryError, match=r"(?i)chat not found") as raised:
        await rig.channel.send(str(ANNA), Reply(text="Klaar", edit_of=first))
    assert raised.value.permanent  # the outbox marks the person inactive


async def test_an_edit_too_long_for_one_message_is_sent_anew(rig: Rig) -> None:
    first = await rig.channel.send(str(ANNA), Reply(text="Kort"))
    long = "Een regel van het verslag.\n\n" * 400  # more than 4,096 characters
    await rig.channel.send(str(ANNA), Reply(text=long, edit_of=first))
    assert rig.fake.calls_of("editMessageText") == []
    assert text_of(rig.fake.bot_messages(ANNA)[0]) == "Kort"
    assert len(rig.fake.bot_messages(ANNA)) > 2


async def test_the_outbox_edits_the_message_it_sent_before(
    make_settings: Callable[..., Settings],
    database_url: str,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, media_dir=tmp_path / "media"
    ) as tg:
        await tg.say(ANNA, "/start")
        outbox = tg.services.outbox
        sender = OutboxSender(outbox, tg.app.channels)

        def progress(key: str, text: str, edit_of: str | None) -> Outgoing:
            reply = Reply(text=text, edit_of=edit_of)
            return Outgoing(key=key, platform="telegram", chat_id=str(ANNA), reply=reply)

        await outbox.enqueue([progress("p0", "Verzonden: 0 van 2", None)])
        assert await sender.drain() == 1
        rows = await _rows(tg)
        first = rows[-1].platform_message_id
        assert rows[-1].status == SENT and first is not None
        await outbox.enqueue([progress("p1", "Verzonden: 2 van 2", first)])
        assert await sender.drain() == 1
        rows = await _rows(tg)
        assert rows[-1].status == SENT and rows[-1].platform_message_id == first
        texts = [text_of(m) for m in tg.fake.bot_messages(ANNA)]
        assert texts[-1] == "Verzonden: 2 van 2"
        assert "Verzonden: 0 van 2" not in texts


async def _rows(tg: TelegramBot) -> list[OutboxMessage]:
    async with tg.services.sessions() as session:
        result = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(result.scalars())


# -- pictures and files people send --------------------------------------------------------


async def test_a_photo_is_downloaded_in_its_largest_size_with_its_caption(rig: Rig) -> None:
    picture = tiny_png(40, 30)
    update = rig.fake.photo(ANNA, picture, caption="Onze bijeenkomst in Leiden")
    await rig.feed(update)
    [incoming] = rig.core.seen
    assert incoming.kind is Kind.UNSUPPORTED
    assert incoming.text == "Onze bijeenkomst in Leiden"
    file = incoming.attachment
    assert file is not None and file.kind is FileKind.IMAGE and not file.too_large
    assert file.mime_type == "image/jpeg" and file.size == len(picture) and file.filename == ""
    assert file.path is not None and file.path.parent == rig.media
    assert file.path.read_bytes() == picture  # the picture, not the thumbnail
    assert file.path.name.startswith(f"telegram-{ANNA}-") and file.path.suffix == ".jpg"
    assert file.path.stat().st_mode & 0o777 == 0o600
    largest = update["message"]["photo"][-1]["file_id"]
    assert [c.params["file_id"] for c in rig.fake.calls_of("getFile")] == [largest]


async def test_a_document_keeps_its_name_and_type(rig: Rig) -> None:
    data = b"%PDF-1.4 programma leeratelier"
    await rig.feed(rig.fake.document(ANNA, data, file_name="../../programma maart.pdf"))
    [incoming] = rig.core.seen
    file = incoming.attachment
    assert incoming.kind is Kind.UNSUPPORTED and incoming.text == ""
    assert file is not None and file.kind is FileKind.DOCUMENT
    assert file.filename == "programma maart.pdf"  # a name, never a path
    assert file.mime_type == "application/pdf" and file.size == len(data)
    assert file.path is not None and file.path.read_bytes() == data
    assert file.path.parent == rig.media and file.path.suffix == ".pdf"


async def test_a_file_larger_than_the_limit_is_not_downloaded(rig: Rig) -> None:
    await rig.feed(rig.fake.document(ANNA, b"klein", file_name="film.mp4", size=15 * MB))
    [incoming] = rig.core.seen
    file = incoming.attachment
    assert file is not None and file.too_large and file.path is None
    assert file.size == 15 * MB and file.filename == "film.mp4"
    assert rig.fake.calls_of("getFile") == [] and rig.fake.downloads == []
    assert not rig.media.exists() or list(rig.media.iterdir()) == []


async def test_the_limit_is_a_setting_and_checked_on_what_arrives(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    async with channel_rig(make_settings, tmp_path, media_max_bytes=1000) as rig:
        await rig.feed(rig.fake.photo(ANNA, tiny_png(), caption="past"))
        # The message says 100 bytes; 2,000 arrive: still too large, nothing kept.
        await rig.feed(rig.fake.document(ANNA, b"x" * 2000, file_name="a.txt", size=100))
        fits, lies = (m.attachment for m in rig.core.seen)
        assert fits is not None and fits.path is not None and not fits.too_large
        assert lies is not None and lies.too_large and lies.path is None
        assert [p.name for p in rig.media.iterdir()] == [fits.path.name]


async def test_telegram_refusing_a_file_over_20_mb_marks_it_too_large(rig: Rig) -> None:
    update = rig.fake.document(ANNA, b"groot", file_name="groot.zip", size=25 * MB, enqueue=False)
    document = update["message"]["document"]
    fetcher = MediaFetcher(rig.channel.application.bot, rig.media, 30 * MB)
    # The size unknown beforehand: getFile answers "file is too big".
    ref = FileRef(
        document["file_id"], document["file_unique_id"], FileKind.DOCUMENT, "", None, None
    )
    file = await fetcher.fetch(ref, str(ANNA))
    assert file.too_large and file.path is None
    assert [c.status for c in rig.fake.calls_of("getFile")] == [400]


async def test_a_failed_download_hands_over_the_file_without_a_path(rig: Rig) -> None:
    rig.fake.fail_next("getFile", 400, "Bad Request: invalid file_id")
    await rig.feed(rig.fake.photo(ANNA, caption="kijk"))
    [incoming] = rig.core.seen
    assert incoming.attachment is not None
    assert incoming.attachment.path is None and not incoming.attachment.too_large
    assert incoming.text == "kijk"


async def test_a_media_folder_that_cannot_be_written_costs_the_file_not_the_update(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    async with channel_rig(make_settings, tmp_path) as rig:
        rig.media.write_text("een bestand, geen map")
        await rig.feed(rig.fake.photo(ANNA, caption="kijk"))
        [incoming] = rig.core.seen
        assert incoming.attachment is not None and incoming.attachment.path is None
        assert not incoming.attachment.too_large


async def test_stickers_stay_unsupported_and_group_pictures_are_not_read(rig: Rig) -> None:
    await rig.feed(rig.fake.sticker(ANNA))
    await rig.feed(rig.fake.photo(BOB, chat_id=GROUP, chat_type="supergroup", caption="hoi"))
    [sticker] = rig.core.seen
    assert sticker.kind is Kind.UNSUPPORTED and sticker.attachment is None and sticker.text == ""
    assert rig.fake.calls_of("getFile") == []


async def test_a_photo_nobody_asked_for_gets_the_same_reply_as_a_sticker(
    make_settings: Callable[..., Settings],
    database_url: str,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, media_dir=tmp_path / "media"
    ) as tg:
        sticker = await tg.feed(tg.fake.sticker(ANNA), ANNA)
        photo = await tg.feed(tg.fake.photo(ANNA, caption="Wat vind je hiervan?"), ANNA)
        document = await tg.feed(tg.fake.document(ANNA), ANNA)
        expected = [tg.t("fallback.unsupported")]
        for sent in (sticker, photo, document):
            assert [str(c.result.get("text")) for c in sent] == expected


# -- one upload for many recipients ----------------------------------------------------------


async def test_a_picture_for_many_is_uploaded_once(rig: Rig, tmp_path: Path) -> None:
    picture = tmp_path / "aankondiging.png"
    picture.write_bytes(tiny_png(64, 48))
    folder = tmp_path / "programma.pdf"
    folder.write_bytes(b"%PDF-1.4 programma")
    reply = Reply(
        text="Nieuws",
        image=Image(picture, "aankondiging"),
        document=Document(folder, "programma.pdf"),
    )
    for chat in (ANNA, BOB, CAROL):
        assert await rig.channel.send(str(chat), reply) is not None
    photos = rig.fake.calls_of("sendPhoto")
    documents = rig.fake.calls_of("sendDocument")
    assert [bool(c.files) for c in photos] == [True, False, False]
    assert [bool(c.files) for c in documents] == [True, False, False]
    assert all(c.ok for c in photos + documents)
    assert len({c.params["photo"] for c in photos[1:]}) == 1
    # A picture written anew under the same name is uploaded anew.
    picture.write_bytes(tiny_png(80, 60))
    await rig.channel.send(str(ANNA), Reply(image=Image(picture, "nieuw")))
    assert bool(rig.fake.calls_of("sendPhoto")[-1].files)


async def test_sent_at_once_to_many_the_picture_is_still_uploaded_once(
    rig: Rig, tmp_path: Path
) -> None:
    picture = tmp_path / "aankondiging.png"
    picture.write_bytes(tiny_png(64, 48))
    reply = Reply(text="Nieuws", image=Image(picture, "aankondiging"))
    chats = [str(5000 + n) for n in range(20)]  # the outbox sends a group at once
    ids = await asyncio.gather(*(rig.channel.send(chat, reply) for chat in chats))
    assert all(ids)
    photos = rig.fake.calls_of("sendPhoto")
    assert len(photos) == 20 and all(c.ok for c in photos)
    assert sum(bool(c.files) for c in photos) == 1


async def test_a_file_id_telegram_no_longer_takes_is_uploaded_after_all(
    rig: Rig, tmp_path: Path
) -> None:
    picture = tmp_path / "web.png"
    picture.write_bytes(tiny_png())
    rig.channel.sender.uploads.put(upload_key(picture), "AgACAgQAAxkBAAFonbekend")
    assert await rig.channel.send(str(ANNA), Reply(image=Image(picture, "web"))) is not None
    statuses = [(c.status, bool(c.files)) for c in rig.fake.calls_of("sendPhoto")]
    assert statuses == [(400, False), (200, True)]
    assert len(rig.fake.sent(ANNA)) == 1
    await rig.channel.send(str(BOB), Reply(image=Image(picture, "web")))
    assert not rig.fake.calls_of("sendPhoto")[-1].files  # the new id is remembered


def test_the_reader_keeps_a_caption_only_with_a_picture_or_file() -> None:
    reader = UpdateReader(Me("alliantie_test_bot", 123456), lambda _: True)
    fake = FakeBotApi()
    sticker = fake.sticker(ANNA, enqueue=False)
    sticker["message"]["caption"] = "genegeerd"
    incoming = reader.to_incoming(Update.de_json(sticker, None))
    assert incoming is not None and incoming.text == ""
    photo = fake.photo(ANNA, caption="bijschrift", enqueue=False)
    incoming = reader.to_incoming(Update.de_json(photo, None))
    assert incoming is not None and incoming.text == "bijschrift"
    assert incoming.kind is Kind.UNSUPPORTED
