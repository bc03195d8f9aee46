"""Who answered an event, as a CSV file: for its organisers in the chat
(``/agenda deelnemers``) and for ``alliantiebot events attendees --csv``.

One row per answer: name, answer, place on the waitlist, and when they answered as
wall time in the event's zone. A name a spreadsheet would take for a formula (``=``,
``+``, ``-``, ``@`` first) gets a leading ``'``, so opening the file runs nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from bot.agenda.model import wall_time
from bot.storage.repositories.rsvp import Attendee

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A text as a spreadsheet shows it, never as a formula it runs."""
    return f"'{value}" if value.startswith(_FORMULA) else value


def to_csv(
    header: Sequence[str],
    attendees: Sequence[Attendee],
    zone: str,
    name: Callable[[Attendee], str],
    answer: Callable[[str], str],
) -> str:
    """The CSV text: ``header``, then one row per attendee (``name`` gives the name to
    show, also for someone without one; ``answer`` the word for yes, maybe or no)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for attendee in attendees:
        local = wall_time(attendee.answered_at, zone)
        writer.writerow(
            [
                safe_cell(name(attendee)),
                answer(attendee.answer),
                "" if attendee.waiting is None else str(attendee.waiting),
                f"{local:%Y-%m-%d %H:%M}",
            ]
        )
    return out.getvalue()
