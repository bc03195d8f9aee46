"""``alliantiebot circles compose|history``: the year's reflectiecirkels from scripts.

``compose`` prints the circles (:func:`bot.circles.compose.compose`) as a table, or
with ``--csv`` only CSV (``circle,organisation``); ``--save`` stores them with one
agenda event per circle (:mod:`bot.circles.events`). ``history`` shows the stored
years. Participants come from ``--from FILE`` (one organisation a line, its id or its
name) or else every partner in ``content/organisations.yaml``; the "not with" wishes
and the first meeting from ``content/circles.yaml``. Output is in English like the
rest of the CLI. Exit codes: 0 done, 1 refused (one line each), 2 configuration.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.agenda.model import Event, EventData
    from bot.circles.compose import Composition, History
    from bot.circles.rules import FirstMeeting
    from bot.people.directory import Directory
    from bot.settings import Settings

Command = Callable[..., argparse.ArgumentParser]
WHY = {
    "too_few": "{count} organisations: a circle needs at least 3",
    "five": "5 organisations cannot be split into circles of 3 or 4: add or leave out one",
    "apart": "the 'not with' wishes in content/circles.yaml cannot all be kept: {pairs}",
}


class Refused(Exception):
    """Bad input: printed as one line each, exit code 1."""


def _now() -> datetime:
    """The current instant (tests replace it: the first meetings depend on it)."""
    return datetime.now(UTC)


def add_parser(sub: Any, command: Command, subcommands: Callable[..., Any]) -> None:
    parent = command(
        sub,
        "circles",
        "compose the year's reflectiecirkels, or show the earlier years",
        """Reflectiecirkels: every year the participating partner organisations meet in
        circles of three or four, with as few pairs as possible that sat together in an
        earlier year, and never two that asked not to be together (content/circles.yaml).
        How they are composed: docs/gangmakers.md.""",
        (
            ("alliantiebot circles compose --year 2027", "propose; stores nothing"),
            ("alliantiebot circles compose --year 2027 --save", "store them, with events"),
            ("alliantiebot circles history", "the circles of earlier years"),
        ),
    )
    actions = subcommands(parent)
    compose = command(
        actions,
        "compose",
        "compose a year's circles of 3 or 4 organisations (--save stores them)",
        """Compose the circles of YEAR: every organisation in exactly one circle of three
        or four, as few pairs as possible that sat together in a stored earlier year
        (recent and frequent ones weigh more), none of the 'not with' pairs of
        content/circles.yaml. The same participants, history and --seed give the same
        circles; another seed another composition that is as good. --save stores them
        with one agenda event per circle for its first meeting (RSVP and reminders as
        for every event); a year is stored once.""",
        (
            ("alliantiebot circles compose --year 2027", "the table"),
            ("alliantiebot circles compose --year 2027 --from deelnemers.txt --csv", "CSV"),
            ("alliantiebot circles compose --year 2027 --seed 3 --save", "store seed 3's"),
        ),
    )
    compose.add_argument("--year", type=int, required=True, help="the year, e.g. 2027")
    compose.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="the participants: one organisation (id or name) a line; default: every partner",
    )
    compose.add_argument("--seed", type=int, default=0, help="another seed, another composition")
    compose.add_argument("--csv", action="store_true", help="print only CSV: circle,organisation")
    compose.add_argument("--save", action="store_true", help="store the circles and their events")
    history = command(
        actions,
        "history",
        "show the stored circles of every year (reads only)",
        """Show the circles stored for each year, oldest first, with the organisations
        of each circle; with --csv as CSV with the header year,circle,organisation.""",
        (("alliantiebot circles history", "every year"),),
    )
    history.add_argument("--csv", action="store_true", help="print CSV: year,circle,organisation")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``circles <action>``; its exit code."""
    from bot.storage import db

    reads_only = not (args.action == "compose" and args.save)
    try:
        participants = _participants(settings, args) if args.action == "compose" else []
        async with db.command_transaction(
            settings.database_url, settings.db_startup_timeout, reads_only=reads_only
        ) as session:
            if args.action == "history":
                return await _history(settings, session, args.csv)
            return await _compose(settings, session, args, participants)
    except (Refused, db.NotUpgraded) as exc:
        for line in str(exc).splitlines():
            print(f"alliantiebot: {line}", file=sys.stderr)
        return 1


def _directory(settings: Settings) -> Directory:
    from bot.paths import content_dir
    from bot.people.directory import read

    return read(content_dir(settings.content_dir))


def _participants(settings: Settings, args: argparse.Namespace) -> list[str]:
    """The ids of ``--from``'s lines (ids or names, case and spaces aside), or every
    partner. An unknown line is refused, with the closest partner as a guess."""
    from bot.broadcast.audience import closest

    partners = _directory(settings).organisations
    if args.source is None:
        return [o.id for o in partners]
    try:
        lines = args.source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"--from: {args.source} cannot be read ({exc})") from None
    known = {_loose(o.id): o.id for o in partners} | {_loose(o.name): o.id for o in partners}
    found, problems = [], []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if _loose(text) in known:
            found.append(known[_loose(text)])
            continue
        guess = closest(text, [o.id for o in partners] + [o.name for o in partners])
        hint = f" (did you mean {guess!r}?)" if guess else " (see content/organisations.yaml)"
        problems.append(f"{args.source}:{number}: unknown organisation {text!r}{hint}")
    if problems:
        raise Refused("\n".join(problems))
    return list(dict.fromkeys(found))


def _loose(text: str) -> str:
    return "".join(text.casefold().split()).replace("-", "")


async def _compose(
    settings: Settings, session: AsyncSession, args: argparse.Namespace, participants: list[str]
) -> int:
    from bot.circles.compose import CirclesError, compose
    from bot.circles.events import save_year
    from bot.circles.rules import CircleRulesError, load_rules
    from bot.paths import content_dir
    from bot.storage.repositories.agenda import AgendaRepo
    from bot.storage.repositories.circles import CircleRepo

    if not 2000 <= args.year <= 2200:
        raise Refused(f"--year {args.year} is not a year such as 2027")
    directory = _directory(settings)
    try:
        rules = load_rules(
            content_dir(settings.content_dir), tuple(o.id for o in directory.organisations)
        )
    except CircleRulesError as exc:
        raise Refused(str(exc)) from None
    repo = CircleRepo(session)
    stored = await repo.year(args.year)
    if stored and args.save:
        raise Refused(f"the circles of {args.year} are stored already (circles history)")
    if stored:
        print(f"note: the circles of {args.year} are stored already", file=sys.stderr)
    history = await repo.history(before=args.year)
    try:
        made = compose(
            participants, year=args.year, history=history, apart=rules.apart, seed=args.seed
        )
    except CirclesError as exc:
        pairs = ", ".join(f"{a} + {b}" for a, b in exc.pairs)
        raise Refused(WHY[exc.code].format(count=exc.count, pairs=pairs)) from None
    names = {o.id: o.name for o in directory.organisations}
    agenda = AgendaRepo(session)
    now = _now()
    meeting = rules.first_meeting
    if args.save:  # refused before anything is printed when the dates cannot be
        events = _events(
            args.year, made, meeting, names, now, settings.timezone, await agenda.all()
        )
    if args.csv:
        _csv(made)
    else:
        _table(made, names, history)
    if args.save:
        await save_year(repo, agenda, args.year, made.circles, events, now)
        _saved(args.year, made, meeting, events, now, settings.timezone, args.csv)
    return 0


def _events(
    year: int,
    made: Composition,
    meeting: FirstMeeting,
    names: dict[str, str],
    now: datetime,
    zone: str,
    others: list[Event],
) -> list[EventData]:
    from bot.circles.events import CircleYearError, circle_events

    try:
        return circle_events(year, made.circles, meeting, names, now, zone, others)
    except CircleYearError as exc:
        raise Refused(
            f"the first meetings of {year} would run until {exc.last:%Y-%m-%d}, "
            f"into {exc.last.year}: the day of {year} has passed; "
            f"compose --year {year + 1} instead"
        ) from None


def _saved(
    year: int,
    made: Composition,
    meeting: FirstMeeting,
    events: list[EventData],
    now: datetime,
    zone: str,
    as_csv: bool,
) -> None:
    from bot.circles.events import moved

    out = sys.stderr if as_csv else sys.stdout
    first = events[0].start
    print(
        f"saved: {len(made.circles)} circles of {year}, each with an event "
        f"(the first on {first:%Y-%m-%d %H:%M}, a week apart)",
        file=out,
    )
    for n, was, day in moved(year, meeting, now, zone, events):
        print(
            f"moved: circle {n} from {was:%Y-%m-%d} to {day:%Y-%m-%d} "
            "(another agenda event at that time)",
            file=out,
        )


def _csv(made: Composition) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["circle", "organisation"])
    for n, circle in enumerate(made.circles, start=1):
        out.writerows([n, org] for org in circle)


def _table(made: Composition, names: dict[str, str], history: History) -> None:
    print(
        f"Reflectiecirkels {made.year} (seed {made.seed}): {made.organisations} "
        f"organisations in {len(made.circles)} circles"
    )
    width = max(len(org) for circle in made.circles for org in circle)
    for n, circle in enumerate(made.circles, start=1):
        for k, org in enumerate(circle):
            print(f"{n if k == 0 else '':>3}  {org:<{width}}  {names.get(org, '')}".rstrip())
    if not made.repeated:
        print("pairs that sat together before: none")
        return
    print(f"pairs that sat together before: {len(made.repeated)}")
    for a, b in made.repeated:
        years = [y for y, circles in history.items() if any(a in c and b in c for c in circles)]
        print(f"  {a} + {b} ({', '.join(map(str, years))})")


async def _history(settings: Settings, session: AsyncSession, as_csv: bool) -> int:
    from bot.storage.repositories.circles import CircleRepo

    years = await CircleRepo(session).history()
    if as_csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["year", "circle", "organisation"])
        for year, circles in years.items():
            for n, circle in enumerate(circles, start=1):
                out.writerows([year, n, org] for org in circle)
        return 0
    names = {o.id: o.name for o in _directory(settings).organisations}
    for year, circles in years.items():
        print(f"{year}: {len(circles)} circles")
        for n, circle in enumerate(circles, start=1):
            print(f"{n:>3}  " + ", ".join(names.get(org, org) for org in circle))
    if not years:
        print("no circles stored yet (alliantiebot circles compose --year YEAR --save)")
    return 0
