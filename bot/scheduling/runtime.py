"""Where stored jobs find the running bot's services.

A job is stored by reference (``module:function`` and plain arguments), so a
new process can run it; the function then asks this module for the services
of the app that is running now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.context import Services

_services: Services | None = None


def install(services: Services | None) -> None:
    global _services
    _services = services


def services() -> Services:
    if _services is None:
        raise RuntimeError("no running app: jobs only run inside `alliantiebot run/chat`")
    return _services
