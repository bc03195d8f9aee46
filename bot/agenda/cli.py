"""``alliantiebot events import|list|export|cancel|plan|attendees``: the agenda from
files and scripts.

``import`` reads a YAML agenda (docs/agenda.md) or an .ics file from Outlook or
Google, checks every event and stores them all or none; it is idempotent on UID.
``list`` prints the upcoming events, ``export`` writes them as iCalendar. Exit codes:
0 done, 1 refused (one line per problem says why), 2 configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.agenda import attendees_cli, plan_cli
from bot.agenda.model import KINDS
from bot.people import vocab

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.agenda.model import Event
    from bot.settings import Settings

Command = Callable[..., argparse.ArgumentParser]
READS_ONLY = ("list", "export", "attendees")


class Refused(Exception):
    """Bad input: printed as one line each, exit code 1."""


def _now() -> datetime:
    """The current instant (tests replace it: "in the past" depends on it)."""
    return datetime.now(UTC)


def add_parser(sub: Any, command: Command, subcommands: Callable[..., Any]) -> None:
    """``events`` and its subcommands, with the CLI's own help helpers."""
    parent = command(
        sub,
        "events",
        "import, list, export, cancel or plan agenda events (leerateliers, meetings)",
        """The agenda: leerateliers, gangmaker meetings, the bestuurders meeting,
        reflectiecirkels and other events. Import them from a YAML file or an .ics
        file (from Outlook or Google), list the upcoming ones, export them as
        iCalendar for any calendar program. Times are wall time in TIMEZONE. The YAML
        format and how events are checked: docs/agenda.md.""",
        (
            ("alliantiebot events import agenda.yaml", "add or update the events"),
            ("alliantiebot events list", "the upcoming events"),
            ("alliantiebot events export -o agenda.ics", "all events as iCalendar"),
            ("alliantiebot events plan leerateliers --year 2027", "propose a year's dates"),
        ),
    )
    actions = subcommands(parent)
    _import_parser(actions, command)
    _list_parser(actions, command)
    export = command(
        actions,
        "export",
        "write every event as one iCalendar file (stdout or -o FILE)",
        """Write every event, past and cancelled ones too, as one iCalendar (RFC 5545)
        calendar: each with its stable UID, SEQUENCE and STATUS (a cancelled one as
        CANCELLED, so calendars that have it remove it) and times with their time zone
        (VTIMEZONE). It goes to standard output unless -o names a file.""",
        (
            ("alliantiebot events export", "to standard output"),
            ("alliantiebot events export -o agenda.ics", "to a file"),
        ),
    )
    export.add_argument(
        "-o", "--output", type=Path, help="write to this file instead of standard output"
    )
    cancel = command(
        actions,
        "cancel",
        "cancel an event: it stays, with STATUS:CANCELLED and its UID",
        """Cancel an event by its UID. It is kept, marked cancelled, with its SEQUENCE
        raised, so an export or a feed tells calendars to remove it. Cancelling one
        that is cancelled already changes nothing.""",
        (("alliantiebot events cancel leeratelier-2027-03@alliantiepg.nl", "cancel it"),),
    )
    cancel.add_argument("uid", help="the event's UID (see events list)")
    plan_cli.add_parser(actions, command)
    attendees_cli.add_parser(actions, command)


def _import_parser(actions: Any, command: Command) -> None:
    imp = command(
        actions,
        "import",
        "add or update events from a YAML agenda or an .ics file (by UID)",
        """Read the events of FILE (.yaml, .yml or .ics) and store them: an event whose
        UID is new is added, one whose UID is known is updated (its SEQUENCE goes up,
        and it is marked changed when its time or place changed), one that is the same
        is left as it is, so importing a file twice changes nothing. Every event is
        checked first: its kind (one of """
        + ", ".join(KINDS)
        + """), the end after the start, the start not in the past, gemeenten and
        organisations that exist, and no other event of the same kind at the same
        time. One line per problem; then nothing is stored. An .ics file from Outlook
        or Google imports as it is: the kind from CATEGORIES or the title, public.""",
        (
            ("alliantiebot events import content/agenda.example.yaml", "the example"),
            ("alliantiebot events import export-from-outlook.ics", "a calendar file"),
        ),
    )
    imp.add_argument("file", type=Path, help="the agenda: a .yaml/.yml file or an .ics file")


def _list_parser(actions: Any, command: Command) -> None:
    listing = command(
        actions,
        "list",
        "list the upcoming events, or those one person would see (reads only)",
        """List the events that have not ended yet, soonest first: start and end in
        TIMEZONE, kind, status, sequence, title, place, audience and UID. With --role,
        --gemeente or --organisation only the events such a person sees: public ones
        and those for their role, gemeente or organisation.""",
        (
            ("alliantiebot events list", "every upcoming event"),
            (
                "alliantiebot events list --role gangmaker --gemeente leiden",
                "what a gangmaker in Leiden sees",
            ),
        ),
    )
    listing.add_argument("--all", action="store_true", help="past events too")
    listing.add_argument(
        "--role",
        action="append",
        default=[],
        help="as a person with this role (" + ", ".join(vocab.ROLES) + "); may be repeated",
    )
    listing.add_argument("--gemeente", help="as a person in this gemeente (e.g. leiden)")
    listing.add_argument("--organisation", help="as a person of this organisation id")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``events <action>``; its exit code."""
    from bot.storage import db

    url, patience = settings.database_url, settings.db_startup_timeout
    try:
        reads_only = args.action in READS_ONLY or (
            args.action == "plan" and plan_cli.reads_only(args)
        )
        async with db.command_transaction(url, patience, reads_only=reads_only) as session:
            return await _action(settings, session, args)
    except (Refused, plan_cli.PlanRefused, attendees_cli.AttendeesRefused, db.NotUpgraded) as exc:
        for line in str(exc).splitlines():
            print(f"alliantiebot: {line}", file=sys.stderr)
        return 1


async def _action(settings: Settings, session: AsyncSession, args: argparse.Namespace) -> int:
    from bot.storage.repositories.agenda import AgendaRepo

    repo = AgendaRepo(session)
    if args.action == "import":
        return await _import(settings, repo, args.file)
    if args.action == "list":
        return await _list(settings, repo, args)
    if args.action == "export":
        return await _export(repo, args.output)
    if args.action == "plan":
        return await plan_cli.run(settings, repo, args, _now())
    if args.action == "attendees":
        return await attendees_cli.run(repo, args)
    cancelled = await repo.cancel(args.uid, _now())
    if cancelled is None:
        raise Refused(f"there is no event with uid {args.uid!r} (see alliantiebot events list)")
    print(f"cancelled: {_line(cancelled)}")
    return 0


async def _import(settings: Settings, repo: Any, path: Path) -> int:
    from bot.agenda.files import AgendaFileError, Vocabulary, import_entries, read_file
    from bot.paths import content_dir

    try:
        entries = read_file(path, settings.timezone)
        vocabulary = Vocabulary.from_content(content_dir(settings.content_dir))
        outcome = await import_entries(repo, entries, vocabulary, _now())
    except AgendaFileError as exc:
        raise Refused("\n".join(exc.problems)) from None
    print(f"{path.name}: {len(entries)} events: {outcome.line()}")
    return 0


async def _list(settings: Settings, repo: Any, args: argparse.Namespace) -> int:
    from bot.agenda.model import Viewer

    unknown = [r for r in args.role if r not in vocab.ROLES]
    if unknown:
        raise Refused(f"--role: {unknown[0]!r} is not one of {', '.join(vocab.ROLES)}")
    as_person = bool(args.role or args.gemeente or args.organisation)
    viewer = Viewer(frozenset(args.role), args.gemeente, args.organisation) if as_person else None
    if args.all:
        events = [e for e in await repo.all() if viewer is None or _sees(e, viewer)]
    else:
        events = await repo.upcoming(_now(), viewer, include_cancelled=True)
    for event in events:
        print(_line(event))
    if not events:
        print("no events" if args.all else "no upcoming events")
    return 0


def _sees(event: Event, viewer: Any) -> bool:
    from bot.agenda.model import sees

    return sees(event.audience, viewer)


async def _export(repo: Any, output: Path | None) -> int:
    from bot.agenda.ical import to_ical

    calendar = to_ical(await repo.all(), name="Alliantie Positieve Gezondheid ZHN")
    if output is None:
        sys.stdout.write(calendar.decode("utf-8"))
        sys.stdout.flush()
        return 0
    try:
        await asyncio.to_thread(output.write_bytes, calendar)
    except OSError as exc:
        raise Refused(f"-o: {output} cannot be written ({exc.strerror})") from None
    print(f"{output}: {calendar.count(b'BEGIN:VEVENT')} events written", file=sys.stderr)
    return 0


def _line(event: Event) -> str:
    place = event.address or event.online_url or "-"
    return (
        f"{event.start:%Y-%m-%d %H:%M}-{event.end:%H:%M} {event.zone}  {event.kind:<15}  "
        f"{event.status:<9}  seq {event.sequence}  {event.title}  @ {place}  "
        f"for {event.audience}  uid {event.uid}"
    )
