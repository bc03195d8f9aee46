"""The Telegram channel end to end: the real App and python-telegram-bot 22, unchanged,
against the fake Bot API (tests/helpers/fake_telegram.py).

Each test is a whole conversation: updates go in through getUpdates (or the webhook),
the bot's calls come back to the fake, which validates them as Telegram would (HTML,
lengths, keyboards, callback answers). Nothing is mocked; waits are on the fake or on
the channel finishing an update, never on a sleep. Every test runs on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.channels import telegram as telegram_channel
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_format import MESSAGE_LIMIT, utf16_len
from bot.core.clock import FrozenClock
from bot.core.messages import Choice, Document, Image, Incoming, Reply
from bot.outbox.queue import FAILED, PENDING, SENT, Outgoing
from bot.outbox.sender import OutboxSender
from bot.settings import ConfigError, Settings
from bot.storage.models import AuditLog, OutboxMessage, UnansweredQuestion
from tests.helpers.fake_telegram import Call, FakeBotApi, parse_html
from tests.helpers.telegram_bot import TelegramBot, free_port, running_bot, tiny_png

ANNA, BOB, CAROL = 4201, 4202, 4203
GROUP = -1001234567890
PNG = b"\x89PNG\r\n\x1a\n"
SECRET = "s3cret-token"
QUESTION = "Wat is positieve gezondheid?"
UNANSWERABLE = "Hoe laat vertrekt de laatste trein naar Groningen?"
SHORT = 6

# The library warns about its own RetryAfter constructor (22.2 deprecation); not ours.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
async def tg(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> AsyncIterator[TelegramBot]:
    """The bot in polling mode on a fresh database (SQLite, then PostgreSQL)."""
    async with running_bot(make_settings, clock=clock, database_url=database_url) as bot:
        yield bot


def plain(call: Call) -> str:
    """The text (or caption) of a delivered message as the person sees it."""
    result = call.result
    assert isinstance(result, dict), call.summary()
    return str(result.get("text") or result.get("caption") or "")


def plains(calls: list[Call]) -> list[str]:
    return [plain(call) for call in calls]


def joined(calls: list[Call]) -> str:
    return "\n".join(plains(calls))


def message_id(call: Call) -> int:
    assert isinstance(call.result, dict)
    return int(call.result["message_id"])


def buttons(call: Call) -> list[dict[str, Any]]:
    """The inline buttons a delivered message was sent with, row after row."""
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def labels(call: Call) -> list[str]:
    return [str(button["text"]) for button in buttons(call)]


def data_of(call: Call, label: str) -> str:
    for button in buttons(call):
        if button["text"] == label:
            return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {labels(call)}")


def consent_text(bot: TelegramBot) -> str:
    s = bot.app.settings
    return bot.t("checkin.consent", months=s.checkin_retention_months, hours=s.generated_file_hours)


def progress(bot: TelegramBot, number: int) -> str:
    """ "Vraag n van 6 · <dimension>" of question ``number`` of the quick check-in."""
    web = bot.services.spinnenweb
    assert web is not None
    question = web.question("kort", number - 1)
    return bot.t(
        "checkin.progress", number=number, total=SHORT, dimension=question.dimension.name["nl"]
    )


async def start_quick_checkin(bot: TelegramBot, user: int) -> list[Call]:
    """/spinnenweb, consent yes, Kort: returns the delivered first question."""
    sent = await bot.say(user, "/spinnenweb")
    assert plain(sent[-1]) == consent_text(bot)
    await bot.press(user, bot.t("checkin.consent_yes"))
    sent = await bot.press(user, bot.t("checkin.mode_short"))
    assert progress(bot, 1) in plain(sent[-1])
    return sent


async def audit_count(bot: TelegramBot, action: str) -> int:
    async with bot.services.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        )
    return int(count or 0)


async def outbox_rows(bot: TelegramBot) -> list[OutboxMessage]:
    async with bot.services.sessions() as session:
        result = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(result.scalars())


# -- 1. start with a deep link -----------------------------------------------------------


async def test_deep_link_start_opens_consent_and_commands_are_registered(
    tg: TelegramBot,
) -> None:
    sent = await tg.say(ANNA, "/start checkin")
    assert len(sent) == 1
    consent = sent[0]
    assert consent.method == "sendMessage" and consent.params["parse_mode"] == "HTML"
    assert plain(consent) == consent_text(tg)
    assert labels(consent) == [tg.t("checkin.consent_yes"), tg.t("checkin.consent_no")]
    assert all(b["callback_data"].startswith("sw:") for b in buttons(consent))
    assert tg.fake.keyboard(ANNA) != []  # the keyboard is there to press

    # setMyCommands ran at start: the default menu (Dutch) and one per language.
    router = tg.services.router
    assert router is not None
    public = [c for c in router.commands if c.listed and not c.admin_only]
    names = [c.name for c in public]
    assert {"start", "help", "vraag", "spinnenweb", "stop"} <= set(names)
    assert "herlaad" not in names
    for key, lang in (
        (("default", ""), "nl"),
        (("default", "nl"), "nl"),
        (("default", "en"), "en"),
    ):
        registered = tg.fake.commands[key]
        assert [c["command"] for c in registered] == names
        assert [c["description"] for c in registered] == [tg.t(c.help_key, lang) for c in public]
    assert tg.fake.commands[("default", "en")] != tg.fake.commands[("default", "")]
    assert all(call.ok for call in tg.fake.calls_of("setMyCommands"))
    assert tg.fake.allowed_updates == ["message", "callback_query", "my_chat_member"]

    # Someone whose Telegram is in English is answered in English.
    sent = await tg.say(BOB, "/start", first_name="Bob", language_code="en")
    assert plain(sent[0]).startswith(tg.t("start.welcome_named", "en", name="Bob"))


# -- 2. a question and its answer --------------------------------------------------------


async def test_question_is_answered_with_its_source_and_unknown_honestly(
    tg: TelegramBot,
) -> None:
    sent = await tg.say(ANNA, QUESTION)
    assert len(sent) == 1
    answer = sent[0]
    assert answer.params["parse_mode"] == "HTML"
    assert "positieve gezondheid" in plain(answer).lower()
    assert "Bron:" in plain(answer)

    sent = await tg.say(ANNA, UNANSWERABLE)
    assert len(sent) == 1
    assert plain(sent[0]).startswith(tg.t("ask.unknown"))
    assert "info@alliantiepg.nl" in plain(sent[0])
    async with tg.services.sessions() as session:
        gaps = list((await session.execute(select(UnansweredQuestion))).scalars())
    assert [gap.question for gap in gaps] == [UNANSWERABLE]


# -- 3. a complete quick check-in by buttons ---------------------------------------------


@pytest.mark.real_charts  # the fake Bot API reads the picture's size
async def test_quick_checkin_by_buttons_ends_with_the_picture(tg: TelegramBot) -> None:
    pressed_ids: list[str] = []

    async def press(label: str) -> list[Call]:
        """Press ``label`` on the newest keyboard and check the pressed message closed."""
        before = len(tg.fake.sent(ANNA))
        update = tg.fake.press(ANNA, label)
        query = update["callback_query"]
        pressed_ids.append(str(query["id"]))
        await tg.channel.wait_finished(int(update["update_id"]))
        old = tg.fake.stored_message(ANNA, int(query["message"]["message_id"]))
        assert tg.fake.keyboard(ANNA, old["message_id"]) == []
        assert old["text"].endswith(f"\n\n✓ {label}"), old["text"]
        assert old["text"].startswith(query["message"]["text"])
        return tg.fake.sent(ANNA)[before:]

    await tg.say(ANNA, "/start checkin")
    sent = await press(tg.t("checkin.consent_yes"))
    assert plains(sent) == [tg.t("checkin.consent_thanks"), tg.t("checkin.choose_mode")]
    sent = await press(tg.t("checkin.mode_short"))
    assert progress(tg, 1) in plain(sent[-1])

    scores = [7, 6, 5, 4, 3, 10]
    for number, score in enumerate(scores, start=1):
        assert progress(tg, number) in plain(sent[-1])
        assert [label for label in labels(sent[-1]) if label.isdigit()] == [
            str(n) for n in range(11)
        ]
        sent = await press(str(score))

    photos = [call for call in sent if call.method == "sendPhoto"]
    assert len(photos) == 1
    photo = photos[0]
    _, content = photo.files["photo"]
    assert content.startswith(PNG)
    assert photo.result["photo"][-1]["width"] > 100  # the fake read the PNG's size
    summary = plain(photo)  # the summary fits a caption (1,024), so it is the caption
    assert photo.params["parse_mode"] == "HTML"
    web = tg.services.spinnenweb
    assert web is not None
    for dimension, score in zip(web.dimensions, scores, strict=True):
        assert tg.t("checkin.summary_line", name=dimension.name["nl"], score=str(score)) in summary
    assert tg.t("checkin.not_a_test") in summary
    assert plain(sent[-1]) == tg.t("checkin.reflect_offer")
    assert labels(sent[-1]) == [tg.t("checkin.reflect_yes"), tg.t("checkin.reflect_no")]

    # Every press was answered (the spinner stops), each exactly once.
    answered = [c.params["callback_query_id"] for c in tg.fake.calls_of("answerCallbackQuery")]
    assert sorted(answered) == sorted(pressed_ids)
    assert set(pressed_ids) <= tg.fake.answered_callbacks
    assert len(pressed_ids) == 2 + SHORT


# -- 4. stale and forged buttons ---------------------------------------------------------


async def test_stale_and_forged_buttons_get_a_polite_reply_and_record_nothing_twice(
    tg: TelegramBot,
) -> None:
    consent = (await tg.say(ANNA, "/spinnenweb"))[-1]
    consent_yes = data_of(consent, tg.t("checkin.consent_yes"))
    await tg.press(ANNA, tg.t("checkin.consent_yes"))
    first = (await tg.press(ANNA, tg.t("checkin.mode_short")))[-1]
    three = data_of(first, "3")
    sent = await tg.press(ANNA, "7")
    assert progress(tg, 2) in plain(sent[-1])
    web = tg.services.spinnenweb
    assert web is not None
    dims = [d.id for d in web.dimensions]

    async def expect_stale(data: str, message: int) -> list[Call]:
        query_id, sent = await tg.callback(ANNA, data, message_id=message)
        assert query_id in tg.fake.answered_callbacks
        return sent

    # An earlier question's button: "expired", and we go on where we were (question 2).
    sent = await expect_stale(three, message_id(first))
    assert plain(sent[0]) == tg.t("checkin.stale")
    assert progress(tg, 2) in plain(sent[-1])
    # The consent button, pressed again: consent is not given twice.
    sent = await expect_stale(consent_yes, message_id(consent))
    assert plain(sent[0]) == tg.t("checkin.stale")
    assert progress(tg, 2) in plain(sent[-1])
    assert await audit_count(tg, "consent.given") == 1
    state = await tg.state(ANNA)
    assert state is not None and state.step == "question"
    assert state.data["answers"] == {dims[0]: 7} and state.data["pos"] == 1

    # Forged data: a check-in button of a run that never was, and junk.
    current = tg.fake.sent(ANNA)[-1]
    sent = await expect_stale("sw:zzz:99:7", message_id(current))
    assert plain(sent[0]) == tg.t("checkin.stale")
    sent = await expect_stale("x" * 64, message_id(current))
    assert plains(sent) == [tg.t("errors.stale_button")]
    sent = await expect_stale("x" * 65, message_id(current))  # too long to be ours
    assert plains(sent) == [tg.t("errors.stale_button")]
    state = await tg.state(ANNA)
    assert state is not None and state.data["answers"] == {dims[0]: 7}

    # The newest question still works, and takes the answer once.
    sent = await tg.press(ANNA, "6")
    assert progress(tg, 3) in plain(sent[-1])
    state = await tg.state(ANNA)
    assert state is not None and state.data["answers"] == {dims[0]: 7, dims[1]: 6}
    presses = tg.fake.calls_of("answerCallbackQuery")
    # Ja, Kort, 7, two stale, three forged, 6: every press answered once, none refused.
    assert len(presses) == 9 and all(call.ok for call in presses)


# -- 5. a group chat ---------------------------------------------------------------------


async def test_group_reads_only_what_is_meant_for_the_bot(tg: TelegramBot) -> None:
    async def group_say(text: str, **kwargs: Any) -> list[Call]:
        return await tg.say(BOB, text, chat_id=GROUP, chat_type="supergroup", **kwargs)

    assert await group_say("hallo allemaal, hoe gaat het?") == []
    assert await group_say(QUESTION) == []
    assert await group_say("/help@other_bot") == []
    sticker = tg.fake.sticker(BOB, chat_id=GROUP, chat_type="supergroup")
    assert await tg.feed(sticker, GROUP) == []

    sent = await group_say(f"/vraag@{tg.username}")
    assert plains(sent) == [tg.t("ask.intro")]
    sent = await group_say(f"/vraag@{tg.username} {QUESTION}")
    assert len(sent) == 1 and "Bron:" in plain(sent[0])
    sent = await group_say(f"@{tg.username} {QUESTION.lower()}")
    assert len(sent) == 1 and "Bron:" in plain(sent[0])
    sent = await group_say(f"@{tg.username}")  # a bare mention is read as /help
    assert len(sent) == 1 and plain(sent[0]).startswith(tg.t("help.intro"))
    sent = await group_say(QUESTION, reply_to_bot=True)
    assert len(sent) == 1 and "Bron:" in plain(sent[0])
    assert all(call.chat_id == GROUP for call in tg.fake.sent(GROUP))

    # Health questions stay out of the group: an invitation to a private chat instead.
    sent = await group_say("/spinnenweb")
    assert len(sent) == 1
    invite = sent[0]
    assert plain(invite) == tg.t("checkin.private_only", command="spinnenweb")
    link = f"https://t.me/{tg.username}?start=checkin"
    assert buttons(invite) == [{"text": tg.t("checkin.private_button"), "url": link}]
    assert consent_text(tg) not in joined(tg.fake.sent(GROUP))
    assert tg.fake.sent(BOB) == []

    # Following the link = Bob sends /start checkin in a private chat.
    sent = await tg.say(BOB, "/start checkin")
    assert plains(sent) == [consent_text(tg)]
    assert await tg.state(BOB) is not None
    assert await tg.state(BOB, GROUP) is None


async def test_a_group_reply_deferred_to_the_outbox_keeps_its_invite_button(
    tg: TelegramBot, clock: FrozenClock
) -> None:
    # Telegram is away for longer than the retries inside the update: the invitation
    # waits in the outbox, and the sender delivers it with its "open a private chat" button.
    tg.fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=GROUP, times=4)
    sent = await tg.say(BOB, "/spinnenweb", chat_id=GROUP, chat_type="supergroup")
    assert sent == []
    clock.advance(seconds=10)
    assert await OutboxSender(tg.services.outbox, tg.app.channels).drain() == 1
    [invite] = tg.fake.sent(GROUP)
    assert plain(invite) == tg.t("checkin.private_only", command="spinnenweb")
    link = f"https://t.me/{tg.username}?start=checkin"
    assert buttons(invite) == [{"text": tg.t("checkin.private_button"), "url": link}]


# -- 6. a 429 in the middle of a conversation --------------------------------------------


async def test_flood_wait_mid_checkin_delays_but_loses_and_repeats_nothing(
    tg: TelegramBot,
) -> None:
    await tg.say(ANNA, "/spinnenweb")
    await tg.press(ANNA, tg.t("checkin.consent_yes"))
    tg.fake.fail_flood("sendMessage", retry_after=1, times=1, chat_id=ANNA)
    started = time.monotonic()
    press = tg.fake.press(ANNA, tg.t("checkin.mode_short"))
    # While Anna's reply waits out the 429, another chat is answered at once.
    assert len(await tg.say(BOB, QUESTION)) == 1
    assert tg.channel.finished[int(press["update_id"])] == 0
    sent = await tg.feed(press, ANNA)
    assert time.monotonic() - started >= 0.9
    assert len(sent) == 1 and progress(tg, 1) in plain(sent[0])
    attempts = [
        call
        for call in tg.fake.calls_of("sendMessage", ANNA)
        if progress(tg, 1) in call.params["text"]
    ]
    assert [call.status for call in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.9

    sent = await tg.press(ANNA, "8")
    assert len(sent) == 1 and progress(tg, 2) in plain(sent[0])
    texts = plains(tg.fake.sent(ANNA))
    assert len(texts) == len(set(texts)), texts
    state = await tg.state(ANNA)
    assert state is not None and list(state.data["answers"].values()) == [8]


# -- 7. the outbox: blocked people and flood waits ---------------------------------------


async def test_outbox_blocked_user_is_marked_inactive_and_429_defers(
    tg: TelegramBot, clock: FrozenClock
) -> None:
    await tg.say(ANNA, "/start")
    await tg.say(BOB, "/start")
    anna, bob = await tg.user(ANNA), await tg.user(BOB)
    outbox = tg.services.outbox
    sender = OutboxSender(outbox, tg.app.channels)

    def news(person: int, user_id: int, key: str) -> Outgoing:
        return Outgoing(
            key=key,
            platform="telegram",
            chat_id=str(person),
            reply=Reply(text=f"Nieuws voor jou ({key})"),
            user_id=user_id,
        )

    tg.fake.blocked.add(ANNA)
    await outbox.enqueue([news(ANNA, anna.id, "n1"), news(BOB, bob.id, "n2")])
    assert await sender.drain() == 2
    by_chat = {row.chat_id: row for row in await outbox_rows(tg)}
    assert by_chat[str(ANNA)].status == FAILED
    assert "forbidden" in (by_chat[str(ANNA)].last_error or "")
    assert (await tg.user(ANNA)).active is False
    assert (await tg.user(BOB)).active is True
    assert by_chat[str(BOB)].status == SENT
    delivered = tg.fake.sent(BOB)[-1]
    assert plain(delivered) == "Nieuws voor jou (n2)"
    assert by_chat[str(BOB)].platform_message_id == str(message_id(delivered))

    # "chat not found" is permanent too.
    await tg.say(CAROL, "/start")
    carol = await tg.user(CAROL)
    tg.fake.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=CAROL)
    await outbox.enqueue([news(CAROL, carol.id, "c1")])
    await sender.drain()
    row = (await outbox_rows(tg))[-1]
    assert row.chat_id == str(CAROL) and row.status == FAILED and row.attempts == 1
    assert (await tg.user(CAROL)).active is False

    # 429 on the outbox: back to pending, after retry_after, without using an attempt.
    tg.fake.fail_flood("sendMessage", retry_after=1, times=1, chat_id=BOB)
    await outbox.enqueue([news(BOB, bob.id, "n3")])
    await sender.drain()
    row = (await outbox_rows(tg))[-1]
    assert row.status == PENDING and row.attempts == 0
    assert row.next_attempt_at == clock.now() + timedelta(seconds=1)
    assert "429" in (row.last_error or "")
    assert [c.status for c in tg.fake.calls_of("sendMessage", BOB)][-1] == 429
    clock.advance(seconds=2)
    assert await sender.drain() == 1
    row = (await outbox_rows(tg))[-1]
    assert row.status == SENT
    assert plains(tg.fake.sent(BOB)).count("Nieuws voor jou (n3)") == 1


# -- 8. webhook mode ---------------------------------------------------------------------


async def post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status


@contextlib.asynccontextmanager
async def webhook_bot(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    database_url: str,
    path: str,
    **overrides: Any,
) -> AsyncIterator[TelegramBot]:
    """The bot in webhook mode on a free local port; Telegram posts to ``path`` there."""
    port = free_port()
    async with running_bot(
        make_settings,
        clock=clock,
        http=True,
        database_url=database_url,
        http_port=port,
        telegram_webhook_url=f"http://127.0.0.1:{port}{path}",
        **overrides,
    ) as tg:
        yield tg


async def test_webhook_mode_checks_the_secret_and_answers_each_update_once(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with webhook_bot(
        make_settings, clock, database_url, "/telegram/webhook", telegram_webhook_secret=SECRET
    ) as tg:
        port = tg.app.settings.http_port
        assert tg.app.http is not None and tg.app.http.bound_port == port
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        assert tg.channel.webhook_url == url
        assert tg.fake.webhook is not None
        assert tg.fake.webhook["url"] == url
        assert tg.fake.webhook["secret_token"] == SECRET
        # Telegram's 40 would bound the updates in hand over all workers (each is
        # answered only once handled): TELEGRAM_WEBHOOK_CONNECTIONS, 100 by default.
        assert tg.fake.webhook["max_connections"] == 100
        assert tg.fake.calls_of("getUpdates") == []
        assert tg.fake.allowed_updates == ["message", "callback_query", "my_chat_member"]

        update = tg.fake.message(ANNA, "/start", enqueue=False)
        # 200 once the update is finished (so Telegram never forgets one half done).
        assert await tg.fake.post_webhook(update, secret=SECRET) == 200
        assert tg.channel.finished[int(update["update_id"])] == 1
        sent = tg.fake.sent(ANNA)
        assert len(sent) == 1 and "Alliantie" in plain(sent[0])

        # The same update again (Telegram retries when unsure): answered once.
        assert await tg.fake.post_webhook(update, secret=SECRET) == 200
        await tg.channel.wait_finished(int(update["update_id"]), times=2)
        assert len(tg.fake.sent(ANNA)) == 1

        # Wrong or missing secret: refused before anything is read.
        other = tg.fake.message(BOB, "/start", enqueue=False)
        assert await tg.fake.post_webhook(other, secret="wrong-secret") == 403
        assert await tg.fake.post_webhook(other, secret=None) == 403
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert await post_raw(url, b"this is not json {", headers) == 400
        assert await post_raw(url, json.dumps({"no": "update"}).encode(), headers) == 400
        await tg.fake.wait_idle(quiet=0.1)
        assert tg.fake.sent(BOB) == []
        assert tg.channel.started[int(other["update_id"])] == 0

        # The right secret for the same update is then answered.
        assert await tg.fake.post_webhook(other, secret=SECRET) == 200
        assert len(tg.fake.sent(BOB)) == 1

        # Stopping: new posts are turned away (Telegram tries again), the webhook stays.
        await tg.channel.stop()
        late = tg.fake.message(CAROL, "/start", enqueue=False)
        assert await tg.fake.post_webhook(late, secret=SECRET) == 503
        assert tg.fake.webhook is not None and tg.fake.calls_of("deleteWebhook") == []


async def test_webhook_secret_is_random_when_not_configured(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    url = "https://bot.example.org/telegram/webhook"
    s = make_settings(
        telegram_bot_token="123456:TEST-token-for-the-fake-bot-api", telegram_webhook_url=url
    )
    one, two = TelegramChannel(s), TelegramChannel(s)
    assert len(one.secret) >= 32 and len(two.secret) >= 32
    assert one.secret != two.secret

    async with webhook_bot(make_settings, clock, database_url, "/hook") as tg:
        assert tg.fake.webhook is not None
        assert tg.fake.webhook["secret_token"] == tg.channel.secret
        update = tg.fake.message(ANNA, QUESTION, enqueue=False)
        assert await tg.fake.post_webhook(update, secret=tg.channel.secret) == 200
        assert len(tg.fake.sent(ANNA)) == 1


# -- 9. edge cases -----------------------------------------------------------------------


async def test_sticker_gets_the_text_only_reply_in_private(tg: TelegramBot) -> None:
    update = tg.fake.sticker(ANNA)
    sent = await tg.feed(update, ANNA)
    assert plains(sent) == [tg.t("fallback.unsupported")]


async def test_long_replies_are_split_and_the_keyboard_goes_on_the_last_part(
    tg: TelegramBot, tmp_path: Path
) -> None:
    await tg.say(ANNA, "/start")
    paragraph = "Een zin met <b>tekens</b> & meer, die lang genoeg is. " * 30  # ~1.6k
    long = "\n\n".join(f"{n}. {paragraph.strip()}" for n in range(6))  # ~10k
    before = len(tg.fake.sent(ANNA))
    choices = (Choice("Ja", "menu:help"), Choice("Nee", "menu:start"))
    last_id = await tg.channel.send(str(ANNA), Reply(text=long, choices=choices))
    sent = tg.fake.sent(ANNA)[before:]
    assert len(sent) >= 3 and all(call.method == "sendMessage" for call in sent)
    for call in sent:
        text, entities = parse_html(call.params["text"])
        assert utf16_len(text) <= MESSAGE_LIMIT
        assert entities == []  # "<b>" shows as typed, it does not make bold
    assert "\n\n".join(plains(sent)) == long.strip()
    assert [labels(call) for call in sent] == [[]] * (len(sent) - 1) + [["Ja", "Nee"]]
    assert last_id == str(message_id(sent[-1]))

    # One long word (no place to break) is cut hard, still within the limit.
    before = len(tg.fake.sent(ANNA))
    await tg.channel.send(str(ANNA), Reply(text="&" * (MESSAGE_LIMIT + 10)))
    sent = tg.fake.sent(ANNA)[before:]
    assert [len(plain(call)) for call in sent] == [MESSAGE_LIMIT, 10]

    # Buttons without text still need a message to hang on; nothing at all sends nothing.
    before = len(tg.fake.sent(ANNA))
    assert await tg.channel.send(str(ANNA), Reply(choices=choices)) is not None
    assert await tg.channel.send(str(ANNA), Reply(text="  \n ")) is None
    sent = tg.fake.sent(ANNA)[before:]
    assert plains(sent) == ["…"] and labels(sent[0]) == ["Ja", "Nee"]

    # Telegram counts UTF-16 units: an emoji counts twice.
    before = len(tg.fake.sent(ANNA))
    await tg.channel.send(str(ANNA), Reply(text="🙂" * 2100))
    sent = tg.fake.sent(ANNA)[before:]
    assert [utf16_len(plain(call)) for call in sent] == [4096, 104]

    # A picture with a text too long for a caption: the text first, then the picture
    # with its alt text as caption and the keyboard.
    png = tmp_path / "web.png"
    png.write_bytes(tiny_png())
    before = len(tg.fake.sent(ANNA))
    await tg.channel.send(
        str(ANNA),
        Reply(text=paragraph * 2, image=Image(png, "Een spinnenweb & uitleg"), choices=choices),
    )
    sent = tg.fake.sent(ANNA)[before:]
    assert [call.method for call in sent] == ["sendMessage", "sendPhoto"]
    assert plain(sent[0]) == (paragraph * 2).strip()
    assert plain(sent[1]) == "Een spinnenweb & uitleg"
    assert [labels(call) for call in sent] == [[], ["Ja", "Nee"]]


async def test_special_characters_are_escaped_from_content_and_replies(tg: TelegramBot) -> None:
    sent = await tg.say(ANNA, "Hoe kan ik de Alliantie bereiken?")
    assert len(sent) == 1
    assert "Den Haag & Leiden" in plain(sent[0])
    assert "Den Haag &amp; Leiden" in sent[0].params["text"]

    tricky = 'Tip: <b>niet vet</b> & "aanhalingstekens" <a href="x">link</a> 1 < 2 > 0'
    before = len(tg.fake.sent(ANNA))
    await tg.channel.send(str(ANNA), Reply(text=tricky))
    sent = tg.fake.sent(ANNA)[before:]
    assert plains(sent) == [tricky]
    assert "entities" not in (sent[0].result or {})

    # A person's own "<" and "&" come back safely too (in the "unknown command" reply).
    sent = await tg.say(ANNA, "/x<y>&z")
    assert len(sent) == 1 and sent[0].ok


async def test_document_reply_goes_out_as_send_document(tg: TelegramBot, tmp_path: Path) -> None:
    await tg.say(ANNA, "/start")
    path = tmp_path / "export-123.json"
    path.write_text(json.dumps({"naam": "Anna", "scores": [7, 6]}), encoding="utf-8")
    before = len(tg.fake.sent(ANNA))
    await tg.channel.send(
        str(ANNA),
        Reply(text="Je gegevens & meer", document=Document(path, "mijn-gegevens.json")),
    )
    sent = tg.fake.sent(ANNA)[before:]
    assert [call.method for call in sent] == ["sendDocument"]
    name, content = sent[0].files["document"]
    assert name == "mijn-gegevens.json"
    assert content == path.read_bytes()
    assert plain(sent[0]) == "Je gegevens & meer"
    assert sent[0].result["document"]["file_name"] == "mijn-gegevens.json"


async def test_a_failing_update_does_not_stop_the_bot(tg: TelegramBot) -> None:
    tg.fake.fail_next("sendMessage", 400, "Bad Request: something odd", chat_id=ANNA)
    assert await tg.say(ANNA, "/start") == []
    sent = await tg.say(ANNA, QUESTION)
    assert len(sent) == 1 and "Bron:" in plain(sent[0])
    # A 5xx is retried inside the update: the reply still arrives.
    tg.fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ANNA)
    sent = await tg.say(ANNA, "/help")
    assert len(sent) == 1 and plain(sent[0]).startswith(tg.t("help.intro"))
    # A press whose callback can no longer be answered (too old) still counts.
    tg.fake.fail_next(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    sent = await tg.press(ANNA, tg.t("menu.help"))
    assert len(sent) == 1 and plain(sent[0]).startswith(tg.t("help.intro"))
    assert [call.status for call in tg.fake.calls_of("answerCallbackQuery")] == [400]
    # Another person was never affected.
    assert len(await tg.say(BOB, "/start")) == 1


async def test_a_reply_telegram_will_not_take_now_goes_out_later_through_the_outbox(
    tg: TelegramBot, clock: FrozenClock
) -> None:
    await tg.say(ANNA, "/start")
    # Telegram is away for longer than the retries inside the update (4 attempts).
    tg.fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ANNA, times=4)
    sent = await tg.say(ANNA, QUESTION)
    assert sent == []
    async with tg.services.sessions() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    anna = await tg.user(ANNA)
    # The reply was in the outbox from the update's own transaction, with its person.
    assert [(row.platform, row.chat_id, row.status, row.user_id) for row in rows] == [
        ("telegram", str(ANNA), PENDING, anna.id)
    ]
    assert rows[0].key.startswith("reply:telegram:")
    # The sender delivers it once Telegram is back, not before the pause it was given.
    sender = OutboxSender(tg.services.outbox, tg.app.channels)
    assert await sender.drain() == 0
    clock.advance(seconds=10)
    assert await sender.drain() == 1
    texts = tg.fake.texts(ANNA)
    assert "Bron:" in texts[-1]
    assert sum("Bron:" in text for text in texts) == 1
    # A reply Telegram refuses for good (400) is not queued: it would fail again.
    tg.fake.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=ANNA)
    assert await tg.say(ANNA, QUESTION) == []
    # Delivered and refused replies alike leave nothing behind.
    async with tg.services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 0


async def test_one_chats_updates_are_handled_in_order(tg: TelegramBot) -> None:
    await start_quick_checkin(tg, ANNA)
    before = len(tg.fake.sent(ANNA))
    scores = ["7", "6", "5", "4", "3"]
    updates = [tg.fake.message(ANNA, score) for score in scores]  # all at once
    for update in updates:
        await tg.channel.wait_finished(int(update["update_id"]))
    sent = tg.fake.sent(ANNA)[before:]
    assert len(sent) == len(scores)
    for number, call in enumerate(sent, start=2):
        assert progress(tg, number) in plain(call)
    web = tg.services.spinnenweb
    assert web is not None
    state = await tg.state(ANNA)
    assert state is not None
    assert state.data["answers"] == {
        d.id: int(s) for d, s in zip(web.dimensions, scores, strict=False)
    }


# -- 10. shutdown ------------------------------------------------------------------------


def fetched(fake: FakeBotApi, update_id: int) -> bool:
    """A getUpdates call has returned this update."""
    return any(
        call.method == "getUpdates"
        and call.ok
        and any(u["update_id"] == update_id for u in call.result or [])
        for call in fake.calls
    )


async def test_stop_finishes_the_update_in_hand(tg: TelegramBot) -> None:
    """Once the library has taken a fetched update in (its next poll confirms it),
    stop() returns only after that update was answered."""
    fake = tg.fake
    update = fake.message(ANNA, QUESTION)
    update_id = int(update["update_id"])
    await fake.wait_until(lambda: fetched(fake, update_id))
    await fake.wait_until(
        lambda: any(
            call.method == "getUpdates" and (call.params.get("offset") or 0) > update_id
            for call in fake.calls
        )
    )
    await tg.app.stop()
    sent = fake.sent(ANNA)
    assert len(sent) == 1 and "Bron:" in plain(sent[0])
    assert tg.channel.finished[update_id] == 1


async def test_stop_waits_for_a_reply_that_sits_out_a_flood_wait(tg: TelegramBot) -> None:
    fake = tg.fake
    fake.fail_flood("sendMessage", retry_after=1, times=1, chat_id=ANNA)
    update = fake.message(ANNA, QUESTION)
    await fake.wait_for("sendMessage", 1, chat_id=ANNA)  # the 429: mid-update now
    assert fake.sent(ANNA) == []
    await tg.app.stop()
    sent = fake.sent(ANNA)
    assert len(sent) == 1 and "Bron:" in plain(sent[0])
    assert tg.channel.finished[int(update["update_id"])] == 1


async def test_stop_right_after_a_fetch_loses_nothing(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    """Stopping while a fetched batch is still on its way into the bot: the library drops
    that batch *unconfirmed*, so Telegram keeps it and the next start answers it, once."""
    async with FakeBotApi() as fake:
        async with running_bot(
            make_settings, clock=clock, fake=fake, database_url=database_url
        ) as tg:
            update = fake.message(ANNA, QUESTION)
            update_id = int(update["update_id"])
            await fake.wait_until(lambda: fetched(fake, update_id))
            await tg.app.stop()  # at once: the batch may not be in the bot's hands yet
            answered = len(fake.sent(ANNA))
            pending = [u["update_id"] for u in fake.pending_updates]
            assert answered == 1 or (answered == 0 and update_id in pending)
        async with running_bot(
            make_settings, clock=clock, fake=fake, database_url=database_url
        ) as tg:
            sentinel = fake.message(ANNA, "/help")
            await tg.channel.wait_finished(int(sentinel["update_id"]))
            texts = plains(fake.sent(ANNA))
            assert len(texts) == 2, texts
            assert "Bron:" in texts[0] and texts[1].startswith(tg.t("help.intro"))
            # Confirmed by the poll that follows its end (nothing else is pending).
            await fake.wait_until(lambda: fake.pending_updates == [])


# -- bugs found while writing these tests, fixed since ------------------------------------


async def test_a_press_refused_by_the_flood_limit_keeps_its_buttons(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, flood_limit_per_minute=3
    ) as tg:
        question = (await tg.say(ANNA, "/spinnenweb"))[-1]  # 1
        await tg.say(ANNA, "/help")  # 2
        await tg.say(ANNA, "/help")  # 3
        yes = tg.t("checkin.consent_yes")
        sent = await tg.press(ANNA, yes)  # 4: over the limit
        assert plains(sent) == [tg.t("errors.flood")]
        state = await tg.state(ANNA)
        assert state is not None and state.step == "consent"  # the press was not taken
        stored = tg.fake.stored_message(ANNA, message_id(question))
        # ...so the question should still show its buttons and no "✓".
        assert not stored["text"].endswith(f"✓ {yes}")
        assert tg.fake.keyboard(ANNA, message_id(question)) != []


async def test_outbox_retry_after_a_partial_delivery_sends_nothing_twice(
    tg: TelegramBot, clock: FrozenClock, tmp_path: Path
) -> None:
    await tg.say(ANNA, "/start")
    anna = await tg.user(ANNA)
    path = tmp_path / "overzicht.json"
    path.write_text("{}", encoding="utf-8")
    text = "Je overzicht. " + "Een lange uitleg bij het bestand. " * 40  # > 1,024: no caption
    tg.fake.fail_flood("sendDocument", retry_after=1, times=1, chat_id=ANNA)
    await tg.services.outbox.enqueue(
        [
            Outgoing(
                key="doc",
                platform="telegram",
                chat_id=str(ANNA),
                reply=Reply(text=text, document=Document(path, "overzicht.json")),
                user_id=anna.id,
            )
        ]
    )
    sender = OutboxSender(tg.services.outbox, tg.app.channels)
    await sender.drain()
    clock.advance(seconds=5)
    await sender.drain()
    assert (await outbox_rows(tg))[-1].status == SENT
    delivered = plains(tg.fake.sent(ANNA))
    assert delivered.count(text.strip()) == 1, delivered


# -- found in review, fixed since ----------------------------------------------------------


async def test_two_quick_presses_on_one_question_mark_only_the_one_that_counted(
    tg: TelegramBot,
) -> None:
    sent = await start_quick_checkin(tg, ANNA)
    question = sent[-1]
    first = tg.fake.callback(ANNA, data_of(question, "7"), message_id=message_id(question))
    second = tg.fake.callback(ANNA, data_of(question, "3"), message_id=message_id(question))
    for update in (first, second):
        await tg.channel.wait_finished(int(update["update_id"]))
    state = await tg.state(ANNA)
    assert state is not None and list(state.data["answers"].values()) == [7]
    stored = tg.fake.stored_message(ANNA, message_id(question))
    assert stored["text"].endswith("✓ 7")
    assert tg.fake.keyboard(ANNA, message_id(question)) == []


async def test_a_typed_answer_then_a_press_on_the_old_keyboard_is_not_marked(
    tg: TelegramBot,
) -> None:
    sent = await start_quick_checkin(tg, ANNA)
    question = sent[-1]
    await tg.say(ANNA, "7")
    _, replies = await tg.callback(ANNA, data_of(question, "3"), message_id=message_id(question))
    assert tg.t("checkin.stale") in joined(replies)
    stored = tg.fake.stored_message(ANNA, message_id(question))
    assert "✓" not in stored["text"]
    assert tg.fake.keyboard(ANNA, message_id(question)) == []  # closed, not marked
    state = await tg.state(ANNA)
    assert state is not None and list(state.data["answers"].values()) == [7]


async def test_a_redelivered_update_gets_one_crisis_reply(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    # A URL without a path: the bot serves, and registers, the default one.
    async with webhook_bot(
        make_settings, clock, database_url, "", telegram_webhook_secret=SECRET
    ) as tg:
        port = tg.app.settings.http_port
        assert tg.fake.webhook is not None
        assert tg.fake.webhook["url"] == f"http://127.0.0.1:{port}/telegram/webhook"
        update = tg.fake.message(ANNA, "ik wil dood", enqueue=False)
        for _ in range(2):
            assert await tg.fake.post_webhook(update, secret=SECRET) == 200
        await tg.channel.wait_finished(int(update["update_id"]), times=2)
        texts = tg.fake.texts(ANNA)
        assert len(texts) == 1 and "113" in texts[0]


async def test_unknown_commands_in_a_group_are_left_to_other_bots(tg: TelegramBot) -> None:
    for text in ("/weer", "/shrug", "/etc/hosts staat op de server"):
        assert await tg.say(CAROL, text, chat_id=GROUP, chat_type="supergroup") == []
    sent = await tg.say(CAROL, "/help", chat_id=GROUP, chat_type="supergroup")
    assert len(sent) == 1 and plain(sent[0]).startswith(tg.t("help.intro"))
    # In a private chat an unknown command still gets the friendly "I don't know that".
    assert len(await tg.say(CAROL, "/weer")) == 1


async def test_a_brief_outage_at_start_is_retried(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with FakeBotApi() as fake:
        fake.fail_next("deleteWebhook", 502, "Bad Gateway")
        fake.fail_next("getMe", 502, "Bad Gateway")
        async with running_bot(
            make_settings, clock=clock, fake=fake, database_url=database_url
        ) as tg:
            assert len(await tg.say(ANNA, "/start")) == 1


async def test_a_refused_webhook_stops_the_start_with_one_line_and_closes_everything(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with FakeBotApi() as fake:
        fake.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")
        settings = make_settings(
            database_url=database_url,
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            http_port=0,
            telegram_webhook_url="http://bot.example.org/telegram/webhook",
        )
        channel = TelegramChannel(settings)
        app = App(settings, clock=clock, channels={channel.name: channel})
        with pytest.raises(ConfigError, match=r"^TELEGRAM_WEBHOOK_URL: "):
            await app.start(http=True, scheduler=False, sender=False)
        await app.stop()
        assert not channel.application.running
        # Both of the library's HTTP clients (getUpdates and the rest) are closed.
        requests = channel.application.bot._request
        assert all(request.closed for request in requests)


async def test_one_busy_chat_does_not_hold_up_the_others(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    async with running_bot(
        make_settings, clock=clock, database_url=database_url, telegram_concurrent_updates=2
    ) as tg:
        await tg.say(ANNA, "/start")
        await tg.say(BOB, "/start")
        tg.fake.fail_flood("sendMessage", retry_after=1, times=1, chat_id=ANNA)
        waiting = [tg.fake.message(ANNA, text) for text in ("/help", "/help", "/help")]
        other = tg.fake.message(BOB, "/help")
        await tg.channel.wait_finished(int(other["update_id"]))
        for update in waiting:
            await tg.channel.wait_finished(int(update["update_id"]))
        order = [call.chat_id for call in tg.fake.calls_of("sendMessage") if call.ok][2:]
        # Bob's answer went out while Anna's first answer was still waiting out its 429.
        assert order[0] == BOB, order


async def test_outbox_follows_a_group_that_became_a_supergroup(tg: TelegramBot) -> None:
    old, new = -4242, -1009999999999
    tg.fake.fail_next(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        chat_id=old,
        migrate_to_chat_id=new,
    )
    first = await tg.channel.send(str(old), Reply(text="Eerste. " * 700))  # two parts
    assert first is not None
    assert [call.chat_id for call in tg.fake.calls_of("sendMessage")] == [old, new, new]
    await tg.channel.send(str(old), Reply(text="Tweede"))
    assert tg.fake.texts(new)[-1] == "Tweede"
    assert tg.fake.sent(old) == []


# -- faults: order, forgetting everything, stopping in time ------------------------------


async def test_a_flood_wait_on_the_picture_keeps_the_order_of_what_follows(
    tg: TelegramBot, clock: FrozenClock
) -> None:
    """A 429 with retry_after=40 on the check-in's picture: the picture and everything
    after it wait, in order, also the replies to the next message; other chats go on."""
    await start_quick_checkin(tg, ANNA)
    for score in ("7", "6", "5", "4", "3"):
        await tg.press(ANNA, score)
    tg.fake.fail_flood("sendPhoto", retry_after=40, chat_id=ANNA)
    before = len(tg.fake.sent(ANNA))
    assert await tg.press(ANNA, "8") == []  # nothing overtakes the picture
    assert await tg.say(ANNA, "/help") == []  # not the next update's reply either
    assert len(await tg.say(BOB, "/help")) == 1  # another chat is not held up
    sender = OutboxSender(tg.services.outbox, tg.app.channels)
    await sender.drain()
    assert len(tg.fake.sent(ANNA)) == before  # retry_after is honoured
    clock.advance(seconds=41)
    await sender.drain()
    sent = tg.fake.sent(ANNA)[before:]
    assert [call.method for call in sent] == ["sendPhoto", "sendMessage", "sendMessage"]
    assert plain(sent[1]) == tg.t("checkin.reflect_offer")
    assert plain(sent[2]).startswith(tg.t("help.intro"))
    assert await outbox_rows(tg) == []


async def test_a_crisis_reply_telegram_puts_off_waits_as_a_reply(tg: TelegramBot) -> None:
    """The crisis reply is made outside a transaction and sent at once; when Telegram
    will not take it now it goes to the outbox as a reply (kind ``reply``), like the
    replies held there: claimed first among the rows that wait, and deleted once out."""
    tg.fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ANNA, times=4)
    await tg.say(ANNA, "ik wil niet meer leven")
    rows = await outbox_rows(tg)
    assert [(row.chat_id, row.kind) for row in rows] == [(str(ANNA), "reply")]


async def test_forgetting_leaves_nothing_of_the_person_in_any_table(
    tg: TelegramBot, clock: FrozenClock
) -> None:
    """/vergeetmij after replies went through the outbox (one refused by Telegram in
    an update, one crisis reply made before the database knew anything): every table
    is read back, encrypted payloads decrypted, and nothing of the person is left."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import text

    await start_quick_checkin(tg, ANNA)
    for score in ("7", "6", "5", "4", "3"):
        await tg.press(ANNA, score)
    tg.fake.fail_next("sendPhoto", 502, "Bad Gateway", chat_id=ANNA, times=4)
    await tg.press(ANNA, "9")  # the picture and summary wait in the outbox
    tg.fake.fail_next("sendMessage", 502, "Bad Gateway", chat_id=ANNA, times=4)
    await tg.say(ANNA, "ik wil niet meer leven")  # the crisis reply waits too
    rows = await outbox_rows(tg)
    assert rows and all(row.user_id is not None for row in rows)
    sender = OutboxSender(tg.services.outbox, tg.app.channels)
    await tg.say(ANNA, "/vergeetmij")  # its question queues behind the waiting replies
    clock.advance(seconds=10)
    await sender.drain()
    await tg.press(ANNA, tg.t("forget.yes"))
    await sender.drain()
    cipher = tg.services.cipher
    needles = {str(ANNA), "Anna"}
    engine = tg.app.engine
    assert engine is not None
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
        for table in tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        try:
                            value = str(cipher.decrypt(bytes(value)))
                        except Exception:
                            continue
                    found = [n for n in needles if n in str(value)]
                    assert not found, (table, found)


async def test_stop_ends_in_time_while_telegram_keeps_the_bot_waiting(
    tg: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getUpdates answers 429 retry_after=60: the library sleeps a minute between polls
    and does not end that sleep at stop. Docker waits 10 s before it kills; stop() must
    be done well before (the channel's own deadline is STOP_SECONDS, shortened here)."""
    monkeypatch.setattr(telegram_channel, "STOP_SECONDS", 1.0)
    fake = tg.fake
    fake.fail_flood("getUpdates", retry_after=60, times=1)
    await fake.wait_until(
        lambda: any(c.method == "getUpdates" and c.status == 429 for c in fake.calls)
    )
    await asyncio.sleep(1)  # the library has read the 429 and sleeps now
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(30):  # before the fix: about 60 s
        await tg.app.stop()
    assert loop.time() - started < 10  # Docker's stop timeout, not a speed target


async def test_a_crisis_message_does_not_wait_for_the_persons_earlier_message(
    tg: TelegramBot,
) -> None:
    """One chat's updates go in order, but not a crisis behind an update that waits (on a
    hung database, say): its reply needs no storage, so it goes out at once."""
    gate = asyncio.Event()
    handle = tg.channel._handle
    assert handle is not None

    async def slow_help(incoming: Incoming) -> list[Reply]:
        if incoming.text == "/help":
            await gate.wait()  # the database does not answer
        return await handle(incoming)

    tg.channel._handle = slow_help
    first = tg.fake.message(ANNA, "/help")
    await tg.fake.wait_until(lambda: tg.channel.started[int(first["update_id"])] == 1)
    crisis = tg.fake.message(ANNA, "ik wil niet meer leven")
    await tg.channel.wait_finished(int(crisis["update_id"]))
    assert not gate.is_set()
    assert plains(tg.fake.sent(ANNA)) == [tg.t("safety.crisis")]
    # An ordinary message still waits its turn.
    other = tg.fake.message(ANNA, QUESTION)
    await asyncio.sleep(0.3)
    assert tg.channel.started[int(other["update_id"])] == 0
    gate.set()
    await tg.channel.wait_finished(int(other["update_id"]))
    texts = plains(tg.fake.sent(ANNA))
    assert texts[1].startswith(tg.t("help.intro")) and "Bron:" in texts[2]
