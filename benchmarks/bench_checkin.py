"""Spinnenweb check-in steps: one answer through the whole stack, without the picture.

Target: a check-in step (an answered question, not the last) takes at most
5 ms (p50). The last answer draws the picture (see ``bench_chart.py`` for the
render alone; target p50 <= 150 ms) and is reported on its own row.

The bot is started as a channel would use it (no HTTP, scheduler or sender)
and ``app.handle`` is called directly. Each of ``--people`` people gives
consent, chooses the short check-in and answers six questions: odd questions
by pressing the score button, even ones by typing the score ("7"). Every
reply is checked: an error reply, or a question that does not move on,
counts as an error. Steps run one at a time (the latency floor).

Usage::

    .venv/bin/python benchmarks/bench_checkin.py --db both
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import _common

if TYPE_CHECKING:
    from bot.app import App
    from bot.core.messages import Reply

TARGET_STEP_MS = 5.0


@dataclass
class Run:
    backend: str
    kind: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def _person(app: App, name: str, runs: dict[str, Run]) -> None:
    from bot.core.messages import Incoming, Kind

    assert app.services is not None
    texts = app.services.texts
    errors = {texts.get("nl", k) for k in ("errors.internal", "errors.database_down")}

    async def say(text: str) -> list[Reply]:
        return list(await app.handle(Incoming.from_text("console", name, name, text)))

    async def press(replies: list[Reply], label: str) -> list[Reply]:
        choice = next(c for r in replies for c in r.choices if c.label == label)
        msg = Incoming(
            platform="console",
            user_id=name,
            chat_id=name,
            kind=Kind.ACTION,
            text=label,
            action=choice.action,
        )
        return list(await app.handle(msg))

    replies = await say("/spinnenweb")
    replies = await press(replies, texts.get("nl", "checkin.consent_yes"))
    replies = await press(replies, texts.get("nl", "checkin.mode_short"))
    for number in range(1, 7):
        typed = number % 2 == 0
        kind = "result (with picture)" if number == 6 else ("typed" if typed else "button")
        began = time.perf_counter()
        replies = await say("7") if typed else await press(replies, "7")
        runs[kind].latencies.append((time.perf_counter() - began) * 1000)
        text = "\n".join(r.text for r in replies)
        moved_on = f"Vraag {number + 1} van 6" in text or (
            number == 6 and any(r.image is not None for r in replies)
        )
        if not moved_on or any(r.text in errors for r in replies):
            runs[kind].errors += 1


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Run]:
    from bot.app import App

    runs = {k: Run(backend, k) for k in ("button", "typed", "result (with picture)")}
    with _common.temp_database(backend, args.pg_url) as db:
        settings = _common.bench_settings(
            db, flood_limit_per_minute=1_000_000_000, export_dir=db.workdir / "exports"
        )
        app = App(settings)
        await app.start(scheduler=False, sender=False)
        try:
            await _person(app, "warm-up", {k: Run(backend, k) for k in runs})
            deadline = time.perf_counter() + args.max_seconds
            for person in range(args.people):
                if time.perf_counter() > deadline:
                    break
                await _person(app, f"p{person}", runs)
        finally:
            await app.stop()
    return list(runs.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=120)
    parser.add_argument("--people", type=int, default=60)
    args = parser.parse_args()
    _common.interruptible()
    _common.quiet_logging()
    runs = _common.run_async(_common.over_backends(args, bench_backend), args.max_seconds * 3)
    print(_common.machine_summary())
    rows = []
    for run in runs:
        target = TARGET_STEP_MS if not run.kind.startswith("result") else None
        p50 = _common.median(run.latencies)
        verdict = "-" if target is None else ("met" if p50 <= target else "MISSED")
        rows.append(
            [
                run.backend,
                run.kind,
                len(run.latencies),
                p50,
                _common.percentile(run.latencies, 0.9),
                _common.percentile(run.latencies, 0.99),
                run.errors,
                verdict,
            ]
        )
    print(
        _common.table(
            ["db", "step", "n", "p50 ms", "p90 ms", "p99 ms", "errors", "p50 <= 5 ms"], rows
        )
    )


if __name__ == "__main__":
    main()
