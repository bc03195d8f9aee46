"""The blind test of issue 16 on the dates of the reflectiecirkels and the year
buttons, on SQLite and PostgreSQL: a circle's day with another agenda event at that
time (the gangmakers overleg of the same Tuesday) moves on a week and the save says
so; a year whose first meeting has passed is refused (chat and CLI); in December, or
when this year has no date left, the year buttons of /kringen and /agenda plan offer
the next two years; typed text that is no number is "geen jaar"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import cli
from bot.agenda.model import Event, EventData
from bot.app import App
from bot.circles import cli as circles_cli
from bot.core.clock import FrozenClock
from tests.helpers.agenda import add, cancel
from tests.helpers.conversation import Person
from tests.integration.test_agenda_cli import env, stored  # noqa: F401 - the fixture
from tests.integration.test_circles_cli import circles_env, run  # noqa: F401 - the fixture

DECEMBER = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
GANGMAKERS = EventData(
    uid="gangmakers-2027-02@alliantiepg.nl",
    kind="gangmakers",
    title="Gangmakersbijeenkomst",
    start=datetime(2027, 2, 9, 13, 30),
    end=datetime(2027, 2, 9, 16, 0),
    zone="Europe/Amsterdam",
    audience="role:gangmaker",
)


@pytest.fixture
def lotte(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte")


async def circle_starts(app: App) -> list[datetime]:
    assert app.services is not None
    async with app.services.work.begin() as db:
        found: list[Event] = await db.agenda.all()
    return [e.start for e in found if e.kind == "reflectiecirkel"]


async def test_a_circle_day_with_another_meeting_at_that_time_moves_on_a_week(
    lotte: Person, app: App
) -> None:
    await add(app, GANGMAKERS)
    await lotte.send("/kringen 2027")
    await lotte.press("Opslaan")

    assert "De eerste is op dinsdag 16 februari 2027" in lotte.text
    assert "- Reflectiecirkel 1: niet 9 februari 2027, maar 16 februari 2027" in lotte.text
    assert "- Reflectiecirkel 5: niet 9 maart 2027, maar 16 maart 2027" in lotte.text
    assert await circle_starts(app) == [
        datetime(2027, 2, 16, 14),
        datetime(2027, 2, 23, 14),
        datetime(2027, 3, 2, 14),
        datetime(2027, 3, 9, 14),
        datetime(2027, 3, 16, 14),
    ]


async def test_a_cancelled_meeting_or_one_at_another_hour_takes_no_day(
    lotte: Person, app: App
) -> None:
    await add(app, GANGMAKERS)
    await cancel(app, GANGMAKERS.uid)
    morning = EventData(
        uid="ochtend@x",
        kind="bestuurders",
        title="Ochtend",
        start=datetime(2027, 2, 16, 9, 0),
        end=datetime(2027, 2, 16, 14, 0),  # ends as the circle begins: no overlap
        zone="Europe/Amsterdam",
    )
    await add(app, morning)
    await lotte.send("/kringen 2027")
    await lotte.press("Opslaan")
    assert "niet 9 februari" not in lotte.text
    assert (await circle_starts(app))[:2] == [datetime(2027, 2, 9, 14), datetime(2027, 2, 16, 14)]


async def test_in_december_kringen_offers_the_next_two_years_and_refuses_this_one(
    lotte: Person, app: App, clock: FrozenClock
) -> None:
    clock.set(DECEMBER)
    await lotte.send("/kringen")
    assert lotte.choices == ["2027", "2028", "Stoppen"]
    await lotte.send("2026")
    assert "De reflectiecirkels van 2026 kan ik niet meer plannen" in lotte.text
    assert "in het volgende jaar" in lotte.text
    await lotte.send("abc")
    assert lotte.text.startswith("Dat is geen jaar.")
    await lotte.press("2027")
    assert lotte.text.startswith("Mijn voorstel voor de reflectiecirkels van 2027")
    await lotte.press("Opslaan")
    assert await circle_starts(app) != []


async def test_kringen_offers_this_year_while_its_day_is_ahead(
    lotte: Person, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    await lotte.send("/kringen")
    assert lotte.choices == ["2026", "2027", "Stoppen"]


async def test_agenda_plan_offers_the_next_two_years_when_this_one_has_no_date_left(
    lotte: Person, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 11, 15, 9, 0, tzinfo=UTC))  # the last gangmakers: 10 November
    await lotte.send("/agenda plan gangmakers")
    assert lotte.choices == ["2027", "2028", "Terug", "Stoppen"]
    await lotte.send("/agenda plan leerateliers")  # its 19 November is still ahead
    assert lotte.choices == ["2026", "2027", "Terug", "Stoppen"]
    clock.set(DECEMBER)
    await lotte.send("/agenda plan gangmakers")
    assert lotte.choices == ["2027", "2028", "Terug", "Stoppen"]
    await lotte.send("abc")
    assert lotte.text.startswith("Dat is geen jaar.")
    await lotte.send("2040")
    assert lotte.text.startswith("Dat is geen jaar dat ik kan plannen.")
    await lotte.press("2027")
    assert "2027" in lotte.text and "Gangmakers" in lotte.text


def test_the_cli_moves_a_circle_off_the_gangmakers_meeting_and_says_so(
    circles_env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["events", "plan", "gangmakers", "--year", "2027", "--save"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "compose", "--year", "2027", "--save")
    assert code == 0
    assert "moved: circle 1 from 2027-02-09 to 2027-02-16" in out
    circles = [e for e in stored() if e["kind"] == "reflectiecirkel"]
    gangmakers = [e["start"].date() for e in stored() if e["kind"] == "gangmakers"]
    assert circles and not {e["start"].date() for e in circles} & set(gangmakers)


def test_the_cli_refuses_a_year_whose_first_meeting_has_passed(
    circles_env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(circles_cli, "_now", lambda: DECEMBER)
    # From 2 December 2026 on Tuesdays: 8, 15, 22, 29 December and 5 January 2027.
    code, _, err = run(capsys, "compose", "--year", "2026", "--save")
    assert code == 1
    assert "into 2027" in err and "--year 2027" in err
    assert stored() == []
    assert run(capsys, "history")[1].startswith("no circles stored yet")
