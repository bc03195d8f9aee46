"""An announcement as a recipient sees it (the preview shows the same)."""

from __future__ import annotations

from pathlib import Path

from bot.broadcast.render import announcement_reply
from bot.core.texts import Texts
from bot.paths import content_dir
from bot.storage.repositories.announcements import Attachment

TEXTS = Texts.load(content_dir())


def test_a_private_chat_gets_one_tap_to_stop_hearing_about_the_topic() -> None:
    reply = announcement_reply(TEXTS, "nl", 7, "Leeratelier op 3 april!", None, "leerateliers")
    assert reply.text == "Leeratelier op 3 april!"
    assert [(c.label, c.action) for c in reply.choices] == [
        ("Geen berichten meer over leerateliers", "afmelden:7")
    ]
    english = announcement_reply(TEXTS, "en", 7, "Hi", None, "agenda")
    assert english.choices[0].label == "No more messages about the agenda"


def test_a_group_gets_no_unsubscribe_tap() -> None:
    reply = announcement_reply(TEXTS, "nl", 7, "Hallo", None, "nieuws", unsubscribe=False)
    assert reply.choices == ()


def test_a_link_is_a_button_before_the_tap() -> None:
    link = Attachment("link", name="Aanmelden", url="https://example.org/aanmelden")
    reply = announcement_reply(TEXTS, "nl", 3, "Meld je aan", link, "agenda")
    assert reply.choices[0].url == "https://example.org/aanmelden"
    assert reply.choices[0].label == "Aanmelden"
    assert reply.choices[1].action == "afmelden:3"


def test_a_link_no_button_may_open_is_shown_as_text() -> None:
    link = Attachment("link", name="Bel", url="tel:0612345678")
    reply = announcement_reply(TEXTS, "nl", 3, "Bel ons", link, "nieuws", unsubscribe=False)
    assert reply.text == "Bel ons\n\nBel: tel:0612345678"
    assert reply.choices == ()


def test_pictures_and_files() -> None:
    picture = announcement_reply(
        TEXTS, "nl", 1, "Kijk", Attachment("image", path="/m/a.png"), "nieuws"
    )
    assert picture.image is not None and picture.image.path == Path("/m/a.png")
    document = announcement_reply(
        TEXTS, "nl", 1, "Lees", Attachment("document", path="/m/x1", name="flyer.pdf"), "nieuws"
    )
    assert document.document is not None and document.document.filename == "flyer.pdf"


def test_attachments_round_trip_as_stored() -> None:
    for attachment in (
        Attachment("link", name="Site", url="https://example.org"),
        Attachment("image", path="/m/a.png"),
    ):
        assert Attachment.from_json(attachment.to_json()) == attachment
    assert Attachment.from_json(None) is None
