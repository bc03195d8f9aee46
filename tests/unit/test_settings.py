"""Settings: defaults, normalisation, and one clear line for each wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import cipher_from_settings
from bot.settings import ConfigError, Settings, load_settings

_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in (
        "DATABASE_URL",
        "TIMEZONE",
        "DEFAULT_LANGUAGE",
        "BOT_ADMINS",
        "DATA_KEY",
        "HTTP_PORT",
        "LOG_LEVEL",
        "TELEGRAM_BOT_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "ENVIRONMENT",
        "CHECKIN_RETENTION_MONTHS",
        "TELEGRAM_WEBHOOK_URL",
        "TELEGRAM_WEBHOOK_SECRET",
        "TELEGRAM_CONCURRENT_UPDATES",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir("/")  # no .env file here
    return load_settings()


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(monkeypatch)
    assert settings.database_url == "sqlite+aiosqlite:///./data/alliantiebot.db"
    assert settings.timezone == "Europe/Amsterdam"
    assert settings.default_language == "nl"
    assert settings.platforms() == []
    assert settings.data_key is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("postgresql://u:p@db:5432/bot", "postgresql+asyncpg://u:p@db:5432/bot"),
        ("postgres://u@db/bot", "postgresql+asyncpg://u@db/bot"),
        ("postgresql+asyncpg://u@db/bot", "postgresql+asyncpg://u@db/bot"),
    ],
)
def test_database_urls_get_async_drivers(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    assert _load(monkeypatch, DATABASE_URL=given).database_url == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/bot"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "sqlite://"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("BOT_ADMINS", "whatsapp:123"),
        ("BOT_ADMINS", "telegram"),
        ("DATA_KEY", "tooshort"),
        ("HTTP_PORT", "70000"),
        ("HTTP_PORT", "abc"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_BASE_URL", "ftp://x"),
        ("ENVIRONMENT", "staging"),
        ("CHECKIN_RETENTION_MONTHS", "0"),
        ("TELEGRAM_WEBHOOK_URL", "bot.example.org/hook"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces"),
        ("TELEGRAM_WEBHOOK_SECRET", "x" * 257),
        ("TELEGRAM_CONCURRENT_UPDATES", "0"),
        ("TELEGRAM_BOT_TOKEN", "abc"),
        ("TELEGRAM_BOT_TOKEN", "12:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"),
        ("TELEGRAM_BOT_TOKEN", "123456789:short"),
        ("SLACK_BOT_TOKEN", "xoxp-123-456"),
    ],
)
def test_wrong_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **{name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert "\n" not in message and "Traceback" not in message


def test_admins_and_keys_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    settings = _load(
        monkeypatch,
        BOT_ADMINS="telegram:12345, slack:U0ABC,console:local",
        DATA_KEY=keys,
        LOG_LEVEL="debug",
        TELEGRAM_BOT_TOKEN=_TOKEN,
    )
    assert settings.bot_admins == ("telegram:12345", "slack:U0ABC", "console:local")
    assert settings.is_admin("slack", "U0ABC") and not settings.is_admin("slack", "U0XYZ")
    assert settings.log_level == "DEBUG"
    assert settings.platforms() == ["telegram"]
    assert _TOKEN.split(":")[1] not in repr(settings)  # secrets stay out of logs and tracebacks


@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_an_empty_token_or_secret_is_unset(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    settings = _load(
        monkeypatch,
        TELEGRAM_BOT_TOKEN=value,
        SLACK_BOT_TOKEN=value,
        SLACK_SIGNING_SECRET=value,
        SLACK_APP_TOKEN=value,
        TELEGRAM_WEBHOOK_SECRET=value,
        DATA_KEY=value,
    )
    assert settings.telegram_bot_token is None and settings.slack_bot_token is None
    assert settings.slack_signing_secret is None and settings.slack_app_token is None
    assert settings.telegram_webhook_secret is None and settings.data_key is None
    assert settings.platforms() == []


def test_an_empty_token_in_the_env_file_is_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=\nSLACK_BOT_TOKEN=  \n")
    _load(monkeypatch)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.telegram_bot_token is None and settings.slack_bot_token is None
    assert settings.platforms() == []


def test_tokens_in_the_right_format_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        TELEGRAM_BOT_TOKEN=f" {_TOKEN} ",  # stray spaces around it in .env
        SLACK_BOT_TOKEN="xoxb-1234-5678-abcdef",
    )
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == _TOKEN
    assert settings.slack_bot_token is not None
    assert settings.platforms() == ["telegram", "slack"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "abc"),
        ("TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ extra"),
        ("SLACK_BOT_TOKEN", "xoxp-secret-user-token"),
    ],
)
def test_a_wrong_token_is_one_line_that_does_not_show_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **{name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}: not a ")
    assert "\n" not in message
    assert value not in message and value.split()[0] not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_production_refuses_to_run_without_a_data_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "data.key"
    settings = _load(monkeypatch, ENVIRONMENT="Production", DATA_KEY_FILE=str(key_file))
    assert settings.environment == "production"
    with pytest.raises(ConfigError) as caught:
        cipher_from_settings(settings)
    assert str(caught.value).startswith("DATA_KEY: required when ENVIRONMENT=production")
    assert not key_file.exists()  # no silent key file on a server
    key = Fernet.generate_key().decode()
    with_key = _load(monkeypatch, ENVIRONMENT="production", DATA_KEY=key)
    assert cipher_from_settings(with_key).decrypt(cipher_from_settings(with_key).encrypt(7)) == 7


def test_development_without_a_key_creates_a_private_key_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "data.key"
    settings = _load(monkeypatch, DATA_KEY_FILE=str(key_file))
    assert settings.environment == "development"
    token = cipher_from_settings(settings).encrypt({"zingeving": 6})
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert cipher_from_settings(settings).decrypt(token) == {"zingeving": 6}  # same key again


def test_telegram_webhook_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        TELEGRAM_BOT_TOKEN=_TOKEN,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET="Abc_123-xyz",
    )
    assert settings.platforms() == ["telegram"]
    assert settings.telegram_webhook_url == "https://bot.example.org/telegram/webhook"
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.get_secret_value() == "Abc_123-xyz"
    assert "Abc_123" not in repr(settings)
    assert _load(monkeypatch, TELEGRAM_WEBHOOK_SECRET="").telegram_webhook_secret is None


def test_log_lines_never_show_a_bot_token(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from bot.logging_setup import configure

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure("DEBUG")
    try:
        logging.getLogger("httpx").warning(
            "POST %s failed",
            "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/x",
        )
        logging.getLogger("bot.test").info("user %s", 123456789)
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    err = capsys.readouterr().err
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in err
    assert "bot<token>/x" in err
    assert "user 123456789" in err
    assert logging.getLogger("httpx").level == logging.WARNING


def test_telegram_library_lines_keep_only_their_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """python-telegram-bot may log a whole API response or update as an argument."""
    import logging

    from bot.logging_setup import configure

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure("INFO")
    try:
        logging.getLogger("telegram.request.BaseRequest").error(
            'Can not load invalid JSON data: "%s"', '{"text": "ik heb last van somberheid'
        )
        try:
            raise ValueError(
                "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
            )
        except ValueError:
            logging.getLogger("bot.test").exception("failed")
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    err = capsys.readouterr().err
    assert "Can not load invalid JSON data" in err
    assert "somberheid" not in err
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in err and "bot<token>" in err


def test_telegram_base_url_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    for given in ("http://h:8081", "http://h:8081/", "http://h:8081/bot", "http://h:8081/bot/"):
        settings = _load(monkeypatch, TELEGRAM_API_BASE_URL=given)
        assert settings.telegram_api_base_url == "http://h:8081/bot", given


def test_run_with_a_malformed_token_stops_at_once_with_one_line(tmp_path: Path) -> None:
    """Through the real command: no Bot API call, no traceback, exit 2."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(TELEGRAM_BOT_TOKEN="abc", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("alliantiebot: configuration error: TELEGRAM_BOT_TOKEN: not a ")
    assert "abc" not in lines[0] and result.stdout == ""
    assert not (tmp_path / "x.db").exists()  # stopped before touching anything


def test_the_input_guard_lets_an_announcement_typed_with_markup_through() -> None:
    """An announcement may hold 4,000 characters as read; its markers (*vet*, links)
    come on top, so the guard's default must not refuse it before the composer counts."""
    from bot.broadcast.render import TEXT_LIMIT

    assert Settings.model_fields["max_message_length"].default >= 2 * TEXT_LIMIT
