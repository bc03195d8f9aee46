"""Builds the platform channels the settings ask for.

The platform adapters are imported only here and only when their tokens are
set, so the console bot runs without the platform SDKs installed.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from bot.channels.base import Channel
from bot.settings import ConfigError, Settings

ADAPTERS = {"telegram": "bot.channels.telegram", "slack": "bot.channels.slack"}
# httpx (python-telegram-bot's transport) tries to import its command-line client
# whenever it is imported, which imports click and pygments when they are installed
# (development tools pull them in; they stay imported even where the client itself
# then fails for want of rich): about 1.6 MiB and 0.05-0.09 s of a Telegram worker's
# start, for a command the bot never runs. Blocked, ``httpx.main`` is httpx's own stub.
_UNUSED = "httpx._main"


def _import_adapter(name: str) -> ModuleType:
    """Import a platform adapter with httpx's command-line client blocked; as it is
    when httpx is already imported (then blocking changes nothing)."""
    if "httpx" in sys.modules or _UNUSED in sys.modules:
        return importlib.import_module(name)
    sys.modules[_UNUSED] = None  # type: ignore[assignment]  # importing it: ImportError
    try:
        return importlib.import_module(name)
    finally:
        if sys.modules.get(_UNUSED, ...) is None:
            del sys.modules[_UNUSED]


def platform_channels(settings: Settings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for platform in settings.platforms():
        try:
            module = _import_adapter(ADAPTERS[platform])
        except ModuleNotFoundError as exc:
            if exc.name == ADAPTERS[platform]:
                raise ConfigError(
                    f"{platform.upper()}_BOT_TOKEN: this version has no {platform} channel yet; "
                    f"unset the token to run the console bot"
                ) from None
            raise ConfigError(
                f"{platform.upper()}_BOT_TOKEN: the {platform} SDK is not installed; "
                f"install with: pip install 'alliantiebot[{platform}]'"
            ) from None
        channels[platform] = module.build(settings)
    return channels
