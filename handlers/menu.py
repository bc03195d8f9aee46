"""The main menu: the commands whose registration offers them there, as choices.

The menu comes from the router (``Command.menu``), so a feature is offered by
registering it in ``handlers/__init__.py``, nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.context import Context
from bot.core.messages import Choice

if TYPE_CHECKING:
    from bot.core.router import Router


def registrations(ctx: Context) -> Router | None:
    """The router (``ctx.router``), or ``None`` for a context without one, such as
    a flow tested step by step on a fake context: it then shows no menu."""
    router: Router | None = getattr(ctx, "router", None)
    return router


def menu_choices(ctx: Context) -> tuple[Choice, ...]:
    router = registrations(ctx)
    if router is None:
        return ()
    offered = router.menu(is_admin=True)
    if any(command.admin_only for command in offered):  # only then ask who this is
        offered = router.menu(is_admin=ctx.is_admin)
    return tuple(
        ctx.choice(command.menu.label_key, command.menu_action)
        for command in offered
        if command.menu is not None
    )


def start_choice(ctx: Context, command: str, label_key: str) -> tuple[Choice, ...]:
    """A button that opens ``command`` as its main-menu button does (its registered
    ``menu_action``); none when the command is not in the menu."""
    router = registrations(ctx)
    offered = router.menu_command(command, is_admin=True) if router is not None else None
    return () if offered is None else (ctx.choice(label_key, offered.menu_action),)
