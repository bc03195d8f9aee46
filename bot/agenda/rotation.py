"""Host rotation: which two organisations host each gangmakers meeting.

A pure module: the volunteers, the hosts of earlier meetings (oldest first) and a seed
give the same hosts every time. The rules (issue 16, docs/gangmakers.md):

- **Rounds.** Every volunteer hosts once per round; a round ends when everyone has
  hosted, and a new one begins. A volunteer is *due* while it has not hosted in the
  current round. Hosts are taken from those due, so nobody hosts twice before
  everyone has hosted once (unless the months leave no choice: see below).
- **Longest ago first.** Among those due, the one that hosted longest ago goes first;
  one that never hosted before all others; so last year's hosts go last. Ties (never
  hosted, or hosted together) are broken by the seed.
- **No pair twice while avoidable.** Of the pairs that can be made from those due,
  the first that has not hosted together before is taken (keeping the most overdue
  first); only when every such pair has hosted together is one repeated.
- **"Not in <month>".** A volunteer is never asked for a month it said no to.

A year's meetings are chosen together (:class:`_Search`): rounds first (nobody twice
before everyone who can in some month of it), then in turn (a due one in an early month
it can), then pairs, then the order above; chosen month by month, an organisation with
"niet in" months fell behind.

:func:`plan_hosts` gives a year's hosts; :meth:`Rotation.pick` the next in line for
one meeting (after a decline), leaving out who hosts it already or declined.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from bot.broadcast.when import MONTHS

HOSTS_PER_MEETING = 2
_YEAR = 12
_NODES = 20_000  # the search stops there with the best plan it found (deterministic)
Meeting = tuple[str, ...]  # the hosts of one meeting
# "reos; niet in juli, augustus" or "reos; not in july"
_NOT_IN = re.compile(r"^\s*(?:niet|not)\s+in\s+(.+)$", re.IGNORECASE)


class VolunteersError(ValueError):
    """A volunteer line that cannot be read: every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Volunteer:
    """An organisation that hosts in turn; ``not_in``: months (1-12) it cannot."""

    organisation: str
    not_in: frozenset[int] = frozenset()

    def can(self, month: int) -> bool:
        return month not in self.not_in


def months_of(text: str) -> frozenset[int]:
    """``juli, augustus`` (or ``juli en augustus``): the months; ValueError if one is
    not a month."""
    words = [w for w in re.split(r"[,\s]+|\ben\b|\band\b", text.casefold()) if w]
    unknown = [w for w in words if w not in MONTHS]
    if unknown or not words:
        raise ValueError(f"{unknown[0] if unknown else text!r} is not a month such as juli")
    return frozenset(MONTHS[w] for w in words)


def _not_in(rest: str) -> frozenset[int]:
    """``niet in juli, augustus`` after a volunteer's ";": the months; "" none."""
    if not rest:
        return frozenset()
    match = _NOT_IN.match(rest)
    if match is None:
        raise ValueError(f"{rest!r} is not 'niet in <month>'")
    return months_of(match.group(1))


def read_volunteers(
    lines: Iterable[str],
    known: Iterable[str] | None = None,
    resolve: Callable[[str], str] | None = None,
) -> list[Volunteer]:
    """Volunteers, one a line: ``reos`` or ``reos; niet in juli, augustus``. Empty lines
    and lines starting with ``#`` are skipped. ``known``: the organisation ids that
    exist (none: any); ``resolve``: an organisation's id from its id or name (a
    ValueError saying why not), instead. :class:`VolunteersError` names every bad line."""
    ids = {k.casefold(): k for k in known} if known is not None else None

    def _by_id(name: str) -> str:
        org = name if ids is None else ids.get(name.casefold(), "")
        if not org:
            raise ValueError(f"{name!r} is not an organisation id")
        return org

    volunteers: dict[str, Volunteer] = {}
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, rest = (part.strip() for part in line.partition(";"))
        try:
            org = (resolve or _by_id)(name)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        try:
            not_in = _not_in(rest)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if org in volunteers:
            problems.append(f"line {number}: {org} is given twice")
        volunteers[org] = Volunteer(org, not_in)
    if problems:
        raise VolunteersError(problems)
    return list(volunteers.values())


@dataclass
class Rotation:
    """The state of the rotation after ``history`` (the hosts of earlier meetings,
    oldest first; organisations that no longer volunteer are passed over)."""

    volunteers: Sequence[Volunteer]
    history: Sequence[Meeting] = ()
    seed: int = 0
    last_year: Sequence[Meeting] = ()  # these hosts go after those who did not host then
    _last: dict[str, int] = field(init=False, default_factory=dict)
    _due: set[str] = field(init=False, default_factory=set)
    _pairs: set[frozenset[str]] = field(init=False, default_factory=set)
    _tie: dict[str, int] = field(init=False, default_factory=dict)
    _count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._by_id = {v.organisation: v for v in self.volunteers}
        order = sorted(self._by_id)
        random.Random(self.seed).shuffle(order)  # noqa: S311 (a fair order, not a secret)
        self._tie = {org: n for n, org in enumerate(order)}
        self._due = set(self._by_id)
        self._recent = {org for meeting in self.last_year for org in meeting}
        for meeting in self.history:
            self.hosted(meeting)

    def hosted(self, meeting: Meeting) -> None:
        """Record a meeting's hosts (in the order they were asked)."""
        known = tuple(dict.fromkeys(org for org in meeting if org in self._by_id))
        for org in known:
            self._take(org)
        self._done(known)

    def _take(self, org: str) -> None:
        self._due.discard(org)
        # everyone who can host in some month hosted: a new round
        if not any(len(self._by_id[o].not_in) < _YEAR for o in self._due):
            self._due = set(self._by_id)

    def _done(self, hosts: Meeting) -> None:
        for org in hosts:
            self._last[org] = self._count
        self._pairs.update(frozenset(p) for p in combinations(sorted(hosts), 2))
        self._count += 1

    def _key(self, org: str) -> tuple[bool, int, int]:
        return (org in self._recent, self._last.get(org, -1), self._tie[org])

    def _can(self, org: str, month: int, leave_out: Iterable[str]) -> bool:
        return self._by_id[org].can(month) and org not in set(leave_out)

    def due(self, month: int, leave_out: Iterable[str] = ()) -> list[str]:
        """Those due this round who can host in ``month``, most overdue first."""
        out = tuple(leave_out)
        return sorted((o for o in self._due if self._can(o, month, out)), key=self._key)

    def in_line(self, month: int, leave_out: Iterable[str] = ()) -> list[str]:
        """Everyone who can host in ``month``: those due first, then the others, each
        group the one who hosted longest ago first."""
        out = tuple(leave_out)
        due = self.due(month, out)
        rest = sorted(
            (o for o in self._by_id if o not in self._due and self._can(o, month, out)),
            key=self._key,
        )
        return due + rest

    def pick(
        self,
        month: int,
        leave_out: Iterable[str] = (),
        with_: Sequence[str] = (),
        busy: Iterable[str] = (),
    ) -> str:
        """The next in line for a meeting in ``month``: not in ``leave_out``; one not
        ``busy`` (hosting another meeting that year) before one that is; then one due
        before one not; then (when avoidable) not a pair that hosted before with one
        of ``with_``; then the rotation's order. "" when nobody can."""
        out = (*leave_out, *with_)
        taken = set(busy)
        line = self.in_line(month, out)
        group = [o for o in line if o not in taken] or line
        group = [o for o in group if o in self._due] or group
        fresh = (o for o in group if all(frozenset((o, h)) not in self._pairs for h in with_))
        return next(fresh, group[0] if group else "")

    def meeting(self, month: int) -> Meeting:
        """Two hosts for a meeting in ``month`` (fewer when fewer can), recorded."""
        return self.plan((month,))[0]

    def plan(self, months: Sequence[int], fixed: dict[int, Meeting] | None = None) -> list[Meeting]:
        """The hosts of a year's meetings (one per month, in order), recorded; ``fixed``:
        meetings (by index) whose hosts are set already. The year is chosen as a whole
        (:class:`_Search`), so an organisation that can host in few of the months gets
        one of them while it is due, instead of falling behind."""
        fixed = fixed or {}
        chosen = _Search(self, list(months), fixed).best()
        for meeting in chosen:
            self.hosted(meeting)
        return chosen

    def _level(self, org: str, times: int) -> int:
        """How far ahead of the round hosting once more is (0: due, not hosted yet)."""
        return times + (org not in self._due)

    def _rank(self) -> dict[str, int]:
        return {org: n for n, org in enumerate(sorted(self._by_id, key=self._key))}

    def paired(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` hosted a meeting together before."""
        return frozenset((a, b)) in self._pairs


def plan_hosts(
    volunteers: Sequence[Volunteer],
    months: Sequence[int],
    history: Sequence[Meeting] = (),
    seed: int = 0,
    last_year: Sequence[Meeting] | None = None,
) -> list[Meeting]:
    """The hosts of each meeting (one per month in ``months``, in order); ``last_year``:
    the meetings of the year before (by default the last ``len(months)`` of history)."""
    if last_year is None:
        last_year = history[-len(months) :] if months else ()
    rotation = Rotation(volunteers, history, seed, last_year)
    return rotation.plan(months)


class _Search:
    """The year's hosts as a whole: of all plans (a pair a meeting, each able in its
    month), the one that is best in this order:

    1. **Rounds.** The least sum of *levels*: hosting while due is 0, a second time
       (or once when not due) 1, and so on; so those due host before anyone hosts twice.
    2. **In turn.** The fewest times a host of a higher level comes before one of a
       lower level (a round is finished before the next begins, where the months allow).
    3. **Pairs.** The fewest pairs that hosted together before (or earlier this year).
    4. **Order.** The first such plan in the rotation's order: last year's hosts last,
       the one who hosted longest ago first, then the seed.

    A branch and bound over the meetings: exact for the sizes of an alliance (it stops
    after ``_NODES`` steps with the best plan so far, the same every time)."""

    def __init__(self, rotation: Rotation, months: list[int], fixed: dict[int, Meeting]) -> None:
        self.r = rotation
        self.months = months
        self.fixed = {
            i: tuple(dict.fromkeys(o for o in hosts if o in rotation._by_id))
            for i, hosts in fixed.items()
        }
        self.rank = rotation._rank()
        self.orgs = sorted(rotation._by_id, key=self.rank.__getitem__)
        self.best_cost: tuple[int, int, int] | None = None
        self.best_plan: list[Meeting] = []
        self.nodes = 0
        self.sizes = [
            len(self.fixed[i])
            if i in self.fixed
            else min(HOSTS_PER_MEETING, sum(v.can(m) for v in rotation.volunteers))
            for i, m in enumerate(months)
        ]

    def best(self) -> list[Meeting]:
        times = dict.fromkeys(self.orgs, 0)
        self._walk(0, times, [], 0, 0, [], set())
        return self.best_plan

    def _bound(self, times: dict[str, int], start: int) -> int:
        """The least sum of levels the meetings from ``start`` on can add."""
        slots = sum(self.sizes[start:])
        if not slots:
            return 0
        levels = sorted(self.r._level(o, times[o] + k) for o in self.orgs for k in range(slots))
        return sum(levels[:slots])

    def _options(self, i: int, times: dict[str, int], used: set[frozenset[str]]) -> list[Meeting]:
        if i in self.fixed:
            return [self.fixed[i]]
        month = self.months[i]
        able = [o for o in self.orgs if self.r._by_id[o].can(month)]
        if len(able) < HOSTS_PER_MEETING:
            return [tuple(able)]

        def order(o: str) -> tuple[int, int]:
            return (self.r._level(o, times[o]), self.rank[o])

        pairs = [tuple(sorted(p, key=order)) for p in combinations(able, HOSTS_PER_MEETING)]
        return sorted(
            pairs,
            key=lambda p: (
                sum(order(o)[0] for o in p),
                frozenset(p) in used,
                sorted(order(o) for o in p),
            ),
        )

    def _walk(
        self,
        i: int,
        times: dict[str, int],
        levels: list[int],
        level_sum: int,
        repeats: int,
        plan: list[Meeting],
        used: set[frozenset[str]],
    ) -> None:
        self.nodes += 1
        inversions = sum(a > b for n, a in enumerate(levels) for b in levels[n + 1 :])
        if i == len(self.months):
            cost = (level_sum, inversions, repeats)
            if self.best_cost is None or cost < self.best_cost:
                self.best_cost, self.best_plan = cost, list(plan)
            return
        if self.best_cost is not None:
            if (level_sum + self._bound(times, i), inversions, repeats) >= self.best_cost:
                return
            if self.nodes > _NODES:
                return
        for meeting in self._options(i, times, used | self.r._pairs):
            added = [self.r._level(o, times[o]) for o in meeting]
            pair = frozenset(meeting)
            repeated = len(meeting) == HOSTS_PER_MEETING and (pair in used or pair in self.r._pairs)
            for o in meeting:
                times[o] += 1
            self._walk(
                i + 1,
                times,
                levels + added,
                level_sum + sum(added),
                repeats + repeated,
                [*plan, meeting],
                used | {pair},
            )
            for o in meeting:
                times[o] -= 1
