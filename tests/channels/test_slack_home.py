"""Slack's App Home (bot/channels/slack_home.py) end to end: the real App, slack-bolt
and slack_sdk against the fake Slack, on SQLite and PostgreSQL. The published view
passes the fake's Block Kit validation (``views.publish`` refuses it otherwise)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.agenda.model import EventData
from bot.app import App
from bot.settings import Settings
from bot.spinnenweb.records import CheckinRecord
from tests.channels.test_slack import ANNA, ANNA_DM, ObservedSlack, running, t
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
