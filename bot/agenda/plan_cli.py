"""``alliantiebot events plan <kind> --year <year>``: a year's dates from the series rules.

Prints the proposal (one line per date, with why a date moved and which dates are in
the agenda already); ``--yaml`` prints it as an agenda file that ``events import``
accepts, to adjust in an editor first; ``--save`` stores the new dates at once. A
series with ``rotation:`` (the gangmakers) gets two hosts a date in turn
(:mod:`bot.agenda.rotation`): the volunteers from ``--from FILE`` or the rules,
``--seed`` for the ties; ``--csv`` prints only ``start,host_1,host_2``. The
rules are ``content/agenda_series.yaml`` (:mod:`bot.agenda.series`), the proposal
:func:`bot.agenda.plan.plan`. Output is in English like the rest of the CLI.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml

from bot.agenda.model import PUBLIC, EventData, instant

if TYPE_CHECKING:
    from bot.agenda.plan import Planned, Proposal
    from bot.agenda.rotation import Volunteer
    from bot.settings import Settings
    from bot.storage.repositories.agenda import AgendaRepo

Command = Callable[..., argparse.ArgumentParser]
MOVED = {"holiday": "moved off a public holiday", "taken": "moved: another one that day"}
LEFT = {"past": "not in the future", "no_day": "no free day in that month"}


class PlanRefused(Exception):
    """No rules for this kind, rules that cannot be read, a date that cannot be saved."""


def add_parser(actions: Any, command: Command) -> None:
    planning = command(
        actions,
        "plan",
        "propose a year's dates of a series (leerateliers) from content rules",
        """Propose the dates of KIND (leerateliers) in YEAR from the rules in
        content/agenda_series.yaml: the weekday, which week of the month, the months,
        the times, the place, hosts, audience and title. A date on a Dutch public
        holiday or on a day with another event of the same kind moves a week; a date
        not in the future is left out. Every date has a fixed UID (kind, year, month),
        so saving twice adds nothing twice; a date already in the agenda is shown as
        it is stored and not saved over. Without --save nothing is stored.""",
        (
            ("alliantiebot events plan leerateliers --year 2027", "show the proposal"),
            (
                "alliantiebot events plan leerateliers --year 2027 --yaml > plan.yaml",
                "as a file to adjust, then: alliantiebot events import plan.yaml",
            ),
            ("alliantiebot events plan leerateliers --year 2027 --save", "store it as it is"),
            (
                "alliantiebot events plan gangmakers --year 2027 --from gastheren.txt --csv",
                "two hosts a meeting in turn, as CSV (start,host_1,host_2)",
            ),
        ),
    )
    planning.add_argument("kind", help="the series: a kind with rules, e.g. leerateliers")
    planning.add_argument("--year", type=int, required=True, help="the year to plan, e.g. 2027")
    output = planning.add_mutually_exclusive_group()
    output.add_argument(
        "--yaml", action="store_true", help="print the new dates as an agenda file to import"
    )
    output.add_argument("--save", action="store_true", help="store the new dates in the agenda")
    output.add_argument(
        "--csv",
        action="store_true",
        help="print only CSV: start (ISO 8601 with offset),host_1,host_2, a date a row",
    )
    planning.add_argument(
        "--from",
        dest="volunteers",
        metavar="FILE",
        help="hosts in turn: the volunteering organisations, one id or name a line, "
        "optionally 'reos; niet in juli, augustus' (default: the rules' rotation)",
    )
    planning.add_argument(
        "--seed",
        type=int,
        help="hosts in turn: breaks ties; the same seed, the same plan (default: the year)",
    )


def reads_only(args: argparse.Namespace) -> bool:
    return not args.save


async def run(settings: Settings, repo: AgendaRepo, args: argparse.Namespace, now: datetime) -> int:
    proposal = await propose(
        settings, repo, args.kind, args.year, now, volunteers=args.volunteers, seed=args.seed
    )
    for warning in host_warnings(proposal):  # on stderr: --csv stays pure CSV
        print(warning, file=sys.stderr)
    if args.csv:
        sys.stdout.write(as_csv(proposal))
        return 0
    if args.yaml:
        sys.stdout.write(as_yaml(proposal, settings.timezone))
        return 0
    for item in proposal.items:
        print(_line(item))
    for left in proposal.skipped:
        print(f"{left.rule_day:%Y-%m-%d}  left out: {LEFT[left.why]}")
    if not proposal.items:
        print(f"no dates to propose for {proposal.kind} in {proposal.year}")
    if args.save:
        added = await save(repo, proposal.new, now)
        kept = len(proposal.items) - len(proposal.new)
        print(f"{proposal.kind} {proposal.year}: {added} added, {kept} already in the agenda")
    return 0


async def propose(
    settings: Settings,
    repo: AgendaRepo,
    kind: str,
    year: int,
    now: datetime,
    *,
    volunteers: str | None = None,
    seed: int | None = None,
) -> Proposal:
    """The proposal; for a series with hosts in turn, with the hosts (``volunteers``:
    a file of volunteer lines, :func:`bot.agenda.rotation.read_volunteers`)."""
    from bot.agenda.files import Vocabulary
    from bot.agenda.plan import plan, with_hosts
    from bot.agenda.series import NoRules, SeriesRulesError, load_rules
    from bot.paths import content_dir

    if not 2000 <= year <= 2200:
        raise PlanRefused(f"--year {year} is not a year such as {now.year + 1}")
    content = content_dir(settings.content_dir)
    vocabulary = Vocabulary.from_content(content)
    try:
        rule = load_rules(content, vocabulary).find(kind)
    except (NoRules, SeriesRulesError) as exc:
        raise PlanRefused(str(exc)) from None
    existing = await repo.all()
    proposal = plan(rule, year, zone=settings.timezone, now=now, existing=existing)
    if rule.rotation is None:
        if volunteers is not None or seed is not None:
            raise PlanRefused(f"{rule.kind} has no hosts in turn (no rotation: in its rules)")
        return proposal
    chosen = rule.rotation.volunteers_from(vocabulary.organisations)
    if volunteers is not None:
        chosen = _volunteers_file(volunteers, _resolver(settings), dict(rule.rotation.not_in))
    return with_hosts(proposal, chosen, existing, year if seed is None else seed)


def _volunteers_file(
    name: str, resolve: Callable[[str], str], not_in: dict[str, frozenset[int]]
) -> list[Volunteer]:
    """The volunteers in the file; an organisation without its own "niet in" keeps
    the one in the rules."""
    from pathlib import Path

    from bot.agenda.rotation import Volunteer, VolunteersError, read_volunteers

    try:
        lines = Path(name).read_text(encoding="utf-8").splitlines()
        read = read_volunteers(lines, resolve=resolve)
    except OSError as exc:
        raise PlanRefused(f"--from {name}: {exc.strerror or exc}") from None
    except VolunteersError as exc:
        raise PlanRefused("\n".join(f"--from {name}: {p}" for p in exc.problems)) from None
    if not read:
        raise PlanRefused(f"--from {name}: no organisations in it")
    return [
        v if v.not_in else Volunteer(v.organisation, not_in.get(v.organisation, frozenset()))
        for v in read
    ]


def host_warnings(proposal: Proposal) -> list[str]:
    """A line for each date of a series with hosts in turn that has fewer than two
    hosts (nobody else volunteers, or can in its month)."""
    from bot.agenda.plan import alone

    if not proposal.rotation:
        return []
    out = []
    for item in alone(proposal):
        hosts = item.data.hosts
        who = f"only {hosts[0]} hosts" if hosts else "nobody hosts"
        out.append(
            f"warning: {item.data.start:%Y-%m-%d}: {who}: no other volunteer can host in that month"
        )
    return out


def _resolver(settings: Settings) -> Callable[[str], str]:
    """An organisation's id from its id or name (case, spaces and hyphens aside), as
    ``circles compose --from`` reads them; a ValueError with a "did you mean" (a
    close one, or the names a word is in) when it is not one."""
    from bot.broadcast.audience import closest
    from bot.paths import content_dir
    from bot.people.directory import read

    partners = read(content_dir(settings.content_dir)).organisations

    def loose(text: str) -> str:
        return "".join(text.casefold().split()).replace("-", "")

    known = {loose(o.id): o.id for o in partners} | {loose(o.name): o.id for o in partners}

    def resolve(text: str) -> str:
        if loose(text) in known:
            return known[loose(text)]
        word = loose(text)
        meant = [o.name for o in partners if word and word in loose(o.name)]
        guess = closest(text, [o.id for o in partners] + [o.name for o in partners])
        meant = meant or ([guess] if guess else [])
        hint = (
            " (did you mean " + " or ".join(repr(m) for m in meant[:3]) + "?)"
            if meant
            else " (see content/organisations.yaml)"
        )
        raise ValueError(f"unknown organisation {text!r}{hint}")

    return resolve


def as_csv(proposal: Proposal) -> str:
    """``start,host_1,host_2``: one date a row (those in the agenda too), the start in
    ISO 8601 with the zone's offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start", "host_1", "host_2"])
    for item in proposal.items:
        data = item.data
        start = instant(data.start, data.zone).astimezone(ZoneInfo(data.zone))
        hosts = [*data.hosts[:2], "", ""][:2]
        writer.writerow([start.isoformat(), *hosts])
    return out.getvalue()


async def save(repo: AgendaRepo, items: tuple[Planned, ...], now: datetime) -> int:
    """Store the dates (checked again: none in the past, none on a taken day); how many
    were added. Anything wrong: :class:`PlanRefused` and nothing is stored (the caller's
    transaction rolls back)."""
    from bot.agenda.plan import conflict

    stored = await repo.all()
    problems = []
    for item in items:
        why = conflict(item.data, [*stored, *(i.data for i in items)], now)
        if why is not None:
            problems.append(f"{item.data.uid}: {LEFT.get(why, 'another one that day')}")
    if problems:
        raise PlanRefused("\n".join(problems))
    added = 0
    for item in items:
        _, saved = await repo.save(item.data, now)
        added += saved == "added"
    return added


def _line(item: Planned) -> str:
    data = item.data
    place = data.address or data.online_url or "-"
    if data.hosts:
        place += f"  hosts {' + '.join(data.hosts)}"
    notes = ["already in the agenda" if item.stored else "", MOVED.get(item.moved or "", "")]
    if item.moved:
        notes.append(f"rule day {item.rule_day:%Y-%m-%d}")
    note = "; ".join(n for n in notes if n)
    return (
        f"{data.start:%Y-%m-%d %a %H:%M}-{data.end:%H:%M}  {data.title}  @ {place}  "
        f"uid {data.uid}" + (f"  ({note})" if note else "")
    )


def as_yaml(proposal: Proposal, zone: str) -> str:
    """The new dates as an agenda file (docs/agenda.md) for ``events import``."""
    events = [_yaml_event(item.data) for item in proposal.new]
    kept = [item.data.uid for item in proposal.items if item.stored]
    header = [
        f"# {proposal.kind} {proposal.year}: proposed by alliantiebot events plan.",
        "# Adjust dates, times and titles here (keep each uid), then:",
        "#   alliantiebot events import <this file>",
        *(f"# Already in the agenda, not repeated here: {uid}" for uid in kept),
        *(f"# Left out: {s.rule_day:%Y-%m-%d} ({LEFT[s.why]})" for s in proposal.skipped),
    ]
    body = yaml.dump(
        {"zone": zone, "events": events},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
    )
    return "\n".join(header) + "\n" + body


class _Dumper(yaml.SafeDumper):
    """Writes an agenda file as a person would: times in quotes (as docs/agenda.md
    asks), a description over more lines as a block."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if value[:1].isdigit():
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _text)


def _yaml_event(data: EventData) -> dict[str, Any]:
    event: dict[str, Any] = {
        "uid": data.uid,
        "kind": data.kind,
        "title": data.title,
        "start": f"{data.start:%Y-%m-%d %H:%M}",
        "end": f"{data.end:%H:%M}"
        if data.end.date() == data.start.date()
        else f"{data.end:%Y-%m-%d %H:%M}",
    }
    if data.description:
        event["description"] = data.description
    if data.address:
        event["place"] = data.address
    if data.online_url:
        event["online"] = data.online_url
    if data.hosts:
        event["hosts"] = list(data.hosts)
    event["audience"] = data.audience or PUBLIC
    if data.capacity is not None:
        event["capacity"] = data.capacity
    return event
