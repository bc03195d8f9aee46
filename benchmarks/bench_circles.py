"""Reflectiecirkels: composing 35 organisations with years of history, against random.

Two measurements (issue 16: "35 organisations with 5 years of history in under a
second, and report repeated pairs against a random baseline"):

1. **The optimiser alone** (``bot.circles.compose``, no database): for each of
   ``--seeds`` histories (``--years`` earlier years of random circles of the same
   organisations, a few of them gone and others new) the time of one composition and
   its repeated pairs, beside the mean repeated pairs of ``--baseline`` random
   compositions on the same history. Also with 10 and 15 years of history, where
   fewer pairs are still new, and for 12 organisations the local search alone
   against the exact search.
2. **With the database** (on each ``--db``): five stored years read with
   ``Repos.circles.history`` and composed, as ``circles compose`` and ``/kringen`` do
   (median of ``--repeat``).

Usage::

    .venv/bin/python benchmarks/bench_circles.py --db both
    .venv/bin/python benchmarks/bench_circles.py --seeds 5     # shorter
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import _common

from bot.circles.compose import History, compose, random_circles, score
from bot.circles.compose import met as weights

GOAL_SECONDS = 1.0
YEAR = 2027


@dataclass
class Row:
    backend: str
    what: str
    count: int
    seconds: str
    value: str
    note: str = ""


def organisations(n: int, offset: int = 0) -> list[str]:
    return [f"org-{i:02d}" for i in range(offset, offset + n)]


def history(rng: random.Random, n: int, years: int) -> History:
    """``years`` earlier years of random circles: each year two of the organisations
    were not there yet or were away, and two since gone took part."""
    past: dict[int, list[list[str]]] = {}
    for year in range(YEAR - years, YEAR):
        present = rng.sample(organisations(n), n - 2) + organisations(2, offset=100 + year)
        past[year] = random_circles(present, rng)
    return past


def _optimiser(args: argparse.Namespace, n: int, years: int) -> Row:
    seconds, repeats, baseline = [], [], []
    for seed in range(args.seeds):
        rng = random.Random(seed)
        past = history(rng, n, years)
        start = time.perf_counter()
        made = compose(organisations(n), year=YEAR, history=past, seed=seed)
        seconds.append(time.perf_counter() - start)
        repeats.append(len(made.repeated))
        baseline.append(_random_repeats(past, n, args.baseline))
    goal = "yes" if max(seconds) < GOAL_SECONDS else "**no**"
    return Row(
        "-",
        f"{n} organisations, {years} years of history",
        args.seeds,
        f"p50 {statistics.median(seconds):.3f}, max {max(seconds):.3f}",
        f"repeated pairs: mean {statistics.mean(repeats):.2f}, max {max(repeats)}; "
        f"random: mean {statistics.mean(baseline):.2f}",
        f"under {GOAL_SECONDS:g} s: {goal}",
    )


def _random_repeats(past: History, n: int, draws: int) -> float:
    """The mean repeated pairs of ``draws`` random compositions (the baseline)."""
    met = set(weights(past, YEAR))
    counts = [
        sum(pair in met for c in random_circles(organisations(n), random.Random(k))
            for pair in itertools.combinations(sorted(c), 2))
        for k in range(draws)
    ]  # fmt: skip
    return statistics.mean(counts)


def _local_against_exact(args: argparse.Namespace) -> Row:
    """12 organisations: how often the local search alone finds the exact optimum."""
    same, seconds = 0, []
    for seed in range(args.seeds):
        past = history(random.Random(seed), 12, 8)
        local = compose(organisations(12), year=YEAR, history=past, seed=seed, exact_up_to=0)
        start = time.perf_counter()
        exact = compose(organisations(12), year=YEAR, history=past, seed=seed)
        seconds.append(time.perf_counter() - start)
        same += score(local.circles, past, YEAR) == score(exact.circles, past, YEAR)
    return Row(
        "-",
        "12 organisations, 8 years: local search vs exact",
        args.seeds,
        f"exact p50 {statistics.median(seconds):.3f}",
        f"local search optimal in {same} of {args.seeds}",
    )


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Row]:
    from bot.storage import db as storage
    from bot.storage.repositories.circles import CircleRepo

    with _common.temp_database(backend, args.pg_url) as temp:
        settings = _common.bench_settings(temp)
        url = settings.database_url
        async with storage.connected(url, 10) as engine:
            await storage.upgrade(engine)
            factory = storage.session_factory(engine)
            async with factory() as session, session.begin():
                for year, circles in history(random.Random(1), 35, 5).items():
                    await CircleRepo(session).save(year, circles, datetime.now(UTC))
            seconds, repeats = [], 0
            for run in range(args.repeat):
                start = time.perf_counter()
                async with factory() as session, session.begin():
                    past = await CircleRepo(session).history(before=YEAR)
                made = compose(organisations(35), year=YEAR, history=past, seed=run)
                seconds.append(time.perf_counter() - start)
                repeats = max(repeats, len(made.repeated))
    goal = "yes" if max(seconds) < GOAL_SECONDS else "**no**"
    return [
        Row(
            backend,
            "35 organisations, 5 stored years: read + compose",
            args.repeat,
            f"p50 {statistics.median(seconds):.3f}, max {max(seconds):.3f}",
            f"repeated pairs: max {repeats}",
            f"under {GOAL_SECONDS:g} s: {goal}",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=300)
    parser.add_argument("--seeds", type=int, default=20, help="histories (and seeds) per row")
    parser.add_argument("--baseline", type=int, default=1000, help="random compositions each")
    args = parser.parse_args(argv)
    _common.quiet_logging()
    print(_common.machine_summary())
    rows = [_optimiser(args, 35, years) for years in (5, 10, 15)]
    rows.append(_local_against_exact(args))
    rows += _common.run_async(
        _common.over_backends(args, bench_backend), timeout=args.max_seconds + 60
    )
    headers = ["db", "measurement", "runs", "seconds", "result", "note"]
    table = [[r.backend, r.what, r.count, r.seconds, r.value, r.note] for r in rows]
    print(_common.table(headers, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
