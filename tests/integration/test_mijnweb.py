"""/mijnweb: the latest spinnenweb, the trend over time, and comparing two dates
(by buttons or typed), never reaching another person's check-ins."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Choice, Image, Reply
from bot.settings import Settings
from bot.spinnenweb.records import CheckinRecord
from bot.storage.models import User
from bot.storage.repositories.checkins import CheckinRepo
from tests.helpers.conversation import Person

CONSENT = "Ja, bewaar mijn antwoorden"
SHORT = "Kort (6 vragen)"
NAMES = (
    "Lichaamsfuncties",
    "Mentaal welbevinden",
    "Zingeving",
    "Kwaliteit van leven",
    "Meedoen",
    "Dagelijks functioneren",
)
DIMENSIONS = (
    "lichaamsfuncties",
    "mentaal-welbevinden",
    "zingeving",
    "kwaliteit-van-leven",
    "meedoen",
    "dagelijks-functioneren",
)
# Three check-ins of Anna; 10:00 UTC is 11:00 in Amsterdam, the same day.
D1 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
D2 = datetime(2027, 1, 10, 10, 0, tzinfo=UTC)
D3 = datetime(2027, 2, 15, 10, 0, tzinfo=UTC)
S1 = (5, 6, 7, 8, 4, 3)
S2 = (6, 6, 5, 9, 4, 2)
S3 = (7, 5, 5, 10, 6, 2)
DAYS = "26-11-2026, 10-01-2027, 15-02-2027"
BOB_DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a day Anna has no check-in


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, export_dir=tmp_path / "exports")


# -- helpers ------------------------------------------------------------------------


def t(app: App, key: str, **params: object) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key, **params)


async def press(person: Person, label: str) -> list[Reply]:
    """Press a choice that must be on offer (Person.press would send raw data)."""
    assert person.find_choice(label) is not None, (label, person.choices, person.text)
    return await person.press(label)


async def checkin(
    person: Person,
    scores: Sequence[int],
    *,
    reflection: Sequence[str] | None = None,
    followup: str = "Geen herinnering",
    consent: str = CONSENT,
) -> None:
    """A whole quick check-in with six scores, optionally with the three reflection
    answers, ending with a follow-up choice."""
    await person.send("/spinnenweb")
    if person.find_choice(CONSENT) is not None:
        await press(person, consent)
    await press(person, SHORT)
    for position, score in enumerate(scores):
        assert f"Vraag {position + 1} van 6" in person.text
        await press(person, str(score))
    assert "Jouw spinnenweb van" in person.text
    if consent != CONSENT:
        assert "niet bewaard" in person.text
        return
    if reflection is None:
        await press(person, "Nee, klaar")
    else:
        await press(person, "Ja, graag")
        for answer in reflection:
            await person.send(answer)
    await press(person, followup)
    assert person.last[-1].text.startswith("Klaar!"), person.text


async def three_checkins(person: Person, clock: FrozenClock) -> None:
    """Anna's three check-ins, on purpose not taken in date order."""
    for moment, scores in ((D2, S2), (D1, S1), (D3, S3)):
        clock.set(moment)
        await checkin(person, scores)
    clock.set(D3 + timedelta(days=1))


async def user_id(app: App, platform_user_id: str = "anna") -> int:
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(
            select(User.id).where(User.platform_user_id == platform_user_id)
        )
        return int(found.scalar_one())


async def history(app: App, uid: int) -> list[CheckinRecord]:
    assert app.services is not None
    async with app.services.sessions() as session:
        return await CheckinRepo(session, app.services.cipher).history(uid)


def lines(*changes: tuple[int, str, int]) -> list[str]:
    """The six summary lines for (score, arrow, before) per dimension."""
    return [
        f"- {name}: {score} {arrow} (was {before})"
        for name, (score, arrow, before) in zip(NAMES, changes, strict=True)
    ]


def assert_picture(image: Image | None, settings: Settings, prefix: str) -> None:
    assert image is not None
    path = image.path
    assert path.parent == settings.image_dir and path.name.startswith(prefix), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert image.alt


LATEST_VS_PREVIOUS = lines(
    (7, "↑", 6), (5, "↓", 6), (5, "=", 5), (10, "↑", 9), (6, "↑", 4), (2, "=", 2)
)
THIRD_VS_FIRST = lines(
    (7, "↑", 5), (5, "↓", 6), (5, "↓", 7), (10, "↑", 8), (6, "↑", 4), (2, "↓", 3)
)


def assert_compares(app: App, reply: Reply, later: str, earlier: str, expected: list[str]) -> None:
    text = reply.text.splitlines()
    assert text[0] == f"Jouw spinnenweb van {later} (0 tot 10):"
    assert text[1:7] == expected
    assert text[7] == t(app, "checkin.summary_since", date=earlier)


# -- no, one and several check-ins --------------------------------------------------------


async def test_without_checkins_offers_to_start_one(bot: Person, app: App) -> None:
    replies = await bot.send("/mijnweb")
    assert [r.text for r in replies] == [t(app, "mijnweb.none")]
    assert replies[0].image is None
    assert replies[0].choices == (Choice("Vul je spinnenweb in", "menu:spinnenweb"),)
    await bot.press("Vul je spinnenweb in")
    assert CONSENT in bot.choices  # the check-in starts


async def test_a_checkin_without_consent_is_not_shown(bot: Person, app: App) -> None:
    await checkin(bot, S1, consent="Nee, niet bewaren")
    await bot.send("/mijnweb")
    assert bot.text == t(app, "mijnweb.none")
    assert await history(app, await user_id(app)) == []


async def test_one_checkin_shows_its_picture_and_scores(
    bot: Person, app: App, clock: FrozenClock, settings: Settings
) -> None:
    clock.set(D1)
    await checkin(bot, S1)
    uid = await user_id(app)
    clock.advance(days=2)

    replies = await bot.send("/mijnweb")

    assert len(replies) == 2
    assert_picture(replies[0].image, settings, f"u{uid}-web-")
    text = replies[0].text.splitlines()
    assert text[0] == "Jouw spinnenweb van 26-11-2026 (0 tot 10):"
    assert text[1:7] == [f"- {n}: {s}" for n, s in zip(NAMES, S1, strict=True)]
    assert t(app, "checkin.summary_first") in replies[0].text
    assert replies[1].text == t(app, "mijnweb.only_one")
    assert replies[1].image is None
    assert replies[1].choices == (Choice("Vul je spinnenweb in", "menu:spinnenweb"),)
    await bot.press("mw:pick")  # nothing to compare with one check-in
    assert bot.text == t(app, "mijnweb.stale")


@pytest.mark.real_charts
async def test_several_checkins_show_the_latest_against_the_previous_and_a_trend(
    bot: Person, app: App, clock: FrozenClock, settings: Settings
) -> None:
    await three_checkins(bot, clock)
    uid = await user_id(app)

    replies = await bot.send("/mijnweb")

    assert len(replies) == 2
    latest, trend = replies
    assert_picture(latest.image, settings, f"u{uid}-web-")
    assert_compares(app, latest, "15-02-2027", "10-01-2027", LATEST_VS_PREVIOUS)
    assert_picture(trend.image, settings, f"u{uid}-trend-")
    assert trend.image is not None and trend.image.alt == t(app, "mijnweb.trend_alt")
    assert trend.text.splitlines() == [
        "Je hebt 3 keer je spinnenweb ingevuld, van 26-11-2026 tot 15-02-2027. Per onderdeel:",
        "- Lichaamsfuncties: 5 → 6 → 7",
        "- Mentaal welbevinden: 6 → 6 → 5",
        "- Zingeving: 7 → 5 → 5",
        "- Kwaliteit van leven: 8 → 9 → 10",
        "- Meedoen: 4 → 4 → 6",
        "- Dagelijks functioneren: 3 → 2 → 2",
    ]
    assert trend.choices == (Choice("Vergelijk twee datums", "mw:pick"),)


async def test_many_checkins_trend_text_shows_the_last_eight_and_buttons_the_last_twelve(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    await bot.send("/start")
    uid = await user_id(app)
    moments = [datetime(2027, 1, day, 10, 0, tzinfo=UTC) for day in range(1, 13)]
    moments.append(datetime(2027, 1, 12, 15, 30, tzinfo=UTC))  # a second one that day
    assert app.services is not None
    async with app.services.sessions() as session, session.begin():
        repo = CheckinRepo(session, app.services.cipher)
        for number, moment in enumerate(moments):
            score = number % 11
            record = CheckinRecord(
                id=0,
                taken_at=moment,
                mode="kort",
                scores={d: float(score) for d in DIMENSIONS},
                answers={d: score for d in DIMENSIONS},
            )
            await repo.add(uid, record, moment)
    clock.set(datetime(2027, 1, 13, 9, 0, tzinfo=UTC))

    trend = (await bot.send("/mijnweb"))[1]
    text = trend.text.splitlines()
    assert text[0].startswith("Je hebt 13 keer je spinnenweb ingevuld, van 01-01-2027 tot 12-01")
    assert text[1] == "- Lichaamsfuncties: 5 → 6 → 7 → 8 → 9 → 10 → 0 → 1"

    await press(bot, "Vergelijk twee datums")
    assert bot.text == t(app, "mijnweb.pick_first")
    assert bot.choices == [
        *(f"{day:02d}-01-2027" for day in range(2, 12)),
        "12-01-2027 11:00",
        "12-01-2027 16:30",
    ]

    # typed: the last check-in of a day counts
    [reply] = await bot.send("/mijnweb 1-1-2027 12-1-2027")
    assert reply.text.splitlines()[1] == "- Lichaamsfuncties: 1 ↑ (was 0)"


# -- comparing two dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"), [("15-02-2027", "26-11-2026"), ("26-11-2026", "15-02-2027")]
)
async def test_compare_by_buttons_shows_the_earlier_as_previous(
    bot: Person, app: App, clock: FrozenClock, settings: Settings, first: str, second: str
) -> None:
    await three_checkins(bot, clock)
    uid = await user_id(app)
    await bot.send("/mijnweb")
    await press(bot, "Vergelijk twee datums")
    assert bot.choices == ["26-11-2026", "10-01-2027", "15-02-2027"]
    await press(bot, first)
    assert bot.text == t(app, "mijnweb.pick_second", date=first)
    assert bot.choices == [d for d in ("26-11-2026", "10-01-2027", "15-02-2027") if d != first]

    replies = await press(bot, second)

    assert len(replies) == 1
    assert_picture(replies[0].image, settings, f"u{uid}-compare-")
    assert_compares(app, replies[0], "15-02-2027", "26-11-2026", THIRD_VS_FIRST)


@pytest.mark.parametrize(
    "dates",
    [
        "26-11-2026 15-02-2027",
        "15-02-2027 26-11-2026",
        "26-11-2026  15-2-2027",
        "2026-11-26 2027-02-15",
        "2027-02-15 26-11-2026",
    ],
)
async def test_compare_by_typed_dates(
    bot: Person, app: App, clock: FrozenClock, settings: Settings, dates: str
) -> None:
    await three_checkins(bot, clock)
    uid = await user_id(app)
    replies = await bot.send(f"/mijnweb {dates}")
    assert len(replies) == 1
    assert_picture(replies[0].image, settings, f"u{uid}-compare-")
    assert_compares(app, replies[0], "15-02-2027", "26-11-2026", THIRD_VS_FIRST)


@pytest.mark.parametrize(
    ("dates", "key"),
    [
        ("26-11-2026 01-01-2027", "mijnweb.date_not_found"),
        ("2026-11-27 2027-02-15", "mijnweb.date_not_found"),
        ("blabla", "mijnweb.dates_unclear"),
        ("gisteren en vandaag", "mijnweb.dates_unclear"),
        ("26-11-2026", "mijnweb.dates_unclear"),
        ("26-11-2026 10-01-2027 15-02-2027", "mijnweb.dates_unclear"),
        ("26-11-2026 26-11-2026", "mijnweb.dates_unclear"),
        ("31-02-2027 26-11-2026", "mijnweb.dates_unclear"),
    ],
)
async def test_compare_by_typed_dates_that_do_not_fit(
    bot: Person, app: App, clock: FrozenClock, dates: str, key: str
) -> None:
    await three_checkins(bot, clock)
    replies = await bot.send(f"/mijnweb {dates}")
    assert [r.text for r in replies] == [t(app, key, dates=DAYS)]
    assert replies[0].image is None


async def test_forged_compare_data_shows_nothing_of_anyone_else(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    bob = Person(app, user_id="bob", display_name="Bob")
    clock.set(BOB_DAY)
    await checkin(bob, (1, 1, 1, 1, 1, 1))
    clock.set(BOB_DAY + timedelta(days=1))
    await checkin(bob, (0, 0, 0, 0, 0, 0))
    await three_checkins(bot, clock)
    anna_ids = [c.id for c in await history(app, await user_id(app))]
    bob_ids = [c.id for c in await history(app, await user_id(app, "bob"))]
    a1, a2, a3 = anna_ids
    b1, b2 = bob_ids
    stale = t(app, "mijnweb.stale")

    forged = [
        f"mw:a:{b1}",
        f"mw:b:{a1}:{b1}",
        f"mw:b:{b1}:{a3}",
        f"mw:b:{b1}:{b2}",
        f"mw:b:{a1}:{a1}",
        f"mw:pick:{a1}",
        f"mw:a:{a1}:{a2}",
        f"mw:b:{a1}",
        f"mw:b:{a1}:{a2}:{a3}",
        "mw:a:x",
        f"mw:b:{a1}:x",
        "mw:a:-1",
        "mw:a:1.5",
        "mw:a:",
        "mw:a",
        "mw:zz",
    ]
    for action in forged:
        replies = await bot.press(action)
        assert [r.text for r in replies] == [stale], action
        assert replies[0].image is None, action
        assert replies[0].choices == (Choice("Vul je spinnenweb in", "menu:spinnenweb"),)

    # Anna's own buttons never offer Bob's dates
    await bot.press(f"mw:a:{a1}")
    assert bot.choices == ["10-01-2027", "15-02-2027"]
    await bot.send(f"/mijnweb 26-11-2026 {BOB_DAY:%d-%m-%Y}")
    assert bot.text == t(app, "mijnweb.date_not_found", dates=DAYS)

    # and Bob sees his own, untouched
    await bob.send("/mijnweb")
    assert "- Lichaamsfuncties: 0 ↓ (was 1)" in bob.text
    assert "01-12-2026" in bob.text and "26-11-2026" not in bob.text


async def test_forged_compare_data_with_other_unicode_digits_is_stale(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    """``str.isdigit`` is true for "²", which ``int`` refuses: still only a stale reply."""
    await three_checkins(bot, clock)
    a1, a2, _ = [c.id for c in await history(app, await user_id(app))]
    for action in ("mw:a:²", f"mw:b:{a1}:{a2}²", f"mw:b:{a1}:{a2}⁵"):
        replies = await bot.press(action)
        assert [r.text for r in replies] == [t(app, "mijnweb.stale")], action
        assert replies[0].image is None
