"""``content/circles.yaml``: the "not with" wishes and each circle's first meeting.

The file (docs/gangmakers.md, "Reflectiecirkels")::

    apart:                      # pairs of organisation ids never put in one circle
      - [reos, participe]
    first_meeting:
      month: februari           # the first circle meets on the week-th weekday of month
      week: tweede              # eerste ... vierde (or 1-4)
      weekday: dinsdag
      start: "14:00"            # wall time in TIMEZONE, in quotes
      end: "16:00"
      place: ""                 # optional
      title: "Reflectiecirkel {n} ({year})"
      description: "..."        # {organisations}: the circle's names; {n}, {year}

Circle 1 meets on that day, circle 2 a week later, and so on: the two verbinders guide
every circle, so no two meet at once. A day that is not in the future moves on by whole
weeks, and so does a day with another agenda event at that time
(:mod:`bot.circles.events`). Every problem is one line (:class:`CircleRulesError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.agenda.model import instant
from bot.broadcast.audience import closest
from bot.broadcast.when import MONTHS, WEEKDAYS
from bot.paths import content_dir
from bot.yamltext import load_yaml

RULES_FILE = "circles.yaml"
WEEKS = {
    **dict.fromkeys(("eerste", "first", "1"), 1),
    **dict.fromkeys(("tweede", "second", "2"), 2),
    **dict.fromkeys(("derde", "third", "3"), 3),
    **dict.fromkeys(("vierde", "fourth", "4"), 4),
}
MEETING_FIELDS = ("month", "week", "weekday", "start", "end", "place", "title", "description")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class CircleRulesError(ValueError):
    """What is wrong with the file: one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class FirstMeeting:
    month: int = 2
    week: int = 2
    weekday: int = 1  # Monday is 0
    start: time = time(14, 0)
    end: time = time(16, 0)
    place: str = ""
    title: str = "Reflectiecirkel {n} ({year})"
    description: str = ""

    def rule_day(self, year: int) -> date:
        """The ``week``-th ``weekday`` of ``month`` in ``year``."""
        first = date(year, self.month, 1)
        return first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.week - 1))

    def days(
        self,
        year: int,
        count: int,
        now: datetime,
        zone: str,
        busy: Callable[[date], bool] = lambda day: False,
    ) -> list[date]:
        """The first meeting of each of ``count`` circles: a week apart, from the rule's
        day or, when that is not in the future, the first such weekday that is; a day
        that is ``busy`` (another event at that time) moves on to the next free week,
        and the circles after it with it."""
        day = self.rule_day(year)
        while instant(datetime.combine(day, self.start), zone) <= now:
            day += timedelta(weeks=1)
        days: list[date] = []
        for _ in range(count):
            while busy(day):
                day += timedelta(weeks=1)
            days.append(day)
            day += timedelta(weeks=1)
        return days


@dataclass(frozen=True, slots=True)
class CircleRules:
    apart: tuple[tuple[str, str], ...] = ()
    first_meeting: FirstMeeting = FirstMeeting()


def read_rules(text: str, organisations: tuple[str, ...], name: str = RULES_FILE) -> CircleRules:
    """The rules in ``text``; raises :class:`CircleRulesError` with every problem."""
    problems: list[str] = []
    try:
        data = load_yaml(text) or {}
    except yaml.YAMLError as exc:
        raise CircleRulesError([f"{name}: not YAML ({type(exc).__name__})"]) from None
    if not isinstance(data, dict):
        raise CircleRulesError([f"{name}: expected a mapping with apart: and first_meeting:"])
    for key in sorted(set(data) - {"apart", "first_meeting"}):
        problems.append(f"{name}: unknown field {key!r} (use apart, first_meeting)")
    apart = _apart(data.get("apart") or [], organisations, name, problems)
    meeting = _meeting(data.get("first_meeting") or {}, name, problems)
    if problems:
        raise CircleRulesError(problems)
    return CircleRules(apart, meeting)


def _apart(
    raw: Any, organisations: tuple[str, ...], name: str, problems: list[str]
) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        problems.append(f"{name}: apart: expected a list of pairs such as [reos, participe]")
        return ()
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] == entry[1]:
            problems.append(f"{name}: apart #{n}: expected two different organisation ids")
            continue
        for org in map(str, entry):
            if org not in organisations:
                guess = closest(org, organisations)
                hint = f" (did you mean {guess!r}?)" if guess else " (see organisations.yaml)"
                problems.append(f"{name}: apart #{n}: unknown organisation {org!r}{hint}")
        pairs.append((str(entry[0]), str(entry[1])))
    return tuple(pairs)


def _meeting(raw: Any, name: str, problems: list[str]) -> FirstMeeting:
    if not isinstance(raw, dict):
        problems.append(f"{name}: first_meeting: expected a mapping")
        return FirstMeeting()
    where = f"{name}: first_meeting"
    for key in sorted(set(raw) - set(MEETING_FIELDS)):
        problems.append(f"{where}: unknown field {key!r}")
    default = FirstMeeting()
    month = _lookup(raw, "month", MONTHS, default.month, where, problems)
    week = _lookup(raw, "week", WEEKS, default.week, where, problems)
    weekday = _lookup(raw, "weekday", WEEKDAYS, default.weekday, where, problems)
    start = _time(raw, "start", default.start, where, problems)
    end = _time(raw, "end", default.end, where, problems)
    if end <= start:
        problems.append(f"{where}: end {end:%H:%M} is not after start {start:%H:%M}")
    title = str(raw.get("title") or default.title)
    description = str(raw.get("description") or "")
    for key, value in (("title", title), ("description", description)):
        try:
            value.format(n=1, year=2027, organisations="")
        except (KeyError, IndexError, ValueError):
            problems.append(f"{where}: {key}: use only {{n}}, {{year}} and {{organisations}}")
    place = str(raw.get("place") or "")
    return FirstMeeting(month, week, weekday, start, end, place, title, description)


def _lookup(
    raw: dict[str, Any],
    key: str,
    words: dict[str, int],
    default: int,
    where: str,
    problems: list[str],
) -> int:
    if raw.get(key) is None:
        return default
    found = words.get(str(raw[key]).strip().casefold())
    if found is None:
        problems.append(f"{where}: {key} {raw[key]!r} is not one")
        return default
    return found


def _time(raw: dict[str, Any], key: str, default: time, where: str, problems: list[str]) -> time:
    value = raw.get(key)
    if value is None:
        return default
    match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        problems.append(f'{where}: {key} {value!r} is not a time such as "14:00" (in quotes)')
        return default
    return time(int(match.group(1)), int(match.group(2)))


def load_rules(content: Path, organisations: tuple[str, ...]) -> CircleRules:
    """The rules of a content folder; no file: no wishes and the defaults."""
    path = content / RULES_FILE
    if not path.is_file():
        return CircleRules()
    return read_rules(path.read_text(encoding="utf-8"), organisations)


def rules_problems(content: Path) -> list[str]:
    """What is wrong with ``content``'s circles file, one line each (``content check``)."""
    from bot.people.directory import read

    try:
        organisations = tuple(o.id for o in read(content).organisations)
        load_rules(content, organisations)
    except CircleRulesError as exc:
        return exc.problems
    except (OSError, ValueError) as exc:  # the partner list itself: said where it is read
        return [f"{RULES_FILE}: the partner list cannot be read ({exc})"]
    return []


def current_rules(override: Path | None = None) -> CircleRules:
    """The rules of the content folder in use, read again when the file changed."""
    content = content_dir(override)
    path = content / RULES_FILE
    changed = path.stat().st_mtime_ns if path.is_file() else 0
    return _cached(content, changed)


@lru_cache(maxsize=4)
def _cached(content: Path, changed: int) -> CircleRules:
    from bot.people.directory import read

    organisations = tuple(o.id for o in read(content).organisations)
    return load_rules(content, organisations)
