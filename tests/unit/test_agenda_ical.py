"""The agenda as iCalendar: what calendars get is parsed back with icalendar and with
recurring-ical-events, times are right across the DST switches of 2026 and 2027, and
.ics files from Outlook and Google read as they are."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from bot.agenda.ical import CalendarError, from_ical, kind_in, to_ical
from bot.agenda.model import CANCELLED, Event, instant

AMS = "Europe/Amsterdam"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "agenda"
CHANGED_AT = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)


def event(uid: str = "leeratelier-13@alliantiepg.nl", **overrides: object) -> Event:
    values: dict[str, object] = {
        "uid": uid,
        "kind": "leeratelier",
        "title": "Leeratelier 13: eenzaamheid",
        "start": datetime(2027, 3, 29, 19, 30),
        "end": datetime(2027, 3, 29, 21, 30),
        "zone": AMS,
        "description": "Thema: eenzaamheid.\nIedereen welkom, ook inwoners.",
        "address": "Hogeschool Leiden",
        "online_url": "https://example.org/leeratelier",
        "hosts": ("hogeschool-leiden",),
        "sequence": 3,
        "created_at": CHANGED_AT - timedelta(days=3),
        "updated_at": CHANGED_AT,
    }
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


def parsed(raw: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(raw)


def test_one_event_carries_uid_dtstamp_sequence_status_tzid_and_the_rest() -> None:
    calendar = parsed(to_ical([event()]))
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["uid"]) == "leeratelier-13@alliantiepg.nl"
    assert vevent.decoded("dtstamp") == CHANGED_AT
    assert vevent.decoded("sequence") == 3
    assert str(vevent["status"]) == "CONFIRMED"
    assert vevent["dtstart"].params["TZID"] == AMS
    assert vevent["dtend"].params["TZID"] == AMS
    assert vevent.decoded("dtstart") == datetime(2027, 3, 29, 19, 30, tzinfo=ZoneInfo(AMS))
    assert str(vevent["location"]) == "Hogeschool Leiden"
    assert str(vevent["url"]) == "https://example.org/leeratelier"
    assert [str(c) for c in vevent.categories] == ["leeratelier"]
    assert str(vevent["description"]) == "Thema: eenzaamheid.\nIedereen welkom, ook inwoners."
    assert str(calendar["version"]) == "2.0" and "prodid" in calendar


def test_the_calendar_has_a_vtimezone_for_the_zone_used() -> None:
    calendar = parsed(to_ical([event(), event("other@x", zone="Europe/London")]))
    zones = {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {AMS, "Europe/London"}


def test_a_cancelled_event_says_cancelled_with_its_uid_and_sequence() -> None:
    (vevent,) = parsed(to_ical([event(status=CANCELLED, sequence=4)])).walk("VEVENT")
    assert str(vevent["status"]) == "CANCELLED"
    assert str(vevent["uid"]) == "leeratelier-13@alliantiepg.nl"
    assert vevent.decoded("sequence") == 4


# The Monday after each DST switch of 2026 and 2027, at 19:30 local time, and the
# UTC instant it must be: summer time is UTC+2, winter time UTC+1.
AROUND_THE_SWITCHES = [
    (datetime(2026, 3, 30, 19, 30), datetime(2026, 3, 30, 17, 30, tzinfo=UTC)),
    (datetime(2026, 10, 26, 19, 30), datetime(2026, 10, 26, 18, 30, tzinfo=UTC)),
    (datetime(2027, 3, 29, 19, 30), datetime(2027, 3, 29, 17, 30, tzinfo=UTC)),
    (datetime(2027, 11, 1, 19, 30), datetime(2027, 11, 1, 18, 30, tzinfo=UTC)),
    # and the Friday before each switch, still on the old offset
    (datetime(2026, 3, 27, 19, 30), datetime(2026, 3, 27, 18, 30, tzinfo=UTC)),
    (datetime(2027, 10, 29, 19, 30), datetime(2027, 10, 29, 17, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(("wall", "utc"), AROUND_THE_SWITCHES, ids=lambda v: f"{v:%Y-%m-%d}")
def test_times_are_right_across_the_dst_switches(wall: datetime, utc: datetime) -> None:
    one = event(start=wall, end=wall + timedelta(hours=2))
    assert instant(one.start, AMS) == utc
    raw = to_ical([one])
    (vevent,) = parsed(raw).walk("VEVENT")
    assert vevent.decoded("dtstart").astimezone(UTC) == utc
    # the second parser, from the calendar's own VTIMEZONE and TZID
    (occurrence,) = recurring_ical_events.of(parsed(raw)).between(
        wall.date(), wall.date() + timedelta(days=1)
    )
    assert occurrence.decoded("dtstart").astimezone(UTC) == utc
    assert occurrence.decoded("dtend") - occurrence.decoded("dtstart") == timedelta(hours=2)
    # and read back: the same wall time
    (back,) = from_ical(raw, AMS)
    assert (back.data.start, back.data.end) == (one.start, one.end)


def test_an_event_over_the_night_of_the_switch_is_an_hour_shorter() -> None:
    night = event(start=datetime(2027, 3, 27, 22, 0), end=datetime(2027, 3, 28, 4, 0))
    (occurrence,) = recurring_ical_events.of(parsed(to_ical([night]))).between(
        date(2027, 3, 27), date(2027, 3, 29)
    )
    # the same zone on both sides: compare instants, not wall clocks
    length = occurrence.decoded("dtend").astimezone(UTC) - occurrence.decoded("dtstart")
    assert length == timedelta(hours=5)


def test_many_events_round_trip_through_both_parsers() -> None:
    events = [
        event(
            "a@x",
            start=datetime(2027, 2, 11, 13, 30),
            end=datetime(2027, 2, 11, 16, 0),
            capacity=80,
            rsvp_deadline=datetime(2027, 2, 8, 11, 0, tzinfo=UTC),
            audience="role:gangmaker,gemeente:leiden",
        ),
        event("b@x", kind="gangmakers", title="Gangmakers", start=datetime(2027, 6, 10, 15, 0),
              end=datetime(2027, 6, 10, 17, 30), online_url=None),
        event("c@x", kind="bestuurders", title="Bestuurders", status=CANCELLED,
              start=datetime(2027, 10, 7, 16, 0), end=datetime(2027, 10, 7, 19, 0)),
    ]  # fmt: skip
    raw = to_ical(events)
    found = recurring_ical_events.of(parsed(raw)).between(date(2027, 1, 1), date(2028, 1, 1))
    assert sorted(str(v["uid"]) for v in found) == ["a@x", "b@x", "c@x"]
    back = from_ical(raw, AMS)
    assert [r.data.uid for r in back] == ["a@x", "b@x", "c@x"]
    assert [r.cancelled for r in back] == [False, False, True]
    for original, read in zip(events, back, strict=True):
        for name in ("kind", "title", "start", "end", "zone", "description", "hosts",
                     "audience", "online_url", "address", "capacity", "rsvp_deadline"):  # fmt: skip
            assert getattr(read.data, name) == getattr(original, name), name


def test_an_outlook_file_imports_as_it_is() -> None:
    (read,) = from_ical((FIXTURES / "outlook.ics").read_bytes(), AMS)
    data = read.data
    assert data.kind == "leeratelier"  # from the title: no CATEGORIES
    assert data.title == "Leeratelier 13: eenzaamheid"
    assert (data.start, data.end) == (datetime(2027, 3, 29, 19, 30), datetime(2027, 3, 29, 21, 30))
    assert data.zone == AMS and data.audience == "all"
    assert data.address == "Hogeschool Leiden, Zernikedreef 11, Leiden"
    assert data.uid.startswith("040000008200E00074C5B7101A82E008")


def test_a_google_file_imports_as_it_is() -> None:
    gangmakers, circle = from_ical((FIXTURES / "google.ics").read_bytes(), AMS)
    assert gangmakers.data.kind == "gangmakers"  # from the title
    # 12:30 UTC in February is 13:30 in Amsterdam
    assert gangmakers.data.start == datetime(2027, 2, 8, 13, 30)
    assert circle.data.kind == "reflectiecirkel"  # from CATEGORIES
    assert circle.data.online_url == "https://meet.google.com/abc-defg-hij"
    assert circle.data.address is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Leeratelier 13: eenzaamheid", "leeratelier"),
        ("LEERATELIERS 2027", "leeratelier"),
        ("Gangmakersbijeenkomst", "gangmakers"),
        ("Bestuurdersbijeenkomst 2027", "bestuurders"),
        ("Reflectiecirkel Katwijk", "reflectiecirkel"),
        ("Nieuwjaarsborrel", None),
    ],
)
def test_the_kind_comes_from_a_word_in_the_title_or_category(text: str, kind: str | None) -> None:
    assert kind_in(text) == kind


def test_an_event_of_unknown_kind_is_overig_and_floating_times_are_wall_time() -> None:
    raw = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//NL\r\nBEGIN:VEVENT\r\n"
        "UID:borrel@x\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Nieuwjaarsborrel\r\n"
        "DTSTART:20270108T170000\r\nDTEND:20270108T190000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (read,) = from_ical(raw, AMS)
    assert read.data.kind == "overig"
    assert read.data.start == datetime(2027, 1, 8, 17, 0)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ("DTSTART:20270108T170000Z\r\nSUMMARY:x\r\n", "has no UID"),
        ("UID:u@x\r\nSUMMARY:x\r\n", "has no DTSTART"),
        ("UID:u@x\r\nDTSTART:20270108T170000Z\r\nRRULE:FREQ=WEEKLY\r\n", "repeats"),
    ],
)
def test_events_that_cannot_be_taken_as_they_are_are_refused(lines: str, problem: str) -> None:
    raw = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(CalendarError, match=problem):
        from_ical(raw, AMS)


def test_a_file_that_is_not_icalendar_is_refused() -> None:
    with pytest.raises(CalendarError, match="not an iCalendar file"):
        from_ical(b"events:\n  - uid: x\n", AMS)
