"""Host rotation (bot.agenda.rotation), property-style: many seeds, volunteer counts and
simulated years; each rule checked on the plans it makes, independently of how they
are made."""

from __future__ import annotations

from collections import Counter
from itertools import combinations, pairwise

import pytest

from bot.agenda.rotation import (
    Rotation,
    Volunteer,
    VolunteersError,
    plan_hosts,
    read_volunteers,
)

MONTHS = (2, 5, 9, 11)  # four meetings a year
SEEDS = range(12)  # 12 seeds x 5 years x 3-12 volunteers: enough to find a broken rule
YEARS = 5


def orgs(n: int) -> list[str]:
    return [f"org{k:02d}" for k in range(n)]


def years(
    volunteers: list[Volunteer], seed: int, count: int = YEARS
) -> list[list[tuple[str, ...]]]:
    """``count`` years planned one after another, each on the ones before."""
    history: list[tuple[str, ...]] = []
    planned = []
    for _ in range(count):
        year = plan_hosts(volunteers, MONTHS, history, seed)
        planned.append(year)
        history += year
    return planned


@pytest.mark.parametrize("n", range(3, 13))
def test_nobody_hosts_twice_before_everyone_hosted_once(n: int) -> None:
    """Counted over all years: after every meeting the counts differ by at most one
    (within a meeting the first host may close a round and the second open one)."""
    volunteers = [Volunteer(o) for o in orgs(n)]
    for seed in SEEDS:
        counts = Counter({o: 0 for o in orgs(n)})
        for meeting in (m for year in years(volunteers, seed) for m in year):
            assert len(meeting) == 2 and meeting[0] != meeting[1]
            counts.update(meeting)
            assert max(counts.values()) - min(counts.values()) <= 1, (seed, counts)


@pytest.mark.parametrize("n", range(3, 13))
def test_a_pair_is_repeated_only_when_every_due_pair_hosted_together(n: int) -> None:
    volunteers = [Volunteer(o) for o in orgs(n)]
    for seed in SEEDS:
        rotation = Rotation(volunteers, (), seed)
        seen: set[frozenset[str]] = set()
        for _ in range(YEARS):
            for month in MONTHS:
                due = rotation.due(month)
                meeting = rotation.meeting(month)
                pair = frozenset(meeting)
                if pair in seen and len(due) >= 2:
                    assert all(frozenset(p) in seen for p in combinations(due, 2)), seed
                seen.add(pair)


@pytest.mark.parametrize("n", [5, 6, 7, 8])
def test_no_pair_repeats_in_the_first_years_with_enough_pairs(n: int) -> None:
    """With n volunteers there are n(n-1)/2 pairs: the first years repeat none while
    there are pairs left over for them (a plain round robin would repeat soon)."""
    volunteers = [Volunteer(o) for o in orgs(n)]
    for seed in SEEDS:
        meetings = [m for year in years(volunteers, seed, 2) for m in year]
        pairs = [frozenset(m) for m in meetings]
        assert len(set(pairs)) == len(pairs), (seed, meetings)


@pytest.mark.parametrize("n", range(4, 12))
def test_not_in_a_month_is_respected_and_rounds_are_broken_only_when_unavoidable(n: int) -> None:
    """Rounds tracked here on their own: a host from outside the round's due
    volunteers only when fewer than two of them can host that month."""
    names = orgs(n)
    volunteers = [
        Volunteer(names[0], frozenset({9})),
        Volunteer(names[1], frozenset({2, 5})),
        *(Volunteer(o) for o in names[2:]),
    ]
    never = {v.organisation: v.not_in for v in volunteers}
    for seed in SEEDS:
        due = set(names)
        for year in years(volunteers, seed):
            for month, meeting in zip(MONTHS, year, strict=True):
                assert len(meeting) == 2
                can = {o for o in due if month not in never[o]}
                for host in meeting:
                    assert month not in never[host]
                    assert host in due or len(can) < 2, (seed, month, meeting, due)
                    due.discard(host)
                    if not due:
                        due = set(names)


@pytest.mark.parametrize("n", range(4, 12))
def test_last_years_hosts_go_last(n: int) -> None:
    """Nobody who hosted last year hosts in the next year before those who did not
    host last year have."""
    volunteers = [Volunteer(o) for o in orgs(n)]
    for seed in SEEDS:
        planned = years(volunteers, seed, 3)
        for before, after in pairwise(planned):
            hosted_before = {o for m in before for o in m}
            rested = [o for o in orgs(n) if o not in hosted_before]
            first = [o for m in after for o in m][: len(rested)]
            if len(rested) >= 2:
                assert set(first) == set(rested), (seed, before, after)


def test_the_plan_is_the_same_for_the_same_seed_and_differs_between_seeds() -> None:
    volunteers = [Volunteer(o) for o in orgs(9)]
    plans = {seed: years(volunteers, seed, 3) for seed in SEEDS}
    for seed in SEEDS:
        assert years(volunteers, seed, 3) == plans[seed]
        assert years(list(reversed(volunteers)), seed, 3) == plans[seed]  # order of the list
    assert len({str(p) for p in plans.values()}) > len(SEEDS) // 2


def test_history_of_organisations_that_left_is_passed_over() -> None:
    volunteers = [Volunteer(o) for o in orgs(4)]
    plan = plan_hosts(volunteers, MONTHS, [("gone", "org00"), ("org01", "gone")], seed=3)
    assert {o for m in plan for o in m} == set(orgs(4))
    assert "org00" not in plan[0] and "org01" not in plan[0]  # hosted last: last in line


def test_pick_gives_the_next_in_line_leaving_out_hosts_and_decliners() -> None:
    volunteers = [Volunteer(o) for o in orgs(6)] + [Volunteer("julinee", frozenset({7}))]
    rotation = Rotation(volunteers, [("org00", "org01"), ("org02", "org03")], seed=0)
    line = rotation.in_line(7, leave_out=("org04",))
    assert "julinee" not in line and "org04" not in line
    assert line[0] == "org05"  # due, never hosted
    assert rotation.pick(7, leave_out=("org04",)) == "org05"
    # with everyone due left out, the one who hosted longest ago
    assert rotation.pick(7, leave_out=("org04", "org05")) in ("org00", "org01")
    assert Rotation([Volunteer("a")], ()).pick(1, leave_out=("a",)) == ""


def test_fewer_than_two_who_can_gives_fewer_hosts() -> None:
    volunteers = [Volunteer("a"), Volunteer("b", frozenset({9}))]
    assert plan_hosts(volunteers, (2, 9), (), 0) == [("a", "b"), ("a",)]


def test_volunteer_lines_are_read_with_not_in_months() -> None:
    lines = [
        "# gangmakers 2027",
        "reos",
        "",
        "Participe; niet in juli, augustus",
        "dsv; not in july",
    ]
    assert read_volunteers(lines, ["reos", "participe", "dsv"]) == [
        Volunteer("reos"),
        Volunteer("participe", frozenset({7, 8})),
        Volunteer("dsv", frozenset({7})),
    ]
    with pytest.raises(VolunteersError) as refused:
        read_volunteers(
            ["reos", "nobody", "dsv; niet in juno", "reos", "dsv; soms"], ["reos", "dsv"]
        )
    assert refused.value.problems == [
        "line 2: 'nobody' is not an organisation id",
        "line 3: 'juno' is not a month such as juli",
        "line 4: reos is given twice",
        "line 5: 'soms' is not 'niet in <month>'",
    ]


def test_last_year_named_on_its_own_goes_last_even_without_a_history() -> None:
    volunteers = [Volunteer(o) for o in orgs(6)]
    for seed in SEEDS:
        plan = plan_hosts(volunteers, MONTHS, (), seed, last_year=[("org00", "org01")])
        assert not {"org00", "org01"} & {*plan[0], *plan[1]}, (seed, plan)
