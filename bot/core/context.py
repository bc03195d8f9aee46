"""What a handler gets besides the message: services, repositories, the person."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.core.clock import Clock
from bot.core.messages import Choice
from bot.core.ports import (
    Files,
    KnowledgeBase,
    PrivateFiles,
    ReminderJobs,
    Reminders,
    UnitOutbox,
)
from bot.core.state import State
from bot.core.texts import Texts
from bot.crypto import Cipher
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.core.router import Router
    from bot.knowledge.service import KnowledgeService
    from bot.outbox.queue import Outbox, Outgoing
    from bot.scheduling.scheduler import Scheduler
    from bot.spinnenweb.model import Spinnenweb
    from bot.storage.models import User
    from bot.storage.repositories import Repos


class Transactions(Protocol):
    """The database as the core sees it (``bot.storage.unit_of_work.UnitOfWork``)."""

    def begin(self) -> AbstractAsyncContextManager[Repos]:
        """One transaction and its repositories: committed when the block ends,
        rolled back when it raises."""
        ...

    def is_unavailable(self, exc: BaseException) -> bool:
        """True when ``exc`` means the database is down or unreachable, not a bug."""
        ...

    def is_stale_connection(self, exc: BaseException) -> bool:
        """True when ``exc`` came from a pooled connection the server had closed:
        nothing was written, and the same work may simply be done again."""
        ...


class NeedsTransaction(Exception):
    """Raised when a handler on the express path reaches for the database: the message
    is then handled again in a unit of work of its own."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a person is by their message: what ``identify`` creates someone new with, or
    brings a known person's row up to."""

    language: str
    display_name: str | None
    private_chat_id: str | None
    admin: bool  # in BOT_ADMINS: a verbinder from the start


@dataclass(frozen=True, slots=True)
class Seen:
    """The person as the express path read them, outside a transaction."""

    user: User  # not attached to a session: the handler only reads it
    turn: int  # their ``users.turn`` when read
    in_conversation: bool  # a conversation state row exists in this chat
    columns: tuple[object, ...]  # the row as read, to see whether the handler changed it
    new: bool = False  # nobody had their identity: the write creates them


HELD, QUEUED, DUPLICATE, CHANGED = "held", "queued", "duplicate", "changed"


@dataclass(frozen=True, slots=True)
class Written:
    """What the express path's one write did."""

    outcome: str  # HELD, QUEUED (behind earlier messages), DUPLICATE or CHANGED
    outbox_id: int | None = None


class ExpressLink(Protocol):
    """One connection of the express path, for one message (``Express.connect``)."""

    async def read(
        self, platform: str, platform_user_id: str, chat_id: str, sender: Sender
    ) -> Seen | None:
        """The person and whether they are in a conversation in ``chat_id``; for someone
        new, the person ``sender`` would make (``Seen.new``). None when the message must
        go the usual way: the connection turned out to be closed, or ``identify`` would
        write to the person (a new name or private chat, reachable again, made a
        verbinder by BOT_ADMINS)."""
        ...

    async def write(
        self, seen: Seen, chat_id: str, event: tuple[str, str], reply: Outgoing
    ) -> Written | None:
        """In one statement: the dedupe record of ``event`` (platform, id) and the reply
        held for the channel, only if the person's turn and conversation are as read
        (someone new: only if nobody created them meanwhile; then with their row and
        its audit record). None when the connection turned out to be closed (nothing
        was written)."""
        ...


class Express(Protocol):
    """The express path's two statements (``bot.storage.express``, PostgreSQL)."""

    statements: int  # sent so far, for whoever counts round trips

    def connect(self) -> AbstractAsyncContextManager[ExpressLink]:
        """A pooled connection for one message's read and write."""
        ...

    def changed(self, seen: Seen) -> bool:
        """Whether the handler changed the person it was given."""
        ...


ContentReload = Callable[[], Callable[[], None]]
"""Reads one part of content/ again and returns how to put it in place; raises,
changing nothing, when that part is broken."""


@dataclass
class Services:
    """Process-wide services, built once by :mod:`bot.app`."""

    settings: Settings
    clock: Clock
    texts: Texts
    cipher: Cipher
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    scheduler: Scheduler | None = None
    router: Router | None = None
    knowledge: KnowledgeService | None = None
    spinnenweb: Spinnenweb | None = None
    # The ports' implementations (bot.core.ports), wired by bot.app: the person's
    # scheduled messages (None without a scheduler), generated private files, and
    # the knowledge as handlers use it.
    reminder_jobs: ReminderJobs | None = None
    files: PrivateFiles | None = None
    knowledge_base: KnowledgeBase | None = None
    # Content besides the knowledge and the sentences (the check-in's), registered
    # by bot.app so that the core needs no feature imports.
    content_reloads: list[ContentReload] = field(default_factory=list)
    # The database's units of work (a message, a scheduled job), over ``sessions``;
    # set by bot.app right after building this.
    work: Transactions = field(init=False, repr=False)
    # A plain question answered in two statements without a transaction (PostgreSQL;
    # None on SQLite): bot.core.middleware.express.
    express: Express | None = None

    async def reload_content(self) -> int:
        """Read content/ again without a restart: the knowledge (refused, keeping the
        old, when broken), then the sentences. Returns the number of entries."""
        if self.knowledge is None:
            raise RuntimeError("the knowledge service is not running")
        swaps = [read() for read in self.content_reloads]  # each raises before any swap
        count = await self.knowledge.reload()
        for swap in swaps:
            swap()
        self.texts.reload()
        return count


@dataclass
class Context:
    """Everything one message's handling needs. Built fresh for each message."""

    services: Services
    repos: Repos | None = None
    user: User | None = None
    state: State | None = None
    chat_id: str = ""
    # Kept apart from ``user`` so an error reply still works after a rollback
    # has expired the ORM object.
    language: str | None = None
    user_key: int | None = None
    after_commit: list[Callable[[], object]] = field(default_factory=list)
    # On the express path: the handler may read the person, not the database.
    express: bool = False

    def start_over(self) -> None:
        """Forget what the handling so far loaded and planned (its transaction was
        rolled back), to handle the message again from the database."""
        fresh = Context(self.services)
        for each in fields(self):
            setattr(self, each.name, getattr(fresh, each.name))

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def router(self) -> Router | None:
        """The registrations (commands, menu, deep links): for /start, /help, the menu."""
        return self.services.router

    @property
    def web(self) -> Spinnenweb:
        if self.services.spinnenweb is None:
            raise RuntimeError("the spinnenweb content is not loaded")
        return self.services.spinnenweb

    @property
    def texts(self) -> Texts:
        return self.services.texts

    # -- ports: the only way handlers reach past the database's repositories --

    @property
    def reminders(self) -> Reminders:
        """The person's scheduled messages; every change runs after commit."""
        return Reminders(self.services.reminder_jobs, self.on_commit)

    @property
    def outbox(self) -> UnitOutbox:
        """The outbox inside this message's transaction."""
        return UnitOutbox(self.services.outbox, self.db.session)

    @property
    def files(self) -> Files:
        """Generated files with personal data: 0600 from the start, removed by owner
        after commit."""
        if self.services.files is None:
            raise RuntimeError("no private files: bot.app did not wire them")
        return Files(self.services.files, self.on_commit)

    @property
    def knowledge(self) -> KnowledgeBase:
        if self.services.knowledge_base is None:
            raise RuntimeError("the knowledge service is not running")
        return self.services.knowledge_base

    @property
    def lang(self) -> str:
        return self.language or self.services.settings.default_language

    def set_language(self, code: str) -> None:
        self.person.language = code
        self.language = code

    def on_commit(self, step: Callable[[], object]) -> None:
        """Run ``step`` once this message's transaction is committed.

        For side effects outside the database transaction, such as the
        scheduler's job store: on SQLite it needs the write lock this
        transaction holds, and it should only change if the transaction lands.
        """
        self.after_commit.append(step)

    @property
    def db(self) -> Repos:
        if self.express:
            raise NeedsTransaction
        if self.repos is None:
            raise RuntimeError("no unit of work: the transaction middleware did not run")
        return self.repos

    @property
    def person(self) -> User:
        if self.user is None:
            raise RuntimeError("no user: the identity middleware did not run")
        return self.user

    @property
    def is_admin(self) -> bool:
        return self.user is not None and "verbinder" in self.user.role_set

    def t(self, key: str, **params: object) -> str:
        """A sentence from content/messages in this person's language."""
        return self.services.texts.get(self.lang, key, **params)

    def choice(self, key: str, action: str, **params: object) -> Choice:
        return Choice(label=self.t(key, **params), action=action)

    async def set_state(self, state: State, ttl: timedelta | None = timedelta(days=30)) -> None:
        self.state = await self.db.state.set(
            self.person.id, self.chat_id, state, self.clock.now(), ttl
        )

    async def clear_state(self) -> None:
        await self.db.state.clear(self.person.id, self.chat_id)
        self.state = None
