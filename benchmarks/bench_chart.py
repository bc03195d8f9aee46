"""Spinnenweb picture render time (target: p50 <= 150 ms).

Run: ``.venv/bin/python benchmarks/bench_chart.py [--renders 30]``

Renders the web with a previous web (the check-in result picture) repeatedly
in one process, after one warm-up render (the first pays for importing
matplotlib and loading fonts; that cost is reported separately).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.charts import render_web

LABELS = [
    "Lichaamsfuncties",
    "Mentaal welbevinden",
    "Zingeving",
    "Kwaliteit van leven",
    "Meedoen",
    "Dagelijks functioneren",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "web.png"

        def once() -> float:
            started = time.perf_counter()
            render_web(
                path,
                LABELS,
                [rng.uniform(0, 10) for _ in LABELS],
                previous=[rng.uniform(0, 10) for _ in LABELS],
                title="Jouw spinnenweb, 26 november 2026",
                legend=("Vandaag", "Vorige keer"),
            )
            return (time.perf_counter() - started) * 1000

        first = once()
        timings = sorted(once() for _ in range(args.renders))
    p50 = statistics.median(timings)
    p90 = timings[int(0.9 * (len(timings) - 1))]
    print(f"first render (imports matplotlib): {first:.0f} ms")
    print(
        f"renders: {len(timings)}, p50 {p50:.0f} ms, p90 {p90:.0f} ms, "
        f"max {timings[-1]:.0f} ms; target p50 <= 150 ms: {'met' if p50 <= 150 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
