"""The router: an explicit registry of commands, button actions and conversation flows.

Precedence: a command always wins (so ``/stop`` works mid-conversation); a
button goes to the handler registered for its action prefix; free text goes to
the flow the person is in, else to the free-text handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.messages import Incoming, Kind, Reply

Handler = Callable[[Incoming, Context], Awaitable[list[Reply]]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    help_key: str  # content key of the one-line description in /help
    aliases: tuple[str, ...] = ()
    admin_only: bool = False
    listed: bool = True


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
            self._commands[name] = command
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
