"""/metrics: Prometheus' text format with counts and timings, never content or ids.

The registry belongs to the process, so every test compares the values before and
after what it does. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.app import App
from bot.channels.base import DeliveryError
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.outbox.queue import Outgoing
from bot.outbox.sender import OutboxSender
from bot.scheduling import jobs
from bot.settings import Settings
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
USER = "metrics-person-4711"
QUESTION = "wat is een gangmaker eigenlijk"
UNKNOWN = "wie heeft de tour de france vorig jaar gewonnen"
GREY = "samenwerking in de wijk"
CRISIS = "ik wil dood"


@pytest.fixture(autouse=True)
def read_the_outbox_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cached outbox reading between the scrapes of a test."""
    monkeypatch.setattr(metrics, "OUTBOX_REFRESH", 0.0)


@pytest.fixture
async def served(
    settings: Settings, clock: FrozenClock, channel: RecordingChannel
) -> AsyncIterator[App]:
    app = App(
        settings.model_copy(update={"http_port": 0}), clock=clock, channels={"console": channel}
    )
    await app.start(http=True, scheduler=False, sender=False)
    try:
        yield app
    finally:
        await app.stop()


async def _scrape(app: App) -> tuple[str, Samples]:
    """GET /metrics; its text, and every sample by (name, labels)."""
    assert app.http is not None
    url = f"http://127.0.0.1:{app.http.bound_port}/metrics"
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples


def _delta(before: Samples, after: Samples) -> Callable[..., float]:
    def moved(name: str, **labels: str) -> float:
        key = (f"alliantiebot_{name}", tuple(sorted(labels.items())))
        assert key in after, f"no sample {key}"
        return after[key] - before.get(key, 0.0)

    return moved


async def _checkin(bot: Person, app: App) -> None:
    """A whole quick check-in by buttons: consent, mode, six scores."""
    assert app.services is not None
    texts = app.services.texts
    await bot.send("/spinnenweb")
    await bot.press(texts.get("nl", "checkin.consent_yes"))
    await bot.press(texts.get("nl", "checkin.mode_short"))
    for score in (7, 6, 5, 4, 3, 8):
        await bot.press(str(score))
    assert any(reply.image is not None for reply in bot.last)


async def test_a_conversation_moves_the_counters_and_no_label_carries_content(
    served: App,
) -> None:
    app = served
    bot = Person(app, user_id=USER)
    _, before = await _scrape(app)

    await bot.send(QUESTION)
    await bot.send(UNKNOWN)
    await bot.send(GREY)
    await bot.send("/vraag ik wil er niet meer zijn")  # a crisis the answerer catches
    await _checkin(bot, app)  # a command and eight presses
    await bot.send(CRISIS)  # the middleware's crisis reply
    text, after = await _scrape(app)

    moved = _delta(before, after)
    assert moved("updates_handled_total", channel="console", kind="text") == 4
    assert moved("updates_handled_total", channel="console", kind="command") == 2
    assert moved("updates_handled_total", channel="console", kind="action") == 8
    assert moved("update_seconds_count", channel="console") == 14
    assert moved("update_seconds_sum", channel="console") > 0
    assert moved("answers_total", outcome="answered") == 1
    assert moved("answers_total", outcome="unknown") == 1
    assert moved("answers_total", outcome="clarified") == 1
    assert moved("answers_total", outcome="crisis") == 2
    assert moved("checkins_started_total") == 1
    assert moved("checkins_finished_total") == 1

    labels = {value for _, pairs in after for _, value in pairs}
    for secret in (USER, QUESTION, UNKNOWN, GREY, CRISIS, "gangmaker", "dood"):
        assert not any(secret in value for value in labels), secret
        assert secret not in text


async def test_a_resumed_checkin_is_not_counted_as_started_again(served: App) -> None:
    app = served
    assert app.services is not None
    bot = Person(app, user_id=USER)
    await bot.send("/spinnenweb")
    _, before = await _scrape(app)
    await bot.send("/spinnenweb")  # one is open: "go on where you were?"
    _, after = await _scrape(app)
    assert _delta(before, after)("checkins_started_total") == 0


async def test_the_outbox_gauges_and_the_senders_counts(
    served: App, clock: FrozenClock, channel: RecordingChannel
) -> None:
    app = served
    assert app.services is not None
    outbox = app.services.outbox
    _, before = await _scrape(app)
    assert before[("alliantiebot_outbox_pending", ())] == 0
    assert before[("alliantiebot_outbox_oldest_pending_age_seconds", ())] == 0

    later = Outgoing(
        "later", "console", "c3", Reply(text="x"), not_before=clock.now() + timedelta(hours=1)
    )
    await outbox.enqueue(
        [
            Outgoing("one", "console", "c1", Reply(text="hallo")),
            Outgoing("two", "console", "c2", Reply(text="hallo")),
            later,
        ]
    )
    clock.advance(seconds=90)
    _, waiting = await _scrape(app)
    assert waiting[("alliantiebot_outbox_pending", ())] == 3
    # the row due in an hour is not late; the two due since 90 s are
    assert waiting[("alliantiebot_outbox_oldest_pending_age_seconds", ())] == 90

    channel.failures["c2"] = DeliveryError("blocked", permanent=True)
    await OutboxSender(outbox, app.channels).drain()
    _, after = await _scrape(app)
    moved = _delta(before, after)
    assert moved("outbox_sent_total", platform="console") == 1
    assert moved("outbox_failed_total", platform="console") == 1
    assert after[("alliantiebot_outbox_pending", ())] == 1  # the one for later
    assert after[("alliantiebot_outbox_oldest_pending_age_seconds", ())] == 0


async def test_scheduled_jobs_are_counted_with_their_lateness(
    make_settings: Callable[..., Settings], database_url: str, channel: RecordingChannel
) -> None:
    settings = make_settings(database_url=database_url, misfire_grace_seconds=60, http_port=0)
    app = App(settings, channels={"console": channel})
    await app.start(http=True, sender=False)
    try:
        assert app.scheduler is not None
        _, before = await _scrape(app)
        now = datetime.now(UTC)
        job = "bot.scheduling.jobs:remind"
        args = {"user_id": 999, "message_key": "stop.resumed"}
        await app.scheduler.once("late", job, now - timedelta(seconds=30), key="a", **args)
        await app.scheduler.once("too-late", job, now - timedelta(hours=2), key="b", **args)
        async with asyncio.timeout(10):
            while await app.scheduler.job_ids() != [jobs.HOUSEKEEPING_JOB]:
                await asyncio.sleep(0.02)
            while True:  # the listener runs after the job is gone from the store
                _, after = await _scrape(app)
                moved = _delta(before, after)
                if moved("scheduler_jobs_total", outcome="missed") and moved(
                    "scheduler_jobs_total", outcome="ok"
                ):
                    break
                await asyncio.sleep(0.02)
        assert moved("scheduler_jobs_total", outcome="ok") == 1
        assert moved("scheduler_jobs_total", outcome="missed") == 1
        assert moved("scheduler_jobs_total", outcome="error") == 0
        assert moved("scheduler_lateness_seconds_count") == 1  # the missed one never ran
        assert moved("scheduler_lateness_seconds_sum") >= 30
        assert moved("scheduler_lateness_seconds_bucket", le="15.0") == 0
    finally:
        await app.stop()


class _Figures:
    """An outbox for :func:`metrics.refresh`: counts its reads, or fails."""

    def __init__(self, fail: bool = False) -> None:
        self.clock = FrozenClock()
        self.reads = 0
        self.fail = fail

    async def counts(self) -> dict[str, int]:
        self.reads += 1
        if self.fail:
            raise OSError("database down")
        return {"pending": 4, "sent": 10}

    async def oldest_due(self) -> datetime | None:
        return self.clock.now() - timedelta(seconds=12)


def _outbox_gauges() -> dict[str, float]:
    text = metrics.exposition()[0].decode()
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("alliantiebot_outbox_") and "total" not in s.name
    }


async def test_a_reading_is_reused_and_a_failed_one_leaves_the_gauges_out() -> None:
    figures = _Figures()
    await metrics.refresh(figures, max_age=3600)
    await metrics.refresh(figures, max_age=3600)
    assert figures.reads == 1
    assert _outbox_gauges() == {
        "alliantiebot_outbox_pending": 4,
        "alliantiebot_outbox_oldest_pending_age_seconds": 12,
    }
    await metrics.refresh(_Figures(fail=True))
    assert _outbox_gauges() == {}
