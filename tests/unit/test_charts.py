"""Spinnenweb pictures: valid PNGs of a sensible size, with both webs drawn."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.charts import PREVIOUS, TODAY, render_trend, render_web

LABELS = [
    "Lichaamsfuncties",
    "Mentaal welbevinden",
    "Zingeving",
    "Kwaliteit van leven",
    "Meedoen",
    "Dagelijks functioneren",
]


def _has_colour(image: Image.Image, hex_colour: str) -> bool:
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    return int((np.abs(pixels - target).max(axis=2) < 12).sum()) > 200


def test_web_with_previous_is_a_readable_png_with_both_webs(tmp_path: Path) -> None:
    path = render_web(
        tmp_path / "web.png",
        LABELS,
        [7, 6, 8, 5, 7, 6],
        previous=[5, 6, 6, 4, 8, 5],
        title="Jouw spinnenweb, 26 november 2026",
        legend=("Vandaag", "Vorige keer"),
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < path.stat().st_size < 1_000_000
    with Image.open(path) as image:
        assert image.size[0] >= 900 and image.size[1] >= 900  # sharp on a phone
        assert _has_colour(image, TODAY)
        assert _has_colour(image, PREVIOUS)


def test_first_web_has_no_previous_outline(tmp_path: Path) -> None:
    path = render_web(tmp_path / "web.png", LABELS, [0, 10, 5, 5, 5, 5], title="Eerste keer")
    with Image.open(path) as image:
        assert _has_colour(image, TODAY)
        assert not _has_colour(image, PREVIOUS)


def test_trend_and_bad_input(tmp_path: Path) -> None:
    path = render_trend(
        tmp_path / "trend.png",
        ["8 okt", "26 nov"],
        {"Zingeving": [6, 8], "Meedoen": [7, 7]},
        title="Zo veranderde je web",
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError):
        render_web(tmp_path / "x.png", LABELS, [1, 2], title="x")


def test_matplotlib_is_not_imported_at_start() -> None:
    import subprocess

    code = "import bot.app, bot.charts, sys; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
