"""Move APScheduler's idea of "now", so restart tests need no sleeping.

APScheduler 3 reads ``datetime.now`` in its scheduler and executor modules;
replacing that name there is the smallest seam it offers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pytest


def shift_scheduler_time(monkeypatch: pytest.MonkeyPatch, offset: timedelta) -> None:
    class Shifted(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Shifted:  # type: ignore[override]
            moment = datetime.now(tz) + offset
            return cls.fromtimestamp(moment.timestamp(), moment.tzinfo)

    import apscheduler.executors.base as executors
    import apscheduler.schedulers.base as schedulers

    monkeypatch.setattr(schedulers, "datetime", Shifted)
    monkeypatch.setattr(executors, "datetime", Shifted)
