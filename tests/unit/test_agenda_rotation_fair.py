"""Host rotation with "niet in" months (bot.agenda.rotation): the year is planned as a
whole, so organisations that can host in few months do not fall behind. Checked on the
plans alone: the blind user test's volunteers over ten years, and random "niet in" sets
against a brute force over every valid year."""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations, product

import pytest

from bot.agenda.rotation import Volunteer, plan_hosts

MONTHS = (2, 5, 9, 11)
Meeting = tuple[str, ...]


def ten_years(volunteers: list[Volunteer], first: int = 2027) -> list[list[Meeting]]:
    """Each year planned on the hosts of the years before (seed: the year), as
    ``events plan`` does with the stored events."""
    history: list[Meeting] = []
    planned = []
    for year in range(first, first + 10):
        hosts = plan_hosts(volunteers, MONTHS, history, year)
        planned.append(hosts)
        history += hosts
    return planned


USER_TEST = [
    Volunteer("reos", frozenset({2})),
    Volunteer("dsv"),
    Volunteer("participe", frozenset({5, 9})),
    Volunteer("balans"),
    Volunteer("steenrots"),
]


def test_the_user_tests_volunteers_host_equally_often_and_pairs_vary() -> None:
    planned = ten_years(USER_TEST)
    counts = Counter(o for year in planned for m in year for o in m)
    assert len(counts) == 5 and max(counts.values()) - min(counts.values()) <= 2, counts
    same = [year for year in planned if set(year[0]) == set(year[2])]
    assert len(same) <= 1, same  # the September pair was the February pair 8 times
    pairs = Counter(frozenset(m) for year in planned for m in year)
    spread = max(pairs.values()) - min(pairs[frozenset(p)] for p in combinations(counts, 2))
    assert spread <= 4, pairs  # the user test: 8 times against once
    for year in planned:
        for month, meeting in zip(MONTHS, year, strict=True):
            assert all(v.can(month) for v in USER_TEST if v.organisation in meeting)


def test_participe_gets_february_when_it_is_due_and_able() -> None:
    """participe can only in February and November: over ten years it hosts in
    February more than once."""
    planned = ten_years(USER_TEST)
    februaries = [year[0] for year in planned]
    assert sum("participe" in m for m in februaries) >= 2, februaries


def levels(due: set[str], everyone: set[str], year: list[Meeting]) -> list[int]:
    """The level of every host of the year in order: 0 while due in its round."""
    times: Counter[str] = Counter()
    out = []
    for meeting in year:
        here = sorted(times[org] + (org not in due) for org in meeting)  # lowest first
        out += here
        times.update(meeting)
    return out


def cost(due: set[str], everyone: set[str], seen: set[frozenset[str]], year: list[Meeting]):
    lv = levels(due, everyone, year)
    inversions = sum(a > b for n, a in enumerate(lv) for b in lv[n + 1 :])
    used: set[frozenset[str]] = set(seen)
    repeats = 0
    for meeting in year:
        pair = frozenset(meeting)
        repeats += pair in used
        used.add(pair)
    return sum(lv), inversions, repeats


def all_years(volunteers: list[Volunteer]) -> list[list[Meeting]]:
    per_month = []
    for month in MONTHS:
        able = [v.organisation for v in volunteers if v.can(month)]
        per_month.append(list(combinations(able, 2)) if len(able) >= 2 else [tuple(able)])
    return [list(p) for p in product(*per_month)]


@pytest.mark.parametrize("seed", range(12))
def test_random_not_in_sets_against_brute_force_over_ten_years(seed: int) -> None:
    """Rounds tracked here on their own (a round ends when all who can host in some
    month hosted); each year no valid plan hosts more of those due (nobody twice
    before everyone who can has hosted once), keeps the rounds better in turn, or
    repeats fewer pairs."""
    chance = random.Random(seed)
    names = [f"org{k}" for k in range(chance.choice((3, 4, 5)))]
    volunteers = [
        Volunteer(o, frozenset(m for m in MONTHS if chance.random() < 0.3)) for o in names
    ]
    able = {v.organisation for v in volunteers if len(v.not_in) < 12}
    everyone = set(names)
    due = set(names)
    seen: set[frozenset[str]] = set()
    options = all_years(volunteers)
    for year in ten_years(volunteers, 2030):
        assert [set(m) for m in year] in [[set(m) for m in y] for y in options]
        best = min(cost(due, everyone, seen, y) for y in options)
        assert cost(due, everyone, seen, year) == best, (seed, volunteers, year)
        for meeting in year:
            seen.add(frozenset(meeting))
            for org in meeting:
                due.discard(org)
                if not due & able:
                    due = set(names)
