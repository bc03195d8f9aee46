"""Rules of the layout that code review would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDKS = {"telegram", "slack_bolt", "slack_sdk", "slack"}


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in ROOT.joinpath(folder).rglob("*.py")]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_channels_import_a_platform_sdk() -> None:
    files = _python_files("bot", "handlers", "benchmarks")
    assert len(files) > 20
    offenders = [
        str(path.relative_to(ROOT))
        for path in files
        if _imports(path) & SDKS and "channels" not in path.relative_to(ROOT).parts[:2]
    ]
    assert offenders == []


def test_the_check_would_catch_an_sdk_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from telegram import Bot\nimport slack_bolt.async_app\n")
    assert _imports(sample) & SDKS == {"telegram", "slack_bolt"}


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in _python_files("bot", "handlers"):
        if path.name == "settings.py":
            continue
        source = path.read_text()
        if "os.environ" in source or "getenv(" in source:
            offenders.append(path.name)
    assert offenders == []


def test_every_module_has_a_docstring_and_future_annotations() -> None:
    for path in _python_files("bot", "handlers"):
        if "migrations" in path.parts and path.name != "env.py":
            continue
        tree = ast.parse(path.read_text())
        if not tree.body:
            continue
        assert ast.get_docstring(tree), f"{path} has no module docstring"
        if len(tree.body) > 1:
            assert "from __future__ import annotations" in path.read_text(), path


def test_handlers_do_not_import_platform_channels() -> None:
    for path in _python_files("handlers"):
        text = path.read_text()
        assert "bot.channels" not in text, path
