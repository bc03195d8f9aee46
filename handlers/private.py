"""Health data stays out of groups: the invitation to go on in a private chat."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.messages import PrivateChatInvite, Reply


def private_only(ctx: Context, payload: str) -> Reply:
    """In a group: no health data here; invite to a private chat. The invitation lets
    a channel add a deep link (Telegram: t.me/<bot>?start=<payload>)."""
    command = "spinnenweb" if payload == "checkin" else payload
    return Reply(
        text=ctx.t("checkin.private_only", command=command),
        private_invite=PrivateChatInvite(payload, ctx.t("checkin.private_button")),
    )
