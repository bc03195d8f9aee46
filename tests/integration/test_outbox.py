"""The durable outbox and its sender, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Choice, Reply
from bot.outbox.queue import FAILED, PENDING, REPLY, SENDING, SENT, Outbox, Outgoing
from bot.outbox.sender import OutboxSender
from bot.storage.models import OutboxMessage, User
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel, blocked, too_many


def _outbox(app: App) -> Outbox:
    assert app.services is not None
    return app.services.outbox


def _sender(app: App, **kwargs: object) -> OutboxSender:
    return OutboxSender(_outbox(app), app.channels, **kwargs)  # type: ignore[arg-type]


async def _rows(app: App) -> list[OutboxMessage]:
    async with _outbox(app).sessions() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


def _items(count: int, prefix: str = "m", chat: str = "c") -> list[Outgoing]:
    return [
        Outgoing(
            key=f"{prefix}{i}",
            platform="console",
            chat_id=f"{chat}{i}",
            reply=Reply(text=f"bericht {i}"),
        )
        for i in range(count)
    ]


async def test_enqueue_is_idempotent_on_key(app: App) -> None:
    assert await _outbox(app).enqueue(_items(3)) == 3
    assert await _outbox(app).enqueue(_items(5)) == 2
    assert len(await _rows(app)) == 5


async def test_payload_is_encrypted_and_round_trips(app: App, channel: RecordingChannel) -> None:
    reply = Reply(text="Je veranderwens: meer wandelen", choices=(Choice("Ja", "x:1"),))
    await _outbox(app).enqueue([Outgoing(key="k", platform="console", chat_id="c", reply=reply)])
    row = (await _rows(app))[0]
    assert b"wandelen" not in row.payload
    await _sender(app).drain()
    assert channel.sent == [("c", reply)]


async def test_sender_delivers_and_stores_platform_message_id(
    app: App, channel: RecordingChannel
) -> None:
    await _outbox(app).enqueue(_items(40))
    assert await _sender(app, batch_size=7, concurrency=3).drain() == 40
    rows = await _rows(app)
    assert {r.status for r in rows} == {SENT}
    assert all(r.platform_message_id and r.sent_at for r in rows)
    assert sorted(c for c, _ in channel.sent) == sorted(f"c{i}" for i in range(40))


async def test_future_messages_wait_for_their_time(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    later = clock.now() + timedelta(hours=2)
    await _outbox(app).enqueue(
        [
            Outgoing(
                key="later",
                platform="console",
                chat_id="c",
                reply=Reply(text="straks"),
                not_before=later,
            )
        ]
    )
    assert await _sender(app).drain() == 0
    clock.advance(hours=2)
    assert await _sender(app).drain() == 1
    assert channel.texts_to("c") == ["straks"]


async def test_blocked_recipient_is_marked_inactive(app: App, channel: RecordingChannel) -> None:
    await Person(app, user_id="anna").send("/start")
    async with _outbox(app).sessions() as session:
        user = (await session.execute(select(User))).scalar_one()
    channel.failures["anna"] = blocked()
    await _outbox(app).enqueue(
        [
            Outgoing(
                key="b",
                platform="console",
                chat_id="anna",
                reply=Reply(text="hoi"),
                user_id=user.id,
            )
        ]
    )
    await _sender(app).drain()
    row = (await _rows(app))[0]
    assert row.status == FAILED and "blocked" in (row.last_error or "")
    async with _outbox(app).sessions() as session:
        assert (await session.get(User, user.id)).active is False  # type: ignore[union-attr]


async def test_rate_limited_send_waits_without_using_an_attempt(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    channel.failures["c0"] = too_many(retry_after=30)
    await _outbox(app).enqueue(_items(1))
    await _sender(app).drain()
    row = (await _rows(app))[0]
    assert row.status == PENDING and row.attempts == 0
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    del channel.failures["c0"]
    clock.advance(seconds=31)
    await _sender(app).drain()
    assert (await _rows(app))[0].status == SENT


async def test_transient_errors_back_off_then_give_up(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    channel.failures["c0"] = ConnectionResetError()
    await _outbox(app).enqueue(_items(1))
    sender = _sender(app, max_attempts=3)
    delays = []
    for _ in range(3):
        await sender.drain()
        row = (await _rows(app))[0]
        if row.status == FAILED:
            break
        delays.append((row.next_attempt_at - clock.now()).total_seconds())
        clock.advance(hours=2)
    assert row.status == FAILED and row.attempts == 3
    assert len(delays) == 2 and delays[1] > delays[0] > 0
    assert channel.calls == 3


async def test_crash_mid_send_resumes_after_lease_without_losing_messages(
    app: App, channel: RecordingChannel, clock: FrozenClock
) -> None:
    await _outbox(app).enqueue(_items(10))
    # A sender claims a batch and dies before delivering or recording anything.
    crashed = await _outbox(app).claim(4, timedelta(minutes=2))
    assert len(crashed) == 4
    assert [r.status for r in await _rows(app)].count(SENDING) == 4
    # Another sender delivers the rest at once; the claimed rows are not touched yet.
    assert await _sender(app).drain() == 6
    clock.advance(minutes=3)  # the lease has run out
    assert await _sender(app).drain() == 4
    assert {r.status for r in await _rows(app)} == {SENT}
    delivered = sorted(chat for chat, _ in channel.sent)
    assert delivered == sorted(f"c{i}" for i in range(10))  # each exactly once


async def test_concurrent_claims_never_share_a_row(app: App) -> None:
    await _outbox(app).enqueue(_items(60))
    batches = await asyncio.gather(
        *(_outbox(app).claim(15, timedelta(minutes=1)) for _ in range(6))
    )
    ids = [row.id for batch in batches for row in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_a_reply_waiting_behind_a_broadcast_row_goes_before_the_rest_of_it(
    app: App, clock: FrozenClock
) -> None:
    """Issue 18: a person asks a question during a broadcast. Their reply waits behind
    their own broadcast row (one chat in order), but that row must not wait behind the
    thousands of others: the chat comes first, in its order."""
    outbox, lease = _outbox(app), timedelta(minutes=1)
    await outbox.enqueue(_items(2_400, prefix="b"))  # to c0 … c2399, all due now
    clock.advance(seconds=5)
    question = Outgoing(
        key="reply:1", platform="console", chat_id="c2000", reply=Reply(text="antw"), kind=REPLY
    )
    async with outbox.sessions() as session, session.begin():
        _, queued = await outbox.hold(session, [question], lease)
    assert queued  # behind c2000's broadcast row

    first = await outbox.claim(10, lease)
    assert len(first) == 10 and first[0].chat_id == "c2000"  # first in the batch, too
    c2000 = [row for row in first if row.chat_id == "c2000"]
    assert [(row.kind, row.reply.text) for row in c2000] == [("message", "bericht 2000")]
    # While the broadcast row is in flight, the reply still waits for it.
    second = await outbox.claim(10, lease)
    assert len(second) == 10 and "c2000" not in {row.chat_id for row in second}

    await outbox.settle(sent=[c2000[0].id])
    third = await outbox.claim(10, lease)
    assert len(third) == 10
    assert [(row.kind, row.reply.text) for row in third if row.chat_id == "c2000"] == [
        (REPLY, "antw")
    ]


async def test_a_waiting_reply_of_another_channel_is_left_to_its_sender(app: App) -> None:
    """The chats where a reply waits come first only for the sender that serves them."""
    outbox, lease = _outbox(app), timedelta(minutes=1)
    await outbox.enqueue(
        [Outgoing(key="b", platform="telegram", chat_id="7", reply=Reply(text="nieuws"))]
    )
    question = Outgoing(
        key="reply:1", platform="telegram", chat_id="7", reply=Reply(text="antw"), kind=REPLY
    )
    async with outbox.sessions() as session, session.begin():
        assert (await outbox.hold(session, [question], lease))[1]
    assert await outbox.claim(10, lease, platforms=["console"]) == []
    assert [row.reply.text for row in await outbox.claim(10, lease, platforms=["telegram"])] == [
        "nieuws"
    ]


async def test_missing_channel_leaves_the_message_for_a_sender_that_has_it(
    app: App, clock: FrozenClock
) -> None:
    await _outbox(app).enqueue(
        [Outgoing(key="t", platform="telegram", chat_id="1", reply=Reply(text="hoi"))]
    )
    assert await _sender(app).drain() == 0  # not claimed, so not put back for later either
    row = (await _rows(app))[0]
    assert row.status == PENDING and row.attempts == 0 and row.next_attempt_at == clock.now()


async def test_a_channel_for_some_chats_only_leaves_the_others_rows_waiting(
    app: App, channel: RecordingChannel
) -> None:
    """Two terminals on one database: each shows only its own person's messages."""
    await _outbox(app).enqueue(_items(3))  # to c0, c1, c2
    channel.only_chats = ("c1",)  # type: ignore[attr-defined]
    assert await _sender(app).drain() == 1
    assert [chat for chat, _ in channel.sent] == ["c1"]
    assert [row.status for row in await _rows(app)] == [PENDING, SENT, PENDING]


async def test_running_sender_wakes_on_enqueue(app: App, channel: RecordingChannel) -> None:
    sender = _sender(app, poll_interval=60)
    sender.start()
    try:
        await _outbox(app).enqueue(_items(3))
        async with asyncio.timeout(10):
            while len(channel.sent) < 3:
                await asyncio.sleep(0.01)
    finally:
        await sender.stop()
    assert len(channel.sent) == 3
