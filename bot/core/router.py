"""The router: an explicit registry of commands, button actions and conversation flows.

Precedence: a command always wins (so ``/stop`` works mid-conversation); a
button goes to the handler registered for its action prefix; free text goes to
the flow the person is in, else to the free-text handler.

A command's registration is also the one source for how else it is reached:
``menu`` offers it in the main menu (``/start``, ``/help``; its button sends
``menu:<name>``), ``deep_links`` are the ``/start <payload>`` words that open it
(a group's "open a private chat" button sends one).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.messages import Incoming, Kind, Reply

Handler = Callable[[Incoming, Context], Awaitable[list[Reply]]]

# What Telegram allows after /start in a deep link, lower case because /start
# compares the payload in lower case.
_PAYLOAD = re.compile(r"[a-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class MenuItem:
    """A command's place in the main menu."""

    label_key: str  # content key of the button label
    order: int  # place in the menu, lowest first


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    help_key: str  # content key of the one-line description in /help
    aliases: tuple[str, ...] = ()
    admin_only: bool = False
    listed: bool = True
    menu: MenuItem | None = None  # offered in the main menu as ``menu:<name>``
    deep_links: tuple[str, ...] = ()  # ``/start <payload>`` opens it

    @property
    def menu_action(self) -> str:
        """The action data of this command's menu button."""
        return f"menu:{self.name}"


class Router:
    def __init__(
        self,
        *,
        text: Handler,
        unknown_command: Handler,
        unsupported: Handler,
        stale_action: Handler,
        forbidden: Handler,
    ) -> None:
        self._commands: dict[str, Command] = {}
        self._ordered: list[Command] = []
        self._actions: dict[str, Handler] = {}
        self._deep_links: dict[str, Command] = {}
        self._flows: dict[str, Handler] = {}
        self._text = text
        self._unknown_command = unknown_command
        self._unsupported = unsupported
        self._stale_action = stale_action
        self._forbidden = forbidden

    def command(self, command: Command) -> None:
        for name in (command.name, *command.aliases):
            if name in self._commands:
                raise ValueError(f"command {name!r} registered twice")
        for payload in command.deep_links:
            if not _PAYLOAD.fullmatch(payload) or payload in self._deep_links:
                raise ValueError(f"bad or duplicate deep link {payload!r}")
        if command.menu is not None and any(
            c.menu is not None and c.menu.order == command.menu.order for c in self._ordered
        ):
            raise ValueError(f"menu place {command.menu.order} taken twice")
        for name in (command.name, *command.aliases):
            self._commands[name] = command
        for payload in command.deep_links:
            self._deep_links[payload] = command
        self._ordered.append(command)

    def action(self, prefix: str, handler: Handler) -> None:
        if ":" in prefix or prefix in self._actions:
            raise ValueError(f"bad or duplicate action prefix {prefix!r}")
        self._actions[prefix] = handler

    def flow(self, name: str, handler: Handler) -> None:
        if name in self._flows:
            raise ValueError(f"flow {name!r} registered twice")
        self._flows[name] = handler

    @property
    def commands(self) -> list[Command]:
        """Registered commands in registration order (for /help)."""
        return list(self._ordered)

    def find(self, name: str) -> Command | None:
        return self._commands.get(name)

    def menu(self, *, is_admin: bool = False) -> list[Command]:
        """The commands offered in the main menu, in menu order (admin-only ones
        only for admins)."""
        offered = [
            c for c in self._ordered if c.menu is not None and (is_admin or not c.admin_only)
        ]
        return sorted(offered, key=lambda c: c.menu.order if c.menu else 0)

    def menu_command(self, name: str, *, is_admin: bool = False) -> Command | None:
        """The command a ``menu:<name>`` button opens, if it is (still) in the menu."""
        return next((c for c in self.menu(is_admin=is_admin) if c.name == name), None)

    def deep_link(self, payload: str) -> Command | None:
        """The command that ``/start <payload>`` opens, if any."""
        return self._deep_links.get(payload)

    async def dispatch(self, msg: Incoming, ctx: Context) -> list[Reply]:
        if msg.kind is Kind.COMMAND:
            command = self._commands.get(msg.command or "")
            if command is None:
                return await self._unknown_command(msg, ctx)
            if command.admin_only and not ctx.is_admin:
                return await self._forbidden(msg, ctx)
            return await command.handler(msg, ctx)
        if msg.kind is Kind.ACTION:
            prefix = (msg.action or "").split(":", 1)[0]
            handler = self._actions.get(prefix)
            return await (handler or self._stale_action)(msg, ctx)
        if msg.kind is Kind.UNSUPPORTED:
            return await self._unsupported(msg, ctx)
        if ctx.state is not None and ctx.state.flow in self._flows:
            return await self._flows[ctx.state.flow](msg, ctx)
        return await self._text(msg, ctx)
