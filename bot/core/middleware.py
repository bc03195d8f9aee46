"""The middleware chain around the router: cross-cutting concerns in one place.

Each middleware is ``async def mw(msg, ctx, call_next) -> list[Reply]`` (the
shape of Bolt's middleware). The order is fixed in :func:`default_chain`.
Logs here never contain message text: it may be health data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import metrics
from bot.core.context import (
    CHANGED,
    DUPLICATE,
    QUEUED,
    Context,
    Express,
    NeedsTransaction,
    Sender,
)
from bot.core.messages import Incoming, Kind, PressOutcome, Reply
from bot.outbox.queue import REPLY, Outgoing

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.core.router import Router

log = logging.getLogger(__name__)

Next = Callable[[Incoming, Context], Awaitable[list[Reply]]]
Middleware = Callable[[Incoming, Context, Next], Awaitable[list[Reply]]]


def chain(middlewares: Sequence[Middleware], endpoint: Next) -> Next:
    """Compose middlewares around an endpoint, first in the list outermost."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: Middleware, call_next: Next) -> Next:
    async def bound(msg: Incoming, ctx: Context) -> list[Reply]:
        return await middleware(msg, ctx, call_next)

    return bound


async def capture_errors(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """Answer politely whatever goes wrong, and log it without message content."""
    try:
        return await call_next(msg, ctx)
    except Exception as exc:
        if ctx.services.work.is_unavailable(exc):
            log.warning(
                "database unavailable while handling %s %s: %s",
                msg.platform,
                msg.kind.value,
                type(exc).__name__,
            )
            # TRY_AGAIN: the pressed buttons stay, so the person can press again.
            return [Reply(text=ctx.t("errors.database_down"), press_outcome=PressOutcome.TRY_AGAIN)]
        # The traceback names code, not content: the engine hides SQL parameters.
        log.exception(
            "handler failed for %s %s (user id %s)",
            msg.platform,
            msg.kind.value,
            ctx.user_key or "-",
        )
        return [Reply(text=ctx.t("errors.internal"), press_outcome=PressOutcome.TRY_AGAIN)]


async def guard_input(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """Turn away empty and oversized text before it costs a database trip."""
    if msg.kind in (Kind.TEXT, Kind.COMMAND):
        if not msg.text.strip():
            return [Reply(text=ctx.t("errors.empty"))]
        limit = ctx.settings.max_message_length
        if len(msg.text) > limit:
            return [Reply(text=ctx.t("errors.too_long", limit=limit))]
    return await call_next(msg, ctx)


class RecentEvents:
    """A platform update delivered twice is dropped here, in process memory, before
    the steps that run ahead of the database's dedupe (the crisis reply, the length
    check, the flood limit) could answer it twice. :func:`deduplicate` still covers
    restarts and other workers. A message whose handling failed is forgotten again."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def __call__(self, msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
        if msg.event_id is not None:
            key = (msg.platform, msg.event_id)
            if key in self._seen:
                log.info("duplicate %s event ignored", msg.platform)
                return []
            self._seen[key] = None
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
            try:
                return await call_next(msg, ctx)
            except BaseException:
                # Handling failed: a redelivery must be handled again (as the
                # database's dedupe record is rolled back then too).
                self._seen.pop(key, None)
                raise
        return await call_next(msg, ctx)


class FloodLimit:
    """At most N messages per person per minute; one polite warning, then silence.

    Kept in process memory: a flood is a burst at one worker, and losing the
    counters on restart is harmless.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._warned: set[tuple[str, str]] = set()

    async def __call__(self, msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
        key = (msg.platform, msg.user_id)
        now = ctx.clock.now().timestamp()
        window = self._seen.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            if key in self._warned:
                return []
            self._warned.add(key)
            return [Reply(text=ctx.t("errors.flood"), press_outcome=PressOutcome.TRY_AGAIN)]
        self._warned.discard(key)
        window.append(now)
        if len(self._seen) > 10_000:  # forget idle people so memory stays bounded
            for stale in [k for k, w in self._seen.items() if not w or w[-1] <= now - 60]:
                del self._seen[stale]
        replies = await call_next(msg, ctx)
        if msg.kind is Kind.ACTION and _answered(replies):
            # A press on the bot's own current question (a quick check-in tapper) is
            # not flooding: it is given back. Old or forged presses still count.
            with contextlib.suppress(ValueError):
                window.remove(now)
        return replies


def _answered(replies: list[Reply]) -> bool:
    """The press counted: not refused as old or forged, not turned away for now."""
    return bool(replies) and all(r.press_outcome is PressOutcome.ACCEPTED for r in replies)


async def unit_of_work(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """One database transaction per message, committed before replies go out.

    With ``durable_replies`` the replies are written to the outbox in that same
    transaction: the new state and the answer to it are kept together or not at all.
    """
    try:
        replies = await _in_transaction(msg, ctx, call_next)
    except Exception as exc:
        if not ctx.services.work.is_stale_connection(exc):
            raise
        # The server had closed a pooled connection (a restart, a killed backend):
        # nothing was kept, and the pool replaces its stale connections now. Handle
        # the message once more rather than tell the person to try again.
        log.info(
            "database connection was closed; %s %s handled again", msg.platform, msg.kind.value
        )
        ctx.start_over()
        replies = await _in_transaction(msg, ctx, call_next)
    await _committed(ctx, replies)
    return replies


async def _committed(ctx: Context, replies: list[Reply]) -> None:
    """What follows a message's commit: wake the sender for queued replies, and run
    the steps the handler planned for after the commit."""
    if any(reply.queued for reply in replies):
        ctx.services.outbox.wake()  # committed now: the sender can see them
    for step in ctx.after_commit:
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("after-commit step failed (user id %s)", ctx.user_key)


async def express(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """A plain question outside any conversation, from someone known or someone new, in
    two statements and no transaction (PostgreSQL: bot.storage.express explains why
    that is safe).

    The handler runs with the person as read and no database: when it reaches for
    the database (``ctx.db`` raises NeedsTransaction), changes the person, or answers
    with other than one reply, or when the person's turn moved before the write, the
    message goes the usual way, through the unit of work, as if this had not run."""
    store = ctx.services.express
    if store is None or ctx.router is None or not _plain_text(msg):
        return await call_next(msg, ctx)
    try:
        replies = await _express(msg, ctx, store, ctx.router)
    except Exception as exc:
        if not ctx.services.work.is_stale_connection(exc):
            raise
        replies = None  # nothing was written: the unit of work retries on a fresh one
    if replies is None:
        ctx.start_over()
        return await call_next(msg, ctx)
    await _committed(ctx, replies)
    return replies


def _plain_text(msg: Incoming) -> bool:
    return msg.kind is Kind.TEXT and msg.event_id is not None and msg.durable_replies


async def _express(
    msg: Incoming, ctx: Context, store: Express, router: Router
) -> list[Reply] | None:
    """The replies, held; None when the message must go the usual way."""
    sender = Sender(
        language=first_language(msg, ctx),
        display_name=msg.display_name,
        private_chat_id=msg.chat_id if msg.is_private else None,
        admin=ctx.settings.is_admin(msg.platform, msg.user_id),
    )
    async with store.connect() as link:
        seen = await link.read(msg.platform, msg.user_id, msg.chat_id, sender)
        if seen is None or seen.in_conversation:
            return None
        ctx.user, ctx.user_key, ctx.language = seen.user, seen.user.id, seen.user.language
        ctx.chat_id, ctx.express = msg.chat_id, True
        try:
            replies = await router.dispatch(msg, ctx)
        except NeedsTransaction:
            return None
        finally:
            ctx.express = False
        if len(replies) != 1 or store.changed(seen):
            return None
        (outgoing,) = _outgoing(msg, ctx, replies)
        event = (msg.platform, msg.event_id or "")
        written = await link.write(seen, msg.chat_id, event, outgoing)
    if written is None or written.outcome == CHANGED:
        return None
    if written.outcome == DUPLICATE:
        log.info("duplicate %s event ignored", msg.platform)
        return []
    queued = written.outcome == QUEUED
    return [dataclasses.replace(replies[0], outbox_id=written.outbox_id, queued=queued)]


async def _in_transaction(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    async with ctx.services.work.begin() as repos:
        ctx.repos = repos
        replies = await call_next(msg, ctx)
        if msg.durable_replies and replies:
            replies = await _hold(msg, ctx, repos.session, replies)
    return replies


async def _hold(
    msg: Incoming, ctx: Context, session: AsyncSession, replies: list[Reply]
) -> list[Reply]:
    """Write the replies to the outbox (see Outbox.hold) and tell the channel which
    row holds each one."""
    items = _outgoing(msg, ctx, replies)
    lease = timedelta(seconds=ctx.settings.outbox_lease_seconds)
    ids, queued = await ctx.services.outbox.hold(session, items, lease)
    return [
        dataclasses.replace(reply, outbox_id=row, queued=queued)
        for reply, row in zip(replies, ids, strict=True)
    ]


def _outgoing(msg: Incoming, ctx: Context, replies: list[Reply]) -> list[Outgoing]:
    """The outbox rows that hold a message's replies for the channel."""
    event = msg.event_id or uuid.uuid4().hex
    user_id = ctx.user.id if ctx.user is not None else None  # None once forgotten
    return [
        Outgoing(
            key=f"reply:{msg.platform}:{event}:{number}",
            platform=msg.platform,
            chat_id=reply.chat_id or msg.chat_id,
            reply=reply,
            user_id=user_id,
            kind=REPLY,
        )
        for number, reply in enumerate(replies)
    ]


async def deduplicate(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """Handle a platform update once, even when the platform delivers it twice."""
    if msg.event_id is not None and not await ctx.db.events.first_time(
        msg.platform, msg.event_id, ctx.clock.now(), person=msg.user_id
    ):
        log.info("duplicate %s event ignored", msg.platform)
        return []
    return await call_next(msg, ctx)


def first_language(msg: Incoming, ctx: Context) -> str:
    """The language someone new starts in: English when their app says so."""
    if msg.language_code and msg.language_code.split("-")[0].lower() == "en":
        return "en"
    return ctx.settings.default_language


async def identify(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """Find or create the person, and load the conversation they are in."""
    language = first_language(msg, ctx)
    ctx.user, created = await ctx.db.users.get_or_create(
        platform=msg.platform,
        platform_user_id=msg.user_id,
        now=ctx.clock.now(),
        language=language,
        display_name=msg.display_name,
        private_chat_id=msg.chat_id if msg.is_private else None,
        admin=ctx.settings.is_admin(msg.platform, msg.user_id),
        chat_id=msg.chat_id,  # the conversation comes with the person: one query
    )
    if created:
        await ctx.db.audit.record(ctx.clock.now(), "user.created", ctx.user.id, msg.platform)
    ctx.chat_id = msg.chat_id
    ctx.user_key, ctx.language = ctx.user.id, ctx.user.language
    ctx.state = await ctx.db.state.get(ctx.user.id, msg.chat_id, ctx.clock.now())
    return await call_next(msg, ctx)


async def safety_first(msg: Incoming, ctx: Context, call_next: Next) -> list[Reply]:
    """A message that signals a crisis is answered with 113, 112 and the huisarts
    before anything else: whatever conversation the person is in (their state is
    kept), even when flooding, even when the database is down. So it runs before
    the flood limit and the unit of work, and touches no storage."""
    knowledge = ctx.services.knowledge
    # Typed text, and the caption of a picture or file (it comes as UNSUPPORTED).
    said = msg.kind is Kind.TEXT or (msg.kind is Kind.UNSUPPORTED and bool(msg.text))
    if knowledge is not None and said:
        answerer = knowledge.answerer
        found = answerer.safety.crisis(msg.text)
        if found is not None and found.is_crisis:
            language = answerer.detect_language(msg.text, ctx.lang)
            key = "safety.crisis_other" if found.about_someone_else else "safety.crisis"
            # The family says which kind of signal it was; the text itself is never logged.
            log.warning(
                "crisis signal answered with the safety reply (%s, %s, %s)",
                msg.platform,
                found.concern.value,
                found.family,
            )
            metrics.answer("crisis")
            return [Reply(text=ctx.services.texts.get(language, key))]
    return await call_next(msg, ctx)


def default_chain(flood_per_minute: int) -> list[Middleware]:
    return [
        capture_errors,
        RecentEvents(),
        guard_input,
        safety_first,
        FloodLimit(flood_per_minute),
        express,
        unit_of_work,
        deduplicate,
        identify,
    ]


PRUNE_EVENTS_AFTER = timedelta(days=2)
