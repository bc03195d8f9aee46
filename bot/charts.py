"""Spinnenweb pictures: the web of one check-in next to the previous one, and trends.

matplotlib is imported only when a picture is drawn (it is slow to import and
the bot should start fast), through its object-oriented API with the Agg
canvas: no pyplot global state, safe to call from a worker thread. Drawing is
blocking work: call these functions with ``asyncio.to_thread``.
All words on the pictures (labels, title, legend) come from the caller, that
is from ``content/``, so they can be translated.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from bot.paths import private_dir

if TYPE_CHECKING:
    from matplotlib.projections.polar import PolarAxes

TODAY = "#1f77b4"  # filled web: blue
PREVIOUS = "#d62728"  # dashed outline: red, clearly another colour (also in grey print)
SIZE_INCHES, DPI = 6.4, 150  # 960 x 960 pixels: sharp on a phone


def _wrap(label: str) -> str:
    return "\n".join(textwrap.wrap(label, 14, break_long_words=False)) or label


def render_web(
    path: Path,
    labels: Sequence[str],
    today: Sequence[float],
    *,
    title: str,
    previous: Sequence[float] | None = None,
    legend: tuple[str, str] | None = None,
) -> Path:
    """Draw a spinnenweb (radar chart, axes 0-10) and write it as PNG to ``path``."""
    if len(labels) != len(today) or (previous is not None and len(previous) != len(today)):
        raise ValueError("labels and scores must have the same length")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = len(labels)
    angles = [2 * math.pi * i / count for i in range(count)]
    closed = [*angles, angles[0]]
    figure = Figure(figsize=(SIZE_INCHES, SIZE_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = cast("PolarAxes", figure.add_subplot(projection="polar"))
    axes.set_theta_offset(math.pi / 2)  # the first dimension at the top
    axes.set_theta_direction(-1)  # then clockwise, as the spinnenweb is drawn
    axes.set_ylim(0, 10)
    axes.set_yticks([2, 4, 6, 8, 10])
    axes.set_yticklabels(["2", "4", "6", "8", "10"], fontsize=8, color="#555555")
    axes.set_xticks(angles)
    axes.set_xticklabels([_wrap(label) for label in labels], fontsize=11)
    axes.tick_params(axis="x", pad=14)
    handles = []
    if previous is not None:
        handles += axes.plot(
            closed,
            [*previous, previous[0]],
            color=PREVIOUS,
            linewidth=2.2,
            linestyle="--",
            label=legend[1] if legend else None,
        )
    handles[:0] = axes.plot(
        closed, [*today, today[0]], color=TODAY, linewidth=2.5, label=legend[0] if legend else None
    )
    axes.fill(closed, [*today, today[0]], color=TODAY, alpha=0.3)
    axes.set_title(title, fontsize=14, pad=24)
    if legend:
        axes.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.13),
            ncols=2,
            fontsize=10,
            frameon=False,
        )
    figure.tight_layout()
    private_dir(path.parent)
    figure.savefig(path, format="png")
    return path


def render_trend(
    path: Path,
    dates: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
) -> Path:
    """Draw each dimension's score over the check-ins as a line chart (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(SIZE_INCHES * 1.25, SIZE_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(dates)))
    for label, scores in series.items():
        if len(scores) != len(dates):
            raise ValueError("every series needs one score per date")
        axes.plot(positions, list(scores), marker="o", linewidth=2, label=label)
    axes.set_ylim(0, 10)
    axes.set_xticks(positions)
    axes.set_xticklabels(list(dates), rotation=30, ha="right", fontsize=9)
    axes.grid(alpha=0.3)
    axes.set_title(title, fontsize=14)
    axes.legend(fontsize=9, loc="lower left", ncols=2)
    figure.tight_layout()
    private_dir(path.parent)
    figure.savefig(path, format="png")
    return path
