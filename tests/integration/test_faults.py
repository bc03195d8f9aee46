"""Faults that must lose nothing: a crash between saving and sending, the order of
one chat's queued messages, mixed deployments, input no database can store."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Incoming, Reply
from bot.logging_setup import HIDDEN, RedactingFormatter
from bot.outbox.queue import PENDING, REPLY, SENDING, Outgoing
from bot.outbox.sender import OutboxSender
from bot.settings import Settings
from bot.storage.models import OutboxMessage, User
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel, too_many


def durable(text: str, event: str, user: str = "501") -> Incoming:
    """A message as the Telegram channel hands it over: its replies must survive."""
    return Incoming.from_text("telegram", user, user, text, event_id=event, durable_replies=True)


async def _rows(app: App) -> list[OutboxMessage]:
    assert app.services is not None
    async with app.services.sessions() as session:
        result = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(result.scalars())


# -- a reply is durable with the state (kill -9 between saving and sending) ---------------


async def test_a_reply_survives_a_crash_between_saving_and_sending(
    settings: Settings, clock: FrozenClock
) -> None:
    telegram = RecordingChannel(name="telegram")
    first = App(settings, clock=clock, channels={"telegram": telegram})
    await first.start(scheduler=False, sender=False)
    replies = await first.handle(durable("/start", "1:1"))
    # The state is saved and the replies are held in the outbox, in one transaction;
    # then the process dies before the channel could send or report anything.
    assert replies and all(r.outbox_id is not None and not r.queued for r in replies)
    rows = await _rows(first)
    assert [(r.kind, r.status) for r in rows] == [(REPLY, SENDING)] * len(replies)
    assert all(r.user_id is not None for r in rows)
    await first.stop()

    second = App(settings, clock=clock, channels={"telegram": telegram})
    await second.start(scheduler=False, sender=False)
    try:
        assert second.services is not None
        sender = OutboxSender(second.services.outbox, second.channels)
        assert await sender.drain() == 0  # the first process might still be sending
        clock.advance(seconds=settings.outbox_lease_seconds + 1)
        assert await sender.drain() == len(replies)
        assert [reply.text for _, reply in telegram.sent] == [r.text for r in replies]
        assert await _rows(second) == []  # delivered replies are not kept
    finally:
        await second.stop()


async def test_a_delivered_reply_is_settled_and_nothing_is_sent_twice(app: App) -> None:
    assert app.services is not None
    replies = await app.handle(durable("/help", "1:2"))
    ids = [r.outbox_id for r in replies if r.outbox_id is not None]
    assert ids
    await app.services.outbox.settle(sent=ids)
    assert await _rows(app) == []


# -- one chat's messages go out in order ----------------------------------------------------


async def test_one_chats_rows_go_out_in_order_while_other_chats_go_on(
    app: App, clock: FrozenClock
) -> None:
    assert app.services is not None
    outbox = app.services.outbox

    class OneFloodWait(RecordingChannel):
        """Telegram says 429 retry_after=40 once, on the first message to chat A."""

        waited = False

        async def send(self, chat_id: str, reply: Reply) -> str:
            if chat_id == "A" and not self.waited:
                self.waited = True
                raise too_many(40)
            return await super().send(chat_id, reply)

    channel = OneFloodWait(name="telegram")
    await outbox.enqueue(
        [
            Outgoing(key="a1", platform="telegram", chat_id="A", reply=Reply(text="A1 picture")),
            Outgoing(key="a2", platform="telegram", chat_id="A", reply=Reply(text="A2 after")),
            Outgoing(key="b1", platform="telegram", chat_id="B", reply=Reply(text="B1")),
            Outgoing(key="b2", platform="telegram", chat_id="B", reply=Reply(text="B2")),
        ]
    )
    sender = OutboxSender(outbox, {"telegram": channel})
    await sender.drain()
    # A's first row met a 429: A's second waits behind it; B is not held up.
    assert channel.texts_to("B") == ["B1", "B2"]
    assert channel.texts_to("A") == []  # the second one did not overtake the first
    clock.advance(seconds=30)
    await sender.drain()
    assert channel.texts_to("A") == []  # retry_after is honoured
    clock.advance(seconds=11)
    await sender.drain()
    assert channel.texts_to("A") == ["A1 picture", "A2 after"]


async def test_new_replies_queue_behind_a_waiting_one(app: App, clock: FrozenClock) -> None:
    """A reply deferred by a 429 is followed by the next update's replies, never passed."""
    assert app.services is not None
    first = await app.handle(durable("/help", "1:3"))
    await app.services.outbox.settle(
        deferred=[r.outbox_id for r in first if r.outbox_id is not None], retry_after=40
    )
    second = await app.handle(durable("/start", "1:4"))
    assert second and all(r.queued for r in second)  # the channel must not send these
    channel = RecordingChannel(name="telegram")
    sender = OutboxSender(app.services.outbox, {"telegram": channel})
    clock.advance(seconds=41)
    await sender.drain()
    assert [reply.text for _, reply in channel.sent] == [r.text for r in [*first, *second]]


# -- mixed deployments ------------------------------------------------------------------------


async def test_a_sender_claims_only_rows_for_its_own_channels(app: App, clock: FrozenClock) -> None:
    assert app.services is not None
    outbox = app.services.outbox
    await outbox.enqueue(
        [
            Outgoing(key="t", platform="telegram", chat_id="1", reply=Reply(text="tg")),
            Outgoing(key="c", platform="console", chat_id="1", reply=Reply(text="console")),
        ]
    )
    console = RecordingChannel()
    assert await OutboxSender(outbox, {"console": console}).drain() == 1
    rows = {r.platform: r for r in await _rows(app)}
    # The Telegram row was never touched: no attempt, not put back for later.
    assert rows["telegram"].status == PENDING and rows["telegram"].attempts == 0
    assert rows["telegram"].next_attempt_at == clock.now()
    telegram = RecordingChannel(name="telegram")
    assert await OutboxSender(outbox, {"telegram": telegram}).drain() == 1
    assert telegram.texts_to("1") == ["tg"]


async def test_two_bots_on_one_database_do_not_drop_each_others_updates(app: App) -> None:
    """Telegram numbers updates per bot; the channel puts the bot's id in the event id."""
    one = await app.handle(durable("/help", "111:7", user="601"))
    other = await app.handle(durable("/help", "222:7", user="602"))
    again = await app.handle(durable("/help", "111:7", user="601"))
    assert one and other and again == []


# -- input no database can store --------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["hallo\x00wereld", "wat is \udcff\udcfe positieve gezondheid", "\x00\x01"]
)
async def test_nul_and_broken_characters_are_cleaned_the_same_on_both_databases(
    app: App, text: str
) -> None:
    person = Person(app, user_id="701")
    replies = await person.send(text)
    assert replies
    internal = app.services.texts.get("nl", "errors.internal") if app.services else ""
    assert all(r.text != internal for r in replies)


async def test_a_name_with_nul_or_of_any_length_does_not_break_the_person(app: App) -> None:
    person = Person(app, user_id="702", display_name="An\x00na " + "x" * 300)
    for text in ("/start", "/help"):
        replies = await person.send(text)
        assert replies
    assert app.services is not None
    async with app.services.sessions() as session:
        user = (
            await session.execute(select(User).where(User.platform_user_id == "702"))
        ).scalar_one()
    assert user.display_name is not None
    assert "\x00" not in user.display_name and len(user.display_name) <= 64


# Built at run time, so no source line a traceback quotes holds the whole phrase.
SECRET = " ".join(("stored", "words", "that", "must", "stay", "out"))


def test_driver_messages_never_reach_the_log() -> None:
    """asyncpg and sqlite quote what they could not store; the formatter drops it."""
    from sqlalchemy.exc import StatementError

    record: logging.LogRecord
    try:
        try:
            raise sqlite3.IntegrityError(f"invalid input: '{SECRET}'")
        except sqlite3.Error as exc:
            raise StatementError("failed", "INSERT ...", None, exc) from exc
    except StatementError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = RedactingFormatter().format(record)
    assert SECRET not in line
    assert HIDDEN in line and "Traceback" in line


# -- the flood limit --------------------------------------------------------------------


async def test_presses_that_answer_the_bots_question_are_not_flooding(
    make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(database_url=database_url, flood_limit_per_minute=5)
    app = App(settings, clock=clock)
    await app.start(scheduler=False, sender=False)
    try:
        person = Person(app, user_id="801")
        await person.send("/spinnenweb")
        await person.press(person.last[-1].choices[0].label)  # consent
        await person.press(person.last[-1].choices[1].label)  # the extended check-in
        flood = app.services.texts.get("nl", "errors.flood") if app.services else ""
        for _ in range(12):  # far more presses in a minute than the limit
            question = person.last[-1]
            assert question.choices, question.text
            replies = await person.press(question.choices[7].label)
            assert all(r.text != flood for r in replies)
        # Forged presses still count.
        seen: list[str] = []
        for _ in range(8):
            seen += [r.text for r in await person.press("sw:forged:1:x")]
        assert flood in seen
    finally:
        await app.stop()


# -- the sender while the database is down ---------------------------------------------


async def test_the_sender_logs_one_line_per_outage(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    assert app.services is not None

    class Down:
        calls = 0

        async def claim(self, *args: object, **kwargs: object) -> list[object]:
            self.calls += 1
            if self.calls <= 5:
                raise ConnectionRefusedError("database down")
            return []

    sender = OutboxSender(app.services.outbox, {}, poll_interval=0.001)
    sender.outbox = Down()  # type: ignore[assignment]
    sender.channels = {"console": RecordingChannel()}
    caplog.set_level(logging.WARNING, "bot.outbox.sender")
    sender.start()
    try:
        for _ in range(1000):
            if sender.outbox.calls > 6:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.005)
    finally:
        await sender.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.outbox.sender"]
    assert len([m for m in lines if "paused" in m]) == 1
    assert len([m for m in lines if m.startswith("outbox delivery works again")]) == 1
