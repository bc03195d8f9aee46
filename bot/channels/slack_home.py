"""Slack's App Home: on ``app_home_opened`` the bot publishes (``views.publish``) a
home view for that person. Bolt acks the event before the listener runs; the facts
come from the core (:meth:`ChannelHost.home`), never from the database here.

The view: a greeting; the main menu's buttons for a question, the spinnenweb and
the agenda (their values are the main menu's actions, ``menu:<command>``); the
date of the last check-in; the next events (up to 3); and for verbinders their
shortcuts (``/alliantie bericht``, ``/alliantie agenda beheer``). A press on a home
button is that menu choice, answered in the DM (:meth:`SlackHome.pressed`)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.agenda.words import when
from bot.channels import slack_render
from bot.core.dates import month_name
from bot.core.home import HomeFacts
from bot.core.messages import Choice, Incoming, Kind
from bot.core.texts import Texts

if TYPE_CHECKING:
    from bot.channels.slack import SlackChannel

log = logging.getLogger(__name__)

EVENT = "app_home_opened"
ACTION_PREFIX = "home:"
ACTIONS = re.compile("^" + re.escape(ACTION_PREFIX))  # the home view's buttons only
MENU_BLOCK = "home_menu"


def view(facts: HomeFacts, texts: Texts) -> dict[str, Any]:
    """The home view (``type: home``) for ``facts``, in the person's language."""
    lang = facts.language

    def t(key: str, **params: object) -> str:
        return texts.get(lang, f"channels.slack.home.{key}", **params)

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": t("greeting"), "emoji": True}},
        section(t("intro")),
    ]
    choices = [Choice(texts.get(lang, key), action) for key, action in facts.menu]
    for actions in slack_render.buttons(choices):
        for element in actions["elements"]:
            element["action_id"] = ACTION_PREFIX + element["action_id"]
        blocks.append({**actions, "block_id": MENU_BLOCK})
    blocks.append({"type": "divider"})
    checkin = facts.last_checkin
    if checkin is None:
        blocks.append(section(t("no_checkin")))
    else:
        day = f"{checkin.day} {month_name(texts, lang, checkin)} {checkin.year}"
        blocks.append(section(t("last_checkin", day=day)))
    blocks.append(section(t("events_title")))
    if facts.events:
        lines = [
            t(
                "event",
                when=slack_render.escape(when(texts, e, lang)),
                title=slack_render.escape(e.title),
            )
            for e in facts.events
        ]
        blocks.append(section("\n".join(lines)))
    else:
        blocks.append(section(t("no_events")))
    if facts.shortcuts:
        blocks.append({"type": "divider"})
        blocks.append(section(t("shortcuts_title")))
        lines = [
            t("shortcut", command=f"/alliantie {words}", help=texts.get(lang, help_key))
            for words, help_key in facts.shortcuts
        ]
        blocks.append(section("\n".join(lines)))
    return {"type": "home", "blocks": blocks}


class SlackHome:
    """The App Home of one :class:`SlackChannel`."""

    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel

    async def opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """``app_home_opened`` (acked by bolt already): publish the person's home. The
        Messages tab needs nothing."""
        try:
            self.channel._seen(body)
            user = str(event.get("user") or "")
            host = self.channel._host
            if event.get("tab", "home") != "home" or not user or host is None:
                return
            facts = await host.home(self.channel.name, user)
            await self.channel.client.views_publish(
                user_id=user, view=view(facts, self.channel.texts)
            )
        except SlackApiError as exc:
            log.warning("slack: home not published (%s)", exc.response.get("error"))
        except Exception as exc:
            log.error("slack: home failed (%s)", type(exc).__name__)

    async def pressed(self, ack: Any, body: dict[str, Any]) -> None:
        """A home button: the main menu's choice, answered in the DM."""
        await ack()
        try:
            self.channel._seen(body)
            user = str((body.get("user") or {}).get("id") or "")
            actions = body.get("actions") or [{}]
            first = dict(actions[0]) if isinstance(actions[0], dict) else {}
            first["action_id"] = str(first.get("action_id") or "").removeprefix(ACTION_PREFIX)
            action = slack_render.value_of(first)
            if not user or action is None:
                return
            incoming = Incoming(
                self.channel.name,
                user,
                await self.channel._dm(user),
                Kind.ACTION,
                text=slack_render.pressed_label(first) or "",
                action=action,
                is_private=True,
                display_name=await self.channel._name(user),
                event_id=f"act:{body.get('trigger_id')}" if body.get("trigger_id") else None,
                durable_replies=True,
            )
            await self.channel.process(incoming)
        except Exception as exc:
            log.error("slack: home button failed (%s)", type(exc).__name__)
