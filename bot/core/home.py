"""What a platform's home screen shows a person (Slack's App Home): read here, in
the core, so a channel never touches the database. Channels get it through
:meth:`bot.channels.base.ChannelHost.home`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.agenda.model import Event, Viewer

if TYPE_CHECKING:
    from bot.core.clock import Clock
    from bot.core.context import Transactions
    from bot.core.router import Router

HOME_COMMANDS = ("vraag", "spinnenweb", "agenda")  # their main-menu buttons, in this order
SHORTCUTS = ("bericht", "agenda beheer")  # for verbinders: command words after the slash
EVENTS_SHOWN = 3


@dataclass(frozen=True)
class HomeFacts:
    language: str
    last_checkin: date | None = None
    events: tuple[Event, ...] = ()  # the next ones this person may see
    menu: tuple[tuple[str, str], ...] = ()  # (label key, action): the main menu's buttons
    shortcuts: tuple[tuple[str, str], ...] = ()  # (command words, help key): verbinders only


def _menu(router: Router, is_verbinder: bool) -> tuple[tuple[str, str], ...]:
    found = []
    for name in HOME_COMMANDS:
        command = router.menu_command(name, is_admin=is_verbinder)
        if command is not None and command.menu is not None:
            found.append((command.menu.label_key, command.menu_action))
    return tuple(found)


def _shortcuts(router: Router) -> tuple[tuple[str, str], ...]:
    found = []
    for words in SHORTCUTS:
        command = router.find(words.split()[0])
        if command is not None:
            found.append((words, command.help_key))
    return tuple(found)


async def home_facts(
    work: Transactions,
    router: Router,
    clock: Clock,
    platform: str,
    platform_user_id: str,
    default_language: str,
) -> HomeFacts:
    """The person's home: a stranger gets the menu and the public events."""
    async with work.begin() as db:
        person = await db.users.find(platform, platform_user_id)
        viewer = (
            Viewer()
            if person is None
            else Viewer.of(person.role_set, person.gemeente, person.organisation)
        )
        events = await db.agenda.upcoming(clock.now(), viewer, limit=EVENTS_SHOWN)
        latest = None if person is None else await db.checkins.latest(person.id)
    is_verbinder = person is not None and "verbinder" in person.role_set
    return HomeFacts(
        language=person.language if person is not None else default_language,
        last_checkin=None if latest is None else latest.taken_at.date(),
        events=tuple(events[:EVENTS_SHOWN]),
        menu=_menu(router, is_verbinder),
        shortcuts=_shortcuts(router) if is_verbinder else (),
    )
