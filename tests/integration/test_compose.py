"""/bericht, /berichten and the unsubscribe tap as conversations, on SQLite and
PostgreSQL: a verbinder (``BOT_ADMINS`` = console:verbinder1) composes, previews,
sends or schedules, changes and cancels; anyone can unsubscribe from a topic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.broadcast.engine import BroadcastEngine
from bot.core.clock import FrozenClock
from bot.core.messages import FileKind, Incoming, IncomingFile, Kind, PressOutcome
from bot.outbox.sender import OutboxSender
from bot.settings import Settings
from bot.storage.models import Announcement, User
from tests.helpers.broadcast_people import add_group, add_people, person
from tests.helpers.conversation import Person, typed_in_console
from tests.helpers.fakes import RecordingChannel

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Amsterdam


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """Longer messages let through than an announcement may be, so that the
    composer's own limit answers (by default the input guard's is the same, 4,000)."""
    return make_settings(database_url=database_url, max_message_length=5000)


def t(app: App, key: str, **params: object) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key, **params)


@pytest.fixture
async def people(app: App) -> None:
    """Gangmakers in Leiden (2) and Teylingen (1), one in Katwijk, an inwoner in
    Leiden; one Leiden gangmaker stopped, one turned nieuws off; a linked group."""
    assert app.services is not None
    await add_people(
        app.services.sessions,
        [
            person(1, roles="gangmaker", gemeente="leiden"),
            person(2, roles="gangmaker", gemeente="leiden"),
            person(3, roles="gangmaker", gemeente="teylingen"),
            person(4, roles="gangmaker", gemeente="katwijk"),
            person(5, gemeente="leiden"),
            person(6, roles="gangmaker", gemeente="leiden", messages_enabled=False),
            person(7, roles="gangmaker", gemeente="teylingen", topics_off="nieuws"),
        ],
    )
    await add_group(app.services.sessions, "groep-1")


@pytest.fixture
def lotte(app: App) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte")


async def announcements(app: App) -> list[Announcement]:
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = await session.execute(select(Announcement).order_by(Announcement.id))
        return list(rows.scalars())


async def user(app: App, platform_user_id: str) -> User:
    assert app.services is not None
    async with app.services.sessions() as session:
        found = await session.execute(select(User).where(User.platform_user_id == platform_user_id))
        return found.scalar_one()


async def compose_until_preview(
    app: App, lotte: Person, text: str = "Kom naar de Leeratelier!"
) -> None:
    """Gangmakers in Leiden or Teylingen, about nieuws, with buttons only."""
    await lotte.send("/bericht")
    assert t(app, "compose.audience").splitlines()[0] in lotte.text
    await lotte.press(t(app, "compose.by.roles"))
    await lotte.press(t(app, "compose.roles.gangmaker"))
    assert "✓ " + t(app, "compose.roles.gangmaker") in lotte.choices
    await lotte.press(t(app, "compose.done"))
    await lotte.press(t(app, "compose.by.gemeenten"))
    await lotte.press("Leiden")
    await lotte.press("Teylingen")
    await lotte.press(t(app, "compose.done"))
    assert "role:gangmaker,gemeente:leiden,gemeente:teylingen" in lotte.text
    await lotte.press(t(app, "compose.next"))
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.send(text)
    await lotte.press(t(app, "compose.extra_none"))


async def test_compose_with_buttons_previews_exactly_and_sends_once(
    app: App, people: None, lotte: Person
) -> None:
    await compose_until_preview(app, lotte)
    # the preview: the message as recipients see it, with its unsubscribe tap
    preview, shown, counts, confirm = lotte.last
    assert preview.text == t(app, "compose.preview")
    assert shown.text == "Kom naar de Leeratelier!"
    assert [c.action for c in shown.choices] == ["afmelden:0"]
    # p1, p2 in Leiden, p3 in Teylingen; p6 stopped, p7 turned nieuws off
    assert t(app, "compose.count", total=3, platforms="terminal 3") in counts.text
    assert t(app, "compose.left_out.stopped", count=1) in counts.text
    assert t(app, "compose.left_out.unsubscribed", count=1) in counts.text
    assert confirm.text.startswith(t(app, "compose.confirm_now"))
    send = lotte.find_choice(t(app, "compose.send_now"))
    assert send is not None
    await lotte.press(send.action)
    assert lotte.text == t(app, "compose.created_now", id=1, total=3)
    (row,) = await announcements(app)
    assert (row.audience, row.topic, row.text) == (
        "role:gangmaker,gemeente:leiden,gemeente:teylingen",
        "nieuws",
        "Kom naar de Leeratelier!",
    )
    assert (row.status, row.urgent, row.send_at) == ("scheduled", False, NOW)
    assert (row.report_platform, row.report_chat_id) == ("console", "verbinder1")
    # a second press of the same button sends nothing twice
    replies = await lotte.press(send.action)
    assert replies[-1].press_outcome is PressOutcome.STALE
    assert len(await announcements(app)) == 1


async def test_a_typed_audience_expression_and_an_unknown_word(
    app: App, people: None, lotte: Person
) -> None:
    await lotte.send("/bericht")
    await lotte.send("role:gangmaker,gemeente:leiden,planeet:mars")
    assert t(app, "compose.audience_unknown", word="planeet:mars") in lotte.text
    await lotte.send("rol:gangmaker, gemeente:Leiden, groups")
    assert lotte.last[-1].text == t(app, "compose.topic")  # on to the topic
    await lotte.press(t(app, "compose.topics.agenda"))
    await lotte.send("Tekst")
    await lotte.press(t(app, "compose.extra_none"))
    # p1, p2 in Leiden (p6 stopped) and the linked group, all on the console
    assert t(app, "compose.count", total=3, platforms="terminal 3") in lotte.text
    await lotte.press(t(app, "compose.send_now"))
    (row,) = await announcements(app)
    assert (row.audience, row.topic) == ("role:gangmaker,gemeente:leiden,groups", "agenda")


async def test_an_over_long_text_gets_a_clear_reply_and_a_blank_one_changes_nothing(
    app: App, people: None, lotte: Person
) -> None:
    await lotte.send("/bericht")
    await lotte.send("all")
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.send("   ")  # a blank message is answered before the flow (the input guard)
    await lotte.send("")
    assert lotte.text == t(app, "errors.empty")
    await lotte.send("x" * 4001)
    assert t(app, "compose.text_too_long", length=4001, limit=4000) in lotte.text
    await lotte.send("x" * 4000)
    assert lotte.last[-1].text.startswith(t(app, "compose.extra").splitlines()[0])


async def test_a_time_in_dutch_schedules_it_and_the_past_is_refused(
    app: App, people: None, lotte: Person
) -> None:
    await compose_until_preview(app, lotte)
    await lotte.press(t(app, "compose.later"))
    await lotte.send("9 maart 10:00")  # yesterday
    assert t(app, "compose.when_past") in lotte.text
    await lotte.send("blabla")
    assert t(app, "compose.when_unreadable") in lotte.text
    await lotte.send("morgen 9:00")
    assert t(app, "compose.confirm_at", when="11-03-2026 om 09:00") in lotte.text
    await lotte.press(t(app, "compose.urgent_on"))
    assert t(app, "compose.urgent_yes") in lotte.text
    await lotte.press(t(app, "compose.send_at"))
    assert lotte.text.startswith(
        t(app, "compose.created_at", id=1, total=3, when="11-03-2026 om 09:00")
    )
    (row,) = await announcements(app)
    assert row.send_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC) and row.urgent


async def test_edit_goes_back_to_a_step_and_then_to_the_preview(
    app: App, people: None, lotte: Person
) -> None:
    await compose_until_preview(app, lotte)
    await lotte.press(t(app, "compose.edit"))
    await lotte.press(t(app, "compose.edit_text"))
    await lotte.send("Een betere tekst")
    assert lotte.last[1].text == "Een betere tekst"  # the preview again, at once
    await lotte.press(t(app, "compose.edit"))
    await lotte.press(t(app, "compose.edit_audience"))
    await lotte.press(t(app, "compose.clear"))
    await lotte.press(t(app, "compose.everyone"))
    await lotte.press(t(app, "compose.next"))
    # everyone who has messages on and has not turned nieuws off: p1-p5 and Lotte
    assert t(app, "compose.count", total=6, platforms="terminal 6") in lotte.text
    await lotte.press(t(app, "compose.cancel"))
    assert lotte.text == t(app, "compose.cancelled")
    assert await announcements(app) == []


async def test_a_link_button_is_in_the_preview(app: App, people: None, lotte: Person) -> None:
    await lotte.send("/bericht")
    await lotte.send("all")
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.send("Lees het verslag")
    await lotte.press(t(app, "compose.extra_link"))
    await lotte.send("javascript:alert(1) Klik")
    assert t(app, "compose.link_bad") in lotte.text
    await lotte.send("https://www.alliantiepg.nl/verslag Het verslag")
    shown = lotte.last[1]
    assert [(c.label, c.url) for c in shown.choices if c.url] == [
        ("Het verslag", "https://www.alliantiepg.nl/verslag")
    ]
    await lotte.press(t(app, "compose.send_now"))
    (row,) = await announcements(app)
    assert row.attachment is not None and "https://www.alliantiepg.nl/verslag" in row.attachment


def attachment(picture: Path | None, caption: str = "", **kw: object) -> Incoming:
    """What a channel makes of a picture Lotte sends (the caption as text)."""
    sent = IncomingFile(FileKind.IMAGE, picture, "foto.png", 8, **kw)  # type: ignore[arg-type]
    return Incoming(
        platform="console",
        user_id="verbinder1",
        chat_id="verbinder1",
        kind=Kind.UNSUPPORTED,
        text=caption,
        attachment=sent,
    )


async def test_a_picture_sent_at_the_extra_step_is_in_the_preview(
    app: App, people: None, lotte: Person, tmp_path: Path
) -> None:
    picture = tmp_path / "foto.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    await lotte.send("/bericht")
    await lotte.send("all")
    early = await lotte.deliver(attachment(picture))  # at the topic step
    assert early[0].text == t(app, "compose.attachment_not_now")
    assert early[-1].text == t(app, "compose.topic")  # asked again
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.send("Met foto")
    await lotte.deliver(attachment(None, too_large=True))
    assert lotte.last[0].text == t(app, "compose.file_too_large", limit="10 MB")
    assert "10 MB" in lotte.last[0].text  # the limit (MEDIA_MAX_BYTES) is named
    await lotte.deliver(attachment(picture))
    assert lotte.last[1].image is not None and lotte.last[1].image.path == picture
    await lotte.press(t(app, "compose.send_now"))
    (row,) = await announcements(app)
    assert row.attachment is not None and '"kind": "image"' in row.attachment
    assert row.text == "Met foto"


async def test_a_picture_with_a_caption_at_the_text_step_is_text_and_picture(
    app: App, people: None, lotte: Person, tmp_path: Path
) -> None:
    picture = tmp_path / "foto.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    await lotte.send("/bericht")
    await lotte.send("all")
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.deliver(attachment(picture, "x" * 4001))
    assert lotte.last[0].text == t(app, "compose.text_too_long", length=4001, limit=4000)
    await lotte.deliver(attachment(picture, "  Zo was het leeratelier  "))
    shown = lotte.last[1]
    assert shown.text == "Zo was het leeratelier" and shown.image is not None
    await lotte.press(t(app, "compose.send_now"))
    (row,) = await announcements(app)
    assert row.text == "Zo was het leeratelier" and row.attachment is not None


async def test_a_picture_from_someone_not_composing_gets_the_usual_answer(
    app: App, bot: Person, tmp_path: Path
) -> None:
    sent = replace(attachment(tmp_path / "x.png"), user_id="anna", chat_id="anna")
    replies = await bot.deliver(sent)
    assert replies[0].text == t(app, "fallback.unsupported")


async def test_nobody_in_the_audience_is_not_sent(app: App, people: None, lotte: Person) -> None:
    await lotte.send("/bericht")
    await lotte.send("role:bestuurder")
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.send("Alleen voor de bestuurders")
    await lotte.press(t(app, "compose.extra_none"))
    assert t(app, "compose.count_none") in lotte.text
    assert lotte.find_choice(t(app, "compose.send_now")) is None  # nothing to send: not offered
    await lotte.send(t(app, "compose.send_now"))  # typed: not understood as a time
    assert t(app, "compose.preview_unclear") in lotte.text
    assert await announcements(app) == []


async def test_a_non_verbinder_is_refused_politely(app: App, bot: Person) -> None:
    for command in ("/bericht", "/berichten"):
        await bot.send(command)
        assert bot.text == t(app, "errors.forbidden")
    await bot.press("berichten:w:1")
    assert bot.text == t(app, "errors.forbidden")


async def test_berichten_lists_changes_and_cancels_a_scheduled_one(
    app: App, people: None, lotte: Person
) -> None:
    await lotte.send("/berichten")
    assert lotte.text == t(app, "compose.list_empty")
    await compose_until_preview(app, lotte)
    await lotte.press(t(app, "compose.later"))
    await lotte.send("morgen 9:00")
    await lotte.press(t(app, "compose.send_at"))
    await lotte.send("/berichten")
    assert t(app, "compose.status.scheduled") in lotte.text
    assert "Kom naar de Leeratelier!" in lotte.text
    manage = lotte.find_choice(t(app, "compose.manage_button", id=1))
    assert manage is not None
    await lotte.press(manage.action)
    await lotte.press(t(app, "compose.change_text"))
    await lotte.send("Nieuwe tekst")
    assert lotte.text == t(app, "compose.changed_text", id=1)
    await lotte.send("/berichten")
    await lotte.press(manage.action)
    await lotte.press(t(app, "compose.change_time"))
    await lotte.send("vr 13 maart 10u")
    assert lotte.text == t(app, "compose.changed_time", id=1, when="13-03-2026 om 10:00")
    await lotte.send("/berichten")
    await lotte.press(manage.action)
    await lotte.press(t(app, "compose.cancel_announcement"))
    yes = lotte.find_choice(t(app, "compose.cancel_yes"))
    assert yes is not None
    await lotte.press(yes.action)
    assert lotte.text == t(app, "compose.announcement_cancelled", id=1)
    (row,) = await announcements(app)
    assert (row.text, row.status) == ("Nieuwe tekst", "cancelled")
    assert row.send_at == datetime(2026, 3, 13, 9, 0, tzinfo=UTC)
    replies = await lotte.press(yes.action)  # the same press again: nothing more
    assert replies[-1].press_outcome is PressOutcome.STALE
    await lotte.press(manage.action)  # an old list: it is gone by now
    assert lotte.text == t(app, "compose.too_late", id=1)
    await lotte.press("berichten:w:999")
    assert lotte.text == t(app, "compose.unknown_announcement")


async def test_the_unsubscribe_tap_turns_the_topic_off_for_anyone(
    app: App, people: None, lotte: Person, clock: FrozenClock
) -> None:
    await compose_until_preview(app, lotte)
    send = lotte.find_choice(t(app, "compose.send_now"))
    assert send is not None
    await lotte.press("afmelden:0")  # the preview's tap only explains
    assert lotte.text == t(app, "compose.unsubscribe_preview")
    await lotte.press(send.action)
    assert lotte.text.startswith(t(app, "compose.created_now", id=1, total=3))
    gangmaker = Person(app, user_id="p1", display_name=None)
    await gangmaker.press("afmelden:1")
    assert gangmaker.text == t(app, "compose.unsubscribed", topic="nieuws")
    assert "/profiel" in gangmaker.text
    assert (await user(app, "p1")).topics_off == "nieuws"
    for forged in ("afmelden:999", "afmelden:abc", "afmelden:", "afmelden:1:2"):
        await gangmaker.press(forged)
        assert gangmaker.text == t(app, "compose.unsubscribe_unknown"), forged
    clock.advance(days=1)
    await gangmaker.press("afmelden:1")  # again: still off, said again
    assert (await user(app, "p1")).topics_off == "nieuws"


async def test_a_group_is_sent_to_a_private_chat(app: App, lotte: Person) -> None:
    lotte.private, lotte.chat_id = False, "groep-9"
    replies = await lotte.send("/bericht")
    assert replies[-1].text == t(app, "compose.private_only")
    assert replies[-1].private_invite is not None
    assert replies[-1].private_invite.start_payload == "bericht"


async def test_in_the_console_the_taps_are_numbered_choices(
    app: App, people: None, tmp_path: Path
) -> None:
    """The whole composer by typed numbers, a picture with /bijlage; the preview's
    unsubscribe tap is a numbered choice like any other, and the choices of the preview
    and of the question under it are numbered on (1, then 2, 3, ...)."""
    picture = tmp_path / "foto.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    lines = ["/bericht", "all", "1", "Hallo allemaal", f"/bijlage {picture}", "2", "2"]
    out = await typed_in_console(app, lines, user="verbinder1")
    # "2" again after Versturen is not a second send (one announcement, below)
    unsubscribe = t(app, "announce.unsubscribe", topic="nieuws")
    assert f"  1. {unsubscribe}" in out
    assert f"  2. {t(app, 'compose.send_now')}" in out
    assert t(app, "compose.created_now", id=1, total=6) in out
    (row,) = await announcements(app)
    assert (row.audience, row.topic, row.text) == ("all", "nieuws", "Hallo allemaal")
    assert row.attachment is not None and str(picture) in row.attachment


async def test_from_the_chat_to_the_recipients_and_their_tap(
    app: App, people: None, lotte: Person, channel: RecordingChannel
) -> None:
    """Composed in the chat, sent by the engine (a sender's round), received as the
    preview showed it; a recipient's tap turns the topic off."""
    assert app.services is not None
    await compose_until_preview(app, lotte)
    shown = lotte.last[1]
    await lotte.press(t(app, "compose.send_now"))
    engine = BroadcastEngine(
        sessions=app.services.sessions,
        outbox=app.services.outbox,
        texts=app.services.texts,
        clock=app.services.clock,
        interval=0.0,
    )
    sender = OutboxSender(app.services.outbox, app.channels, before_claim=[engine.tick])
    while await sender.drain():
        pass
    received = {chat: reply for chat, reply in channel.sent if reply.text == shown.text}
    assert sorted(received) == ["p1", "p2", "p3"]
    tap = received["p1"].choices[-1]
    assert (tap.label, tap.action) == (shown.choices[-1].label, "afmelden:1")
    assert any(chat == "verbinder1" for chat, _ in channel.sent)  # progress and report
    gangmaker = Person(app, user_id="p1", display_name=None)
    await gangmaker.press(tap.action)
    assert gangmaker.text == t(app, "compose.unsubscribed", topic="nieuws")
    assert (await user(app, "p1")).topics_off == "nieuws"


async def test_after_sending_a_second_versturen_is_told_and_other_text_goes_on(
    app: App, people: None, lotte: Person
) -> None:
    await compose_until_preview(app, lotte)
    send = lotte.find_choice(t(app, "compose.send_now"))
    assert send is not None
    await lotte.press(send.action)
    await lotte.send("Versturen")  # typed again, as in the console
    assert lotte.text == t(app, "compose.already_sent", id=1)
    replies = await lotte.press(send.action)  # the old button again
    assert replies[-1].text == t(app, "compose.already_sent", id=1)
    assert len(await announcements(app)) == 1
    await lotte.send("Wat is positieve gezondheid?")  # not for the composer any more
    assert lotte.text != t(app, "compose.already_sent", id=1)
    assert lotte.text != t(app, "compose.preview_unclear")
    await lotte.send("/bericht")  # a new one begins
    assert t(app, "compose.audience").splitlines()[0] in lotte.text


async def test_in_the_console_the_extra_step_says_how_to_attach(
    app: App, people: None, lotte: Person
) -> None:
    await lotte.send("/bericht")
    await lotte.send("all")
    await lotte.press(t(app, "compose.topics.nieuws"))
    await lotte.send("Hallo")
    assert t(app, "compose.extra_console") in lotte.text and "/bijlage" in lotte.text
