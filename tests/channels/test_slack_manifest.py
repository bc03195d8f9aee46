"""slack/manifest.yaml names every event, scope and the slash command the Slack
channel uses (bot/channels/slack.py), with Socket Mode, interactivity and the App
Home's tabs on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.channels import slack

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_manifest_names_every_event_and_scope_the_channel_uses() -> None:
    found = manifest()
    assert set(slack.EVENTS) <= set(found["settings"]["event_subscriptions"]["bot_events"])
    assert set(slack.SCOPES) <= set(found["oauth_config"]["scopes"]["bot"])
    commands = [c["command"] for c in found["features"]["slash_commands"]]
    assert commands == [slack.COMMAND]


def test_the_manifest_asks_no_more_than_the_channel_uses() -> None:
    found = manifest()
    assert set(found["oauth_config"]["scopes"]["bot"]) == set(slack.SCOPES)
    assert set(found["settings"]["event_subscriptions"]["bot_events"]) == set(slack.EVENTS)


def test_socket_mode_interactivity_and_the_app_home_are_on() -> None:
    found = manifest()
    assert found["settings"]["socket_mode_enabled"] is True
    assert found["settings"]["interactivity"]["is_enabled"] is True
    home = found["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True
