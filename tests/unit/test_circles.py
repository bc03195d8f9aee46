"""Composing reflectiecirkels (bot/circles/compose.py): property tests with hypothesis
and, for small numbers, every partition by brute force.

What is proved: every organisation is in exactly one circle of three or four; "not
with" pairs are never together when any composition keeps them apart (and an error
says so when none does); up to 10 organisations the result is as good as the best of
all partitions (apart pairs, then repeated pairs, then their weight, then fewer
circles); for more, no swap of two organisations and no move of one lowers it (a
local optimum, checked from outside the optimiser); the seed decides, the order of
the input does not."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.circles.compose import (
    RECENCY,
    CirclesError,
    Composition,
    compose,
    met,
    random_circles,
    score,
)

YEAR = 2027
Circles = Sequence[Sequence[str]]


def names(n: int) -> list[str]:
    return [f"org-{i:02d}" for i in range(n)]


@st.composite
def instances(
    draw: st.DrawFn, smallest: int = 3, largest: int = 40, max_apart: int = 3
) -> tuple[list[str], dict[int, list[list[str]]], list[tuple[str, str]], int]:
    """Participants, a history of earlier years (random circles of the same and other
    organisations), a few "not with" pairs, and a seed."""
    n = draw(st.integers(smallest, largest).filter(lambda k: k != 5))
    orgs = names(n)
    rng = random.Random(draw(st.integers(0, 10**6)))
    history: dict[int, list[list[str]]] = {}
    for year in range(YEAR - draw(st.integers(0, 6)), YEAR):
        pool = orgs + names(n + 3)[n:]  # some have left since
        sample = rng.sample(pool, k=max(0, len(pool) - rng.randrange(3)))
        if len(sample) >= 3 and len(sample) != 5:
            history[year] = random_circles(sample, rng)
    apart = [tuple(rng.sample(orgs, 2)) for _ in range(draw(st.integers(0, max_apart)))]
    return orgs, history, apart, draw(st.integers(0, 1000))  # type: ignore[return-value]


def violations(circles: Circles, apart: Sequence[tuple[str, str]]) -> int:
    return sum(any(a in c and b in c for c in circles) for a, b in apart)


def rank(circles: Circles, history: dict[int, list[list[str]]], apart: list[tuple[str, str]]):
    """What is minimised, in its order (the module's doc of compose)."""
    repeats, weight = score(circles, history, YEAR)
    return (violations(circles, apart), repeats, weight, len(circles))


def valid(made: Composition, orgs: list[str]) -> None:
    flat = [org for circle in made.circles for org in circle]
    assert sorted(flat) == sorted(orgs)  # each exactly once
    assert all(3 <= len(circle) <= 4 for circle in made.circles)


def brute_force(orgs: list[str]) -> list[list[list[str]]]:
    """Every partition into circles of 3 or 4: each organisation labelled with a
    circle, every labelling (not the optimiser's way of building circles)."""
    found = set()
    for labels in itertools.product(range(len(orgs) // 3), repeat=len(orgs)):
        groups: dict[int, list[str]] = {}
        for org, label in zip(orgs, labels, strict=True):
            groups.setdefault(label, []).append(org)
        if all(3 <= len(g) <= 4 for g in groups.values()):
            found.add(tuple(sorted(tuple(g) for g in groups.values())))
    return [[list(c) for c in partition] for partition in found]


# -- every composition is a valid one ---------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_organisation_is_in_exactly_one_circle_of_three_or_four(case) -> None:  # type: ignore[no-untyped-def]
    orgs, history, apart, seed = case
    try:
        made = compose(orgs, year=YEAR, history=history, apart=apart, seed=seed)
    except CirclesError as exc:
        assert exc.code == "apart" and exc.pairs  # only the wishes can make it impossible
        return
    valid(made, orgs)
    assert violations(made.circles, apart) == 0
    assert made.repeated == tuple(
        sorted(
            p for c in made.circles for p in itertools.combinations(c, 2) if p in met(history, YEAR)
        )
    )


@settings(max_examples=40, deadline=None)
@given(instances(largest=30), st.randoms(use_true_random=False))
def test_the_seed_decides_and_the_order_of_the_input_does_not(case, shuffle) -> None:  # type: ignore[no-untyped-def]
    orgs, history, apart, seed = case
    try:
        first = compose(orgs, year=YEAR, history=history, apart=apart, seed=seed)
    except CirclesError:
        return
    shuffled = orgs[:]
    shuffle.shuffle(shuffled)
    again = compose(shuffled + shuffled[:2], year=YEAR, history=history, apart=apart, seed=seed)
    assert again == first  # duplicates in the input count once


# -- as good as can be ----------------------------------------------------------------


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(smallest=3, largest=9, max_apart=4))
def test_small_numbers_are_optimal_against_brute_force(case) -> None:  # type: ignore[no-untyped-def]
    orgs, history, apart, seed = case
    best = min(rank(p, history, apart) for p in brute_force(orgs))
    try:
        made = compose(orgs, year=YEAR, history=history, apart=apart, seed=seed)
    except CirclesError as exc:
        assert exc.code == "apart"
        assert best[0] > 0  # no partition keeps every wish
        return
    assert rank(made.circles, history, apart) == best


@pytest.mark.parametrize("n", [10, 11])
def test_ten_and_eleven_match_brute_force_too(n: int) -> None:
    rng = random.Random(n)
    orgs = names(n)
    history = {YEAR - k: random_circles(orgs, rng) for k in range(1, 5)}
    apart = [(orgs[0], orgs[1])]
    best = min(rank(p, history, apart) for p in brute_force(orgs))
    made = compose(orgs, year=YEAR, history=history, apart=apart, seed=1)
    assert rank(made.circles, history, apart) == best


def test_the_exact_search_never_does_worse_than_the_local_search() -> None:
    orgs = names(12)
    rng = random.Random(12)
    for _ in range(5):
        history = {YEAR - k: random_circles(orgs, rng) for k in range(1, 7)}
        exact = compose(orgs, year=YEAR, history=history, seed=3)
        local = compose(orgs, year=YEAR, history=history, seed=3, exact_up_to=0)
        assert rank(exact.circles, history, [])[:3] <= rank(local.circles, history, [])[:3]


def neighbours(circles: list[list[str]]) -> list[list[list[str]]]:
    """Every composition one swap of two organisations, or one move of an organisation
    from a circle of four to one of three, away."""
    found = []
    for i, j in itertools.permutations(range(len(circles)), 2):
        for a in circles[i]:
            if i < j:
                for b in circles[j]:
                    swapped = [c[:] for c in circles]
                    swapped[i][swapped[i].index(a)] = b
                    swapped[j][swapped[j].index(b)] = a
                    found.append(swapped)
            if len(circles[i]) == 4 and len(circles[j]) == 3:
                moved = [c[:] for c in circles]
                moved[i].remove(a)
                moved[j].append(a)
                found.append(moved)
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(smallest=13, largest=36, max_apart=5))
def test_larger_numbers_are_a_local_optimum(case) -> None:  # type: ignore[no-untyped-def]
    orgs, history, apart, seed = case
    try:
        made = compose(orgs, year=YEAR, history=history, apart=apart, seed=seed)
    except CirclesError:
        return
    mine = rank(made.circles, history, apart)[:3]
    circles = [list(c) for c in made.circles]
    assert all(rank(other, history, apart)[:3] >= mine for other in neighbours(circles))


def test_without_history_nobody_repeats_and_with_a_full_history_the_fewest_do() -> None:
    orgs = names(12)
    assert compose(orgs, year=YEAR).repeated == ()
    # Last year 12 organisations sat in 3 circles of 4: 18 pairs met. In 4 circles of
    # 3 none has to repeat, so the composition takes the smaller circles.
    last = [orgs[0:4], orgs[4:8], orgs[8:12]]
    made = compose(orgs, year=YEAR, history={YEAR - 1: last})
    assert made.repeated == () and [len(c) for c in made.circles] == [3, 3, 3, 3]


def test_a_pair_of_long_ago_is_repeated_before_one_of_last_year() -> None:
    # a may not sit with d or e, so a's circle of three holds b or c or both: one old
    # pair must repeat. a and b met last year, a and c eight years ago.
    a, b, c, d, e, f = names(6)
    history = {YEAR - 1: [[a, b, "gone-1"]], YEAR - 8: [[a, c, "gone-2"]]}
    weights = met(history, YEAR)
    assert (weights[(a, b)], weights[(a, c)]) == (RECENCY, RECENCY - 7)
    for seed in range(10):
        made = compose(
            [a, b, c, d, e, f], year=YEAR, history=history, apart=[(a, d), (a, e)], seed=seed
        )
        assert made.circles == ((a, c, f), (b, d, e))
        assert (made.repeated, made.weight) == (((a, c),), RECENCY - 7)
    # Each year together adds up; only the years before count.
    assert met({YEAR - 1: [[a, b, c]], YEAR - 2: [[a, b, d]]}, YEAR)[(a, b)] == 2 * RECENCY - 1
    assert met({YEAR: [[a, b, c]], YEAR + 1: [[a, b, c]]}, YEAR) == {}


def test_apart_pairs_are_kept_apart_or_refused() -> None:
    orgs = names(7)
    made = compose(orgs, year=YEAR, apart=[(orgs[0], orgs[1]), (orgs[2], orgs[3])])
    assert violations(made.circles, [(orgs[0], orgs[1]), (orgs[2], orgs[3])]) == 0
    with pytest.raises(CirclesError) as exc:  # four organisations: one circle
        compose(orgs[:4], year=YEAR, apart=[(orgs[0], orgs[1])])
    assert exc.value.code == "apart" and exc.value.pairs == ((orgs[0], orgs[1]),)


@pytest.mark.parametrize(
    ("n", "code"), [(0, "too_few"), (1, "too_few"), (2, "too_few"), (5, "five")]
)
def test_numbers_that_cannot_make_circles_are_refused(n: int, code: str) -> None:
    with pytest.raises(CirclesError) as exc:
        compose(names(n), year=YEAR)
    assert exc.value.code == code and exc.value.count == n


@pytest.mark.parametrize("n", [3, 4, 6, 7, 8, 9, 10, 11, 13, 35])
def test_every_other_number_makes_circles(n: int) -> None:
    made = compose(names(n), year=YEAR)
    valid(made, names(n))
    assert len(made.circles) == -(-n // 4)  # without history: the fewest circles


def test_another_seed_gives_another_composition() -> None:
    orgs = names(20)
    made = {compose(orgs, year=YEAR, seed=seed).circles for seed in range(5)}
    assert len(made) == 5


def test_the_optimiser_beats_random_circles() -> None:
    orgs = names(35)
    rng = random.Random(7)
    history = {year: random_circles(orgs, rng) for year in range(YEAR - 5, YEAR)}
    drawn = [score(random_circles(orgs, random.Random(s)), history, YEAR)[0] for s in range(200)]
    made = compose(orgs, year=YEAR, history=history, seed=0)
    assert len(made.repeated) == 0 < min(drawn)
