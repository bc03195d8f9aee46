"""An outbox row's payload keeps everything a channel needs to draw the reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.messages import Choice, Document, Image, PressOutcome, PrivateChatInvite, Reply
from bot.outbox.queue import reply_from_json, reply_to_json


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="Hallo"),
        Reply(
            text="Dit gaat verder in een privégesprek.",
            private_invite=PrivateChatInvite("checkin", "Verder in een privégesprek"),
        ),
        Reply(text="Even later", press_outcome=PressOutcome.TRY_AGAIN),
        Reply(text="Deze knop werkt niet meer", press_outcome=PressOutcome.STALE),
        Reply(
            text="Herinnering?",
            choices=(Choice("Over 2 weken", "c:w2"), Choice("Nee", "c:n")),
            choice_numbers=(2, None),
        ),
        Reply(
            text="Je web",
            image=Image(Path("/data/web.png"), "spinnenweb"),
            document=Document(Path("/data/export.json"), "gegevens.json"),
        ),
        Reply(
            text="Nieuws",
            choices=(Choice.link("Lees meer", "https://example.org/a?b=1"), Choice("Stop", "af:1")),
        ),
        Reply(text="Verzonden: 10 van 20", edit_of="4711"),
    ],
)
def test_a_reply_survives_the_payload(reply: Reply) -> None:
    # Through JSON text, as the cipher stores it.
    assert reply_from_json(json.loads(json.dumps(reply_to_json(reply)))) == reply


def test_a_plain_reply_is_stored_in_the_old_shape() -> None:
    assert reply_to_json(Reply(text="Hallo", choices=(Choice("Ja", "x:1"),))) == {
        "text": "Hallo",
        "choices": [["Ja", "x:1"]],
    }


def test_a_row_written_before_the_typed_fields_still_loads() -> None:
    old = {"text": "Herinnering", "choices": [["Ja", "x:1"]], "image": ["/data/w.png", "web"]}
    reply = reply_from_json(old)
    assert reply == Reply(
        text="Herinnering",
        choices=(Choice("Ja", "x:1"),),
        image=Image(Path("/data/w.png"), "web"),
    )
    assert reply.press_outcome is PressOutcome.ACCEPTED
    assert reply.private_invite is None and reply.choice_numbers is None


def test_a_link_button_and_an_edit_are_stored_beside_the_old_fields() -> None:
    reply = Reply(text="Klaar", choices=(Choice.link("Site", "https://a.nl"),), edit_of="7")
    assert reply_to_json(reply) == {
        "text": "Klaar",
        "choices": [["Site", "", "https://a.nl"]],
        "edit_of": "7",
    }


def test_text_in_the_markup_keeps_its_flag_and_plain_text_stores_none() -> None:
    reply = Reply(text="*Leeratelier* op _3 april_", markup=True)
    assert reply_to_json(reply) == {"text": "*Leeratelier* op _3 april_", "markup": True}
    assert reply_from_json(json.loads(json.dumps(reply_to_json(reply)))) == reply
    assert "markup" not in reply_to_json(Reply(text="*geen opmaak*"))
    assert reply_from_json({"text": "*geen opmaak*"}).markup is False
