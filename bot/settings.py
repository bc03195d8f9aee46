"""One typed settings object, read once from the environment and `.env`.

Nothing else in the project reads ``os.environ``. A wrong value is turned into
a :class:`ConfigError` that names the variable and what is expected, so the
CLI can print one clear line and exit with code 2.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LANGUAGES = ("nl", "en")
PLATFORMS = ("console", "telegram", "slack")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/alliantiebot.db"
# Optional secrets: empty or only spaces (``TELEGRAM_BOT_TOKEN=`` in .env) means unset.
_OPTIONAL_SECRETS = (
    "data_key",
    "telegram_bot_token",
    "telegram_webhook_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
)
# What @BotFather hands out, e.g. 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ (lenient on length).
_TELEGRAM_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


class ConfigError(Exception):
    """A setting has a value the bot cannot start with."""


def normalise_database_url(raw: str) -> str:
    """Return the async SQLAlchemy URL for a user-facing database URL.

    People write ``postgresql://`` or ``sqlite:///file.db``; the bot needs the
    async drivers (asyncpg, aiosqlite), so the scheme is completed here.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ValueError("not a database URL") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "") or url.database == ":memory:":
            raise ValueError("SQLite needs a file path, e.g. sqlite:///./data/alliantiebot.db")
        return url.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        if not url.database:
            raise ValueError("PostgreSQL URL needs a database name")
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError("use sqlite:///path or postgresql://user@host:port/database")


def _check_fernet_key(key: str) -> None:
    try:
        decoded = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValueError("not url-safe base64") from exc
    if len(decoded) != 32:
        raise ValueError("must decode to 32 bytes")


def _http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError("an http:// or https:// URL")
    return value


class Settings(BaseSettings):
    """Every setting of the bot. Field names map to upper-case variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,  # a validation error never shows a token
    )

    # production: refuse to start without DATA_KEY (no silent key file on a server)
    environment: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Europe/Amsterdam"
    default_language: Literal["nl", "en"] = "nl"
    bot_admins: Annotated[tuple[str, ...], NoDecode] = ()
    data_key: SecretStr | None = None
    data_key_file: Path = Path("./data/data.key")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    # Set: webhook mode (Telegram posts updates to this public URL); unset: long polling.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Webhook: how many updates Telegram posts at once (setWebhook's max_connections,
    # Telegram's default 40). An update is answered 200 only once handled, so this
    # bounds the updates in hand across all workers.
    telegram_webhook_connections: int = Field(default=100, ge=1, le=100)
    telegram_concurrent_updates: int = Field(default=32, ge=1, le=1000)
    # Updates queued or being handled at once, per process: at the bound the webhook
    # answers 503 (Telegram sends the update again) and the poller waits before fetching.
    max_updates_in_flight: int = Field(default=200, ge=1, le=100_000)
    # At SIGTERM a channel stops taking updates and gets this long to finish the ones in
    # hand. Docker kills after 10 s (`docker stop -t`, compose `stop_grace_period`).
    stop_grace_seconds: float = Field(default=8.0, ge=0, le=3600)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    content_dir: Path | None = None
    image_dir: Path = Path("./data/images")
    export_dir: Path = Path("./data/exports")
    # Pictures and files people send (an announcement's attachment), downloaded here.
    media_dir: Path = Path("./data/media")
    # The largest of those a channel downloads; Telegram lets a bot download at most 20 MB.
    media_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=20 * 1024 * 1024)
    # Pictures and exports hold health data in plain form: removed after this many hours.
    generated_file_hours: int = Field(default=24, ge=1)
    checkin_retention_months: int = Field(default=24, ge=1)
    # Questions nobody could answer (text only, no user): deleted after this many days.
    unanswered_retention_days: int = Field(default=90, ge=1)
    db_startup_timeout: float = Field(default=15.0, ge=0)
    # Connecting, waiting for a pooled connection or a lock, one statement: each at most this.
    db_timeout_seconds: float = Field(default=5.0, gt=0)
    flood_limit_per_minute: int = Field(default=30, ge=1)
    # Telegram delivers at most 4,096 characters; an announcement typed with markup
    # (`*vet*`) may be longer than its 4,000 characters as read, so the guard allows more.
    max_message_length: int = Field(default=8000, ge=1)
    outbox_poll_interval: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=100, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_lease_seconds: int = Field(default=120, ge=5)
    # `run` with no platform token: talk on standard input? None (unset): only when it is
    # a terminal; the Docker image sets false, so a detached container never reads it.
    allow_console: bool | None = None
    run_scheduler: bool = True
    run_outbox_sender: bool = True
    misfire_grace_seconds: int = Field(default=6 * 3600, ge=1)
    # Non-urgent announcements wait during these hours (HH:MM-HH:MM in TIMEZONE; empty: none).
    quiet_hours: str = "21:00-08:00"
    # The public https:// address of the HTTP server: the base of calendar feed links.
    public_base_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        from datetime import UTC

        from bot.broadcast.quiet import QuietHours

        QuietHours.parse(value, UTC)  # raises ValueError with what is expected
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone such as Europe/Amsterdam") from exc
        return value

    @field_validator("default_language", "log_level", "environment", mode="before")
    @classmethod
    def _casefold(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("environment", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("bot_admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> tuple[str, ...]:
        if value is None or value == "":
            return ()
        items = value.split(",") if isinstance(value, str) else list(value)
        result = []
        for raw in items:
            item = str(raw).strip()
            if not item:
                continue
            platform, sep, user_id = item.partition(":")
            if not sep or platform not in PLATFORMS or not user_id:
                raise ValueError(
                    f"comma-separated platform:user_id with platform one of "
                    f"{', '.join(PLATFORMS)} (got {item!r})"
                )
            result.append(f"{platform}:{user_id}")
        return tuple(result)

    @field_validator("allow_console", mode="before")
    @classmethod
    def _empty_is_auto(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(*_OPTIONAL_SECRETS, mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str) and not raw.strip():
            return None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if not _TELEGRAM_TOKEN.fullmatch(token):
            # Never echo the value: it may be a real token with one typo.
            raise ValueError("not a Telegram bot token")
        return SecretStr(token)

    @field_validator("slack_bot_token")
    @classmethod
    def _slack_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if not token.startswith("xoxb-") or len(token) == len("xoxb-"):
            raise ValueError("not a Slack bot token")
        return SecretStr(token)

    @field_validator("data_key")
    @classmethod
    def _data_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for key in value.get_secret_value().split(","):
            _check_fernet_key(key.strip())
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("1 to 256 characters: letters, digits, _ and -")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _telegram_base(cls, value: str | None) -> str | None:
        """``http://host:8081``, ``…/bot`` and ``…/bot/`` all mean ``…/bot`` (the library
        puts the token right after it)."""
        value = _http_url(value)
        if value is None:
            return None
        value = value.rstrip("/")
        return value if value.endswith("/bot") else value + "/bot"

    @field_validator("slack_api_url", "telegram_webhook_url", "public_base_url")
    @classmethod
    def _http_urls(cls, value: str | None) -> str | None:
        return _http_url(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def is_admin(self, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self.bot_admins

    def platforms(self) -> list[str]:
        """The platforms that have the tokens they need."""
        found = []
        if self.telegram_bot_token is not None:
            found.append("telegram")
        if self.slack_bot_token is not None:
            found.append("slack")
        return found


_EXPECTED = {
    "database_url": "use sqlite:///path or postgresql://user@host:port/database",
    "timezone": "an IANA time zone such as Europe/Amsterdam",
    "default_language": "nl or en",
    "bot_admins": "comma-separated platform:user_id, e.g. telegram:12345,console:local",
    "data_key": "a Fernet key (32 url-safe base64 bytes), or several separated by commas",
    "http_port": "a whole number from 0 to 65535 (0 picks a free port)",
    "log_level": "DEBUG, INFO, WARNING, ERROR or CRITICAL",
    "environment": "development or production",
    "allow_console": "1 or 0 (true or false); empty: only when standard input is a terminal",
    "telegram_bot_token": "digits, a colon and 20 or more letters, digits, _ or -, as @BotFather "
    "gives it (e.g. 123456:ABC-DEF…); leave it empty to run without Telegram",
    "slack_bot_token": "the Bot User OAuth Token, starting with xoxb-; "
    "leave it empty to run without Slack",
}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning any validation error into one ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        message = str(error.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        expected = _EXPECTED.get(field)
        detail = message if expected is None or expected in message else f"{message}; {expected}"
        raise ConfigError(f"{field.upper()}: {detail}") from None
