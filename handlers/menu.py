"""The main menu: the capabilities /start offers as choices."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Context
from bot.core.messages import Choice


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    label_key: str  # content key of the choice label
    action: str


def menu_choices(ctx: Context) -> tuple[Choice, ...]:
    from handlers import CAPABILITIES  # the registry imports this module

    return tuple(ctx.choice(c.label_key, c.action) for c in CAPABILITIES)
