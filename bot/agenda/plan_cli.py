"""``alliantiebot events plan <kind> --year <year>``: a year's dates from the series rules.

Prints the proposal (one line per date, with why a date moved and which dates are in
the agenda already); ``--yaml`` prints it as an agenda file that ``events import``
accepts, to adjust in an editor first; ``--save`` stores the new dates at once. The
rules are ``content/agenda_series.yaml`` (:mod:`bot.agenda.series`), the proposal
:func:`bot.agenda.plan.plan`. Output is in English like the rest of the CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import yaml

from bot.agenda.model import PUBLIC, EventData

if TYPE_CHECKING:
    from bot.agenda.plan import Planned, Proposal
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
        ),
    )
    planning.add_argument("kind", help="the series: a kind with rules, e.g. leerateliers")
    planning.add_argument("--year", type=int, required=True, help="the year to plan, e.g. 2027")
    output = planning.add_mutually_exclusive_group()
    output.add_argument(
        "--yaml", action="store_true", help="print the new dates as an agenda file to import"
    )
    output.add_argument("--save", action="store_true", help="store the new dates in the agenda")


def reads_only(args: argparse.Namespace) -> bool:
    return not args.save


async def run(settings: Settings, repo: AgendaRepo, args: argparse.Namespace, now: datetime) -> int:
    proposal = await propose(settings, repo, args.kind, args.year, now)
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
    settings: Settings, repo: AgendaRepo, kind: str, year: int, now: datetime
) -> Proposal:
    from bot.agenda.files import Vocabulary
    from bot.agenda.plan import plan
    from bot.agenda.series import NoRules, SeriesRulesError, load_rules
    from bot.paths import content_dir

    if not 2000 <= year <= 2200:
        raise PlanRefused(f"--year {year} is not a year such as {now.year + 1}")
    content = content_dir(settings.content_dir)
    try:
        rule = load_rules(content, Vocabulary.from_content(content)).find(kind)
    except (NoRules, SeriesRulesError) as exc:
        raise PlanRefused(str(exc)) from None
    return plan(rule, year, zone=settings.timezone, now=now, existing=await repo.all())


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
