"""Series rules and the year's proposal: reading and checking the rules, the dates they
give (DST-safe wall times, holidays, taken days, the past), determinism and stable UIDs."""

from __future__ import annotations

import os
import shutil
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.agenda.files import Vocabulary
from bot.agenda.model import Event
from bot.agenda.plan import (
    as_data,
    conflict,
    holidays,
    moved_to,
    nth_weekday,
    plan,
    uid_for,
)
from bot.agenda.series import (
    LAST,
    NoRules,
    SeriesRule,
    SeriesRulesError,
    current_rules,
    load_rules,
    read_rules,
    rules_problems,
)

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
ZONE = "Europe/Amsterdam"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
VOCABULARY = Vocabulary(("Leiden", "Katwijk"), ("hogeschool-leiden", "participe", "kwadraad"))


BASE = """\
    series:
      leeratelier:
        names: [leerateliers]
        title: Leeratelier
        title_with_theme: "Leeratelier: {theme}"
        weekday: donderdag
        week: derde
        months: [maart, juni, november]
        start: "15:00"
        end: "17:00"
        place: Hogeschool Leiden
        hosts: [hogeschool-leiden]
    """


def leeratelier(body: str = BASE) -> SeriesRule:
    return read_rules(textwrap.dedent(body), VOCABULARY).find("leerateliers")


# -- the rules --------------------------------------------------------------------------


def test_the_shipped_rules_describe_the_leerateliers_of_the_seeds() -> None:
    rule = load_rules(CONTENT).find("leerateliers")

    assert rule.kind == "leeratelier"
    assert [s.month for s in rule.slots] == [3, 6, 11]  # three times a year
    assert (rule.start, rule.end) == (time(15, 0), time(17, 0))  # "van 15.00 tot 17.00 uur"
    assert rule.address == "Hogeschool Leiden"
    assert rule.hosts == ("hogeschool-leiden",)
    # 2022's dates from the seeds: 24 maart (4th Thursday) and 21 juni (3rd Tuesday)
    march, june, _ = rule.slots
    assert nth_weekday(2022, 3, march.weekday, march.week) == date(2022, 3, 24)
    assert nth_weekday(2022, 6, june.weekday, june.week) == date(2022, 6, 21)


def test_a_kind_is_found_by_its_names_in_any_case() -> None:
    found = read_rules(textwrap.dedent(BASE), VOCABULARY)
    assert found.find("Leerateliers").kind == "leeratelier"
    assert found.find("leeratelier").kind == "leeratelier"


def test_a_kind_without_rules_names_the_kinds_that_have_some() -> None:
    found = read_rules(textwrap.dedent(BASE), VOCABULARY)
    with pytest.raises(NoRules) as caught:
        found.find("gangmakers")
    assert str(caught.value) == "no rules for the kind 'gangmakers' (kinds with rules: leeratelier)"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("weekday: donderdag", "weekday: dondag"),
            "weekday 'dondag' is not a day such as donderdag",
        ),
        (("[maart, juni, november]", "[maart, juny]"), "month 'juny' is not a month such as maart"),
        (('start: "15:00"', 'start: "25:00"'), "start '25:00' is not a time such as \"15:00\""),
        (('start: "15:00"', "start: 15:00"), "write it in quotes"),
        (('end: "17:00"', 'end: "14:00"'), "end 14:00 is not after start 15:00"),
        (("week: derde", "week: vijfde"), "week 'vijfde' is not one of"),
        (("[maart, juni, november]", "[maart, maart]"), "is given twice"),
        (("[hogeschool-leiden]", "[hogeschool-leidn]"), "did you mean 'hogeschool-leiden'?"),
        (("title: Leeratelier", "title: Leeratelier {nummer}"), "{nummer} is not known"),
        (
            ("names: [leerateliers]", "names: [leerateliers]\n    colour: red"),
            "unknown field 'colour'",
        ),
        (("  leeratelier:", "  leeratelir:"), "'leeratelir' is not a kind"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_line(change: tuple[str, str], problem: str) -> None:
    body = textwrap.dedent(BASE).replace(*change)
    with pytest.raises(SeriesRulesError) as caught:
        read_rules(body, VOCABULARY)
    assert problem in str(caught.value)


def test_a_month_may_have_its_own_weekday_week_and_theme() -> None:
    body = textwrap.dedent(BASE).replace(
        "[maart, juni, november]",
        "\n      - {month: maart, week: laatste, theme: Veerkracht}\n      - juni",
    )
    rule = read_rules(body, VOCABULARY).find("leeratelier")
    march = rule.slots[0]
    assert (march.month, march.weekday, march.week, march.theme) == (3, 3, LAST, "Veerkracht")
    proposal = plan(rule, 2027, zone=ZONE, now=NOW)
    assert proposal.items[0].data.start == datetime(2027, 3, 25, 15, 0)  # the last Thursday
    assert proposal.items[0].data.title == "Leeratelier: Veerkracht"
    assert proposal.items[1].data.title == "Leeratelier"


# -- the proposal -----------------------------------------------------------------------


def test_the_year_is_proposed_at_wall_time_on_both_sides_of_dst() -> None:
    body = textwrap.dedent(BASE).replace("[maart, juni, november]", "[maart, april, november]")
    body = body.replace("week: derde", "week: laatste")
    proposal = plan(leeratelier(body), 2027, zone=ZONE, now=NOW)

    starts = [item.data.start for item in proposal.items]
    # the last Thursday of March 2027 is before the switch (28 March), April after it
    assert starts == [
        datetime(2027, 3, 25, 15, 0),
        datetime(2027, 4, 29, 15, 0),
        datetime(2027, 11, 25, 15, 0),
    ]
    instants = [item.data.starts_at for item in proposal.items]
    assert instants == [
        datetime(2027, 3, 25, 14, 0, tzinfo=UTC),  # CET
        datetime(2027, 4, 29, 13, 0, tzinfo=UTC),  # CEST
        datetime(2027, 11, 25, 14, 0, tzinfo=UTC),  # CET again
    ]
    assert all(item.data.zone == ZONE for item in proposal.items)


def test_the_proposal_is_the_same_every_time_with_stable_uids() -> None:
    rule = leeratelier()
    first = plan(rule, 2027, zone=ZONE, now=NOW)
    again = plan(rule, 2027, zone=ZONE, now=NOW)

    assert first == again
    assert [i.data.uid for i in first.items] == [
        "leeratelier-2027-03@alliantiepg.nl",
        "leeratelier-2027-06@alliantiepg.nl",
        "leeratelier-2027-11@alliantiepg.nl",
    ]
    assert uid_for("leeratelier", 2027, 3) == first.items[0].data.uid


def test_dates_in_the_past_are_left_out() -> None:
    proposal = plan(leeratelier(), 2026, zone=ZONE, now=datetime(2026, 7, 1, tzinfo=UTC))

    assert [i.data.start.date() for i in proposal.items] == [date(2026, 11, 19)]
    assert [(s.rule_day, s.why) for s in proposal.skipped] == [
        (date(2026, 3, 19), "past"),
        (date(2026, 6, 18), "past"),
    ]


def test_a_date_on_a_public_holiday_moves_a_week() -> None:
    # Ascension 2027 is Thursday 6 May; the first Thursday of May
    body = textwrap.dedent(BASE).replace("[maart, juni, november]", "[mei]")
    proposal = plan(
        leeratelier(body.replace("week: derde", "week: eerste")), 2027, zone=ZONE, now=NOW
    )
    item = proposal.items[0]
    assert (item.rule_day, item.data.start.date(), item.moved) == (
        date(2027, 5, 6),
        date(2027, 5, 13),
        "holiday",
    )
    kept = body.replace("week: derde", "week: eerste") + "    skip_holidays: false\n"
    assert plan(leeratelier(kept), 2027, zone=ZONE, now=NOW).items[0].data.start.date() == date(
        2027, 5, 6
    )


def test_the_last_week_moves_back_when_a_week_later_leaves_the_month() -> None:
    # the last Monday of March 2027 is Easter Monday (29 March)
    body = textwrap.dedent(BASE).replace("[maart, juni, november]", "[maart]")
    body = body.replace("weekday: donderdag", "weekday: maandag").replace("derde", "laatste")
    item = plan(leeratelier(body), 2027, zone=ZONE, now=NOW).items[0]
    assert (item.data.start.date(), item.moved) == (date(2027, 3, 22), "holiday")


def test_a_day_with_another_event_of_the_kind_is_not_proposed() -> None:
    rule = leeratelier()
    other = Event(
        **vars(as_data(plan(rule, 2027, zone=ZONE, now=NOW).items[1].data))
        | {"uid": "leeratelier-extra@alliantiepg.nl", "title": "Extra leeratelier"}
    )
    proposal = plan(rule, 2027, zone=ZONE, now=NOW, existing=[other])

    june = proposal.items[1]
    assert (june.rule_day, june.data.start.date(), june.moved) == (
        date(2027, 6, 17),  # the third Thursday
        date(2027, 6, 24),
        "taken",
    )
    cancelled = replace(other, status="cancelled")  # a cancelled one takes no day
    assert plan(rule, 2027, zone=ZONE, now=NOW, existing=[cancelled]).items[1].moved is None
    gangmakers = replace(other, kind="gangmakers")  # another kind takes no day
    assert plan(rule, 2027, zone=ZONE, now=NOW, existing=[gangmakers]).items[1].moved is None


def test_a_date_in_the_agenda_already_is_shown_as_stored_and_not_new() -> None:
    rule = leeratelier()
    first = plan(rule, 2027, zone=ZONE, now=NOW)
    adjusted = replace(first.items[0].data, title="Leeratelier: mentale gezondheid")
    stored = Event(**vars(moved_to(adjusted, date(2027, 3, 11))))

    again = plan(rule, 2027, zone=ZONE, now=NOW, existing=[stored])

    assert again.items[0].stored
    assert again.items[0].data == as_data(stored)  # as stored, not as the rules say
    assert [i.data.uid for i in again.new] == [i.data.uid for i in first.items[1:]]


def test_dutch_public_holidays() -> None:
    days = holidays(2027)
    assert days[date(2027, 3, 29)] == "tweede_paasdag"  # Easter 2027 is 28 March
    assert days[date(2027, 5, 6)] == "hemelvaartsdag"
    assert days[date(2027, 4, 27)] == "koningsdag"
    assert holidays(2025)[date(2025, 4, 26)] == "koningsdag"  # 27 April 2025 is a Sunday
    assert date(2027, 6, 15) not in days


def test_conflict_says_past_or_taken() -> None:
    item = plan(leeratelier(), 2027, zone=ZONE, now=NOW).items[0].data
    twin = replace(item, uid="other@x")
    assert conflict(item, [], NOW) is None
    assert conflict(item, [item], NOW) is None  # itself is no conflict
    assert conflict(item, [twin], NOW) == "taken"
    assert conflict(item, [], datetime(2027, 4, 1, tzinfo=UTC)) == "past"


def test_moving_keeps_the_length_and_the_wall_time() -> None:
    item = plan(leeratelier(), 2027, zone=ZONE, now=NOW).items[0].data
    moved = moved_to(item, date(2027, 4, 1))
    assert (moved.start, moved.end) == (datetime(2027, 4, 1, 15, 0), datetime(2027, 4, 1, 17, 0))
    later = moved_to(item, date(2027, 4, 1), datetime(2027, 4, 1, 19, 30))
    assert later.end == datetime(2027, 4, 1, 21, 30)


def test_the_chat_reads_the_rules_again_when_the_file_changes(tmp_path: Path) -> None:
    (tmp_path / "messages").mkdir()
    for name in ("organisations.yaml", "regio.yaml"):
        (tmp_path / name).write_text((CONTENT / name).read_text(encoding="utf-8"))
    assert current_rules(tmp_path).kinds == ()  # no file: no rules
    rules_file = tmp_path / "agenda_series.yaml"
    rules_file.write_text(textwrap.dedent(BASE), encoding="utf-8")
    os.utime(rules_file, ns=(1_000_000_000, 1_000_000_000))
    assert current_rules(tmp_path).find("leeratelier").start == time(15, 0)

    rules_file.write_text(textwrap.dedent(BASE).replace('"15:00"', '"14:30"'), encoding="utf-8")
    os.utime(rules_file, ns=(2_000_000_000, 2_000_000_000))
    assert current_rules(tmp_path).find("leeratelier").start == time(14, 30)


def test_content_check_reports_bad_series_rules(tmp_path: Path) -> None:
    from bot.knowledge.check import check_content

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    assert rules_problems(content) == []
    rules_file = content / "agenda_series.yaml"
    rules_file.write_text(rules_file.read_text().replace("weekday: donderdag", "weekday: dondag"))

    problem = "agenda_series.yaml: leeratelier: weekday 'dondag' is not a day such as donderdag"
    assert rules_problems(content) == [problem]
    assert problem in check_content(content).errors
