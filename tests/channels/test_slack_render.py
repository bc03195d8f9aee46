"""Slack rendering: the core's replies as Block Kit (bot.channels.slack_render)."""

from __future__ import annotations

import html
import random
import re
from pathlib import Path
from typing import Any

import pytest

from bot.channels import slack_render
from bot.channels.slack_render import (
    BLOCK_LIMIT,
    SECTION_LIMIT,
    RenderedMessage,
    blocks,
    dm_invite,
    dm_link,
    is_link_press,
    pressed,
    pressed_label,
    split_mrkdwn,
    uploads,
    value_of,
)
from bot.core.markup import parse
from bot.core.messages import Choice, Document, Image, PrivateChatInvite, Reply, ShareLink
from bot.core.texts import Texts
from bot.paths import content_dir
from tests.helpers.fake_slack import block_errors

TEXTS = Texts.load(content_dir())


def _t(key: str, **params: object) -> str:
    return TEXTS.get("nl", key, **params)


def _sections(message: RenderedMessage) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def _buttons(message: RenderedMessage) -> list[dict[str, Any]]:
    return [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def _only(reply: Reply) -> RenderedMessage:
    messages = blocks(reply)
    assert len(messages) == 1
    return messages[0]


# -- text ------------------------------------------------------------------


def test_text_is_escaped_in_sections_and_fallback() -> None:
    message = _only(Reply("Tom & Jerry <!channel> 3 > 2"))
    assert message.blocks == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Tom &amp; Jerry &lt;!channel&gt; 3 &gt; 2",
                "verbatim": True,
            },
        }
    ]
    assert message.text == "Tom &amp; Jerry &lt;!channel&gt; 3 &gt; 2"
    assert message.kwargs() == {"text": message.text, "blocks": message.blocks}
    assert not message.ephemeral


def test_light_markup_becomes_mrkdwn() -> None:
    reply = Reply(
        "*Vet* en _cursief_, *vet met _binnen_* en [de agenda](https://a.example/x?a=1&b=2).",
        markup=True,
    )
    assert _sections(_only(reply)) == [
        "*Vet* en _cursief_, *vet met _binnen_* en <https://a.example/x?a=1&amp;b=2|de agenda>."
    ]
    assert _only(reply).text == "Vet en cursief, vet met binnen en de agenda."


def test_markup_off_keeps_markers_and_links_as_typed() -> None:
    reply = Reply("Zie [hier](https://a.example) en 2 < 3")
    assert _sections(_only(reply)) == ["Zie [hier](<https://a.example>) en 2 &lt; 3"]


def test_a_link_label_and_address_are_escaped_and_a_pipe_encoded() -> None:
    reply = Reply("[a <b> & c](https://a.example/p|q)", markup=True)
    assert _sections(_only(reply)) == ["<https://a.example/p%7Cq|a &lt;b&gt; &amp; c>"]


def test_a_bare_address_is_linked_without_its_full_stop() -> None:
    text = "Kijk op https://alliantie.example/agenda. Of mail_ons niet."
    assert _sections(_only(Reply(text))) == [
        "Kijk op <https://alliantie.example/agenda>. Of mail_ons niet."
    ]


def test_dutch_text_with_emoji() -> None:
    text = "Goed gedaan! 🎉 Je check-in is opgeslagen. Tot volgende week 👋🏽 — één, twee"
    message = _only(Reply(text))
    assert _sections(message) == [text]
    assert message.text == text


def test_an_empty_reply_is_no_message() -> None:
    assert blocks(Reply("")) == []
    assert blocks(Reply("  \n\n ")) == []


# -- splitting ---------------------------------------------------------------


def test_a_section_holds_exactly_3000_characters() -> None:
    assert _sections(_only(Reply("a" * SECTION_LIMIT))) == ["a" * SECTION_LIMIT]
    parts = _sections(_only(Reply("a" * (SECTION_LIMIT + 1))))
    assert parts == ["a" * SECTION_LIMIT, "a"]


def test_splitting_prefers_paragraphs_then_lines_then_words() -> None:
    first, second = "x" * 2000, "y" * 1500
    assert _sections(_only(Reply(f"{first}\n\n{second}"))) == [first, second]
    assert _sections(_only(Reply(f"{first}\n{second}"))) == [first, second]
    assert _sections(_only(Reply(f"{first} {second}"))) == [first, second]
    # Together they fit: one section.
    assert _sections(_only(Reply(f"{'x' * 1499}\n\n{'y' * 1499}"))) == [
        f"{'x' * 1499}\n\n{'y' * 1499}"
    ]


def test_the_limit_counts_the_escaped_text() -> None:
    text = "&" * 600  # 600 characters, 3000 once escaped
    assert _sections(_only(Reply(text))) == ["&amp;" * 600]
    assert _sections(_only(Reply(text + "&"))) == ["&amp;" * 600, "&amp;"]


def test_the_limit_counts_emoji_twice() -> None:
    text = "🎉" * 1500  # 3000 UTF-16 code units
    assert _sections(_only(Reply(text))) == [text]
    assert _sections(_only(Reply(text + "🎉"))) == [text, "🎉"]


def test_markup_split_keeps_every_part_within_the_limit() -> None:
    word = "*vet* [link](https://a.example/pad) "
    text = word * 400
    parts = _sections(_only(Reply(text, markup=True)))
    assert len(parts) > 1
    assert all(len(part) <= SECTION_LIMIT for part in parts)
    assert all(part.count("*") % 2 == 0 and part.count("<") == part.count(">") for part in parts)
    assert "".join(p.replace(" ", "") for p in parts) == ("*vet*<https://a.example/pad|link>" * 400)


def test_fifty_blocks_fit_one_message_and_more_become_several() -> None:
    paragraph = "p" * SECTION_LIMIT
    fifty = "\n\n".join([paragraph] * BLOCK_LIMIT)
    assert len(_only(Reply(fifty)).blocks) == BLOCK_LIMIT
    messages = blocks(Reply(fifty + "\n\nlaatste"))
    assert [len(m.blocks) for m in messages] == [BLOCK_LIMIT, 1]
    assert _sections(messages[1]) == ["laatste"]
    assert messages[1].text == "laatste"


def test_buttons_go_with_the_last_message_and_move_on_when_it_is_full() -> None:
    paragraph = "p" * SECTION_LIMIT
    choices = (Choice("Ja", "a:ja"), Choice("Nee", "a:nee"))
    almost = "\n\n".join([paragraph] * (BLOCK_LIMIT - 1))
    messages = blocks(Reply(almost, choices=choices))
    assert [len(m.blocks) for m in messages] == [BLOCK_LIMIT]
    assert messages[0].blocks[-1]["type"] == "actions"
    full = "\n\n".join([paragraph] * BLOCK_LIMIT)
    messages = blocks(Reply(full, choices=choices))
    assert [len(m.blocks) for m in messages] == [BLOCK_LIMIT, 1]
    assert messages[1].blocks[0]["type"] == "actions"
    assert messages[1].text == "Ja · Nee"


def test_the_notification_text_is_capped() -> None:
    text = "\n\n".join(["w" * 2000] * 3)
    message = _only(Reply(text))
    assert len(message.text) == slack_render.FALLBACK_LIMIT
    assert message.text.endswith("…")


# -- buttons -----------------------------------------------------------------


def test_choices_are_buttons_with_their_action_data() -> None:
    reply = Reply(
        "Hoe gaat het?", choices=(Choice("Goed", "mood:good"), Choice("Slecht", "mood:bad"))
    )
    message = _only(reply)
    assert message.blocks[1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Goed", "emoji": True},
                "action_id": "c1",
                "value": "mood:good",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Slecht", "emoji": True},
                "action_id": "c2",
                "value": "mood:bad",
            },
        ],
    }


def test_link_buttons_open_their_url() -> None:
    reply = Reply("Meer", choices=(Choice("Ja", "j"), Choice.link("Website", "https://a.example")))
    assert _buttons(_only(reply))[1] == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Website", "emoji": True},
        "action_id": "l2",
        "url": "https://a.example",
    }


def test_at_most_25_buttons_to_an_actions_block_with_unique_ids() -> None:
    choices = tuple(Choice(str(n), f"s:{n}") for n in range(1, 27))
    message = _only(Reply("Kies", choices=choices))
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 1]
    ids = [e["action_id"] for e in _buttons(message)]
    assert len(set(ids)) == len(ids) == 26


def test_a_choice_slack_would_refuse_is_left_out() -> None:
    reply = Reply("Kies", choices=(Choice("Goed", "ok"), Choice("Raar", "a\x00b")))
    assert [b["value"] for b in _buttons(_only(reply))] == ["ok"]


def test_a_long_label_is_shortened_to_75_characters() -> None:
    label = "woord " * 20
    text = _buttons(_only(Reply("Kies", choices=(Choice(label, "x"),))))[0]["text"]["text"]
    assert len(text) == 75 and text.endswith("…")


def test_only_choices_without_text() -> None:
    message = _only(Reply("", choices=(Choice("Doorgaan", "next"), Choice("Stoppen", "stop"))))
    assert [b["type"] for b in message.blocks] == ["actions"]
    assert message.text == "Doorgaan · Stoppen"


def test_a_share_link_is_left_out() -> None:
    reply = Reply("Stuur de code /code ABC door.", share_link=ShareLink("inv_abc", "Of deze link:"))
    assert _sections(_only(reply)) == ["Stuur de code /code ABC door."]


# -- after a press -------------------------------------------------------------


def test_pressed_keeps_the_text_drops_the_buttons_and_marks_the_choice() -> None:
    reply = Reply("Hoe gaat het?", choices=(Choice("Goed", "mood:good"),))
    message = _only(reply)
    after = pressed(message.blocks, "Goed", t=_t)
    assert after == [
        message.blocks[0],
        {"type": "context", "elements": [{"type": "plain_text", "text": "✓ Goed", "emoji": True}]},
    ]
    assert (
        pressed(message.blocks, "Good", t=lambda k, **p: TEXTS.get("en", k, **p))[-1]["elements"][
            0
        ]["text"]
        == "✓ Good"
    )


def test_a_stale_press_only_drops_the_buttons_and_a_second_press_changes_nothing() -> None:
    message = _only(Reply("Hoe gaat het?", choices=(Choice("Goed", "g"),)))
    assert pressed(message.blocks, None, t=_t) == message.blocks[:1]
    once = pressed(message.blocks, "Goed", t=_t)
    assert pressed(once, "Goed", t=_t) == once


def test_the_pressed_label_comes_from_the_payload() -> None:
    body = {
        "type": "block_actions",
        "actions": [{"type": "button", "action_id": "c1", "value": "g", "text": {"text": "Goed"}}],
    }
    assert pressed_label(body) == "Goed"
    assert pressed_label({"actions": []}) is None


# -- values coming back ------------------------------------------------------------


def _press(**action: object) -> dict[str, Any]:
    return {"type": "block_actions", "actions": [{"type": "button", **action}]}


def test_value_of_a_choice_button() -> None:
    assert value_of(_press(action_id="c3", value="mood:good")) == "mood:good"
    assert value_of({"type": "button", "action_id": "c1", "value": "x"}) == "x"  # one action


@pytest.mark.parametrize(
    "action",
    [
        {"action_id": "c1"},  # no value
        {"action_id": "c1", "value": ""},
        {"action_id": "c1", "value": 5},
        {"action_id": "c1", "value": "x" * 65},  # more than a Choice may carry
        {"action_id": "c1", "value": "é" * 33},  # 66 bytes
        {"action_id": "c1", "value": "y" * 2001},
        {"action_id": "c1", "value": "a\nb"},
        {"action_id": "c1", "value": "a\x00b"},
        {"action_id": "evil", "value": "mood:good"},  # not one of our buttons
        {"action_id": "l1", "value": "mood:good"},
        {"value": "mood:good"},
    ],
)
def test_forged_or_too_long_values_are_none(action: dict[str, object]) -> None:
    assert value_of(_press(**action)) is None


def test_value_of_an_odd_payload_is_none() -> None:
    assert value_of({"type": "block_actions", "actions": []}) is None
    assert value_of({"type": "block_actions", "actions": "c1"}) is None
    assert (
        value_of(
            _press(action_id="c1", value="x")
            | {"actions": [{"type": "static_select", "action_id": "c1", "value": "x"}]}
        )
        is None
    )


def test_every_value_sent_comes_back() -> None:
    choices = (Choice("Eén", "é" * 32), Choice("Twee", "a:" + "z" * 62))
    for button in _buttons(_only(Reply("Kies", choices=choices))):
        assert value_of(_press(**button)) == button["value"]


def test_a_link_press_is_known_as_one() -> None:
    link = Choice.link("Website", "https://a.example")
    button = _buttons(_only(Reply("Meer", choices=(link,))))[0]
    assert is_link_press(_press(**button))
    assert value_of(_press(**button)) is None
    assert not is_link_press(_press(action_id="c1", value="x"))


# -- private features in a channel ---------------------------------------------------


def test_dm_invite_is_an_ephemeral_message_with_a_button_to_the_dm() -> None:
    link = dm_link("T012AB", "A0456CD")
    assert link == "slack://app?team=T012AB&id=A0456CD&tab=messages"
    [message] = dm_invite("Dat doen we liever privé.", link, t=_t)
    assert message.ephemeral
    assert _sections(message) == ["Dat doen we liever privé."]
    assert _buttons(message) == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open ons gesprek", "emoji": True},
            "action_id": "l1",
            "url": link,
        }
    ]
    assert (
        dm_invite("x", link, t=_t, label="Naar de bot")[0].blocks[-1]["elements"][0]["text"]["text"]
        == "Naar de bot"
    )


def test_dm_links_are_checked() -> None:
    with pytest.raises(ValueError):
        dm_link("T01&x=1", "A01")
    with pytest.raises(ValueError):
        dm_invite("x", "javascript:alert(1)", t=_t)


def test_a_private_invite_gets_the_dm_button_when_the_channel_gives_the_link() -> None:
    reply = Reply("Ga verder in een privégesprek.", private_invite=PrivateChatInvite("checkin", ""))
    assert _buttons(_only(reply)) == []
    link = "https://slack.com/app_redirect?app=A0456CD&team=T012AB"
    [button] = _buttons(blocks(reply, dm_link=link, dm_label="Open ons gesprek")[0])
    assert button["url"] == link and button["text"]["text"] == "Open ons gesprek"
    own = Reply("Privé", private_invite=PrivateChatInvite("checkin", "Check-in"))
    assert _buttons(blocks(own, dm_link=link)[0])[0]["text"]["text"] == "Check-in"


# -- pictures and files ------------------------------------------------------------------


def test_pictures_and_files_are_uploads_not_blocks(tmp_path: Path) -> None:
    picture, export = tmp_path / "web.png", tmp_path / "x.csv"
    reply = Reply(
        "Je spinnenweb",
        image=Image(picture, "Spinnenweb van 3 december"),
        document=Document(export, "mijn-gegevens.csv"),
    )
    assert _sections(_only(reply)) == ["Je spinnenweb"]
    assert uploads(reply) == [
        slack_render.Upload(
            picture, "web.png", "Spinnenweb van 3 december", alt="Spinnenweb van 3 december"
        ),
        slack_render.Upload(export, "mijn-gegevens.csv", "mijn-gegevens.csv"),
    ]
    assert blocks(Reply(image=Image(picture, "alt"))) == []
    assert uploads(Reply("tekst")) == []


def test_an_address_as_a_link_label_is_not_linked_twice() -> None:
    reply = Reply("[https://a.example/x](https://a.example/x)", markup=True)
    assert _sections(_only(reply)) == ["<https://a.example/x|https://a.example/x>"]


def test_split_marked_text_fits_and_loses_nothing() -> None:
    """Random texts in the markup, split small: every part fits, and the parts hold the
    whole text (whitespace between them aside)."""
    rng = random.Random(17)
    pieces = ["*vet*", "_schuin_", "[link](https://a.example/p?a=1&b=2)", "&", "<x>", "🎉", "é"]
    pieces += ["woord", "lang" * 9, " ", " ", "\n", "\n\n", "*", "_", "https://b.example/q."]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        marked = parse(text)
        limit = rng.randint(40, 120)
        parts = split_mrkdwn(marked, limit)
        assert all(slack_render.utf16_len(part) <= limit for part in parts), text
        plain = "".join(
            html.unescape(re.sub(r"<[^|>]*\|([^>]*)>|<([^>]*)>", r"\1\2", p)) for p in parts
        )
        assert re.sub(r"[\s*_]", "", plain) == re.sub(r"[\s*_]", "", marked.plain), text


def test_a_link_too_long_for_any_section_is_its_text() -> None:
    url = "https://a.example/?" + "&" * 700  # 3,519 characters once escaped
    reply = Reply(f"Lees [dit stuk]({url}) eerst.", markup=True)
    assert _sections(_only(reply)) == ["Lees dit stuk eerst."]


def test_what_is_rendered_passes_slacks_own_checks() -> None:
    """The fake Slack's Block Kit validation (the limits Slack checks) takes every
    message, the pressed version and the DM invite."""
    choices = (
        *(Choice(f"Keuze {n} " + "lang " * n, f"k:{n}") for n in range(30)),
        Choice.link("Website", "https://a.example"),
    )
    replies = [
        Reply("\n\n".join(["p" * SECTION_LIMIT] * BLOCK_LIMIT), choices=choices),
        Reply("🎉 & <x> " * 3000, choices=choices[:3]),
        Reply("*vet* [link](https://a.example) & " * 800, markup=True),
        Reply("", choices=choices),
    ]
    for reply in replies:
        for message in blocks(reply):
            assert block_errors(message.blocks) == []
            assert block_errors(pressed(message.blocks, "Keuze 1", t=_t)) == []
            assert message.text
    invite = dm_invite("Privé graag. " * 400, dm_link("T1", "A1"), t=_t)
    assert len(invite) == 1 and len(invite[0].blocks) == 3 and invite[0].ephemeral
    assert block_errors(invite[0].blocks) == []
    long_invite = dm_invite(
        "\n\n".join(["p" * SECTION_LIMIT] * BLOCK_LIMIT), "https://a.example", t=_t
    )
    assert [len(m.blocks) for m in long_invite] == [BLOCK_LIMIT, 1]
    assert all(m.ephemeral for m in long_invite)
    assert long_invite[-1].blocks[0]["elements"][0]["url"] == "https://a.example"


def test_the_notification_text_is_cut_before_it_is_escaped() -> None:
    message = _only(Reply("&" * 4000))
    assert message.text.endswith("&amp;…")
    assert len(html.unescape(message.text)) == slack_render.FALLBACK_LIMIT
    assert html.escape(html.unescape(message.text), quote=False) == message.text
    assert _only(Reply("", choices=(Choice("A & B", "ab"),))).text == "A &amp; B"
