"""Composing a year's reflectiecirkels: a pure, deterministic optimiser.

Every participating organisation goes into exactly one circle of three or four; the
number of pairs that sat together in an earlier year is made as low as possible; two
organisations that asked to be apart are never in one circle; the same input and seed
give the same circles.

**What is minimised**, in this order (one integer, :func:`pair_costs`):

1. pairs that were to be apart ("not with") and are together: never, when it can be;
2. the number of pairs that sat together in any earlier year;
3. how often and how recently those pairs met: a pair of last year weighs
   ``RECENCY``, one of ``RECENCY`` or more years ago 1, each earlier year adds up;
4. with all of that equal, fewer circles (so fours before threes).

**How.** For each possible number of circles (fewest first) an iterated local search
(a greedy start, then swaps of two organisations and moves of one from a circle of
four to one of three until none helps, then a few random swaps and again, ``rounds``
times) with a seeded :class:`random.Random`. Up to ``EXACT_UP_TO`` organisations a
branch and bound then checks every partition and keeps a better one, so small
compositions are optimal (the tests compare them with brute force).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

MIN_SIZE, MAX_SIZE = 3, 4
RECENCY = 10  # the weight of a pair that met last year; one less per year before
EXACT_UP_TO = 12  # organisations: up to here every partition is checked
ROUNDS = 60  # perturbations of the local search per number of circles
KICK = 3  # random swaps per perturbation

Pair = tuple[str, str]
History = Mapping[int, Sequence[Sequence[str]]]  # year → its circles (organisation ids)


class CirclesError(ValueError):
    """No composition: ``code`` says why (``too_few``, ``five``, ``apart``); for
    ``apart`` the wishes that cannot be kept are in ``pairs``."""

    def __init__(self, code: str, count: int = 0, pairs: tuple[Pair, ...] = ()) -> None:
        super().__init__(f"{code}: {count} organisations {list(pairs)}")
        self.code, self.count, self.pairs = code, count, pairs


@dataclass(frozen=True, slots=True)
class Composition:
    """A year's circles: each a sorted tuple of ids, the largest first."""

    year: int
    seed: int
    circles: tuple[tuple[str, ...], ...]
    repeated: tuple[Pair, ...]  # pairs in one circle that sat together before
    weight: int  # how often and recently they met (part 3 above)

    @property
    def organisations(self) -> int:
        return sum(len(c) for c in self.circles)


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def circle_counts(n: int) -> range:
    """The numbers of circles of three or four that ``n`` organisations can fill."""
    return range(math.ceil(n / MAX_SIZE), n // MIN_SIZE + 1)


def sizes(n: int, count: int) -> list[int]:
    """The sizes of ``count`` circles for ``n`` organisations: fours first."""
    fours = n - MIN_SIZE * count
    return [MAX_SIZE] * fours + [MIN_SIZE] * (count - fours)


def met(history: History, year: int) -> dict[Pair, int]:
    """Every pair that sat together in a year before ``year``, with its weight: per
    year together ``RECENCY`` for last year, one less per year before (at least 1)."""
    weights: dict[Pair, int] = {}
    for earlier, circles in history.items():
        if earlier >= year:
            continue
        weight = max(1, RECENCY - (year - earlier - 1))
        for circle in circles:
            for a, b in itertools.combinations(sorted(set(circle)), 2):
                weights[(a, b)] = weights.get((a, b), 0) + weight
    return weights


def pair_costs(
    ids: Sequence[str], weights: Mapping[Pair, int], apart: Collection[Pair]
) -> list[list[int]]:
    """The cost of each two of ``ids`` in one circle, as one integer that orders the
    parts of the module's doc: any apart pair outweighs every repeat together, and any
    repeated pair outweighs all weights together."""
    index = {org: n for n, org in enumerate(ids)}
    known = [(p, w) for p, w in weights.items() if p[0] in index and p[1] in index]
    repeat = 1 + sum(w for _, w in known)
    hard = 1 + sum(repeat + w for _, w in known)
    cost = [[0] * len(ids) for _ in ids]
    for (a, b), w in known:
        cost[index[a]][index[b]] = cost[index[b]][index[a]] = repeat + w
    for a, b in apart:
        if a in index and b in index and a != b:
            cost[index[a]][index[b]] = cost[index[b]][index[a]] = hard
    return cost


def compose(
    participants: Iterable[str],
    *,
    year: int,
    history: History | None = None,
    apart: Iterable[Sequence[str]] = (),
    seed: int = 0,
    rounds: int = ROUNDS,
    exact_up_to: int = EXACT_UP_TO,
) -> Composition:
    """The circles of ``year`` (see the module's doc). Raises :class:`CirclesError`
    for fewer than three or exactly five organisations, and for "not with" wishes
    that no composition keeps."""
    ids = sorted(set(participants))
    if len(ids) < MIN_SIZE or len(ids) == 5:
        raise CirclesError("too_few" if len(ids) < MIN_SIZE else "five", len(ids))
    weights = met(history or {}, year)
    wishes = {pair(a, b) for a, b in apart if a != b}
    cost = pair_costs(ids, weights, wishes)
    rng = random.Random(seed)  # noqa: S311 - reproducible on purpose, not a secret
    order = ids[:]
    rng.shuffle(order)  # the seed picks among equally good compositions
    index = {org: n for n, org in enumerate(ids)}
    perm = [index[o] for o in order]
    best: tuple[int, list[list[int]]] | None = None
    for count in circle_counts(len(ids)):
        found = _search(cost, perm, sizes(len(ids), count), rng, rounds)
        if len(ids) <= exact_up_to:
            found = _exact(cost, perm, sizes(len(ids), count), found)
        if best is None or found[0] < best[0]:
            best = found
        if best[0] == 0:
            break
    assert best is not None
    circles = [[ids[m] for m in circle] for circle in best[1]]
    broken = tuple(sorted(p for c in circles for p in _pairs(c) if p in wishes))
    if broken:
        raise CirclesError("apart", len(ids), broken)
    return _composition(year, seed, circles, weights)


def _pairs(circle: Sequence[str]) -> Iterable[Pair]:
    return (pair(a, b) for a, b in itertools.combinations(circle, 2))


def _composition(
    year: int, seed: int, circles: Sequence[Sequence[str]], weights: Mapping[Pair, int]
) -> Composition:
    ordered = sorted((tuple(sorted(c)) for c in circles), key=lambda c: (-len(c), c))
    repeated = tuple(sorted(p for c in ordered for p in _pairs(c) if p in weights))
    return Composition(year, seed, tuple(ordered), repeated, sum(weights[p] for p in repeated))


def score(circles: Sequence[Sequence[str]], history: History, year: int) -> tuple[int, int]:
    """(pairs that sat together before, their weight) of any circles: what
    :func:`compose` minimises, for tests and the benchmark's random baseline."""
    weights = met(history, year)
    repeated = [p for c in circles for p in _pairs(c) if p in weights]
    return len(repeated), sum(weights[p] for p in repeated)


def random_circles(participants: Iterable[str], rng: random.Random) -> list[list[str]]:
    """Circles drawn at random (the fewest circles, as :func:`compose` prefers): the
    baseline the benchmark compares with."""
    ids = sorted(set(participants))
    rng.shuffle(ids)
    circles, at = [], 0
    for size in sizes(len(ids), circle_counts(len(ids))[0]):
        circles.append(ids[at : at + size])
        at += size
    return circles


# -- the local search ----------------------------------------------------------------


class _State:
    """Circles of indexes with, per organisation and circle, the cost it has with
    that circle's members (``contrib``), so a swap is judged in constant time."""

    def __init__(self, cost: list[list[int]], circles: list[list[int]]) -> None:
        self.cost = cost
        self.circles = circles
        n = len(cost)
        self.where = [0] * n
        for c, members in enumerate(circles):
            for m in members:
                self.where[m] = c
        self.contrib = [
            [sum(cost[o][m] for m in members if m != o) for members in circles] for o in range(n)
        ]
        self.total = sum(self.contrib[o][self.where[o]] for o in range(n)) // 2

    def swap_delta(self, o: int, p: int) -> int:
        a, b, c = self.where[o], self.where[p], self.contrib
        return c[o][b] - c[o][a] + c[p][a] - c[p][b] - 2 * self.cost[o][p]

    def swap(self, o: int, p: int) -> None:
        a, b = self.where[o], self.where[p]
        self.total += self.swap_delta(o, p)
        for x, row in enumerate(self.contrib):
            row[a] += self.cost[x][p] - self.cost[x][o]
            row[b] += self.cost[x][o] - self.cost[x][p]
        self.circles[a][self.circles[a].index(o)] = p
        self.circles[b][self.circles[b].index(p)] = o
        self.where[o], self.where[p] = b, a

    def move(self, o: int, b: int) -> None:
        a = self.where[o]
        self.total += self.contrib[o][b] - self.contrib[o][a]
        for x, row in enumerate(self.contrib):
            row[a] -= self.cost[x][o]
            row[b] += self.cost[x][o]
        self.circles[a].remove(o)
        self.circles[b].append(o)
        self.where[o] = b

    def descend(self, order: Sequence[int]) -> None:
        """Swaps and moves that lower the cost, until none does."""
        improved = True
        while improved and self.total > 0:
            improved = False
            for o in order:
                if self.contrib[o][self.where[o]] == 0:
                    continue  # nothing to gain here: a swap must lower someone's cost
                improved |= self._improve(o, order)

    def _improve(self, o: int, order: Sequence[int]) -> bool:
        a = self.where[o]
        for p in order:
            if self.where[p] != a and self.swap_delta(o, p) < 0:
                self.swap(o, p)
                return True
        if len(self.circles[a]) == MAX_SIZE:
            for b, members in enumerate(self.circles):
                if len(members) == MIN_SIZE and self.contrib[o][b] < self.contrib[o][a]:
                    self.move(o, b)
                    return True
        return False


def _greedy(cost: list[list[int]], order: Sequence[int], plan: Sequence[int]) -> list[list[int]]:
    """Each organisation (the most constrained first) where it costs least now."""
    circles: list[list[int]] = [[] for _ in plan]
    heavy = sorted(order, key=lambda o: -sum(cost[o]))  # stable: the seed's order breaks ties
    for o in heavy:
        open_ = [c for c, size in enumerate(plan) if len(circles[c]) < size]
        best = min(open_, key=lambda c: (sum(cost[o][m] for m in circles[c]), len(circles[c])))
        circles[best].append(o)
    return circles


def _search(
    cost: list[list[int]], order: list[int], plan: Sequence[int], rng: random.Random, rounds: int
) -> tuple[int, list[list[int]]]:
    state = _State(cost, _greedy(cost, order, plan))
    state.descend(order)
    best = (state.total, [c[:] for c in state.circles])
    n = len(order)
    for _ in range(rounds):
        if best[0] == 0:
            break
        state = _State(cost, [c[:] for c in best[1]])
        for _ in range(KICK):
            o, p = rng.randrange(n), rng.randrange(n)
            if state.where[o] != state.where[p]:
                state.swap(o, p)
        walk = order[:]
        rng.shuffle(walk)
        state.descend(walk)
        if state.total < best[0]:
            best = (state.total, [c[:] for c in state.circles])
    return best


# -- exact, for a few organisations ----------------------------------------------------


def _exact(
    cost: list[list[int]], order: list[int], plan: Sequence[int], start: tuple[int, list[list[int]]]
) -> tuple[int, list[list[int]]]:
    """Every partition into circles of ``plan``'s sizes, branch and bound from
    ``start``: a better one replaces it; ``start`` stays when it is optimal."""
    best = start
    taken: list[list[int]] = []

    def extend(left: list[int], fours: int, threes: int, spent: int) -> None:
        nonlocal best
        if spent >= best[0]:
            return
        if not left:
            best = (spent, [c[:] for c in taken])
            return
        head, rest = left[0], left[1:]
        for size, f, t in ((MAX_SIZE, fours - 1, threes), (MIN_SIZE, fours, threes - 1)):
            if f < 0 or t < 0:
                continue
            for others in itertools.combinations(rest, size - 1):
                circle = [head, *others]
                added = sum(cost[a][b] for a, b in itertools.combinations(circle, 2))
                taken.append(circle)
                extend([m for m in rest if m not in others], f, t, spent + added)
                taken.pop()

    extend(order, plan.count(MAX_SIZE), plan.count(MIN_SIZE), 0)
    return best
