"""``alliantiebot events attendees <uid> [--csv]``: who answered an event, for the
verbinders at the server (the chat has ``/agenda deelnemers``). Reads only.

Without ``--csv``: the event, the counts (yes, maybe, no, waitlist) and the names per
answer. With ``--csv``: one row per answer on standard output (name, answer,
waitlist_position, answered_at in the event's zone). Names are personal data: the
output is for the organisers only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from bot.agenda.attendees import to_csv

NAMELESS = "(no name)"
HEADER = ("name", "answer", "waitlist_position", "answered_at")


class AttendeesRefused(Exception):
    """An unknown uid: one line, exit code 1."""


def add_parser(actions: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    attendees = command(
        actions,
        "attendees",
        "who answered an event: counts and names, or a CSV (reads only)",
        """Show who answered the event with this UID: the counts of yes (with a seat),
        maybe, no and the waiting list, and the display names per answer (the waiting
        list in its order). With --csv, one row per answer on standard output: name,
        answer, waitlist_position and answered_at (wall time in the event's zone).
        The names are personal data: for the organisers only.""",
        (
            ("alliantiebot events attendees leeratelier-2027-03@alliantiepg.nl", "the list"),
            (
                "alliantiebot events attendees leeratelier-2027-03@alliantiepg.nl --csv > a.csv",
                "as a CSV file",
            ),
        ),
    )
    attendees.add_argument("uid", help="the event's UID (see events list)")
    attendees.add_argument("--csv", action="store_true", help="CSV on standard output")


def _name(attendee: Any) -> str:
    return str(attendee.name or NAMELESS)


async def run(repo: Any, args: argparse.Namespace) -> int:
    """Print the attendees of ``args.uid``; raises :class:`AttendeesRefused`."""
    event = await repo.get(args.uid)
    if event is None:
        raise AttendeesRefused(
            f"there is no event with uid {args.uid!r} (see alliantiebot events list)"
        )
    found = await repo.rsvps.attendees(event.id)
    if args.csv:
        sys.stdout.write(to_csv(HEADER, found, event.zone, _name, str))
        sys.stdout.flush()
        return 0
    groups = {
        "yes": [a for a in found if a.answer == "yes" and a.waiting is None],
        "maybe": [a for a in found if a.answer == "maybe"],
        "no": [a for a in found if a.answer == "no"],
        "waitlist": [a for a in found if a.waiting is not None],
    }
    print(f"{event.start:%Y-%m-%d %H:%M} {event.title} ({event.status}, uid {event.uid})")
    print("  ".join(f"{key}: {len(people)}" for key, people in groups.items()))
    for key, people in groups.items():
        for attendee in people:
            place = f" #{attendee.waiting}" if attendee.waiting is not None else ""
            print(f"{key}{place}\t{_name(attendee)}")
    return 0
