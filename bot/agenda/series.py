"""Series rules: when a kind of event comes back each year (``content/agenda_series.yaml``).

One block per kind: the weekday, which of them in the month (``derde``, ``laatste``),
the months (each may name its own weekday, week and theme), the wall times, the
default place, hosts, audience and title. :func:`load_rules` reads and checks the
file and raises :class:`SeriesRulesError` with one line per problem (a weekday, a
month or a time that is not one, a host that does not exist ...). Another kind gets
rules by adding its block; :meth:`SeriesRules.find` names the kinds that have some.
The format is in docs/agenda.md ("Planning a year").
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.agenda.files import Vocabulary, event_problems
from bot.agenda.model import KINDS, PUBLIC, EventData
from bot.agenda.rotation import Volunteer, months_of
from bot.broadcast.when import MONTHS, WEEKDAYS
from bot.paths import content_dir
from bot.yamltext import load_yaml

RULES_FILE = "agenda_series.yaml"
LAST = -1
# Which weekday of the month: Dutch and English words, or the number.
WEEKS = {
    **dict.fromkeys(("eerste", "first", "1"), 1),
    **dict.fromkeys(("tweede", "second", "2"), 2),
    **dict.fromkeys(("derde", "third", "3"), 3),
    **dict.fromkeys(("vierde", "fourth", "4"), 4),
    **dict.fromkeys(("laatste", "last", "-1"), LAST),
}
KIND_FIELDS = (
    "names", "title", "title_with_theme", "description", "weekday", "week", "months",
    "start", "end", "place", "online", "hosts", "audience", "capacity", "skip_holidays",
    "rotation",
)  # fmt: skip
ROTATION_FIELDS = ("volunteers", "not_in")
MONTH_FIELDS = ("month", "weekday", "week", "theme")
TITLE_FIELDS = frozenset({"n", "year", "theme"})


class SeriesRulesError(ValueError):
    """A rules file that cannot be used: every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NoRules(LookupError):
    """A kind (or word) with no rules; ``known`` lists the kinds that have some."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        listed = ", ".join(known) or "none"
        super().__init__(f"no rules for the kind {name!r} (kinds with rules: {listed})")
        self.name, self.known = name, known


@dataclass(frozen=True)
class Slot:
    """One date a year: the ``week``-th ``weekday`` (0 is Monday) of ``month``."""

    month: int
    weekday: int
    week: int  # 1-4, or LAST
    theme: str = ""


@dataclass(frozen=True)
class HostRotation:
    """Hosts in turn (``rotation:``): two organisations a date, from ``volunteers``
    (empty: every organisation in organisations.yaml); ``not_in``: per organisation
    the months (1-12) it cannot host. :mod:`bot.agenda.rotation` makes the turns."""

    volunteers: tuple[str, ...] = ()
    not_in: tuple[tuple[str, frozenset[int]], ...] = ()

    def volunteers_from(self, organisations: tuple[str, ...]) -> list[Volunteer]:
        never = dict(self.not_in)
        chosen = self.volunteers or organisations
        return [Volunteer(org, never.get(org, frozenset())) for org in chosen]


@dataclass(frozen=True)
class SeriesRule:
    """How one kind of event comes back each year."""

    kind: str
    names: tuple[str, ...]
    slots: tuple[Slot, ...]
    start: time
    end: time
    title: str
    title_with_theme: str
    description: str = ""
    address: str | None = None
    online_url: str | None = None
    hosts: tuple[str, ...] = ()
    audience: str = PUBLIC
    capacity: int | None = None
    skip_holidays: bool = True
    rotation: HostRotation | None = None  # hosts in turn, instead of the same ``hosts``

    def title_for(self, n: int, year: int, theme: str = "") -> str:
        """The title of the ``n``-th date of ``year``: with the theme, if there is one."""
        pattern = self.title_with_theme if theme.strip() else self.title
        return pattern.format(n=n, year=year, theme=theme.strip())


@dataclass(frozen=True)
class SeriesRules:
    """Every kind's rules, by kind."""

    rules: dict[str, SeriesRule]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.rules)

    def find(self, name: str) -> SeriesRule:
        """The rules a word names (the kind, or one of its ``names``, any case)."""
        word = name.strip().casefold()
        for rule in self.rules.values():
            if word == rule.kind or word in rule.names:
                return rule
        raise NoRules(name, self.kinds)


def current_rules(override: Path | None = None) -> SeriesRules:
    """The rules in the content directory (``CONTENT_DIR`` or the default), read again
    only when the file changed: what the chat uses."""
    content = content_dir(override)
    path = content / RULES_FILE
    return _cached(content, path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=4)
def _cached(content: Path, changed: int) -> SeriesRules:
    return load_rules(content)


def rules_problems(content: Path) -> list[str]:
    """What is wrong with the rules file, one line each (``alliantiebot content check``)."""
    try:
        load_rules(content)
    except SeriesRulesError as exc:
        return exc.problems
    return []


def load_rules(content: Path, vocabulary: Vocabulary | None = None) -> SeriesRules:
    """The rules of ``content/agenda_series.yaml`` (none when the file is missing)."""
    path = content / RULES_FILE
    if not path.exists():
        return SeriesRules({})
    known = vocabulary if vocabulary is not None else Vocabulary.from_content(content)
    return read_rules(path.read_text(encoding="utf-8"), known, path.name)


def read_rules(text: str, vocabulary: Vocabulary, name: str = RULES_FILE) -> SeriesRules:
    """The rules in ``text``, checked; :class:`SeriesRulesError` lists every problem."""
    try:
        document = load_yaml(text)
    except Exception as exc:  # yaml.YAMLError, with the line and column in its text
        raise SeriesRulesError([f"{name}: not valid YAML ({' '.join(str(exc).split())})"]) from None
    series = document.get("series") if isinstance(document, dict) else None
    if not isinstance(series, dict):
        raise SeriesRulesError([f"{name}: expected a mapping of kinds under 'series:'"])
    rules: dict[str, SeriesRule] = {}
    problems: list[str] = []
    words: dict[str, str] = {}
    for kind, block in series.items():
        reader = _KindReader(str(kind), block, f"{name}: {kind}", vocabulary)
        rule = reader.rule()
        problems += reader.problems
        if rule is None:
            continue
        for word in (rule.kind, *rule.names):
            other = words.setdefault(word, rule.kind)
            if other != rule.kind:
                problems.append(f"{name}: {kind}: the name {word!r} is also {other}'s")
        rules[rule.kind] = rule
    if problems:
        raise SeriesRulesError(problems)
    return SeriesRules(rules)


class _KindReader:
    """One kind's block, read field by field; problems collected."""

    def __init__(self, kind: str, block: Any, where: str, vocabulary: Vocabulary) -> None:
        self.kind, self.where, self.vocabulary = kind.strip().casefold(), where, vocabulary
        self.block: dict[str, Any] = block if isinstance(block, dict) else {}
        self.problems: list[str] = [] if isinstance(block, dict) else [f"{where}: not a mapping"]

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.where}: {text}")

    def rule(self) -> SeriesRule | None:
        if self.problems:
            return None
        if self.kind not in KINDS:
            self.problem(f"{self.kind!r} is not a kind (one of {', '.join(KINDS)})")
        for key in sorted(str(k) for k in self.block if k not in KIND_FIELDS):
            self.problem(f"unknown field {key!r} (fields: {', '.join(KIND_FIELDS)})")
        weekday = _weekday(self.block.get("weekday"))
        if weekday is None:
            self.problem(f"weekday {self.block.get('weekday')!r} is not a day such as donderdag")
        week = _week(self.block.get("week", 1))
        if week is None:
            self.problem(f"week {self.block.get('week')!r} is not one of {', '.join(WEEKS)}")
        slots = self._slots(weekday or 0, week or 1)
        start, end = self._time("start"), self._time("end")
        if start is not None and end is not None and end <= start:
            self.problem(f"end {end:%H:%M} is not after start {start:%H:%M}")
        titles = (
            self._title("title", {"n", "year"}),
            self._title("title_with_theme", TITLE_FIELDS),
        )
        rule = self._build(slots, start, end, titles)
        return None if self.problems else rule

    def _build(
        self, slots: tuple[Slot, ...], start: time | None, end: time | None, titles: tuple[str, str]
    ) -> SeriesRule | None:
        block = self.block
        names = block.get("names") or ()
        capacity = block.get("capacity")
        if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
            self.problem(f"capacity {capacity!r} is not a number of seats (1 or more)")
        skip = block.get("skip_holidays", True)
        if not isinstance(skip, bool):
            self.problem(f"skip_holidays {skip!r} is not true or false")
        if start is None or end is None or self.problems:
            return None
        hosts = block.get("hosts") or ()
        rule = SeriesRule(
            kind=self.kind,
            names=tuple(str(n).strip().casefold() for n in _list(names) if str(n).strip()),
            slots=slots,
            start=start,
            end=end,
            title=titles[0],
            title_with_theme=titles[1],
            description=str(block.get("description") or "").strip(),
            address=str(block.get("place") or "").strip() or None,
            online_url=str(block.get("online") or "").strip() or None,
            hosts=tuple(str(h).strip() for h in _list(hosts) if str(h).strip()),
            audience=str(block.get("audience") or PUBLIC).strip(),
            capacity=capacity,
            skip_holidays=skip,
            rotation=self._rotation(),
        )
        self._check_event(rule)
        return rule

    def _check_event(self, rule: SeriesRule) -> None:
        """The checks every agenda event passes (hosts, audience, lengths), on a sample."""
        day = datetime(2000, 1, 3)
        sample = EventData(
            uid=f"{rule.kind}-check",
            kind=rule.kind,
            title=rule.title_for(1, 2000, "x" * 40),
            start=datetime.combine(day, rule.start),
            end=datetime.combine(day, rule.end),
            zone="UTC",
            address=rule.address,
            online_url=rule.online_url,
            hosts=rule.hosts,
            audience=rule.audience,
        )
        for problem in event_problems(sample, self.vocabulary):
            self.problem(problem)

    def _rotation(self) -> HostRotation | None:
        """``rotation: {volunteers: [reos, dsv] or all, not_in: {reos: [juli]}}``."""
        raw = self.block.get("rotation")
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problem("rotation is not a mapping (volunteers, not_in)")
            return None
        for key in sorted(str(k) for k in raw if k not in ROTATION_FIELDS):
            self.problem(f"rotation: unknown field {key!r} (fields: {', '.join(ROTATION_FIELDS)})")
        known = set(self.vocabulary.organisations)
        listed = raw.get("volunteers") or "all"
        volunteers = () if listed == "all" else tuple(str(v).strip() for v in _list(listed))
        not_in: list[tuple[str, frozenset[int]]] = []
        never = raw.get("not_in") or {}
        if not isinstance(never, dict):
            self.problem("rotation: not_in is not a mapping such as {reos: [juli]}")
            never = {}
        for org, months in never.items():
            try:
                not_in.append((str(org), months_of(", ".join(str(m) for m in _list(months)))))
            except ValueError as exc:
                self.problem(f"rotation: not_in: {org}: {exc}")
        for org in sorted({*volunteers, *(o for o, _ in not_in)} - known):
            self.problem(f"rotation: {org!r} is not an organisation in organisations.yaml")
        return HostRotation(volunteers, tuple(not_in))

    def _slots(self, weekday: int, week: int) -> tuple[Slot, ...]:
        months = self.block.get("months")
        if not isinstance(months, list) or not months:
            self.problem("months is missing: a list such as [maart, juni, november]")
            return ()
        slots: list[Slot] = []
        for item in months:
            slot = self._slot(item, weekday, week)
            if slot is None:
                continue
            if any(s.month == slot.month for s in slots):
                self.problem(f"month {item!r} is given twice (one date per month)")
            slots.append(slot)
        return tuple(sorted(slots, key=lambda s: s.month))

    def _slot(self, item: Any, weekday: int, week: int) -> Slot | None:
        entry = item if isinstance(item, dict) else {"month": item}
        for key in sorted(str(k) for k in entry if k not in MONTH_FIELDS):
            self.problem(
                f"month {item!r}: unknown field {key!r} (fields: {', '.join(MONTH_FIELDS)})"
            )
        month = MONTHS.get(str(entry.get("month", "")).strip().casefold())
        own_day = _weekday(entry["weekday"]) if "weekday" in entry else weekday
        own_week = _week(entry["week"]) if "week" in entry else week
        if month is None:
            self.problem(f"month {entry.get('month')!r} is not a month such as maart")
        if own_day is None:
            self.problem(f"month {item!r}: weekday {entry.get('weekday')!r} is not a day")
        if own_week is None:
            self.problem(
                f"month {item!r}: week {entry.get('week')!r} is not one of {', '.join(WEEKS)}"
            )
        if month is None or own_day is None or own_week is None:
            return None
        return Slot(month, own_day, own_week, str(entry.get("theme") or "").strip())

    def _time(self, key: str) -> time | None:
        raw = self.block.get(key)
        if isinstance(raw, str):
            try:
                return time.fromisoformat(raw.strip().replace(".", ":"))
            except ValueError:
                pass
        hint = (
            " (write it in quotes: unquoted, YAML reads 15:00 as a number)"
            if isinstance(raw, int)
            else ""
        )
        self.problem(
            f'{key} {raw!r} is not a time such as "15:00"{hint}'
            if raw is not None
            else f"{key} is missing"
        )
        return None

    def _title(self, key: str, allowed: set[str] | frozenset[str]) -> str:
        raw = str(self.block.get(key) or "").strip()
        if not raw:
            self.problem(f"{key} is missing")
            return ""
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(raw) if name is not None}
        except ValueError:
            self.problem(f"{key} {raw!r}: a {{ or }} without its pair")
            return ""
        unknown = sorted(used - set(allowed))
        if unknown:
            fields = ", ".join("{" + f + "}" for f in sorted(allowed))
            self.problem(f"{key} {raw!r}: {{{unknown[0]}}} is not known (use {fields})")
        return raw


def _list(value: Any) -> list[Any]:
    return value.split(",") if isinstance(value, str) else list(value)


def _weekday(raw: Any) -> int | None:
    return WEEKDAYS.get(str(raw).strip().casefold()) if raw is not None else None


def _week(raw: Any) -> int | None:
    return WEEKS.get(str(raw).strip().casefold()) if raw is not None else None
