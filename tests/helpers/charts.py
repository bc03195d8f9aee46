"""A quick stand-in for the spinnenweb pictures, for tests about the conversation.

matplotlib takes about 0.15 s a picture, and a check-in test draws several: most
of the integration suite's time went there. Tests that are about what is said
and kept get this instead (see ``quick_charts`` in ``tests/conftest.py``): it
checks its arguments as the real functions do and writes a small valid PNG in
the same private folder. The pictures themselves are tested with matplotlib in
``tests/unit/test_charts.py`` and by the tests marked ``real_charts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.paths import private_dir
from tests.helpers.fake_telegram import tiny_png


def _scores_in_range(scores: Sequence[float]) -> None:
    if any(not 0 <= score <= 10 for score in scores):
        raise ValueError(f"scores must be 0-10: {list(scores)}")


def quick_web(
    path: Path,
    labels: Sequence[str],
    today: Sequence[float],
    *,
    title: str,
    previous: Sequence[float] | None = None,
    legend: tuple[str, str] | None = None,
) -> Path:
    if len(labels) != len(today) or (previous is not None and len(previous) != len(today)):
        raise ValueError("labels and scores must have the same length")
    if not title or (previous is not None and legend is None):
        raise ValueError("a title, and a legend when there is a previous web")
    _scores_in_range(today)
    _scores_in_range(previous or ())
    private_dir(path.parent)
    path.write_bytes(tiny_png())
    return path


def quick_trend(
    path: Path, dates: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str
) -> Path:
    if not title or not series:
        raise ValueError("a title and at least one series")
    for scores in series.values():
        if len(scores) != len(dates):
            raise ValueError("every series needs one score per date")
        _scores_in_range(scores)
    private_dir(path.parent)
    path.write_bytes(tiny_png())
    return path
