"""A complete quick check-in by buttons in a Slack DM, on SQLite and PostgreSQL:
consent, six scores, no reflection, no reminder; the spinnenweb picture is
uploaded with files_upload_v2 into the DM (the fake Slack records the upload)."""

from __future__ import annotations

import itertools
from typing import Any

from bot.app import App
from tests.channels.test_slack import (  # noqa: F401 (fixtures)
    ANNA,
    ANNA_DM,
    ObservedSlack,
    bot,
    dm,
    fake,
    t,
)
from tests.helpers.fake_slack import FakeSlack

PNG = b"\x89PNG\r\n\x1a\n"


def _newest_with(slack: FakeSlack, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest DM message with a button labelled ``label``, and that button."""
    for message in reversed(slack.messages.get(ANNA_DM, [])):
        for block in message.get("blocks", []):
            if block["type"] != "actions":
                continue
            for element in block.get("elements", []):
                if element["text"]["text"] == label:
                    return message, dict(element)
    raise AssertionError(f"no button {label!r} in the DM")


async def test_a_quick_check_in_by_buttons_ends_in_the_uploaded_picture(
    bot: tuple[App, ObservedSlack],  # noqa: F811
    fake: FakeSlack,  # noqa: F811
) -> None:
    app, channel = bot
    done = 1
    await fake.send_event(dm("/spinnenweb"))
    await channel.wait_finished(done)
    triggers = itertools.count(1)

    pressed: list[str] = []

    async def press(label: str) -> None:
        nonlocal done
        pressed.append(label)
        message, button = _newest_with(fake, label)
        await fake.send_interactive(
            {
                "type": "block_actions",
                "user": {"id": ANNA},
                "channel": {"id": ANNA_DM},
                "trigger_id": f"trig-{next(triggers)}",
                "container": {"type": "message", "channel_id": ANNA_DM},
                "message": message,
                "actions": [button],
            }
        )
        done += 1
        await channel.wait_finished(done)

    await press(t(app, "checkin.consent_yes"))
    await press(t(app, "checkin.mode_short"))
    scores = [7, 6, 5, 4, 3, 10]
    for score in scores:
        await press(str(score))
    texts = "\n".join(fake.texts(ANNA_DM))
    assert t(app, "checkin.summary_first") in texts
    assert t(app, "checkin.reflect_offer") in texts

    # The picture went up with files_upload_v2 into the DM: URL, bytes, completion.
    await fake.wait_for("files.completeUploadExternal")
    assert fake.calls_of("files.getUploadURLExternal", ok=True)
    (picture,) = fake.files.values()
    assert picture["content"][:8] == PNG
    assert picture["channels"] == [ANNA_DM]
    (complete,) = fake.calls_of("files.completeUploadExternal", ok=True)
    assert complete.ok

    await press(t(app, "checkin.reflect_no"))
    await press(t(app, "checkin.followup_never"))
    assert not [c for c in fake.calls if not c.ok and c.method != "auth.test"]
    # Each press closed its message's buttons with chat.update, showing "✓ <label>".
    updates = [str(c.params.get("blocks")) for c in fake.calls_of("chat.update", ok=True)]
    for label in pressed:
        assert any(f"✓ {label}" in blocks for blocks in updates), label
    # One chat.update per press, each on a message of its own: none closed twice.
    closes = fake.calls_of("chat.update")
    assert len(closes) == len(pressed)
    assert len({c.params["ts"] for c in closes}) == len(pressed)
