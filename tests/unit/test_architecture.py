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


def _names_imported(path: Path) -> set[str]:
    """Every module and every imported name of a file, under TYPE_CHECKING too."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(alias.name for alias in node.names)
    return names


def test_channels_get_the_channel_host_not_the_services() -> None:
    """A channel asks the bot only what ChannelHost offers (bot/channels/base.py),
    never the whole of the core's services."""
    files = _python_files("bot/channels")
    assert len(files) > 3
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in sorted(_names_imported(path) & {"Services", "bot.core.context", "context"})
    ]
    assert offenders == []


def test_the_channel_check_would_catch_services(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.core.context import Services\n"
    )
    assert {"Services", "bot.core.context"} <= _names_imported(sample)


# The core is platform-, storage- and feature-blind: it reaches the database through
# the Transactions protocol and content through Services.content_reloads.
CORE_MUST_NOT_IMPORT = ("bot.storage", "bot.spinnenweb", "bot.knowledge", "handlers")
# Named in annotations only (under TYPE_CHECKING): the types of Context.repos,
# Context.user, Services.knowledge and Services.spinnenweb, and what the knowledge
# port returns (bot/core/ports.py). Nothing is loaded for them.
CORE_TYPE_ONLY = {
    "bot.storage.models",
    "bot.storage.repositories",
    "bot.knowledge.service",
    "bot.knowledge.answer",
    "bot.knowledge.content",
    "bot.spinnenweb.model",
}


def _module_imports(path: Path) -> tuple[set[str], set[str]]:
    """The modules a file imports: (at run time, anywhere; only under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    runtime: set[str] = set()
    typing: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from bot import storage`` names bot.storage too
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        (typing if id(node) in type_only else runtime).update(names)
    return runtime, typing


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_core_imports_neither_storage_nor_features() -> None:
    files = _python_files("bot/core")
    assert len(files) > 5
    at_runtime, for_types = [], set()
    for path in files:
        runtime, typing = _module_imports(path)
        name = path.relative_to(ROOT)
        at_runtime += [f"{name}: {m}" for m in sorted(runtime) if _within(m, CORE_MUST_NOT_IMPORT)]
        for_types |= {m for m in typing if _within(m, CORE_MUST_NOT_IMPORT)}
    assert at_runtime == []
    # ``from bot.storage.models import User`` also yields "bot.storage.models.User"
    modules = {m for m in for_types if not any(m.startswith(t + ".") for t in CORE_TYPE_ONLY)}
    assert modules <= CORE_TYPE_ONLY


def test_the_core_check_would_catch_a_storage_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from bot import storage\n"
        "if TYPE_CHECKING:\n"
        "    from bot.spinnenweb.model import Spinnenweb\n"
        "def f():\n"
        "    from handlers import checkin\n"
    )
    runtime, typing = _module_imports(sample)
    assert {"bot.storage", "handlers"} <= {m for m in runtime if _within(m, CORE_MUST_NOT_IMPORT)}
    assert "bot.spinnenweb.model" in typing
    assert "bot.spinnenweb.model" not in runtime


# Handlers reach the world through Context's ports (bot/core/ports.py): reminders,
# the outbox, private files, knowledge. Never the services, a session, the
# scheduler or the filesystem themselves.
HANDLER_FORBIDDEN_ATTRIBUTES = {
    "services": "Services (use a port on Context)",
    "session": "a database session",
    "scheduler": "the scheduler (use ctx.reminders)",
    "to_thread": "work in a thread (file work belongs to ctx.files)",
    "write_text": "a file write (use ctx.files)",
    "write_bytes": "a file write (use ctx.files)",
    "read_text": "a file read",
    "read_bytes": "a file read",
    "chmod": "a file mode",
    "unlink": "a file removal (use ctx.files)",
    "mkdir": "a folder",
    "touch": "a file",
    "iterdir": "a folder listing",
}
HANDLER_FORBIDDEN_MODULES = ("os", "shutil", "tempfile", "bot.scheduling", "bot.paths")


def _reaches_around(path: Path) -> set[str]:
    """What a handler module touches besides Context's ports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in HANDLER_FORBIDDEN_ATTRIBUTES:
            found.add(f".{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "open":
                found.add("open()")
            elif node.func.id in {"getattr", "setattr"} and any(
                isinstance(a, ast.Constant) and a.value in HANDLER_FORBIDDEN_ATTRIBUTES
                for a in node.args
            ):
                found.add(f"{node.func.id} services")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            found.update(f"import {m}" for m in modules if _within(m, HANDLER_FORBIDDEN_MODULES))
    return found


def test_handlers_use_the_ports_on_context() -> None:
    files = _python_files("handlers")
    assert len(files) > 5
    offenders = {
        f"{path.relative_to(ROOT)}: {what}" for path in files for what in _reaches_around(path)
    }
    assert offenders == set()


def test_the_port_check_would_catch_reaching_around(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "import os\n"
        "from bot.scheduling.jobs import remove_files\n"
        "async def h(msg, ctx):\n"
        "    await ctx.services.outbox.cancel_for_user(ctx.db.session, 1)\n"
        "    await ctx.services.scheduler.remove_prefix('user:1:')\n"
        "    await asyncio.to_thread(path.write_text, '{}')\n"
        "    with open('x', 'w') as f:\n"
        "        f.write(getattr(ctx, 'services'))\n"
    )
    assert _reaches_around(sample) == {
        "import os",
        "import bot.scheduling.jobs",
        ".services",
        ".session",
        ".scheduler",
        ".to_thread",
        ".write_text",
        "open()",
        "getattr services",
    }
