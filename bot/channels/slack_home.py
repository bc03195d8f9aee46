"""Slack's App Home: on ``app_home_opened`` the bot publishes (``views.publish``) a
home view for that person. Bolt acks the event before the listener runs; the facts
come from the core (:meth:`ChannelHost.home`), never from the database here.

The view: a greeting; the main menu's buttons for a question, the spinnenweb and
the agenda (their values are the main menu's actions, ``menu:<command>``); the
date of the last check-in; the next events (up to 3); and for verbinders their
shortcuts (``/alliantie bericht``, ``/alliantie agenda beheer``). A press on a home
button is that menu choice, answered in the DM (:meth:`SlackHome.pressed`).

After a message or press has been handled the channel calls
:meth:`SlackHome.changed`: for someone whose home this process published, the home
is published again in the background (a short wait first, so a burst of messages
is one refresh), but only when the view differs from the last one published."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections import OrderedDict
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
REFRESH_DELAY = 1.0  # seconds: changes within this wait are one refresh
REMEMBERED = 10_000  # people whose last published view is kept (oldest forgotten)


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

    def __init__(
        self,
        channel: SlackChannel,
        *,
        delay: float = REFRESH_DELAY,
        remembered: int = REMEMBERED,
    ) -> None:
        self.channel = channel
        self.delay = delay  # before a refresh reads the facts
        self.remembered = remembered
        # Per person whose home was published: a hash of that view (newest last).
        self._published: OrderedDict[str, str] = OrderedDict()
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()  # a change came after the refresh's wait began
        self._stopped = False

    async def opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """``app_home_opened`` (acked by bolt already): publish the person's home. The
        Messages tab needs nothing."""
        try:
            self.channel._seen(body)
            user = str(event.get("user") or "")
            if event.get("tab", "home") != "home" or not user:
                return
            await self._publish(user, always=True)
        except Exception as exc:
            log.error("slack: home failed (%s)", type(exc).__name__)

    def changed(self, user: str) -> None:
        """Something ``user`` did was handled: refresh their home in the background,
        if this process published it before. Never waits; never raises."""
        try:
            if self._stopped or user not in self._published:
                return
            self._dirty.add(user)
            task = self._refreshing.get(user)
            if task is not None and not task.done():
                return  # that refresh reads the facts after this change
            self._refreshing[user] = asyncio.get_running_loop().create_task(
                self._refresh(user), name="slack-home-refresh"
            )
        except Exception as exc:
            log.error("slack: home refresh not started (%s)", type(exc).__name__)

    async def wait_idle(self) -> None:
        """Until no refresh is waiting or running (tests)."""
        while tasks := [t for t in self._refreshing.values() if not t.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the refreshes still to come and wait for them to end."""
        self._stopped = True
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._refreshing.clear()
        self._dirty.clear()

    async def _refresh(self, user: str) -> None:
        """Wait, then publish once for all changes so far; again if more came while
        publishing (at most one running and one to come per person)."""
        try:
            while user in self._dirty:
                await asyncio.sleep(self.delay)
                self._dirty.discard(user)
                await self._publish(user, always=False)
        finally:
            if self._refreshing.get(user) is asyncio.current_task():
                del self._refreshing[user]

    async def _publish(self, user: str, *, always: bool) -> None:
        """Publish ``user``'s home (``views.publish``); unless ``always``, only for a
        person published before and when the view differs from that one. Errors are
        logged without content."""
        try:
            host = self.channel._host
            if host is None or (not always and user not in self._published):
                return
            facts = await host.home(self.channel.name, user)
            home = view(facts, self.channel.texts)
            digest = hashlib.sha256(
                json.dumps(home, sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest()
            if not always and self._published.get(user) == digest:
                return
            await self.channel.client.views_publish(user_id=user, view=home)
            self._published[user] = digest
            self._published.move_to_end(user)
            while len(self._published) > self.remembered:
                self._published.popitem(last=False)
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
