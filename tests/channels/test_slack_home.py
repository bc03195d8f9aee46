"""Slack's App Home (bot/channels/slack_home.py) end to end: the real App, slack-bolt
and slack_sdk against the fake Slack, on SQLite and PostgreSQL. The published view
passes the fake's Block Kit validation (``views.publish`` refuses it otherwise)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.agenda.model import EventData
from bot.app import App
from bot.channels import slack_home
from bot.channels.slack_home import SlackHome
from bot.core.home import HomeFacts
from bot.settings import Settings
from bot.spinnenweb.records import CheckinRecord
from tests.channels.test_slack import ANNA, ANNA_DM, ObservedSlack, dm, running, t
from tests.helpers.agenda import add
from tests.helpers.fake_slack import FakeSlack, block_errors


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def bot(
    make_settings: Callable[..., Settings], database_url: str, fake: FakeSlack
) -> AsyncIterator[tuple[App, ObservedSlack]]:
    async with running(
        make_settings, fake, database_url=database_url, slack_app_token=fake.app_token
    ) as pair:
        yield pair


async def anna(app: App, *, roles: str = "", checked_in: datetime | None = None) -> None:
    """Anna as the database knows her: her roles and perhaps one check-in."""
    assert app.services is not None
    now = app.services.clock.now()
    async with app.services.work.begin() as db:
        user, _ = await db.users.get_or_create(
            platform="slack", platform_user_id=ANNA, now=now, language="nl"
        )
        user.roles = roles
        if checked_in is not None:
            record = CheckinRecord(id=0, taken_at=checked_in, mode="kort", scores={"lichaam": 7})
            await db.checkins.add(user.id, record, now)


async def event(app: App, title: str, days: int) -> None:
    assert app.services is not None
    start = (app.services.clock.now() + timedelta(days=days)).replace(tzinfo=None, hour=19)
    await add(
        app,
        EventData(
            uid=f"home-{days}",
            kind="leeratelier",
            title=title,
            start=start,
            end=start + timedelta(hours=2),
            zone="Europe/Amsterdam",
        ),
    )


async def home_of(fake: FakeSlack, user: str = ANNA) -> dict[str, Any]:
    """Open the App Home as ``user``; the view the bot published."""
    before = len(fake.calls_of("views.publish"))
    envelope = await fake.send_event(
        {"type": "app_home_opened", "user": user, "channel": ANNA_DM, "tab": "home"}
    )
    assert (await fake.wait_ack(envelope))["envelope_id"] == envelope  # acked first
    (call,) = (await fake.wait_for("views.publish", before + 1))[before:]
    assert call.ok, call
    return fake.views[user]


def text_of(view: dict[str, Any]) -> str:
    found = []
    for block in view["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
    return "\n".join(found)


def buttons_of(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_the_home_shows_the_last_checkin_and_the_next_events(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, _channel = bot
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    for days, title in ((3, "Leeratelier Leiden"), (10, "Tweede"), (20, "Derde"), (30, "Vierde")):
        await event(app, title, days)
    view = await home_of(fake)
    assert view["type"] == "home" and block_errors(view["blocks"], max_blocks=100) == []
    shown = text_of(view)
    assert t(app, "channels.slack.home.greeting") in shown
    assert t(app, "channels.slack.home.last_checkin", day="18 december 2025") in shown
    assert "Leeratelier Leiden" in shown and "Derde" in shown
    assert "Vierde" not in shown  # up to 3
    # The menu buttons are the main menu's actions.
    assert [b["value"] for b in buttons_of(view)] == [
        "menu:vraag",
        "menu:spinnenweb",
        "menu:agenda",
    ]
    assert "/alliantie bericht" not in shown  # not a verbinder


async def test_a_stranger_gets_the_menu_and_no_checkin(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, _channel = bot
    view = await home_of(fake)
    shown = text_of(view)
    assert t(app, "channels.slack.home.no_checkin") in shown
    assert t(app, "channels.slack.home.no_events") in shown
    assert len(buttons_of(view)) == 3


async def test_a_verbinder_sees_the_shortcuts(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, _channel = bot
    await anna(app, roles="verbinder")
    shown = text_of(await home_of(fake))
    assert t(app, "channels.slack.home.shortcuts_title") in shown
    assert "`/alliantie bericht`" in shown and "`/alliantie agenda beheer`" in shown


async def test_a_home_button_is_the_menu_choice_answered_in_the_dm(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    view = await home_of(fake)
    button = next(b for b in buttons_of(view) if b["value"] == "menu:spinnenweb")
    envelope = await fake.send_interactive(
        {
            "type": "block_actions",
            "user": {"id": ANNA},
            "trigger_id": "trig-home",
            "container": {"type": "view", "view_id": view["id"]},
            "view": view,
            "actions": [{**button, "block_id": "home_menu"}],
        }
    )
    assert (await fake.wait_ack(envelope))["envelope_id"] == envelope
    await channel.wait_finished(1)
    assert channel.handled[-1].action == "menu:spinnenweb"
    assert channel.handled[-1].is_private and channel.handled[-1].chat_id == ANNA_DM
    assert fake.messages[ANNA_DM], "no reply in the DM"


# -- republishing after a change (SlackHome.changed) -----------------------------------
# The channel calls ``changed`` after each handled message or press; these tests call
# it on their own SlackHome (no wait: ``delay=0``) and wait for its refreshes to end.

BOB = "U0BOB0001"


async def opened(home: SlackHome, fake: FakeSlack, user: str = ANNA) -> dict[str, Any]:
    """``app_home_opened`` on this SlackHome: it publishes (always)."""
    before = len(fake.calls_of("views.publish", ok=True))
    await home.opened({"type": slack_home.EVENT, "user": user, "tab": "home"}, {})
    assert len(fake.calls_of("views.publish", ok=True)) == before + 1
    return fake.views[user]


async def refreshed(home: SlackHome, *users: str) -> None:
    for user in users:
        home.changed(user)
    await home.wait_idle()


async def test_after_a_new_checkin_the_home_is_published_again(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    home = SlackHome(channel, delay=0)
    assert t(app, "channels.slack.home.no_checkin") in text_of(await opened(home, fake))
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    await refreshed(home, ANNA)
    assert len(fake.calls_of("views.publish", ok=True)) == 2
    shown = text_of(fake.views[ANNA])
    assert t(app, "channels.slack.home.last_checkin", day="18 december 2025") in shown
    assert block_errors(fake.views[ANNA]["blocks"], max_blocks=100) == []
    # A new event is a change too.
    await event(app, "Leeratelier Leiden", 3)
    await refreshed(home, ANNA)
    assert len(fake.calls_of("views.publish", ok=True)) == 3
    assert "Leeratelier Leiden" in text_of(fake.views[ANNA])


async def test_without_a_change_nothing_is_published(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    _app, channel = bot
    home = SlackHome(channel, delay=0)
    await opened(home, fake)
    await refreshed(home, ANNA, ANNA)
    await refreshed(home, ANNA)
    assert len(fake.calls_of("views.publish")) == 1


async def test_a_home_never_published_here_is_left_alone(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    home = SlackHome(channel, delay=0)
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    await refreshed(home, ANNA)
    assert fake.calls_of("views.publish") == []


async def test_the_oldest_published_homes_are_forgotten(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    home = SlackHome(channel, delay=0, remembered=1)
    await opened(home, fake, ANNA)
    await opened(home, fake, BOB)  # Anna's is forgotten
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    await event(app, "Leeratelier Leiden", 3)  # Bob sees the public event
    await refreshed(home, ANNA, BOB)
    assert [c.params["user_id"] for c in fake.calls_of("views.publish")] == [ANNA, BOB, BOB]


async def test_many_changes_in_a_row_are_one_refresh(
    bot: tuple[App, ObservedSlack], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, channel = bot
    home = SlackHome(channel, delay=0)
    await opened(home, fake)
    asked: list[str] = []

    class Counted:
        """The app's host, counting the reads of the home's facts."""

        def __init__(self, host: Any) -> None:
            self.host = host

        def __getattr__(self, name: str) -> Any:
            return getattr(self.host, name)

        async def home(self, platform: str, user: str) -> HomeFacts:
            asked.append(user)
            facts: HomeFacts = await self.host.home(platform, user)
            return facts

    monkeypatch.setattr(channel, "_host", Counted(channel._host))
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    await refreshed(home, *[ANNA] * 5)
    assert asked == [ANNA]  # the facts read once
    assert len(fake.calls_of("views.publish")) == 2


async def test_changes_during_a_publish_are_one_more_publish(
    bot: tuple[App, ObservedSlack], fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most one refresh running and one to come per person: the changes that
    arrive while Slack is being asked are one more publish, with the newest facts."""
    app, channel = bot
    home = SlackHome(channel, delay=0)
    await opened(home, fake)
    publish = channel.client.views_publish
    asking, answer = asyncio.Event(), asyncio.Event()

    async def held(**kwargs: Any) -> Any:
        asking.set()
        await answer.wait()
        return await publish(**kwargs)

    monkeypatch.setattr(channel.client, "views_publish", held)
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    home.changed(ANNA)
    await asking.wait()  # the first refresh has read the facts and is publishing
    await event(app, "Leeratelier Leiden", 3)
    for _ in range(3):
        home.changed(ANNA)
    answer.set()
    await home.wait_idle()
    calls = fake.calls_of("views.publish", ok=True)
    assert len(calls) == 3
    assert "Leeratelier Leiden" not in str(calls[1].params["view"])
    assert "Leeratelier Leiden" in text_of(fake.views[ANNA])


async def test_a_refused_refresh_is_logged_without_content_and_tried_at_the_next_change(
    bot: tuple[App, ObservedSlack], fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    app, channel = bot
    home = SlackHome(channel, delay=0)
    await opened(home, fake)
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    fake.fail("views.publish", "internal_error", times=1)
    with caplog.at_level(logging.WARNING, logger="bot.channels.slack_home"):
        await refreshed(home, ANNA)
    assert [c.error for c in fake.calls_of("views.publish")] == [None, "internal_error"]
    assert "internal_error" in caplog.text and "december" not in caplog.text
    await refreshed(home, ANNA)  # the facts did not change, but Slack has not seen them
    assert "18 december 2025" in text_of(fake.views[ANNA])


async def test_stop_cancels_the_refreshes_still_to_come(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    app, channel = bot
    home = SlackHome(channel, delay=3600)
    await opened(home, fake)
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    home.changed(ANNA)  # waits an hour
    async with asyncio.timeout(10):  # a guard only: stop does not wait that hour
        await home.stop()
    home.changed(ANNA)  # after stop: nothing
    await home.wait_idle()
    assert len(fake.calls_of("views.publish")) == 1


async def test_the_channel_republishes_the_home_after_a_message_that_changed_it(
    bot: tuple[App, ObservedSlack], fake: FakeSlack
) -> None:
    """The wiring: SlackChannel.process calls its home's ``changed`` for the sender."""
    app, channel = bot
    channel.home.delay = 0
    assert t(app, "channels.slack.home.no_checkin") in text_of(await home_of(fake))
    await anna(app, checked_in=datetime(2025, 12, 18, 10, 0, tzinfo=UTC))
    await fake.send_event(dm("Wat is positieve gezondheid?"))
    await channel.wait_finished(1)
    await channel.home.wait_idle()
    assert len(fake.calls_of("views.publish", ok=True)) == 2
    shown = text_of(fake.views[ANNA])
    assert t(app, "channels.slack.home.last_checkin", day="18 december 2025") in shown
