"""compose.yaml, deploy/Caddyfile and deploy/prometheus.yml describe one working deployment.

There is no Docker engine in the tests, so the files are read as data: PostgreSQL with a
volume and a readiness check, the bot workers in Telegram webhook mode on that
PostgreSQL, built from the repository's Dockerfile, every variable documented and every
secret taken from the environment, and the proxy and Prometheus naming exactly the
workers compose starts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.settings import Settings
from tests.unit.test_documented_settings import documented_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
README = ROOT / "README.md"

WEBHOOK_PATH = "/telegram/webhook"  # bot.channels.telegram.DEFAULT_WEBHOOK_PATH
# Read by the official postgres image, not by the bot.
POSTGRES_IMAGE_VARS = {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB"}
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a $.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")

# Values for every variable, as a filled-in .env would give them.
FILLED = {
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "DATA_KEY": Fernet.generate_key().decode(),
    "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
    "TELEGRAM_WEBHOOK_SECRET": "s3cr3t_-value",
    "PUBLIC_BASE_URL": "https://bot.example.org",
}


def variables(text: str) -> set[str]:
    """The names compose interpolates in ``text`` (``$${X}`` is a literal, not a variable)."""
    return {match[1] for match in _VARIABLE.finditer(text) if match[1]}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation, for the forms :data:`_VARIABLE` knows."""

    def one(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, operator, argument = match[1], match[2], match[3]
        value = env.get(name)
        if operator in (":?", "?") and (value is None or (operator == ":?" and not value)):
            raise LookupError(f"{name}: {argument}")
        if operator == ":-" and not value:
            return argument
        if operator == "-" and value is None:
            return argument
        return value or ""

    return _VARIABLE.sub(one, value)


def strings(data: Any) -> list[str]:
    """Every string value in parsed YAML (compose interpolates values, not comments)."""
    if isinstance(data, dict):
        return [text for value in data.values() for text in strings(value)]
    if isinstance(data, list):
        return [text for value in data for text in strings(value)]
    return [data] if isinstance(data, str) else []


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def workers() -> dict[str, dict[str, Any]]:
    """The services built from this repository: the bot workers."""
    return {name: spec for name, spec in services().items() if "build" in spec}


def environment(spec: dict[str, Any]) -> dict[str, str]:
    env = spec.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def worker_port(spec: dict[str, Any]) -> int:
    return int(environment(spec)["HTTP_PORT"])


def caddy_text() -> str:
    """The Caddyfile without its comments."""
    lines = CADDYFILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line.split("#", 1)[0] for line in lines)


def test_the_variable_parser_knows_compose_forms() -> None:
    text = "${A} ${B:-x} ${C:?set C} $${NOT_ME} ${D-y} $$"
    assert variables(text) == {"A", "B", "C", "D"}
    assert interpolate(text, {"A": "1", "C": "3"}) == "1 x 3 ${NOT_ME} y $"
    with pytest.raises(LookupError, match="set C"):
        interpolate("${C:?set C}", {"C": ""})


def test_postgres_keeps_its_data_in_a_named_volume_and_says_when_it_is_ready() -> None:
    spec = services()["postgres"]
    assert spec["image"].startswith("postgres:")
    mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in spec["volumes"]}
    volume = mounts["/var/lib/postgresql/data"]
    assert volume in compose()["volumes"], "a named volume, declared at the top level"
    test = spec["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    assert "ports" not in spec, "PostgreSQL stays on the compose network"


def test_there_are_two_workers_built_from_the_repositorys_dockerfile() -> None:
    found = workers()
    assert len(found) >= 2, "several workers: that is what webhook mode is for"
    for name, spec in found.items():
        build = spec["build"]
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert context.is_dir(), name
        assert (context / dockerfile).is_file(), f"{name}: {context / dockerfile}"
        assert context.resolve() == ROOT, f"{name}: built from the repository root"


def test_the_workers_run_in_webhook_mode_on_the_postgres_service() -> None:
    postgres = environment(services()["postgres"])
    for name, spec in workers().items():
        env = {key: interpolate(value, FILLED) for key, value in environment(spec).items()}
        assert env["ENVIRONMENT"] == "production", name
        url = urlsplit(env["TELEGRAM_WEBHOOK_URL"])
        assert url.scheme == "https" and url.path == WEBHOOK_PATH, name
        assert env["TELEGRAM_WEBHOOK_SECRET"], f"{name}: workers behind one URL share a secret"
        database = make_url(env["DATABASE_URL"])
        assert database.get_backend_name() == "postgresql", name
        assert database.host == "postgres" and "postgres" in services(), name
        assert database.username == postgres["POSTGRES_USER"], name
        assert database.database == postgres["POSTGRES_DB"], name
        assert database.password == FILLED["POSTGRES_PASSWORD"], name
        assert env["HTTP_HOST"] == "0.0.0.0", f"{name}: reachable on the compose network"
        assert env["RUN_SCHEDULER"] == "true" and env["RUN_OUTBOX_SENDER"] == "true", name
        assert spec["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_the_workers_settings_are_accepted_by_the_bot() -> None:
    for name, spec in workers().items():
        env = {key: interpolate(value, FILLED) for key, value in environment(spec).items()}
        # Validation alone: neither this process's environment nor a .env file is read.
        settings = Settings.model_validate({key.lower(): value for key, value in env.items()})
        assert settings.telegram_webhook_url, name
        assert not settings.is_sqlite, name
        assert settings.platforms() == ["telegram"], name


def test_the_workers_share_one_data_volume_and_have_the_same_settings() -> None:
    found = list(workers().values())
    first = found[0]
    for spec in found[1:]:
        assert environment(spec) == environment(first)
        assert spec["volumes"] == first["volumes"]
    mounts = {mount.split(":")[1]: mount.split(":")[0] for mount in first["volumes"]}
    assert mounts["/app/data"] in compose()["volumes"]


def test_the_workers_check_readiness_on_their_http_port() -> None:
    for name, spec in workers().items():
        port = worker_port(spec)
        assert str(port) in [str(item) for item in spec.get("expose", [])], name
        check = " ".join(spec["healthcheck"]["test"])
        assert "/readyz" in check and "HTTP_PORT" in check, name


def test_secrets_come_from_the_environment_never_from_the_file() -> None:
    for name, spec in services().items():
        for key, value in environment(spec).items():
            if key == "DATABASE_URL":
                password = make_url(interpolate(value, FILLED)).password
                assert password == FILLED["POSTGRES_PASSWORD"], name
                assert "${POSTGRES_PASSWORD:?" in value, name
            elif SECRET_NAME.search(key):
                assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", value), f"{name}: {key}={value}"


def test_every_variable_is_documented_and_in_the_example_env_file() -> None:
    values = strings(compose())
    used = {name for value in values for name in variables(value)}
    assert used >= set(FILLED), "the test fills in every required variable"
    documented = documented_names(README.read_text(encoding="utf-8")) | POSTGRES_IMAGE_VARS
    assert used <= documented, f"not in the README's configuration table: {used - documented}"
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    for variable in used:
        assert re.search(rf"^#? ?{variable}=", example, re.MULTILINE), variable
    for variable in FILLED:
        assert re.search(rf"^{variable}=$", example, re.MULTILINE), f"{variable}: no value"
    for value in values:
        interpolate(value, FILLED)  # nothing required is missing


def test_prometheus_scrapes_every_workers_metrics() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    jobs = config["scrape_configs"]
    targets = {
        target
        for job in jobs
        if job.get("metrics_path", "/metrics") == "/metrics"
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"{name}:{worker_port(spec)}" for name, spec in workers().items()}
    mounts = [str(mount) for mount in services()["prometheus"]["volumes"]]
    assert any(
        mount.startswith("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml")
        for mount in mounts
    )


def test_the_proxy_balances_the_webhook_and_probes_over_every_worker() -> None:
    text = caddy_text()
    upstreams = re.findall(r"^\s*to\s+(.+)$", text, re.MULTILINE)
    assert len(upstreams) == 1
    expected = {f"{name}:{worker_port(spec)}" for name, spec in workers().items()}
    assert set(upstreams[0].split()) == expected
    assert "lb_policy round_robin" in text
    assert "health_uri /readyz" in text
    for path in (WEBHOOK_PATH, "/healthz", "/readyz"):
        assert path in text, path
    assert "/metrics" not in text, "metrics stay on the private network"
    assert "{$PUBLIC_BASE_URL}" in text
    proxy = services()["caddy"]
    assert "PUBLIC_BASE_URL" in environment(proxy)
    assert any(str(mount).startswith("./deploy/Caddyfile:") for mount in proxy["volumes"])
    assert {str(port).split(":")[-2] for port in proxy["ports"]} >= {"80", "443"}


def test_every_mounted_file_exists_and_every_named_volume_is_declared() -> None:
    declared = set(compose().get("volumes") or {})
    for name, spec in services().items():
        for mount in spec.get("volumes", []):
            source = str(mount).split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: {source}"
