"""Self-test of the fake Telegram Bot API, driven by the real python-telegram-bot library."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.helpers.fake_telegram import FakeBotApi, parse_html, tiny_png

CHAT = 4242


def yes_no() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="yes"),
                InlineKeyboardButton("Nee", callback_data="no"),
            ]
        ]
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


async def test_get_me(fake: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == fake.bot_id == 123456
    assert me.is_bot
    assert me.username == "alliantie_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert [c.method for c in fake.calls] == ["getMe", "getMe"]  # initialize() + ours


async def test_wrong_token_is_unauthorized(fake: FakeBotApi) -> None:
    other = Bot("999:wrong", base_url=fake.base_url, base_file_url=fake.base_file_url)
    with pytest.raises(InvalidToken):
        await other.initialize()
    await other.shutdown()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{fake.token}/getChat") as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }


async def test_send_message_params_are_decoded(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "7", reply_markup=yes_no())
    call = fake.calls_of("sendMessage")[0]
    assert call.params["text"] == "7"
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Ja", "callback_data": "yes"}, {"text": "Nee", "callback_data": "no"}]
        ]
    }
    assert call.files == {}
    assert sent.message_id == 1
    assert sent.chat.type == "private"
    assert sent.from_user is not None and sent.from_user.id == fake.bot_id
    assert sent.reply_markup == yes_no()
    assert fake.texts(CHAT) == ["7"]
    assert [b["text"] for b in fake.keyboard(CHAT)[0]] == ["Ja", "Nee"]
    second = await bot.send_message(CHAT, "again")
    assert second.message_id == 2


async def test_send_photo_upload(fake: FakeBotApi, bot: Bot, tmp_path: Path) -> None:
    png = tiny_png()
    path = tmp_path / "chart.png"
    path.write_bytes(png)
    message = await bot.send_photo(CHAT, photo=path, caption="<b>grafiek</b>", parse_mode="HTML")
    call = fake.calls_of("sendPhoto")[0]
    assert call.files == {"photo": ("chart.png", png)}
    assert call.params["caption"] == "<b>grafiek</b>"
    assert message.caption == "grafiek"
    assert message.photo[-1].width == 3 and message.photo[-1].height == 2
    assert fake.texts(CHAT) == ["<b>grafiek</b>"]
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(CHAT, photo=b"not an image")

    doc = await bot.send_document(CHAT, document=b"a;b\n1;2\n", filename="data.csv")
    assert doc.document is not None and doc.document.file_name == "data.csv"
    assert fake.calls_of("sendDocument")[0].files["document"] == ("data.csv", b"a;b\n1;2\n")


async def test_files_people_send_can_be_downloaded_once_looked_up(
    fake: FakeBotApi, bot: Bot
) -> None:
    png = tiny_png(40, 30)
    photo = fake.photo(CHAT, png, caption="kijk")["message"]
    assert photo["caption"] == "kijk"
    thumbnail, picture = photo["photo"]
    assert thumbnail["file_id"] != picture["file_id"] and picture["file_size"] == len(png)
    file = await bot.get_file(picture["file_id"])
    assert file.file_size == len(png) and file.file_path
    assert bytes(await file.download_as_bytearray()) == png
    assert len(fake.downloads) == 1 and str(file.file_path).endswith(fake.downloads[0])
    document = fake.document(CHAT, b"%PDF", file_name="a.pdf")["message"]["document"]
    assert document["mime_type"] == "application/pdf" and document["file_size"] == 4
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("onbekend")
    big = fake.document(CHAT, b"x", size=21 * 1024 * 1024)["message"]["document"]
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big["file_id"])


async def test_a_file_sent_again_by_its_id_must_be_known_and_of_its_kind(
    fake: FakeBotApi, bot: Bot
) -> None:
    first = await bot.send_photo(CHAT, photo=tiny_png())
    again = await bot.send_photo(CHAT + 1, photo=first.photo[-1].file_id)
    assert again.photo[-1].file_id == first.photo[-1].file_id
    assert fake.calls_of("sendPhoto")[1].files == {}
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(CHAT, photo="AgACAgQAAxkBAAFonbekend")
    with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
        await bot.send_document(CHAT, document=first.photo[-1].file_id)
    doc = await bot.send_document(CHAT, document=b"a;b", filename="data.csv")
    assert doc.document is not None
    again_doc = await bot.send_document(CHAT, document=doc.document.file_id)
    assert again_doc.document is not None and again_doc.document.file_name == "data.csv"


async def test_an_edit_of_a_deleted_message_is_not_found(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "bezig")
    fake.delete_message(CHAT, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("klaar", chat_id=CHAT, message_id=sent.message_id)


async def test_flood_control_raises_retry_after(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with warnings.catch_warnings():
        # reading an int-valued retry_after is deprecated since PTB 22.2 (PTB_TIMEDELTA opts in)
        warnings.simplefilter("ignore")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "hallo")
        retry_after = caught.value.retry_after
    assert retry_after in (3, dtm.timedelta(seconds=3))
    assert fake.calls_of("sendMessage")[0].status == 429
    assert fake.sent(CHAT) == []
    await bot.send_message(CHAT, "hallo")  # only the next call failed
    assert fake.texts(CHAT) == ["hallo"]


async def test_blocked_user_is_forbidden(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_blocked(CHAT)
    await bot.send_message(CHAT + 1, "other chat is fine")
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(CHAT, "hallo")
    fake.blocked.add(CHAT)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(CHAT, "typing")


async def test_get_updates_long_poll_and_offset(fake: FakeBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for("getUpdates")
    assert not poll.done()
    fed = fake.message(CHAT, "/start@alliantie_test_bot hoi @someone_else")
    assert fed["update_id"] == 1
    updates = await asyncio.wait_for(poll, 5)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == fed["message"]["text"]
    assert message.from_user is not None and message.from_user.language_code == "nl"
    assert [e.type for e in message.entities] == ["bot_command", "mention"]
    assert message.parse_entities(["bot_command"]).popitem()[1] == "/start@alliantie_test_bot"

    fake.sticker(CHAT)
    again = await bot.get_updates(timeout=0)  # not confirmed yet: both come back
    assert [u.update_id for u in again] == [1, 2]
    assert again[1].message is not None and again[1].message.sticker is not None
    assert await bot.get_updates(offset=3, timeout=0) == ()
    assert fake.pending_updates == []


async def test_press_answer_and_remove_keyboard(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Gaat het goed?", reply_markup=yes_no())
    await bot.send_message(CHAT, "no keyboard here")
    fake.press(CHAT, "Ja")
    (update,) = await bot.get_updates(timeout=1)
    query = update.callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.from_user.id == CHAT
    assert await bot.answer_callback_query(query.id, text="Dank")
    assert query.id in fake.answered_callbacks
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("nonsense")

    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    assert fake.keyboard(CHAT, sent.message_id) == []
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    with pytest.raises(AssertionError, match="no button 'Ja'"):
        fake.press(CHAT, "Ja")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)

    edited = await bot.edit_message_text(
        "Gaat het beter?", chat_id=CHAT, message_id=sent.message_id, reply_markup=yes_no()
    )
    assert isinstance(edited, type(sent)) and edited.text == "Gaat het beter?"
    fake.press(CHAT, "Nee")
    (update,) = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert update.callback_query is not None
    assert isinstance(update.callback_query.message, Message)
    assert update.callback_query.message.text == "Gaat het beter?"
    assert update.callback_query.data == "no"


async def test_html_validation(fake: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "<b>x</i>", parse_mode="HTML")
    ok = await bot.send_message(CHAT, "a &lt; b <b>vet</b>", parse_mode="HTML")
    assert ok.text == "a < b vet"
    assert fake.stored_message(CHAT, ok.message_id)["text"] == "a < b vet"
    assert fake.texts(CHAT) == ["a &lt; b <b>vet</b>"]
    assert fake.sent(CHAT)[0].params["parse_mode"] == "HTML"
    # the limit counts the text without tags
    await bot.send_message(CHAT, "<i>" + "x" * 4096 + "</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            CHAT,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="d" * 65)]]
            ),
        )


def test_parse_html_entities() -> None:
    text, entities = parse_html(
        '<a href="https://x.nl/?a=1&amp;b=2">link</a> &#128512; <tg-spoiler>s</tg-spoiler>'
    )
    assert text == "link 😀 s"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://x.nl/?a=1&b=2"},
        {"type": "spoiler", "offset": 8, "length": 1},
    ]
    with pytest.raises(ValueError, match="Unsupported start tag"):
        parse_html("<br>")


async def test_commands_and_webhook(fake: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands(
        [BotCommand("start", "Begin")], scope=BotCommandScopeAllPrivateChats(), language_code="nl"
    )
    assert fake.commands == {
        ("all_private_chats", "nl"): [{"command": "start", "description": "Begin"}]
    }
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="nl")
    assert got == (BotCommand("start", "Begin"),)
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start!", "Begin")])

    received: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with pytest.raises(BadRequest):
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="bad secret!")
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret"
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        status = await fake.post_webhook(fake.message(CHAT, "hoi", enqueue=False), secret="s3cret")
        assert status == 200
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "hoi"  # type: ignore[index]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        await bot.delete_webhook()
        assert fake.webhook is None
    finally:
        await runner.cleanup()


async def test_stop_is_fast_during_long_poll() -> None:
    fake = FakeBotApi()
    await fake.start()
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_for("getUpdates")
        started = time.monotonic()
        await asyncio.wait_for(fake.stop(), 5)
        assert time.monotonic() - started < 3
        assert await asyncio.wait_for(poll, 5) == ()


async def test_wait_for_times_out_with_summary(fake: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(CHAT, "alleen dit")
    with pytest.raises(AssertionError, match="alleen dit"):
        await fake.wait_for("sendPhoto", timeout=0.1)
    await fake.wait_idle(quiet=0.05)


async def test_application_conversation(fake: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "Welkom", reply_markup=yes_no())

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Gekozen: {query.data}")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        fake.message(CHAT, "/start")
        await fake.wait_sent(CHAT)
        fake.press(CHAT, "Nee")
        await fake.wait_for("editMessageText", chat_id=CHAT)
        await fake.wait_idle(quiet=0.05)
        await app.updater.stop()
        await app.stop()
    assert fake.texts(CHAT) == ["Welkom"]
    assert fake.last_message(CHAT)["text"] == "Gekozen: no"
    assert fake.keyboard(CHAT) == []
    assert len(fake.answered_callbacks) == 1
    assert fake.pending_updates == []
    assert fake.calls_of("deleteWebhook")  # polling bootstrap
