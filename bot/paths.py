"""Where the curated content lives, installed editable or as a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_dir(override: Path | None = None) -> Path:
    """Return the content directory.

    A wheel carries ``content/`` inside the package as ``bot/_content`` (see
    pyproject); a source checkout or editable install has it beside ``bot/``.
    """
    candidates = [override] if override is not None else []
    candidates += [_PACKAGE / "_content", _PACKAGE.parent / "content"]
    for candidate in candidates:
        if candidate is not None and (candidate / "messages").is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates if c is not None)
    raise FileNotFoundError(f"content directory not found (looked in {searched})")
