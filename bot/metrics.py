"""What the operator sees inside the bot: Prometheus metrics, served at ``/metrics``.

The metrics live on a registry of the bot's own (not prometheus_client's global
one), made once per process at import; the rest of the code calls the small
functions below and never imports prometheus_client. Every label comes from a
small fixed set (a platform, a kind of update, an outcome): never message text,
user or chat ids, or anything else a person typed. The labelled children are made
here, once, so a call on the hot path is one dictionary lookup and an increment.

The outbox's figures (pending rows, the age of the oldest due one) are read from
the database when ``/metrics`` is asked for, at most every ``OUTBOX_REFRESH``
seconds and bounded in time, by :func:`refresh`: a scrape never waits long for a
hung database, and a failed read leaves those two gauges out rather than stale.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.scheduling import runtime  # where the running app's services are found

if TYPE_CHECKING:
    from bot.core.clock import Clock

log = logging.getLogger(__name__)

PREFIX = "alliantiebot_"
PLATFORMS = ("console", "telegram", "slack")
OTHER = "other"  # a platform not in PLATFORMS (a test's fake channel): one label for all
KINDS = ("text", "command", "action", "unsupported")  # bot.core.messages.Kind
AnswerOutcome = Literal["answered", "clarified", "unknown", "crisis"]
ANSWER_OUTCOMES: tuple[AnswerOutcome, ...] = ("answered", "clarified", "unknown", "crisis")
JobOutcome = Literal["ok", "error", "missed"]
JOB_OUTCOMES: tuple[JobOutcome, ...] = ("ok", "error", "missed")
OUTBOX_REFRESH = 5.0  # seconds a reading of the outbox's figures is served again
OUTBOX_TIMEOUT = 2.0  # seconds a scrape waits for the database at most

# Seconds in the dispatcher: a plain question takes a few milliseconds.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds a job ran after its time: the rescan finds other workers' jobs within a
# minute; after a restart, jobs up to MISFIRE_GRACE_SECONDS (hours) late still run.
LATENESS_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 21600.0)

# No ``*_created`` series (a start time per labelled series): they would double the
# page, and every series here starts with the process (process_start_time_seconds).
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_* : CPU seconds, resident memory, open files

_updates = Counter(
    f"{PREFIX}updates_handled",
    "Updates (messages, commands, button presses) handled, by channel and kind",
    ["channel", "kind"],
    registry=REGISTRY,
)
_latency = Histogram(
    f"{PREFIX}update_seconds",
    "Seconds one update spent in the dispatcher (middleware, handler, commit)",
    ["channel"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
_answers = Counter(
    f"{PREFIX}answers",
    "Replies to questions and crisis messages, by outcome (counts only, never content)",
    ["outcome"],
    registry=REGISTRY,
)
_sent = Counter(
    f"{PREFIX}outbox_sent",
    "Outbox messages the sender delivered, by platform",
    ["platform"],
    registry=REGISTRY,
)
_failed = Counter(
    f"{PREFIX}outbox_failed",
    "Outbox messages given up on (refused for good, or out of attempts), by platform",
    ["platform"],
    registry=REGISTRY,
)
_jobs = Counter(
    f"{PREFIX}scheduler_jobs",
    "Scheduled jobs run by this process, by outcome (ok, error, missed)",
    ["outcome"],
    registry=REGISTRY,
)
_lateness = Histogram(
    f"{PREFIX}scheduler_lateness_seconds",
    "Seconds between a job's scheduled time and its start",
    buckets=LATENESS_BUCKETS,
    registry=REGISTRY,
)
_checkins_started = Counter(
    f"{PREFIX}checkins_started", "Spinnenweb check-ins begun", registry=REGISTRY
)
_checkins_finished = Counter(
    f"{PREFIX}checkins_finished",
    "Spinnenweb check-ins with every question answered (the web shown)",
    registry=REGISTRY,
)

# The labelled children, made once: a call is then a lookup, not a label check.
_CHANNELS = (*PLATFORMS, OTHER)
_update_children = {(c, k): _updates.labels(c, k) for c in _CHANNELS for k in KINDS}
_latency_children = {c: _latency.labels(c) for c in _CHANNELS}
_answer_children = {o: _answers.labels(o) for o in ANSWER_OUTCOMES}
_sent_children = {c: _sent.labels(c) for c in _CHANNELS}
_failed_children = {c: _failed.labels(c) for c in _CHANNELS}
_job_children = {o: _jobs.labels(o) for o in JOB_OUTCOMES}


def _channel(platform: str) -> str:
    return platform if platform in _latency_children else OTHER


# -- what the code calls ---------------------------------------------------------------


def update_handled(platform: str, kind: str, seconds: float) -> None:
    """One update through the dispatcher (``kind``: a :class:`Kind` value)."""
    channel = _channel(platform)
    counter = _update_children.get((channel, kind))
    if counter is not None:
        counter.inc()
    _latency_children[channel].observe(seconds)


def answer(outcome: AnswerOutcome) -> None:
    _answer_children[outcome].inc()


def outbox_sent(platform: str, count: int = 1) -> None:
    if count:
        _sent_children[_channel(platform)].inc(count)


def outbox_failed(platform: str, count: int = 1) -> None:
    if count:
        _failed_children[_channel(platform)].inc(count)


def job_run(outcome: JobOutcome) -> None:
    _job_children[outcome].inc()


def job_lateness(seconds: float) -> None:
    _lateness.observe(max(seconds, 0.0))


def checkin_started() -> None:
    _checkins_started.inc()


def checkin_finished() -> None:
    _checkins_finished.inc()


# -- the outbox's figures, read at scrape time -----------------------------------------


class OutboxFigures(Protocol):
    """What :class:`bot.outbox.queue.Outbox` offers for the gauges."""

    clock: Clock

    async def counts(self) -> dict[str, int]: ...

    async def oldest_due(self) -> datetime | None: ...


class _OutboxGauges:
    """A collector with the last reading: (pending rows, age in seconds) or None."""

    def __init__(self) -> None:
        self.reading: tuple[int, float] | None = None
        self.read_at = float("-inf")  # time.monotonic() of the last read begun
        self.source: OutboxFigures | None = None  # whose reading it is
        self.failing = False  # logged once per outage, not once per scrape

    def collect(self) -> Iterator[Metric]:
        if self.reading is None:
            return
        pending, age = self.reading
        yield GaugeMetricFamily(
            f"{PREFIX}outbox_pending", "Outbox rows waiting to be sent (status pending)", pending
        )
        yield GaugeMetricFamily(
            f"{PREFIX}outbox_oldest_pending_age_seconds",
            "Seconds the longest-waiting due pending outbox row has waited (0: none waits)",
            age,
        )


_outbox = _OutboxGauges()
REGISTRY.register(_outbox)


def _running_outbox() -> OutboxFigures | None:
    """The outbox of the app running in this process, as its scheduled jobs find it."""
    try:
        return runtime.services().outbox
    except RuntimeError:
        return None


async def refresh(outbox: OutboxFigures | None = None, *, max_age: float | None = None) -> None:
    """Read the outbox's figures again if the last reading is older than ``max_age``
    seconds (default ``OUTBOX_REFRESH``); ``outbox``: the running app's by default."""
    source = outbox if outbox is not None else _running_outbox()
    if source is None:
        _outbox.reading, _outbox.source = None, None
        return
    now = time.monotonic()
    fresh = OUTBOX_REFRESH if max_age is None else max_age
    if source is _outbox.source and now - _outbox.read_at < fresh:
        return
    _outbox.read_at, _outbox.source = now, source  # a second scrape meanwhile serves the last
    try:
        async with asyncio.timeout(OUTBOX_TIMEOUT):
            counts = await source.counts()
            oldest = await source.oldest_due()
    except Exception as exc:  # a database down or hung: leave the gauges out
        if not _outbox.failing:
            log.warning("metrics: outbox figures unavailable (%s)", type(exc).__name__)
        _outbox.reading, _outbox.failing = None, True
        return
    _outbox.failing = False
    age = 0.0 if oldest is None else max((source.clock.now() - oldest).total_seconds(), 0.0)
    _outbox.reading = (counts.get("pending", 0), age)


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_PLAIN_0_0_4
