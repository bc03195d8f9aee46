"""The Slack channel end to end: the real App, slack-bolt and slack_sdk, unchanged,
against the fake Slack (tests/helpers/fake_slack.py), on SQLite and PostgreSQL.

Waits are exact: :class:`ObservedSlack` is the real channel that also counts the
messages it finished (``process`` returned, so every reply was sent)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.base import DeliveryError
from bot.channels.slack import SlackChannel
from bot.core.clock import FrozenClock
from bot.core.messages import Document, Incoming, Reply
from bot.outbox.queue import FAILED, SENT, Outgoing
from bot.outbox.sender import OutboxSender
from bot.settings import ConfigError, Settings
from bot.storage.models import OutboxMessage, User
from tests.helpers.fake_slack import FakeSlack, post_signed
from tests.helpers.telegram_bot import free_port

ANNA = "U0ANNA"
ANNA_DM = "D0ANNA"
SECRET = "fake-signing-secret"


class ObservedSlack(SlackChannel):
    """The real Slack channel; it also records which messages it has finished."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.finished: Counter[str | None] = Counter()
        self.handled: list[Incoming] = []
        self._changed = asyncio.Event()

    async def process(self, incoming: Incoming, **kwargs: Any) -> None:
        self.handled.append(incoming)
        try:
            await super().process(incoming, **kwargs)
        finally:
            self.finished[incoming.event_id] += 1
            event, self._changed = self._changed, asyncio.Event()
            event.set()

    async def wait_finished(self, count: int, timeout: float = 15.0) -> None:
        """Wait until ``count`` messages in all were processed."""
        async with asyncio.timeout(timeout):
            while self.finished.total() < count:
                await self._changed.wait()


@contextlib.asynccontextmanager
async def running(
    make_settings: Callable[..., Settings],
    fake: FakeSlack,
    *,
    http: bool = False,
    **overrides: Any,
) -> AsyncIterator[tuple[App, ObservedSlack]]:
    settings = make_settings(
        **{"slack_bot_token": fake.bot_token, "slack_api_url": fake.api_url} | overrides
    )
    channel = ObservedSlack(settings)
    app = App(settings, clock=FrozenClock(), channels={channel.name: channel})
    await app.start(http=http, scheduler=False, sender=False)
    try:
        yield app, channel
    finally:
        await app.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def bot(
    make_settings: Callable[..., Settings], database_url: str, fake: FakeSlack
) -> AsyncIterator[tuple[App, ObservedSlack]]:
    """The bot in Socket Mode on a fresh database (SQLite, then PostgreSQL)."""
    async with running(
        make_settings, fake, database_url=database_url, slack_app_token=fake.app_token
    ) as pair:
        yield pair


def t(app: App, key: str, **params: object) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key, **params)


def dm(text: str, ts: str = "1.000001", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": ANNA_DM,
        "channel_type": "im",
        "user": ANNA,
        "text": text,
        "ts": ts,
        **extra,
    }


def button_of(message: dict[str, Any], label: str) -> dict[str, Any]:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no button {label!r}")


async def test_a_direct_message_is_answered_in_the_dm(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    envelope = await fake.send_event(dm("/help"))
    assert await fake.wait_ack(envelope) == {"envelope_id": envelope}
    await channel.wait_finished(1)
    assert fake.messages[ANNA_DM], "no reply posted"
    assert channel.handled[0].is_private and channel.handled[0].user_id == ANNA
    # users.info gave the display name (after the ack: the ack came first).
    assert channel.handled[0].display_name == f"user-{ANNA.lower()}"
    assert fake.calls_of("auth.test")


async def test_quick_messages_of_one_chat_take_turns_and_are_answered_at_once_in_order(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    """Three DMs sent at once: each is handled after the one before has gone out (the
    chat's turn), so no reply waits in the outbox behind one not yet settled. The
    outbox sender is off here: a reply that queued would never come."""
    _app, channel = bot
    texts = ["/help", "/privacy", "/help"]
    envelopes = [await fake.send_event(dm(text, ts=f"2.00000{n}")) for n, text in enumerate(texts)]
    for envelope in envelopes:
        await fake.wait_ack(envelope)
    await channel.wait_finished(3)
    assert [m.text for m in channel.handled] == texts
    posted = [str(m.get("text") or "") for m in fake.messages[ANNA_DM]]
    assert len(posted) >= 3, posted
    assert "/taal" in posted[0] and "/taal" in posted[-1]
    assert not any("/taal" in text for text in posted[1:-1])
    assert len(channel._turns) == 0  # no lock kept for a chat once it is quiet


async def test_a_crisis_message_does_not_wait_for_the_chats_earlier_message(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    """The chat's turn is not for a crisis: while the earlier message is stuck (here
    held on purpose, as on a hung database), the crisis reply comes at once."""
    _app, channel = bot
    assert channel._handle is not None
    handle, release = channel._handle, asyncio.Event()

    async def held(incoming: Incoming) -> list[Any]:
        if incoming.text == "/help":
            await release.wait()
        return await handle(incoming)

    channel._handle = held
    await fake.send_event(dm("/help", ts="3.000001"))
    async with asyncio.timeout(10):
        while not channel._turns.busy(ANNA_DM):
            await asyncio.sleep(0.01)
    await fake.send_event(dm("ik wil dood", ts="3.000002"))
    await channel.wait_finished(1)  # the crisis message, while /help is still held
    posted = [str(m.get("text") or "") for m in fake.messages[ANNA_DM]]
    assert len(posted) == 1 and "113" in posted[0], posted
    release.set()
    await channel.wait_finished(2)
    assert "/taal" in str(fake.messages[ANNA_DM][-1].get("text"))


async def test_a_crisis_reply_slack_puts_off_waits_as_a_reply(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    """Made outside a transaction, the crisis reply goes to the outbox when Slack will
    not take it now: as a reply (kind ``reply``), claimed first and deleted once out."""
    app, channel = bot
    fake.fail("chat.postMessage", "internal_error", channel=ANNA_DM)
    await fake.send_event(dm("ik wil dood"))
    await channel.wait_finished(1)
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    assert [(row.chat_id, row.kind) for row in rows] == [(ANNA_DM, "reply")]


async def test_a_429_is_waited_out_and_the_reply_still_posted(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    fake.rate_limit("chat.postMessage", times=1, retry_after=0)
    await fake.send_event(dm("/help"))
    await channel.wait_finished(1)
    assert [call.status for call in fake.calls_of("chat.postMessage")][:2] == [429, 200]
    assert fake.messages[ANNA_DM]


async def test_bot_messages_edits_and_channel_chatter_are_ignored(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    ignored = [
        dm("/help", bot_id="B9"),
        dm("/help", subtype="message_changed"),
        {**dm("/help"), "channel": "C1", "channel_type": "channel"},
    ]
    for event in ignored:
        await fake.wait_ack(await fake.send_event(event))
    await fake.send_event(dm("/help", ts="2.0"))
    await channel.wait_finished(1)
    assert len(channel.handled) == 1 and channel.handled[0].chat_id == ANNA_DM


async def test_a_retried_event_is_handled_once(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    await fake.send_event(dm("/help"), event_id="Ev0RETRY")
    await channel.wait_finished(1)
    posted = len(fake.messages[ANNA_DM])
    await fake.send_event(dm("/help"), event_id="Ev0RETRY", retry_attempt=1, retry_reason="timeout")
    await channel.wait_finished(2)
    assert len(fake.messages[ANNA_DM]) == posted


async def test_a_button_press_updates_the_message_and_goes_on(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    await fake.send_event(dm("/spinnenweb"))
    await channel.wait_finished(1)
    consent = fake.messages[ANNA_DM][-1]
    label = t(app, "checkin.consent_yes")
    button = button_of(consent, label)
    before = len(fake.messages[ANNA_DM])
    envelope = await fake.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": ANNA},
            "channel": {"id": ANNA_DM},
            "trigger_id": "trig-1",
            "container": {"type": "message", "channel_id": ANNA_DM},
            "message": consent,
            "actions": [button],
        }
    )
    assert (await fake.wait_ack(envelope))["envelope_id"] == envelope
    await channel.wait_finished(2)
    pressed = channel.handled[-1]
    assert pressed.action == button["value"]
    (update,) = fake.calls_of("chat.update", ok=True)
    assert all(block["type"] != "actions" for block in update.params["blocks"])
    assert update.params["blocks"][-1]["type"] == "context"
    assert label in update.params["blocks"][-1]["elements"][0]["text"]
    assert len(fake.messages[ANNA_DM]) > before  # the next step was posted


async def test_a_forged_button_value_gets_no_action(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    await fake.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": ANNA},
            "channel": {"id": ANNA_DM},
            "trigger_id": "trig-2",
            "actions": [
                {"type": "button", "action_id": "c1", "value": "x\x00y", "text": {"text": "?"}}
            ],
        }
    )
    await channel.wait_finished(1)
    assert channel.handled[0].action == ""


async def test_a_mention_is_answered_in_its_thread(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    await fake.send_event(
        {
            "type": "app_mention",
            "channel": "C0TEAM",
            "channel_type": "channel",
            "user": ANNA,
            "text": f"<@{fake.bot_user_id}> /help",
            "ts": "5.000001",
        }
    )
    await channel.wait_finished(1)
    incoming = channel.handled[0]
    assert not incoming.is_private and incoming.text == "/help"
    posted = fake.messages["C0TEAM"]
    assert posted and all(message.get("thread_ts") == "5.000001" for message in posted)


async def test_the_slash_command_is_the_subcommand_answered_in_the_dm(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    envelope = await fake.send_slash_command(
        "/alliantie", "help", user_id=ANNA, channel_id="C0TEAM"
    )
    ack = await fake.wait_ack(envelope)
    assert ack["envelope_id"] == envelope
    # typed in a channel: the ack tells that person only where the answer is
    assert ack["payload"]["text"] == "Ik antwoord je in ons privégesprek."
    await channel.wait_finished(1)
    assert channel.handled[0].command == "help"
    assert fake.messages[ANNA_DM] and "C0TEAM" not in fake.messages
    in_dm = await fake.send_slash_command("/alliantie", "help", user_id=ANNA, channel_id=ANNA_DM)
    assert "payload" not in await fake.wait_ack(in_dm)  # in the DM itself: a plain ack


async def test_permanent_errors_are_permanent_for_the_outbox(
    make_settings: Callable[..., Settings], fake: FakeSlack, tmp_path: Path
) -> None:
    async with running(make_settings, fake, slack_app_token=fake.app_token) as (_app, channel):
        fake.fail("chat.postMessage", "account_inactive", channel="D0GONE")
        with pytest.raises(DeliveryError) as gone:
            await channel.send("D0GONE", Reply("hoi"))
        assert gone.value.permanent
        fake.fail("chat.postMessage", "internal_error", channel="D0FLAKY", times=1)
        with pytest.raises(DeliveryError) as flaky:
            await channel.send("D0FLAKY", Reply("hoi"))
        assert not flaky.value.permanent
        # A user id is the person: their DM is opened (once) and the file uploaded there.
        path = tmp_path / "verslag.txt"
        path.write_text("inhoud")
        await channel.send(ANNA, Reply("hier", document=Document(path, "verslag.txt")))
        await channel.send(ANNA, Reply("nog eens"))
        assert len(fake.calls_of("conversations.open")) == 1
        assert fake.texts(ANNA_DM) == ["hier", "nog eens"]
        assert [f.get("content") for f in fake.files.values()] == [b"inhoud"]


async def test_a_bad_token_stops_the_start_with_one_line(
    make_settings: Callable[..., Settings], fake: FakeSlack
) -> None:
    settings = make_settings(
        slack_bot_token="xoxb-wrong",
        slack_api_url=fake.api_url,
        slack_app_token=fake.app_token,
    )
    app = App(settings, clock=FrozenClock(), channels={"slack": SlackChannel(settings)})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN: Slack does not accept this token"):
        await app.start(http=False, scheduler=False, sender=False)
    await app.stop()
    assert fake.calls_of("apps.connections.open") == []


@pytest.mark.parametrize(("kind", "status"), [("right", 200), ("wrong", 401), ("expired", 401)])
async def test_http_mode_checks_the_signature(
    make_settings: Callable[..., Settings], fake: FakeSlack, kind: Any, status: int
) -> None:
    port = free_port()
    async with running(
        make_settings, fake, http=True, http_port=port, slack_signing_secret=SECRET
    ) as (_app, channel):
        body = fake.event_callback(dm("/help"))
        got, _ = await post_signed(
            f"http://127.0.0.1:{port}/slack/events", body, SECRET, signature=kind
        )
        assert got == status
        if status == 200:
            await channel.wait_finished(1)
            posted = len(fake.messages[ANNA_DM])
            assert posted
            # Slack's retry of the same event is not handled twice.
            got, _ = await post_signed(
                f"http://127.0.0.1:{port}/slack/events", body, SECRET, retry_num=1
            )
            assert got == 200
            await channel.wait_finished(2)
            assert len(channel.handled) == 2
            assert len(fake.messages[ANNA_DM]) == posted
        else:
            assert channel.handled == [] and fake.calls_of("chat.postMessage") == []


def test_the_registry_builds_the_slack_channel(make_settings: Callable[..., Settings]) -> None:
    from bot.channels.registry import platform_channels

    settings = make_settings(slack_bot_token="xoxb-1-2", slack_app_token="xapp-1-A1-2-x")
    channels = platform_channels(settings)
    assert isinstance(channels["slack"], SlackChannel)
    assert channels["slack"].limiter is not None


def test_neither_app_token_nor_signing_secret_is_one_clear_line(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN or SLACK_SIGNING_SECRET"):
        SlackChannel(make_settings(slack_bot_token="xoxb-1-2"))


async def test_an_inactive_account_in_outbox_delivery_marks_the_person_inactive(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    assert app.services is not None
    bob, bob_dm = "U0BOB", "D0BOB"
    await fake.send_event(dm("/help"))
    await fake.send_event({**dm("/help", ts="3.0"), "user": bob, "channel": bob_dm})
    await channel.wait_finished(2)
    people = {}
    async with app.services.sessions() as session:
        for row in (await session.execute(select(User).where(User.platform == "slack"))).scalars():
            people[row.platform_user_id] = row.id
    outbox = app.services.outbox
    fake.fail("chat.postMessage", "account_inactive", channel=ANNA_DM)
    await outbox.enqueue(
        [
            Outgoing(
                key=f"n-{user}",
                platform="slack",
                chat_id=chat,
                reply=Reply("Nieuws"),
                user_id=people[user],
            )
            for user, chat in ((ANNA, ANNA_DM), (bob, bob_dm))
        ]
    )
    assert await OutboxSender(outbox, app.channels).drain() == 2
    async with app.services.sessions() as session:
        rows = {
            row.chat_id: row
            for row in (await session.execute(select(OutboxMessage))).scalars()
            if row.key.startswith("n-")
        }
        active = {
            row.platform_user_id: row.active
            for row in (
                await session.execute(select(User).where(User.platform == "slack"))
            ).scalars()
        }
    assert rows[ANNA_DM].status == FAILED and "account_inactive" in (rows[ANNA_DM].last_error or "")
    assert rows[bob_dm].status == SENT and fake.texts(bob_dm)[-1] == "Nieuws"
    assert active == {ANNA: False, bob: True}


async def test_a_private_feature_asked_in_a_channel_gets_an_ephemeral_with_the_dm_button(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    await fake.send_event(
        {
            "type": "app_mention",
            "channel": "C0TEAM",
            "channel_type": "channel",
            "user": ANNA,
            "text": f"<@{fake.bot_user_id}> /spinnenweb",
            "ts": "6.000001",
        }
    )
    await channel.wait_finished(1)
    assert "C0TEAM" not in fake.messages, "nothing posted publicly"
    assert not fake.calls_of("chat.postMessage")
    (ephemeral,) = fake.ephemerals
    assert ephemeral["channel"] == "C0TEAM" and ephemeral["user"] == ANNA
    (call,) = fake.calls_of("chat.postEphemeral", ok=True)
    assert call.params["thread_ts"] == "6.000001"
    button = button_of(ephemeral, t(app, "checkin.private_button"))
    assert button["url"] == f"slack://app?team={fake.team_id}&id={fake.app_id}&tab=messages"


async def test_socket_mode_reconnects_after_a_disconnect_and_keeps_answering(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    await fake.wait_connections(1)
    await fake.send_disconnect()
    await fake.wait_connections(2)
    envelope = await fake.send_event(dm("/help"))
    assert await fake.wait_ack(envelope) == {"envelope_id": envelope}
    await channel.wait_finished(1)
    assert fake.messages[ANNA_DM], "no reply after the reconnect"
