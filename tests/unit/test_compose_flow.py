"""/bericht, /berichten and the unsubscribe tap step by step, without a database: a
fake context keeps the conversation in memory and a fake repository stands in for
``ctx.db.announcements`` (``bot/storage/repositories/announcements.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.audience import Audience
from bot.broadcast.when import PAST, parse_when
from bot.core.flow import Answer, Go, Stamp
from bot.core.messages import Choice, Incoming, Kind, PressOutcome, Reply
from bot.core.state import State
from bot.core.texts import Texts, placeholders
from bot.paths import content_dir
from bot.people.vocab import GRANTED_ROLES
from bot.spinnenweb.model import Spinnenweb
from bot.storage.repositories.announcements import AnnouncementView, Counts, Preview
from handlers import broadcast, broadcast_manage, broadcast_preview
from handlers.broadcast_audience import PICK_STEPS, ComposeData, options
from handlers.broadcast_manage import ChangeData

TEXTS = Texts.load(content_dir())
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # Tuesday 11:00 in Amsterdam


def t(key: str, **params: object) -> str:
    return TEXTS.get("nl", key, **params)


class FakeAnnouncements:
    """``ctx.db.announcements`` as the seam names it."""

    def __init__(self) -> None:
        self.per_platform = {"console": 2, "telegram": 1}
        self.left_out = {"stopped": 1, "blocked": 0, "unsubscribed": 2}
        self.created: list[dict[str, Any]] = []
        self.views: dict[int, AnnouncementView] = {}
        self.changed: list[tuple[int, str | None, datetime | None]] = []
        self.cancelled: list[int] = []
        self.topics = {7: "agenda"}

    async def preview(self, audience: Audience, topic: str) -> Preview:
        return Preview(dict(self.per_platform), dict(self.left_out))

    async def create(self, **kw: Any) -> int:
        self.created.append(kw)
        return len(self.created)

    async def get(self, announcement_id: int) -> AnnouncementView | None:
        return self.views.get(announcement_id)

    async def recent(self, limit: int = 10) -> list[AnnouncementView]:
        return list(self.views.values())[:limit]

    async def change(
        self, announcement_id: int, *, text: str | None = None, send_at: datetime | None = None
    ) -> bool:
        view = self.views.get(announcement_id)
        if view is None or view.status != "scheduled":
            return False
        self.changed.append((announcement_id, text, send_at))
        return True

    async def cancel(self, announcement_id: int, now: datetime) -> bool:
        view = self.views.get(announcement_id)
        if view is None or view.status not in ("scheduled", "queuing", "sending"):
            return False
        self.cancelled.append(announcement_id)
        self.views[announcement_id] = replace(view, status="cancelled")
        return True

    async def unsubscribe(self, user_id: int, announcement_id: int) -> str | None:
        return self.topics.get(announcement_id)


class FakeAudit:
    def __init__(self) -> None:
        self.records: list[tuple[str, int | None, str]] = []

    async def record(
        self, now: datetime, action: str, actor: int | None = None, detail: str = ""
    ) -> None:
        self.records.append((action, actor, detail))


@dataclass
class FakeDb:
    announcements: FakeAnnouncements = field(default_factory=FakeAnnouncements)
    audit: FakeAudit = field(default_factory=FakeAudit)


@dataclass
class FakePerson:
    id: int = 1
    platform: str = "telegram"


class FakeClock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at


WEB = Spinnenweb.load(content_dir())  # the real words: "klaar" is done, not cancel


@dataclass
class FakeSettings:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    quiet_hours: str = "21:00-08:00"


class FakeContext:
    """What the composer uses of Context."""

    def __init__(self, *, admin: bool = True) -> None:
        self.state: State | None = None
        self.after_commit: list[Callable[[], object]] = []
        self.is_admin = admin
        self.db = FakeDb()
        self.person = self.user = FakePerson()
        self.clock = FakeClock()
        self.settings = FakeSettings()
        self.web = WEB
        self.texts = TEXTS
        self.lang = "nl"
        self.chat_id = "chat-1"

    def t(self, key: str, **params: object) -> str:
        return t(key, **params)

    def choice(self, key: str, action: str, **params: object) -> Choice:
        return Choice(label=t(key, **params), action=action)

    def on_commit(self, step: Callable[[], object]) -> None:
        self.after_commit.append(step)

    async def set_state(self, state: State, ttl: timedelta | None = None) -> None:
        self.state = state

    async def clear_state(self) -> None:
        self.state = None


def said(go: Go[Any]) -> list[str]:
    return [reply.text for reply in go.say]


GANGMAKERS = ComposeData(roles=("gangmaker",))
READY = ComposeData(roles=("gangmaker",), topic="nieuws", text="Hallo allemaal", review=True)


def by(name: str, text: str | None = None) -> Answer:
    return Answer(name, text)


def typed(text: str) -> Answer:
    return Answer(None, text)


# -- who gets it ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "answer", "to", "check"),
    [
        (
            ComposeData(roles=("partner",)),
            by("everyone"),
            "audience",
            {"everyone": True, "roles": ()},
        ),
        (ComposeData(), by("by_roles"), "roles", {"options": GRANTED_ROLES}),
        (ComposeData(), by("by_gemeenten"), "gemeenten", {"options": options("gemeenten")}),
        (ComposeData(), by("groups"), "audience", {"groups": True}),
        (ComposeData(groups=True), by("groups"), "audience", {"groups": False}),
        (
            ComposeData(roles=("partner",), groups=True),
            by("clear"),
            "audience",
            {"roles": (), "groups": False},
        ),
        (GANGMAKERS, by("next"), "topic", {"roles": ("gangmaker",)}),
        (ComposeData(topics=("agenda",)), by("next"), "text", {"topic": "agenda"}),
        (ComposeData(groups=True), by("next"), "topic", {"groups": True}),
        (
            ComposeData(),
            typed("role:gangmaker,gemeente:Leiden,gemeente:teylingen"),
            "topic",
            {"roles": ("gangmaker",), "gemeenten": ("leiden", "teylingen")},
        ),
        (
            ComposeData(),
            typed("rol:partner, organisatie:reos, groups"),
            "topic",
            {"organisations": ("reos",), "groups": True},
        ),
        (ComposeData(), typed("topic:leerateliers"), "text", {"topic": "leerateliers"}),
    ],
)
async def test_choosing_the_audience(
    data: ComposeData, answer: Answer, to: str, check: dict[str, Any]
) -> None:
    go = await broadcast.on_audience(FakeContext(), data, answer)  # type: ignore[arg-type]
    assert go.to == to and go.say == ()
    new = go.data or data
    assert {name: getattr(new, name) for name in check} == check


@pytest.mark.parametrize(
    ("data", "answer", "key", "params"),
    [
        (ComposeData(), by("next"), "compose.audience_empty", {}),
        (
            ComposeData(),
            typed("role:gangmaker,planeet:mars"),
            "compose.audience_unknown",
            {"word": "planeet:mars"},
        ),
        (
            ComposeData(),
            typed("gemeente:amsterdam"),
            "compose.audience_unknown_value",
            {
                "word": "amsterdam",
                "kind": t("compose.kinds.gemeenten"),
                "options": ", ".join(options("gemeenten")),
            },
        ),
        (ComposeData(), typed(" , "), "compose.audience_empty", {}),
        (ComposeData(), typed("all,role:gangmaker"), "compose.audience_everyone_and", {}),
        (ComposeData(), by("send"), "compose.unclear", {}),
    ],
)
async def test_an_audience_that_is_empty_or_not_understood_is_said_so(
    data: ComposeData, answer: Answer, key: str, params: dict[str, object]
) -> None:
    go = await broadcast.on_audience(FakeContext(), data, answer)  # type: ignore[arg-type]
    assert (go.to, go.data, said(go)) == ("audience", None, [t(key, **params)])


async def test_after_an_edit_the_audience_leads_back_to_the_preview() -> None:
    go = await broadcast.on_audience(FakeContext(), replace(READY, roles=("partner",)), by("next"))  # type: ignore[arg-type]
    assert go.to == "preview" and go.data is not None and go.data.roles == ("partner",)


PICK = {step.name: step for step in PICK_STEPS}


@pytest.mark.parametrize(
    ("kind", "data", "answer", "to", "chosen", "say"),
    [
        ("roles", ComposeData(options=GRANTED_ROLES), by("item_0"), "roles", ("gangmaker",), None),
        (
            "roles",
            ComposeData(roles=("gangmaker",), options=GRANTED_ROLES),
            by("item_0"),
            "roles",
            (),
            None,
        ),
        (
            "roles",
            ComposeData(everyone=True, options=GRANTED_ROLES),
            by("item_1"),
            "roles",
            ("partner",),
            None,
        ),
        ("roles", ComposeData(options=GRANTED_ROLES), by("item_9"), "roles", (), "compose.unclear"),
        (
            "roles",
            ComposeData(roles=("partner",), options=GRANTED_ROLES),
            by("done"),
            "audience",
            ("partner",),
            None,
        ),
        (
            "gemeenten",
            ComposeData(options=options("gemeenten")),
            typed("Leiden, kaag en braassem"),
            "audience",
            ("leiden", "kaag-en-braassem"),
            None,
        ),
        (
            "organisations",
            ComposeData(options=options("organisations")),
            typed("Reos"),
            "audience",
            ("reos",),
            None,
        ),
        (
            "topics",
            ComposeData(options=options("topics")),
            typed("Agenda"),
            "audience",
            ("agenda",),
            None,
        ),
        (
            "gemeenten",
            ComposeData(options=options("gemeenten")),
            typed("Leiden, Gouda"),
            "gemeenten",
            (),
            "compose.pick_unknown",
        ),
    ],
)
async def test_a_picker_turns_values_on_and_off(
    kind: str,
    data: ComposeData,
    answer: Answer,
    to: str,
    chosen: tuple[str, ...],
    say: str | None,
) -> None:
    on = PICK[kind].on
    assert on is not None
    go = await on(FakeContext(), data, answer)  # type: ignore[arg-type]
    assert go.to == to
    new = go.data or data
    assert getattr(new, kind) == chosen
    if say is not None:
        assert said(go)[0].startswith(t(say, word="Gouda", options="").split('"')[0])
    if chosen:
        assert not new.everyone  # a filter replaces "everyone"
    if to == "audience":
        assert new.options == ()


# -- topic, text, extra -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "answer", "to", "say"),
    [
        (GANGMAKERS, by("topic_1"), "text", None),
        (GANGMAKERS, typed("over de agenda"), "topic", "compose.unclear"),
        (replace(READY, topic="nieuws"), by("topic_1"), "preview", None),
    ],
)
async def test_the_topic(data: ComposeData, answer: Answer, to: str, say: str | None) -> None:
    go = await broadcast.on_topic(FakeContext(), data, answer)  # type: ignore[arg-type]
    assert go.to == to
    if say is None:
        assert go.data is not None and go.data.topic == "agenda"
    else:
        assert said(go) == [t(say)]


@pytest.mark.parametrize(
    ("text", "to", "say"),
    [
        ("Kom naar het leeratelier", "extra", None),
        ("  Kom naar het leeratelier \n", "extra", None),
        ("", "text", "compose.text_empty"),
        (" \n ", "text", "compose.text_empty"),
        ("x" * 4000, "extra", None),
        ("x" * 4001, "text", "compose.text_too_long"),
    ],
)
async def test_the_text(text: str, to: str, say: str | None) -> None:
    go = await broadcast.on_text(FakeContext(), GANGMAKERS, typed(text))  # type: ignore[arg-type]
    assert go.to == to
    if say is None:
        assert go.data is not None and go.data.text == text.strip()
    else:
        assert said(go) == [t(say, length=len(text), limit=4000)] and go.data is None


async def test_an_edited_text_goes_straight_back_to_the_preview() -> None:
    go = await broadcast.on_text(FakeContext(), READY, typed("Nieuwe tekst"))  # type: ignore[arg-type]
    assert go.to == "preview"
    assert [r.text for r in go.say][:2] == [t("compose.preview"), "Nieuwe tekst"]


@pytest.mark.parametrize(
    ("answer", "to", "attachment", "say"),
    [
        (by("link"), "link", None, None),
        (by("no_extra"), "preview", None, None),
        (
            typed("https://www.alliantiepg.nl"),
            "preview",
            {"kind": "link", "url": "https://www.alliantiepg.nl", "name": "Lees meer"},
            None,
        ),
        (
            typed("https://www.alliantiepg.nl/agenda Naar de agenda"),
            "preview",
            {"kind": "link", "url": "https://www.alliantiepg.nl/agenda", "name": "Naar de agenda"},
            None,
        ),
        (
            typed("https://www.alliantiepg.nl\nNaar  de site "),
            "preview",
            {"kind": "link", "url": "https://www.alliantiepg.nl", "name": "Naar de site"},
            None,
        ),
        (typed("een foto komt nog"), "extra", None, "compose.extra_unclear"),
    ],
)
async def test_the_extra_step(
    answer: Answer, to: str, attachment: dict[str, str] | None, say: str | None
) -> None:
    data = replace(READY, review=False)
    go = await broadcast.on_extra(FakeContext(), data, answer)  # type: ignore[arg-type]
    assert go.to == to
    assert (go.data or data).attachment == attachment
    if say is not None:
        assert said(go) == [t(say)]


@pytest.mark.parametrize(
    ("text", "say"),
    [
        ("javascript:alert(1) Klik", "compose.link_bad"),
        ("www.alliantiepg.nl Klik", "compose.link_bad"),
        ("https:// Klik", "compose.link_bad"),
        ("https://www.alliantiepg.nl " + "x" * 41, "compose.link_label_long"),
    ],
)
async def test_a_bad_link_or_a_long_label_is_said_so(text: str, say: str) -> None:
    go = await broadcast.on_link(FakeContext(), READY, typed(text))  # type: ignore[arg-type]
    assert (go.to, said(go)) == ("link", [t(say, limit=40)])


async def test_the_preview_is_the_message_as_recipients_see_it_with_the_counts() -> None:
    data = replace(READY, attachment={"kind": "link", "url": "https://a.nl", "name": "Meer"})
    go = await broadcast_preview.to_preview(FakeContext(), data)  # type: ignore[arg-type]
    intro, shown, counts = go.say
    assert (go.to, intro.text, shown.text) == ("preview", t("compose.preview"), "Hallo allemaal")
    assert [(c.label, c.url, c.action) for c in shown.choices] == [
        ("Meer", "https://a.nl", ""),
        (t("announce.unsubscribe", topic="nieuws"), None, "afmelden:0"),
    ]
    assert counts.text.splitlines() == [
        t("compose.preview_for", audience=t("compose.summary.roles", names="Gangmakers")),
        t("compose.count", total=3, platforms="terminal 2, Telegram 1"),
        t(
            "compose.left_out_line",
            reasons=", ".join(
                (
                    t("compose.left_out.stopped", count=1),
                    t("compose.left_out.unsubscribed", count=2),
                )
            ),
        ),
    ]


# -- the preview's answers, and when ------------------------------------------------------


async def test_send_creates_the_announcement_once_with_where_to_report() -> None:
    ctx = FakeContext()
    go = await broadcast_preview.on_preview(ctx, READY, by("send"))  # type: ignore[arg-type]
    assert go.to == "sent" and await confirmation(ctx, go) == t(
        "compose.created_now", id=1, total=3
    )
    (created,) = ctx.db.announcements.created
    assert created == {
        "created_by": 1,
        "audience": Audience(roles=frozenset({"gangmaker"})),
        "topic": "nieuws",
        "text": "Hallo allemaal",
        "attachment": None,
        "urgent": False,
        "send_at": NOW,
        "report_to": ("telegram", "chat-1"),
        "now": NOW,
    }


@pytest.mark.parametrize(
    ("data", "answer", "to", "check", "say"),
    [
        (READY, by("urgent"), "preview", {"urgent": True}, None),
        (replace(READY, urgent=True), by("urgent"), "preview", {"urgent": False}, None),
        (READY, by("later"), "when", {}, None),
        (READY, by("edit"), "edit", {}, None),
        (
            READY,
            typed("morgen 9:00"),
            "preview",
            {"send_at": datetime(2026, 3, 11, 8, 0, tzinfo=UTC)},
            None,
        ),
        (READY, typed("jazeker"), "preview", {"send_at": None}, "compose.preview_unclear"),
        (READY, typed("9 maart 10:00"), "preview", {"send_at": None}, "compose.when_past"),
        (READY, by("now"), "preview", {}, "compose.preview_unclear"),
        (
            replace(READY, send_at=NOW - timedelta(minutes=5)),
            by("send"),
            "when",
            {},
            "compose.when_past",
        ),
    ],
)
async def test_the_preview_answers(
    data: ComposeData, answer: Answer, to: str, check: dict[str, Any], say: str | None
) -> None:
    ctx = FakeContext()
    go = await broadcast_preview.on_preview(ctx, data, answer)  # type: ignore[arg-type]
    assert go.to == to
    new = go.data or data
    assert {name: getattr(new, name) for name in check} == check
    assert said(go) == ([t(say)] if say else [])
    assert ctx.db.announcements.created == []


async def test_nobody_to_send_to_is_not_sent() -> None:
    ctx = FakeContext()
    ctx.db.announcements.per_platform = {}
    go = await broadcast_preview.on_preview(ctx, READY, by("send"))  # type: ignore[arg-type]
    assert (go.to, said(go)) == ("preview", [t("compose.nobody")])
    assert ctx.db.announcements.created == []


@pytest.mark.parametrize(
    ("answer", "to", "send_at", "say"),
    [
        (by("now"), "preview", None, None),
        (typed("nu"), "preview", None, None),
        (typed("morgen 9:00"), "preview", datetime(2026, 3, 11, 8, 0, tzinfo=UTC), None),
        (typed("vr 13 maart 10u"), "preview", datetime(2026, 3, 13, 9, 0, tzinfo=UTC), None),
        (typed("9 maart 10:00"), "when", NOW + timedelta(days=9), "compose.when_past"),
        (typed("volgende keer"), "when", NOW + timedelta(days=9), "compose.when_unreadable"),
    ],
)
async def test_when_it_goes_out(
    answer: Answer, to: str, send_at: datetime | None, say: str | None
) -> None:
    data = replace(READY, send_at=NOW + timedelta(days=9))
    go = await broadcast_preview.on_when(FakeContext(), data, answer)  # type: ignore[arg-type]
    assert (go.to, (go.data or data).send_at) == (to, send_at)
    assert said(go) == ([t(say)] if say else [])


async def test_a_scheduled_one_says_when_it_goes_out() -> None:
    ctx = FakeContext()
    data = replace(READY, send_at=datetime(2026, 3, 13, 9, 0, tzinfo=UTC), urgent=True)
    go = await broadcast_preview.on_preview(ctx, data, by("send"))  # type: ignore[arg-type]
    when = t("compose.moment", date="13-03-2026", time="10:00")
    assert await confirmation(ctx, go) == t("compose.created_at", id=1, total=3, when=when)
    (created,) = ctx.db.announcements.created
    assert (created["send_at"], created["urgent"]) == (data.send_at, True)


@pytest.mark.parametrize(
    ("action", "to"),
    [
        ("edit_audience", "audience"),
        ("edit_topic", "topic"),
        ("edit_text", "text"),
        ("edit_extra", "extra"),
        ("to_preview", "preview"),
    ],
)
async def test_edit_goes_back_to_a_step(action: str, to: str) -> None:
    go = await broadcast_preview.on_edit(FakeContext(), READY, by(action))  # type: ignore[arg-type]
    assert go.to == to


# -- the engine: stamps, stale and forged presses, someone not a verbinder -------------------


def press(action: str) -> Incoming:
    return Incoming(
        platform="telegram", user_id="1", chat_id="chat-1", kind=Kind.ACTION, action=action
    )


def message(text: str) -> Incoming:
    return Incoming(platform="telegram", user_id="1", chat_id="chat-1", kind=Kind.TEXT, text=text)


def button(replies: list[Reply], label_key: str) -> str:
    label = t(label_key)
    return next(c.action for r in replies for c in r.choices if c.label == label)


async def to_the_preview(ctx: FakeContext) -> list[Reply]:
    replies = await broadcast.FLOW.start(ctx, "audience", ComposeData())  # type: ignore[arg-type]
    replies = await broadcast.FLOW.typed(message("role:gangmaker"), ctx)  # type: ignore[arg-type]
    replies = await broadcast.FLOW.pressed(press(button(replies, "compose.topics.nieuws")), ctx)  # type: ignore[arg-type]
    replies = await broadcast.FLOW.typed(message("Hallo"), ctx)  # type: ignore[arg-type]
    return await broadcast.FLOW.pressed(press(button(replies, "compose.extra_none")), ctx)  # type: ignore[arg-type]


async def test_a_second_confirm_press_sends_nothing_twice() -> None:
    ctx = FakeContext()
    replies = await to_the_preview(ctx)
    send = button(replies, "compose.send_now")
    assert send.startswith("bc:")
    await broadcast.FLOW.pressed(press(send), ctx)  # type: ignore[arg-type]
    assert len(ctx.db.announcements.created) == 1
    (again,) = await broadcast.FLOW.pressed(press(send), ctx)  # type: ignore[arg-type]
    assert again.press_outcome is PressOutcome.STALE
    assert again.text == t("compose.already_sent", id=1)  # not "expired", not "nothing sent"
    (typed_again,) = await broadcast.FLOW.typed(message("Versturen"), ctx)  # type: ignore[arg-type]
    assert typed_again.text == t("compose.already_sent", id=1)
    assert len(ctx.db.announcements.created) == 1


@pytest.mark.parametrize(
    "forged", ["bc", "bc:x:1:s", "bc:{run}:99:s", "bc:{run}:{turn}:zz", "bc:{run}:{turn}:ea"]
)
async def test_forged_presses_change_nothing(forged: str) -> None:
    ctx = FakeContext()
    await to_the_preview(ctx)
    before = ctx.state
    assert before is not None
    data = forged.format(run=before.data["run"], turn=before.data["turn"])
    (refused,) = await broadcast.FLOW.pressed(press(data), ctx)  # type: ignore[arg-type]
    assert refused.press_outcome is PressOutcome.STALE
    assert ctx.state is before and ctx.db.announcements.created == []


async def test_someone_no_longer_a_verbinder_cannot_send() -> None:
    ctx = FakeContext()
    replies = await to_the_preview(ctx)
    ctx.is_admin = False
    (refused,) = await broadcast.FLOW.pressed(press(button(replies, "compose.send_now")), ctx)  # type: ignore[arg-type]
    assert refused.text == t("errors.forbidden")
    assert ctx.db.announcements.created == [] and ctx.state is None
    assert [r[0] for r in ctx.db.audit.records] == ["admin.refused"]


async def test_stop_and_back_are_declared_once() -> None:
    ctx = FakeContext()
    await broadcast.FLOW.start(ctx, "audience", ComposeData())  # type: ignore[arg-type]
    await broadcast.FLOW.typed(message("role:gangmaker"), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "topic"
    await broadcast.FLOW.typed(message("terug"), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "audience"
    (last,) = await broadcast.FLOW.typed(message("stop"), ctx)  # type: ignore[arg-type]
    assert last.text == t("compose.cancelled") and ctx.state is None


def test_every_code_means_one_thing() -> None:
    assert broadcast.ACTIONS["s"].name == "send" and broadcast.ACTIONS["i0"].name == "item_0"
    assert broadcast_manage.ACTIONS["cy"].name == "cancel_yes"


# -- the unsubscribe tap --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "key", "stale"),
    [
        ("afmelden:7", "compose.unsubscribed", False),
        ("afmelden:0", "compose.unsubscribe_preview", False),
        ("afmelden:8", "compose.unsubscribe_unknown", True),
        ("afmelden:abc", "compose.unsubscribe_unknown", True),
        ("afmelden:-7", "compose.unsubscribe_unknown", True),
        ("afmelden:7:1", "compose.unsubscribe_unknown", True),
        ("afmelden:" + "9" * 30, "compose.unsubscribe_unknown", True),
        ("afmelden:", "compose.unsubscribe_unknown", True),
    ],
)
async def test_the_unsubscribe_tap(action: str, key: str, stale: bool) -> None:
    (reply,) = await broadcast.unsubscribe(press(action), FakeContext(admin=False))  # type: ignore[arg-type]
    assert reply.text == t(key, topic="de agenda")
    assert (reply.press_outcome is PressOutcome.STALE) == stale


# -- /berichten -------------------------------------------------------------------------------


def view(number: int, status: str, **overrides: Any) -> AnnouncementView:
    values: dict[str, Any] = {
        "id": number,
        "audience": "role:gangmaker",
        "topic": "nieuws",
        "text": "Hallo " * 30,
        "attachment": None,
        "urgent": False,
        "status": status,
        "send_at": NOW + timedelta(days=1),
        "created_at": NOW,
        "created_by": 1,
        "recipients": 4,
        "counts": Counts(delivered=2, failed=1, blocked=1),
    }
    values.update(overrides)
    return AnnouncementView(**values)


async def test_the_list_shows_counts_and_offers_a_button_for_the_open_ones() -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {
        3: view(3, "scheduled"),
        2: view(2, "sending"),
        1: view(1, "done"),
    }
    (reply,) = await broadcast_manage.recent(message("/berichten"), ctx)  # type: ignore[arg-type]
    assert t("compose.status.done") in reply.text and "…" in reply.text
    assert [c.action for c in reply.choices] == ["berichten:w:3", "berichten:w:2"]


@pytest.mark.parametrize(
    ("action", "admin", "key", "step"),
    [
        ("berichten:w:3", True, "compose.change", "choose"),
        ("berichten:w:2", True, "compose.change_sending", "choose"),
        ("berichten:w:1", True, "compose.too_late", None),
        ("berichten:w:9", True, "compose.unknown_announcement", None),
        ("berichten:w:x", True, "compose.unknown_announcement", None),
        ("berichten:x:3", True, "compose.unknown_announcement", None),
        ("berichten:w:3", False, "errors.forbidden", None),
    ],
)
async def test_a_button_of_the_list(action: str, admin: bool, key: str, step: str | None) -> None:
    ctx = FakeContext(admin=admin)
    ctx.db.announcements.views = {
        3: view(3, "scheduled"),
        2: view(2, "sending"),
        1: view(1, "done"),
    }
    replies = await broadcast_manage.pressed(press(action), ctx)  # type: ignore[arg-type]
    assert replies[-1].text == t(key, id=action.rsplit(":", 1)[1])
    assert (ctx.state.step if ctx.state else None) == step


@pytest.mark.parametrize(
    ("step", "answer", "to", "say", "changed"),
    [
        ("choose", by("new_text"), "text", None, []),
        ("choose", by("new_time"), "time", None, []),
        ("choose", by("cancel"), "cancel", None, []),
        ("text", typed("Nieuwe tekst"), None, "compose.changed_text", [(3, "Nieuwe tekst", None)]),
        ("text", typed("x" * 4001), "text", "compose.text_too_long", []),
        (
            "time",
            typed("morgen 9:00"),
            None,
            "compose.changed_time",
            [(3, None, datetime(2026, 3, 11, 8, 0, tzinfo=UTC))],
        ),
        ("time", typed("gisteren 9:00"), "time", "compose.when_past", []),
        ("cancel", by("cancel_no"), None, "compose.unchanged", []),
    ],
)
async def test_changing_a_scheduled_one(
    step: str, answer: Answer, to: str | None, say: str | None, changed: list[Any]
) -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {3: view(3, "scheduled")}
    on = broadcast_manage.FLOW.step_named(step).on
    assert on is not None
    go = await on(ctx, ChangeData(3), answer)  # type: ignore[arg-type]
    assert go.to == to
    when = t("compose.moment", date="11-03-2026", time="09:00")
    assert said(go) == ([t(say, id=3, when=when, length=4001, limit=4000)] if say else [])
    assert ctx.db.announcements.changed == changed


async def test_cancelling_and_a_second_cancel() -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {3: view(3, "scheduled")}
    on = broadcast_manage.FLOW.step_named("cancel").on
    assert on is not None
    go = await on(ctx, ChangeData(3), by("cancel_yes"))  # type: ignore[arg-type]
    assert said(go) == [t("compose.announcement_cancelled", id=3)] and go.to is None
    go = await on(ctx, ChangeData(3), by("cancel_yes"))  # type: ignore[arg-type]
    assert said(go) == [t("compose.too_late", id=3)]
    assert ctx.db.announcements.cancelled == [3]


async def test_a_sending_one_can_only_be_cancelled() -> None:
    on = broadcast_manage.FLOW.step_named("choose").on
    assert on is not None
    go = await on(FakeContext(), ChangeData(2, changeable=False), by("new_text"))  # type: ignore[arg-type]
    assert (go.to, said(go)) == ("choose", [t("compose.unclear")])


@pytest.mark.parametrize(
    "stored",
    [
        {"roles": "gangmaker"},  # not a list
        {"send_at": "morgen"},
        {"attachment": ["image"]},
        {"urgent": "ja"},
    ],
)
def test_a_stored_state_of_another_shape_is_not_read(stored: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        ComposeData.from_data({**ComposeData().to_data(), **stored})


def test_the_state_survives_storing() -> None:
    data = replace(
        READY, send_at=NOW, attachment={"kind": "link", "url": "https://a.nl"}, options=("a",)
    )
    assert ComposeData.from_data(data.to_data()) == data
    assert ChangeData.from_data(ChangeData(3, False).to_data()) == ChangeData(3, False)


@pytest.mark.parametrize("word", ["stop", "ja", "terug"])
async def test_in_a_picker_a_typed_stop_word_ends_the_picking_not_the_message(word: str) -> None:
    ctx = FakeContext()
    replies = await broadcast.FLOW.start(ctx, "audience", ComposeData())  # type: ignore[arg-type]
    replies = await broadcast.FLOW.pressed(press(button(replies, "compose.by.roles")), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "roles"
    replies = await broadcast.FLOW.typed(message(word), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "audience"
    replies = await broadcast.FLOW.pressed(press(button(replies, "compose.by.roles")), ctx)  # type: ignore[arg-type]
    (last,) = await broadcast.FLOW.pressed(press(button(replies, "compose.cancel")), ctx)  # type: ignore[arg-type]
    assert last.text == t("compose.cancelled") and ctx.state is None  # pressed: cancels


# -- typed words: only clear cancel words cancel; "klaar" is done -----------------------


@pytest.mark.parametrize("word", ["klaar", "Klaar", "verder", "done"])
async def test_a_typed_klaar_goes_on_at_verder_and_never_cancels(word: str) -> None:
    ctx = FakeContext()
    replies = await broadcast.FLOW.start(ctx, "audience", ComposeData())  # type: ignore[arg-type]
    replies = await broadcast.FLOW.typed(message(word), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "audience"  # nobody chosen: asked again
    replies = await broadcast.FLOW.typed(message("role:gangmaker"), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "topic"
    replies = await broadcast.FLOW.typed(message(word), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "topic"  # no Verder here: asked again
    assert replies[0].text == t("compose.unclear")
    replies = await broadcast.FLOW.typed(message("terug"), ctx)  # type: ignore[arg-type]
    replies = await broadcast.FLOW.typed(message(word), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "topic"  # Verder: on to the topic
    replies = await broadcast.FLOW.pressed(press(button(replies, "compose.topics.nieuws")), ctx)  # type: ignore[arg-type]
    replies = await broadcast.FLOW.typed(message(word), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "text"  # no text yet: asked again
    assert all(r.text != t("compose.cancelled") for r in replies)


@pytest.mark.parametrize("word", ["annuleren", "annuleer", "stoppen", "stop", "cancel"])
async def test_a_clear_cancel_word_cancels(word: str) -> None:
    ctx = FakeContext()
    await broadcast.FLOW.start(ctx, "audience", ComposeData())  # type: ignore[arg-type]
    await broadcast.FLOW.typed(message("role:gangmaker"), ctx)  # type: ignore[arg-type]
    (last,) = await broadcast.FLOW.typed(message(word), ctx)  # type: ignore[arg-type]
    assert last.text == t("compose.cancelled") and ctx.state is None


async def test_a_typed_klaar_does_not_leave_the_change_flow() -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {3: view(3, "scheduled")}
    await broadcast_manage.pressed(press("berichten:w:3"), ctx)  # type: ignore[arg-type]
    await broadcast_manage.FLOW.typed(message("klaar"), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "choose"


# -- quiet hours: when it really goes out ---------------------------------------------------

EVENING = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam: quiet


async def test_in_the_quiet_hours_the_preview_and_the_confirmation_say_when_it_goes() -> None:
    ctx = FakeContext()
    ctx.clock.at = EVENING
    go = await broadcast_preview.to_preview(ctx, READY)  # type: ignore[arg-type]
    replies = await broadcast.FLOW.move(ctx, "preview", go.data or READY, go_stamp(), go.say)  # type: ignore[arg-type]
    wait = {"hours": "21:00–08:00", "release": t("compose.release.tomorrow", time="08:00")}
    assert replies[-1].text.startswith(t("compose.confirm_now_quiet", **wait))
    assert t("compose.confirm_now") not in replies[-1].text
    replies = await broadcast.FLOW.pressed(press(button(replies, "compose.send_now")), ctx)  # type: ignore[arg-type]
    assert replies[-1].text == t("compose.created_now_quiet", id=1, total=3, **wait)


async def test_urgent_in_the_quiet_hours_goes_at_once() -> None:
    ctx = FakeContext()
    ctx.clock.at = EVENING
    urgent = replace(READY, urgent=True)
    go = await broadcast_preview.on_preview(ctx, urgent, by("send"))  # type: ignore[arg-type]
    assert await confirmation(ctx, go) == t("compose.created_now", id=1, total=3)


async def test_a_time_in_the_quiet_hours_is_said_to_wait() -> None:
    ctx = FakeContext()  # 11:00
    go = await broadcast_preview.on_preview(ctx, READY, typed("vandaag 22:00"))  # type: ignore[arg-type]
    assert go.data is not None
    when = t("compose.moment", date="10-03-2026", time="22:00")
    wait = {"hours": "21:00–08:00", "release": t("compose.release.tomorrow", time="08:00")}
    replies = await broadcast.FLOW.move(ctx, "preview", go.data, go_stamp(), ())  # type: ignore[arg-type]
    assert replies[-1].text.startswith(t("compose.confirm_at_quiet", when=when, **wait))
    go = await broadcast_preview.on_preview(ctx, go.data, by("send"))  # type: ignore[arg-type]
    assert await confirmation(ctx, go) == t(
        "compose.created_at_quiet", id=1, total=3, when=when, **wait
    )


async def test_a_changed_time_in_the_quiet_hours_is_said_to_wait() -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {3: view(3, "scheduled")}
    on = broadcast_manage.FLOW.step_named("time").on
    assert on is not None
    go = await on(ctx, ChangeData(3), typed("vandaag 23:00"))  # type: ignore[arg-type]
    when = t("compose.moment", date="10-03-2026", time="23:00")
    release = t("compose.release.tomorrow", time="08:00")
    assert said(go) == [
        t("compose.changed_time_quiet", id=3, when=when, hours="21:00–08:00", release=release)
    ]


def go_stamp() -> Stamp:
    return Stamp("r1", 1)


async def confirmation(ctx: FakeContext, go: Go[ComposeData]) -> str:
    """What the step ``go`` leads to says last (after sending: the confirmation)."""
    assert go.to is not None and go.data is not None
    replies = await broadcast.FLOW.move(ctx, go.to, go.data, go_stamp(), go.say)  # type: ignore[arg-type]
    return replies[-1].text


# -- a weekday that does not fit the date -------------------------------------------------


async def test_a_weekday_that_does_not_fit_names_the_real_one() -> None:
    ctx = FakeContext()
    ctx.clock.at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 13 March 2027 is a Saturday
    go = await broadcast_preview.on_preview(ctx, READY, typed("vr 13 maart 10u"))  # type: ignore[arg-type]
    wrong = t("compose.when_weekday", date="13 maart 2027", weekday="zaterdag", typed="vrijdag")
    assert (go.to, said(go)) == ("preview", [wrong])
    assert "13 maart 2027 is een zaterdag" in wrong
    on = broadcast_manage.FLOW.step_named("time").on
    assert on is not None
    changed = await on(ctx, ChangeData(3), typed("vr 13 maart 10u"))  # type: ignore[arg-type]
    assert (changed.to, said(changed)) == ("time", [wrong])


@pytest.mark.parametrize(
    "key", ["compose.when", "compose.when_unreadable", "compose.change_time_ask"]
)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_example_times_always_work(key: str, lang: str) -> None:
    """The examples the bot gives are read whatever today is (no weekday with a date
    that may not fit); only a date just gone by is said to be past."""
    text = TEXTS.get(lang, key, id=3)
    examples = ["morgen 9:00", "13 maart 10u", "vrijdag 10:00"]
    assert all(example in text for example in examples) and "vr 13" not in text
    zone = ZoneInfo("Europe/Amsterdam")
    for day in range(365 * 4):
        now = datetime(2026, 3, 14, 12, 0, tzinfo=UTC) + timedelta(days=day)
        assert [parse_when(e, now, zone).problem for e in examples] in (
            [None, None, None],
            [None, PAST, None],
        ), now


# -- /berichten reads as the composer does --------------------------------------------------


async def test_the_list_shows_the_audience_in_words_and_the_text_without_markers() -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {
        3: view(
            3,
            "scheduled",
            audience="role:gangmaker,gemeente:leiden,gemeente:teylingen",
            text="*Kom* naar [de agenda](https://a.nl)",
            recipients=0,
            counts=Counts(),
        ),
        1: view(1, "done", audience="role:partner,organisation:reos"),
    }
    (reply,) = await broadcast_manage.recent(message("/berichten"), ctx)  # type: ignore[arg-type]
    assert "role:" not in reply.text and "organisation:" not in reply.text
    assert "Rol: Gangmakers · Gemeente: Leiden of Teylingen" in reply.text
    assert "Kom naar de agenda" in reply.text and "*" not in reply.text
    assert "https://a.nl" not in reply.text
    scheduled, done = reply.text.split("\n\n")[1:]
    assert t("compose.list_expected", total=3) in scheduled  # as the preview said
    zero = dict.fromkeys(("delivered", "failed", "blocked", "held", "pending"), 0)
    assert t("compose.list_counts", recipients=0, **zero) not in scheduled
    sent = {**zero, "delivered": 2, "failed": 1, "blocked": 1}
    assert t("compose.list_counts", recipients=4, **sent) in done


async def test_the_preview_says_who_gets_it_in_words() -> None:
    data = replace(READY, gemeenten=("leiden", "teylingen"))
    go = await broadcast_preview.to_preview(FakeContext(), data)  # type: ignore[arg-type]
    counts = go.say[-1].text
    words = t("compose.preview_for", audience="Rol: Gangmakers · Gemeente: Leiden of Teylingen")
    assert counts.startswith(words + "\n")
    assert t("compose.count", total=3, platforms="terminal 2, Telegram 1") in counts


# -- typed recipients: "en" like a comma, the buttons' names, what is possible ------------


@pytest.mark.parametrize(
    ("typed_text", "check"),
    [
        ("gemeente:Leiden en Teylingen", {"gemeenten": ("leiden", "teylingen")}),
        ("gemeente:Leiden of Teylingen", {"gemeenten": ("leiden", "teylingen")}),
        ("gemeente:leiden & teylingen", {"gemeenten": ("leiden", "teylingen")}),
        ("gemeente:Leiden and Kaag en Braassem", {"gemeenten": ("kaag-en-braassem", "leiden")}),
        ("gemeente:leiden,teylingen", {"gemeenten": ("leiden", "teylingen")}),
        ("role:gangmakers", {"roles": ("gangmaker",)}),
        ("rol:Gangmakers, gemeente:Leiden", {"roles": ("gangmaker",), "gemeenten": ("leiden",)}),
        ("rollen:Partners en gangmakers", {"roles": ("gangmaker", "partner")}),
        ("onderwerp:Tips over het spinnenweb", {"topics": ("spinnenweb-tips",)}),
        ("Leiden en Teylingen", {"gemeenten": ("leiden", "teylingen")}),  # the kind that knows it
        ("Partners, Leiden", {"roles": ("partner",), "gemeenten": ("leiden",)}),
    ],
)
async def test_typed_recipients_read_like_the_buttons(
    typed_text: str, check: dict[str, Any]
) -> None:
    go = await broadcast.on_audience(FakeContext(), ComposeData(), typed(typed_text))  # type: ignore[arg-type]
    assert go.say == () and go.data is not None
    assert {name: getattr(go.data, name) for name in check} == check


@pytest.mark.parametrize(
    ("typed_text", "kind", "meant"),
    [
        ("role:vrijwilliger", "roles", None),
        ("gemeente:leidn", "gemeenten", "gemeente:leiden"),
        ("role:gangmakr", "roles", "role:gangmaker"),
    ],
)
async def test_an_unknown_value_lists_what_is_possible_and_what_was_meant(
    typed_text: str, kind: str, meant: str | None
) -> None:
    go = await broadcast.on_audience(FakeContext(), ComposeData(), typed(typed_text))  # type: ignore[arg-type]
    (reply,) = said(go)
    assert go.to == "audience"
    assert f"{t('compose.kinds.' + kind)}: {', '.join(options(kind))}" in reply
    if meant is None:
        assert t("compose.did_you_mean", suggestion="").split('"')[0] not in reply
    else:
        assert t("compose.did_you_mean", suggestion=meant) in reply


async def test_a_kind_not_known_suggests_the_kind_meant() -> None:
    go = await broadcast.on_audience(FakeContext(), ComposeData(), typed("gemente:leiden"))  # type: ignore[arg-type]
    assert t("compose.did_you_mean", suggestion="gemeente") in said(go)[0]


async def test_a_picker_reads_en_like_a_comma_and_suggests_a_close_name() -> None:
    on = PICK["gemeenten"].on
    assert on is not None
    data = ComposeData(options=options("gemeenten"))
    go = await on(FakeContext(), data, typed("Leiden en Teylingen"))  # type: ignore[arg-type]
    assert go.data is not None and go.data.gemeenten == ("leiden", "teylingen")
    go = await on(FakeContext(), data, typed("Kaag en Braassem"))  # type: ignore[arg-type]
    assert go.data is not None and go.data.gemeenten == ("kaag-en-braassem",)
    go = await on(FakeContext(), data, typed("Leidn"))  # type: ignore[arg-type]
    (reply,) = said(go)
    assert "Alphen aan den Rijn, Hillegom" in reply
    assert t("compose.did_you_mean", suggestion="Leiden") in reply


# -- grammar: every number reads right ------------------------------------------------------

COUNTED = re.compile(
    r"\b1 (ontvangers|mensen|berichten|hebben|zijn|recipients|people|messages|have)\b"
)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sentences_with_a_number_read_right_for_one(lang: str) -> None:
    """Every announce. and compose. sentence with a number in it, filled in with 1:
    no "naar 1 ontvangers" (the number stands where any number fits)."""
    wrong = []
    for key in sorted(TEXTS.keys(lang)):
        if not key.startswith(("announce.", "compose.")):
            continue
        template = TEXTS.raw(lang, key)
        params = {name: 1 for name in placeholders(template)}
        if COUNTED.search(template.format(**params)):
            wrong.append(key)
    assert wrong == []


# -- the small ones ---------------------------------------------------------------------------


async def test_a_marked_link_without_https_is_warned_about() -> None:
    text = "Kijk op [klik hier](www.alliantiepg.nl) en [hier](https://a.nl)"
    go = await broadcast.on_text(FakeContext(), GANGMAKERS, typed(text))  # type: ignore[arg-type]
    assert go.to == "extra" and go.data is not None and go.data.text == text
    warning = t(
        "compose.text_link_not_web",
        link="[klik hier](www.alliantiepg.nl)",
        url="www.alliantiepg.nl",
    )
    assert said(go) == [warning]
    go = await broadcast.on_text(FakeContext(), GANGMAKERS, typed("[hier](https://a.nl)"))  # type: ignore[arg-type]
    assert said(go) == []


async def test_back_at_the_text_step_shows_the_text_and_keeps_it() -> None:
    ctx = FakeContext()
    replies = await broadcast.FLOW.start(ctx, "text", replace(READY, review=False))  # type: ignore[arg-type]
    assert t("compose.text_current", text="Hallo allemaal") in replies[-1].text
    replies = await broadcast.FLOW.pressed(press(button(replies, "compose.text_keep")), ctx)  # type: ignore[arg-type]
    assert ctx.state is not None and ctx.state.step == "extra"
    assert ctx.state.data["text"] == "Hallo allemaal"
    replies = await broadcast.FLOW.start(ctx, "text", ComposeData(roles=("gangmaker",)))  # type: ignore[arg-type]
    assert t("compose.text_keep") not in [c.label for c in replies[-1].choices]


async def test_nobody_to_send_to_offers_no_versturen() -> None:
    ctx = FakeContext()
    ctx.db.announcements.per_platform = {}
    go = await broadcast_preview.to_preview(ctx, READY)  # type: ignore[arg-type]
    assert go.data is not None and go.data.recipients == 0
    replies = await broadcast.FLOW.move(ctx, "preview", go.data, go_stamp(), ())  # type: ignore[arg-type]
    labels = [c.label for c in replies[-1].choices]
    assert t("compose.send_now") not in labels and t("compose.edit") in labels


async def test_in_a_minute_is_right_away_and_said_so() -> None:
    go = await broadcast_preview.on_preview(FakeContext(), READY, typed("over 1 minuut"))  # type: ignore[arg-type]
    assert go.data is not None and go.data.send_at is None
    assert said(go) == [t("compose.when_soon")]
    go = await broadcast_preview.on_preview(FakeContext(), READY, typed("nu"))  # type: ignore[arg-type]
    assert said(go) == []


async def test_niets_doen_after_a_change_does_nothing_and_says_so() -> None:
    ctx = FakeContext()
    ctx.db.announcements.views = {3: view(3, "scheduled")}
    replies = await broadcast_manage.pressed(press("berichten:w:3"), ctx)  # type: ignore[arg-type]
    replies = await broadcast_manage.FLOW.pressed(
        press(button(replies, "compose.change_time")), ctx
    )  # type: ignore[arg-type]
    leave = button(replies, "compose.leave")
    (changed,) = await broadcast_manage.FLOW.typed(message("morgen 9:00"), ctx)  # type: ignore[arg-type]
    assert "nu weg" not in changed.text  # "gaat weg op", not "gaat nu weg op"
    assert ctx.state is None
    (after,) = await broadcast_manage.FLOW.pressed(press(leave), ctx)  # type: ignore[arg-type]
    assert after.text == t("compose.unchanged")


def test_the_extra_step_in_the_console_says_how_to_attach() -> None:
    assert "/bijlage" in t("compose.extra_console")
    assert "{limit}" in TEXTS.raw("nl", "compose.file_too_large")
