"""What every channel adapter offers the core, and the little it may ask of the rest
of the bot in return (:class:`ChannelHost`). Imports no platform SDK."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.core.home import HomeFacts
from bot.core.messages import Incoming, Reply
from bot.outbox.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.http import HttpServer
    from bot.outbox.queue import Outgoing


class DeliveryError(Exception):
    """A message could not be delivered.

    ``permanent``: the recipient cannot be reached (blocked the bot, left, does
    not exist); retrying is pointless and the recipient is marked inactive.
    ``retry_after``: the platform asked us to wait this many seconds.
    """

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


HandleIncoming = Callable[[Incoming], Awaitable[list[Reply]]]


class ChannelHost(Protocol):
    """The bot as a channel sees it: everything a channel may use besides the
    handling of one message (``HandleIncoming``). Built by :mod:`bot.app`; a channel
    never gets the whole of the core's services."""

    def knows(self, command: str) -> bool:
        """Whether ``command`` (no slash, lower case) is one of ours: in a group an
        unknown command may be meant for another bot."""
        ...

    @property
    def languages(self) -> Sequence[str]:
        """The languages the command menu can be shown in."""
        ...

    def command_menu(self, language: str | None = None) -> list[tuple[str, str]]:
        """(command, one-line description) of the commands a platform may list in its
        own menu, in ``language`` (None: the default language)."""
        ...

    def is_crisis(self, text: str) -> bool:
        """Whether ``text`` signals a crisis: such a message may not wait behind the
        person's earlier one (the crisis reply needs no storage)."""
        ...

    async def home(self, platform: str, platform_user_id: str) -> HomeFacts:
        """What the person's home screen shows (Slack's App Home): the menu, the last
        check-in's date, the next events and, for verbinders, their shortcuts."""
        ...

    async def settle(
        self,
        *,
        sent: Sequence[int] = (),
        deferred: Sequence[int] = (),
        retry_after: float = 0.0,
        failed: Sequence[int] = (),
    ) -> None:
        """Report on replies the outbox holds for the channel (``Reply.outbox_id``):
        ``sent`` and ``failed`` (refused for good) are done; ``deferred`` ones are
        left to the outbox's sender, not before ``retry_after`` seconds."""
        ...

    async def defer(
        self, platform: str, platform_user_id: str, replies: Sequence[Outgoing], delay: float
    ) -> int:
        """Hand replies that are not in the outbox yet (made outside a transaction: the
        crisis reply, "database down") to the outbox, to go out after ``delay``
        seconds, with their person when the database knows them. Returns how many
        were new."""
        ...

    async def reachable(self, platform: str, platform_user_id: str, reachable: bool) -> bool:
        """The platform says whether the person can be reached in their private chat
        (Telegram: they blocked the bot, or unblocked it): False marks them inactive,
        as a permanent delivery error does; True active again. A person the database
        does not know is left alone. Returns whether anything changed."""
        ...


class Channel(Protocol):
    """A platform the bot talks on.

    A channel that serves only some chats of its platform (the terminal: one person)
    says which in an attribute ``only_chats``; the outbox's sender then claims only
    their rows (``OutboxSender._only_chats``). A channel that can say whether it is
    ready (``/readyz``, :mod:`bot.readiness`) also offers :class:`Checkable`."""

    name: str
    limiter: RateLimiter

    def attach(self, host: ChannelHost, http: HttpServer | None) -> None:
        """Called by the app before the HTTP server and the channels start: what the
        channel may ask of the bot, and the server (None when there is none) to add
        routes to (a webhook) while its router is still open."""
        ...

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        """Deliver one reply; return the platform's message id if it gives one."""
        ...

    async def start(self, handle: HandleIncoming) -> None:
        """Begin receiving messages and passing them to ``handle``."""
        ...

    async def stop(self) -> None: ...


@runtime_checkable
class Checkable(Protocol):
    """The optional readiness API of a channel (:mod:`bot.readiness` asks it)."""

    @property
    def connected(self) -> bool:
        """Whether the channel takes updates now (polling, the webhook accepting, the
        socket open). Read on every /readyz: must answer at once."""
        ...

    async def check(self) -> bool | None:
        """Ask the platform whether the token is still valid (Telegram ``getMe``, Slack
        ``auth.test``): True valid, False refused (revoked), None cannot tell (network
        trouble; the previous answer stays)."""
        ...


class ChatTurns:
    """One chat's messages one after the other, different chats at once: an asyncio
    lock per chat (fair: first come, first served), kept only while someone holds or
    waits for it. A message that signals a crisis does not wait for the chat's earlier
    message (which may be stuck on a hung database): the crisis reply needs no storage
    and comes before anything else."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def busy(self, chat: Hashable) -> bool:
        held = self._locks.get(chat)
        return held is not None and held[0].locked()

    @contextlib.asynccontextmanager
    async def turn(
        self, chat: Hashable, *, urgent: Callable[[], bool] | None = None
    ) -> AsyncIterator[None]:
        """Wait for ``chat``'s turn; ``urgent`` is asked only when the chat is busy."""
        if urgent is not None and self.busy(chat) and urgent():
            yield
            return
        lock, users = self._locks.get(chat, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat]
            if users <= 1:
                del self._locks[chat]
            else:
                self._locks[chat] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
