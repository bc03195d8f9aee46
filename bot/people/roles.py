"""Roles as stored (``users.roles``: comma-separated codes, sorted, as
``UserRepo`` writes them) and the rules for changing them in the chat."""

from __future__ import annotations

from bot.people.vocab import GRANTED_ROLES, VERBINDER


def with_role(roles: frozenset[str], role: str) -> str:
    return ",".join(sorted(roles | {role}))


def without_role(roles: frozenset[str], role: str) -> str:
    return ",".join(sorted(roles - {role}))


def read_role(word: str) -> str | None:
    """A role a verbinder can grant, as typed (the code, any case); None otherwise."""
    word = word.strip().lower()
    return word if word in GRANTED_ROLES else None


def why_not_revoke(role: str, *, bot_admin: bool, self_: bool) -> str | None:
    """The content key that says why ``role`` cannot be taken away; None when it can.
    BOT_ADMINS stay verbinders; nobody takes their own verbinder role (so the last
    verbinder cannot lock everyone out by a slip)."""
    if role == VERBINDER and bot_admin:
        return "rollen.is_bot_admin"
    if role == VERBINDER and self_:
        return "rollen.not_yourself"
    return None
