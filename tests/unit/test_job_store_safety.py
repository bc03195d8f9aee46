"""The scheduler's job store: what it may load, what it may store, who may call it how."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduling.scheduler import Scheduler, load_job_state


class _Reduces:
    def __init__(self, *reduced: Any) -> None:
        self.reduced = reduced

    def __reduce__(self) -> tuple[Any, ...]:
        return self.reduced


def _state_with(value: object) -> bytes:
    return pickle.dumps({"version": 1, "id": "x", "func": "m:f", "kwargs": {"v": value}})


def test_job_state_naming_other_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for planted in (
        _Reduces(os.system, (f"touch {marker}",)),
        _Reduces(open, (str(marker), "w")),
        _Reduces(getattr, (ZoneInfo, "__init_subclass__")),  # getattr: only ZoneInfo's own
    ):
        with pytest.raises(pickle.UnpicklingError):
            load_job_state(_state_with(planted))
    assert not marker.exists()


def test_the_states_of_our_triggers_load() -> None:
    aps = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
    aps.start(paused=True)
    try:
        soon = datetime.now(UTC) + timedelta(days=1)
        for trigger in (
            DateTrigger(run_date=soon),
            CronTrigger(timezone="Europe/Amsterdam", hour=4, minute=17),
            CronTrigger(timezone="Europe/Amsterdam", month="jan-mar", day="last", week="*/2"),
            CronTrigger(timezone="Europe/Amsterdam", day="1st mon", day_of_week="mon-fri"),
            IntervalTrigger(minutes=5, timezone=UTC),
        ):
            job = aps.add_job(
                "bot.scheduling.jobs:remind",
                trigger,
                id="j",
                kwargs={"user_id": 1, "message_key": "m", "key": "k", "params": {"a": "b"}},
                replace_existing=True,
            )
            state = job.__getstate__()
            state["next_run_time"] = trigger.get_next_fire_time(None, datetime.now(UTC))
            loaded = load_job_state(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
            assert str(loaded["trigger"]) == str(trigger)
            assert loaded["next_run_time"] == state["next_run_time"]
            assert loaded["kwargs"] == state["kwargs"]
    finally:
        aps.shutdown(wait=False)


@pytest.mark.parametrize(
    "value", [object(), ["a", "list"], {"nested": {"dict": "x"}}, datetime.now(UTC)]
)
async def test_job_arguments_must_be_plain(tmp_path: Path, value: object) -> None:
    scheduler = Scheduler(
        f"sqlite:///{tmp_path / 'jobs.db'}", misfire_grace_seconds=60, timezone="UTC"
    )
    try:
        with pytest.raises(TypeError, match="plain value"):
            await scheduler.once("x", "m:f", datetime.now(UTC), v=value)
    finally:
        await scheduler.shutdown()
