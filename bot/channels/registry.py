"""Builds the platform channels the settings ask for.

The platform adapters are imported only here and only when their tokens are
set, so the console bot runs without the platform SDKs installed.
"""

from __future__ import annotations

import importlib

from bot.channels.base import Channel
from bot.settings import ConfigError, Settings

ADAPTERS = {"telegram": "bot.channels.telegram", "slack": "bot.channels.slack"}


def platform_channels(settings: Settings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for platform in settings.platforms():
        try:
            module = importlib.import_module(ADAPTERS[platform])
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
