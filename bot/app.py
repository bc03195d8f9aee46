"""The one place that builds and starts everything, and stops it in reverse.

Start order: key and texts → database (reachable, migrated) → services →
scheduler → outbox sender → HTTP server → channels → readiness checks (/readyz).
Stop runs backwards.
Nothing heavy happens at import; all of it happens in :meth:`App.start`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.agenda.prompts import Prompts, PromptsError
from bot.agenda.reminders import ReminderEngine, RulesError
from bot.agenda.reminders import Rules as ReminderRules
from bot.agenda.reminders import engine_for as reminder_engine_for
from bot.broadcast.engine import engine_for
from bot.channels.base import Channel, ChannelHost
from bot.core.clock import Clock, SystemClock
from bot.core.context import Services
from bot.core.dispatcher import Dispatcher
from bot.core.home import HomeFacts, home_facts
from bot.core.messages import Incoming, Reply
from bot.core.middleware import default_chain
from bot.core.router import Router
from bot.core.texts import Texts
from bot.crypto import cipher_from_settings
from bot.knowledge.port import KnowledgePort
from bot.knowledge.service import KnowledgeService
from bot.outbox.queue import Outbox, Outgoing
from bot.outbox.sender import OutboxSender
from bot.paths import OwnerFiles, content_dir
from bot.readiness import CHECK_SECONDS, Readiness
from bot.scheduling import jobs, runtime
from bot.scheduling.reminders import SchedulerReminders
from bot.scheduling.scheduler import Scheduler
from bot.settings import ConfigError, Settings
from bot.spinnenweb.model import Spinnenweb, SpinnenwebContentError
from bot.storage import db
from bot.storage.express import ExpressStore
from bot.storage.express_sqlite import SqliteExpressStore
from bot.storage.keycheck import verify_data_key
from bot.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.http import HttpServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelView:
    """The :class:`ChannelHost` the app hands its channels: the few things they use of
    the services (the commands, their menu texts, the crisis check, the outbox), so a
    channel never holds the whole of :class:`Services`."""

    router: Router
    texts: Texts
    default_language: str
    knowledge: KnowledgeService
    outbox: Outbox
    work: UnitOfWork
    clock: Clock

    def knows(self, command: str) -> bool:
        return self.router.find(command) is not None

    @property
    def languages(self) -> list[str]:
        return self.texts.languages

    def command_menu(self, language: str | None = None) -> list[tuple[str, str]]:
        texts, language = self.texts, language or self.default_language
        return [
            (command.name, texts.get(language, command.help_key))
            for command in self.router.commands
            if command.listed and not command.admin_only
        ]

    def is_crisis(self, text: str) -> bool:
        found = self.knowledge.answerer.safety.crisis(text)
        return found is not None and found.is_crisis

    async def home(self, platform: str, platform_user_id: str) -> HomeFacts:
        return await home_facts(
            self.work, self.router, self.clock, platform, platform_user_id, self.default_language
        )

    async def settle(
        self,
        *,
        sent: Sequence[int] = (),
        deferred: Sequence[int] = (),
        retry_after: float = 0.0,
        failed: Sequence[int] = (),
    ) -> None:
        await self.outbox.settle(
            sent=sent, deferred=deferred, retry_after=retry_after, failed=failed
        )

    async def defer(
        self, platform: str, platform_user_id: str, replies: Sequence[Outgoing], delay: float
    ) -> int:
        return await self.outbox.enqueue_for(platform, platform_user_id, replies, delay=delay)

    async def reachable(self, platform: str, platform_user_id: str, reachable: bool) -> bool:
        async with self.work.begin() as repos:
            person = await repos.users.find(platform, platform_user_id)
            if person is None or person.active == reachable:
                return False
            person_id = person.id
            if reachable:
                person.active, person.blocked_at = True, None
            else:  # as the outbox's sender does on a permanent delivery error
                await repos.users.mark_inactive(person.id, self.clock.now())
        log.info(
            "%s person %s %s", platform, person_id, "reachable again" if reachable else "blocked us"
        )
        return True


def _reminder_engine(services: Services, content: Path) -> ReminderEngine:
    """The agenda's engine, with when it sends invitations, reminders and prompts
    (content/agenda_reminders.yaml, content/agenda_prompts.yaml)."""
    try:
        return reminder_engine_for(services, ReminderRules.load(content), Prompts.load(content))
    except (RulesError, PromptsError) as exc:
        raise ConfigError(f"CONTENT_DIR: {exc}") from None


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        channels: dict[str, Channel] | None = None,
        readiness_interval: float = CHECK_SECONDS,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.channels: dict[str, Channel] = dict(channels or {})
        self.engine: AsyncEngine | None = None
        self.services: Services | None = None
        self.dispatcher: Dispatcher | None = None
        self.scheduler: Scheduler | None = None
        self.sender: OutboxSender | None = None
        self.http: HttpServer | None = None
        # With the HTTP server: /readyz, and the channels' token checks every
        # ``readiness_interval`` seconds (bot/readiness.py).
        self.readiness: Readiness | None = None
        self.readiness_interval = readiness_interval
        self._stops: list[Callable[[], Awaitable[None]]] = []

    async def start(
        self, *, http: bool = False, scheduler: bool | None = None, sender: bool | None = None
    ) -> App:
        """Start; ``scheduler``/``sender`` default to RUN_SCHEDULER/RUN_OUTBOX_SENDER
        (``scheduler=False``: no scheduler at all, not even to add jobs)."""
        from handlers import build_router  # handlers depend on bot.core, not the reverse

        settings = self.settings
        content = content_dir(settings.content_dir)
        texts = Texts.load(content)
        cipher = cipher_from_settings(settings)

        self.engine = db.create_engine(settings.database_url, timeout=settings.db_timeout_seconds)
        self._stops.append(self.engine.dispose)
        await db.wait_until_reachable(self.engine, settings.db_startup_timeout)
        await db.upgrade(self.engine, connect_timeout=settings.db_timeout_seconds)
        sessions = db.session_factory(self.engine)
        await verify_data_key(sessions, cipher)

        knowledge = await asyncio.to_thread(KnowledgeService, content)
        try:
            spinnenweb = Spinnenweb.load(content)
        except SpinnenwebContentError as exc:
            raise ConfigError(f"CONTENT_DIR: {exc}") from None
        # SQLite has one writer: the messages' and the outbox's transactions take turns.
        outbox = Outbox(
            sessions, cipher, self.clock, write_lock=asyncio.Lock() if settings.is_sqlite else None
        )
        router = build_router()
        self.services = Services(
            settings=settings,
            clock=self.clock,
            texts=texts,
            cipher=cipher,
            sessions=sessions,
            outbox=outbox,
            router=router,
            knowledge=knowledge,
            spinnenweb=spinnenweb,
        )
        self.services.work = UnitOfWork(self.services, write_lock=outbox.write_lock)
        self.services.express = self._express(outbox)
        self.services.content_reloads.append(self._read_spinnenweb)
        self.services.files = OwnerFiles(
            settings.image_dir, settings.export_dir, settings.media_dir
        )
        self.services.knowledge_base = KnowledgePort(knowledge, self.services.reload_content)
        self.dispatcher = Dispatcher(
            self.services, router, default_chain(settings.flood_limit_per_minute)
        )
        runtime.install(self.services)
        self._stops.append(self._uninstall)

        # scheduler=None: every process can add and remove jobs (a reminder chosen on
        # any worker), but only one with RUN_SCHEDULER runs them (PostgreSQL: the elected
        # leader); the others are paused. scheduler=False: no scheduler (tests, benchmarks).
        # The scheduler runs in threads of its own, so a hung database never holds up
        # the event loop (see bot/scheduling/scheduler.py).
        if scheduler is not False:
            runs_jobs = settings.run_scheduler if scheduler is None else True
            self.scheduler = Scheduler(
                settings.database_url,
                misfire_grace_seconds=settings.misfire_grace_seconds,
                timezone=settings.timezone,
                timeout=settings.db_timeout_seconds,
            )
            self.services.scheduler = self.scheduler
            self.services.reminder_jobs = SchedulerReminders(self.scheduler)
            self._stops.append(self._stop_scheduler)  # also after a failed start
            await self.scheduler.start(paused=not runs_jobs)
            if runs_jobs:
                await self.scheduler.leader_cron(
                    jobs.HOUSEKEEPING_JOB, jobs.HOUSEKEEPING_FUNC, hour=4, minute=17
                )

        if self.settings.run_outbox_sender if sender is None else sender:
            self.sender = OutboxSender(
                outbox,
                self.channels,
                batch_size=settings.outbox_batch_size,
                max_attempts=settings.outbox_max_attempts,
                lease=timedelta(seconds=settings.outbox_lease_seconds),
                poll_interval=settings.outbox_poll_interval,
                # PostgreSQL: one elected sender per platform among the workers.
                elect=None if settings.is_sqlite else settings.database_url,
                elect_timeout=settings.db_timeout_seconds,
                # The process that sends also releases announcements (bot.broadcast.engine)
                # and the agenda's invitations and reminders (bot.agenda.reminders).
                before_claim=[
                    engine_for(self.services).tick,
                    _reminder_engine(self.services, content).tick,
                ],
            )
            self.sender.start()
            self._stops.append(self.sender.stop)

        if http:
            self.http = self._http_server(self.engine, self.services)
        host: ChannelHost = ChannelView(
            router,
            texts,
            settings.default_language,
            knowledge,
            outbox,
            self.services.work,
            self.clock,
        )
        for channel in self.channels.values():
            channel.attach(host, self.http)  # routes (a webhook) before the server starts
        if self.http is not None:
            await self.http.start()
            self._stops.append(self.http.stop)

        await self._start_channels()
        log.info(
            "alliantiebot ready (%s, channels: %s)",
            self.engine.dialect.name,
            ", ".join(self.channels) or "none",
        )
        return self

    async def _start_channels(self) -> None:
        """The channels, then the readiness checks (stopped before the channels)."""
        for channel in self.channels.values():
            self._stops.append(channel.stop)  # before start: a half-started channel is stopped too
            await channel.start(self.handle)
        if self.readiness is not None:
            self.readiness.start()
            self._stops.append(self.readiness.stop)

    def _http_server(self, engine: AsyncEngine, services: Services) -> HttpServer:
        """The HTTP server with its own routes (health, calendar feeds) in place.
        aiohttp is imported here, not with this module: ``alliantiebot chat`` has no
        HTTP server and does without it (about 0.13 s and 9 MiB)."""
        from bot.agenda.feeds import CalendarFeeds
        from bot.http import HttpServer

        server = HttpServer(
            self.settings.http_host,
            self.settings.http_port,
            engine,
            db_timeout=self.settings.db_timeout_seconds,
        )
        CalendarFeeds(services.work, self.clock).attach(server)
        probe = server.probe
        self.readiness = Readiness(
            self.channels, lambda: probe.state, interval=self.readiness_interval
        )
        server.add_route("GET", "/readyz", self.readiness.readyz)
        return server

    def add_channel(self, channel: Channel) -> None:
        """Register a channel the outbox can deliver to (before or after start)."""
        self.channels[channel.name] = channel

    async def handle(self, msg: Incoming) -> list[Reply]:
        if self.dispatcher is None:
            raise RuntimeError("App.start() has not run")
        return await self.dispatcher.handle(msg)

    def _read_spinnenweb(self) -> Callable[[], None]:
        """For Services.reload_content: the check-in's content, read again."""
        services = self.services
        web = Spinnenweb.load(content_dir(self.settings.content_dir))  # raises before any swap

        def swap() -> None:
            if services is not None:
                services.spinnenweb = web

        return swap

    def _express(self, outbox: Outbox) -> ExpressStore:
        """A plain question in one read and one write (bot/storage/express*.py)."""
        settings = self.settings
        lease = timedelta(seconds=settings.outbox_lease_seconds)
        if outbox.write_lock is None:
            return ExpressStore(self._bound_engine, outbox, lease)
        express = SqliteExpressStore(
            self._bound_engine, outbox, lease, outbox.write_lock, settings.db_timeout_seconds
        )
        self._stops.append(express.close)
        return express

    def _bound_engine(self) -> AsyncEngine:
        """The engine under the session factory now (a test may swap that factory)."""
        assert self.services is not None
        bind = self.services.sessions.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        return bind

    async def _uninstall(self) -> None:
        if runtime._services is self.services:
            runtime.install(None)

    async def _stop_scheduler(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.shutdown()

    async def stop(self) -> None:
        while self._stops:
            step = self._stops.pop()
            try:
                await step()
            except Exception:
                log.exception("error while stopping")
