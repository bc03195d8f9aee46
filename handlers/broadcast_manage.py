"""/berichten: the recent announcements with their counts; a scheduled one can be
changed (its text or its time) and one not yet sent cancelled.

The list's buttons name the announcement (``berichten:w:<id>``): whoever presses
one is checked again (a verbinder?) and the announcement looked up (is it still
open?). What follows is a small declared flow over :class:`ChangeData`, with
stamped buttons, so an old or second press changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self

from bot.broadcast.audience import Audience, AudienceError
from bot.broadcast.render import TEXT_LIMIT
from bot.broadcast.when import parse_when
from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Open, Step
from bot.core.markup import parse
from bot.core.messages import Incoming, PressOutcome, Reply
from bot.storage.repositories.announcements import AnnouncementView
from handlers.broadcast import text_problem
from handlers.broadcast_audience import in_words
from handlers.broadcast_preview import moment, quiet_wait, when_problem
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word

ACTION = "berichten"  # the list's buttons: berichten:w:<id>
NAME = "berichtwijzig"  # the change flow
CHANGEABLE, CANCELLABLE = ("scheduled",), ("scheduled", "queuing", "sending")
PREVIEW_CHARACTERS = 80  # of an announcement's text in the list

NEW_TEXT = Action("new_text", "ct", label="compose.change_text")
NEW_TIME = Action("new_time", "cw", label="compose.change_time")
CANCEL = Action("cancel", "cc", label="compose.cancel_announcement")
CANCEL_YES = Action("cancel_yes", "cy", label="compose.cancel_yes", words=("yes",))
CANCEL_NO = Action("cancel_no", "cn", label="compose.cancel_no", words=("no",))
LEAVE = Action("leave", "x", label="compose.leave", words=("cancel",))


@dataclass(frozen=True, slots=True)
class ChangeData:
    """The announcement being changed."""

    announcement: int = 0
    changeable: bool = True  # still scheduled: its text and time can change

    def to_data(self) -> dict[str, Any]:
        return {"announcement": self.announcement, "changeable": self.changeable}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        number, changeable = data["announcement"], data.get("changeable", True)
        if not isinstance(number, int) or isinstance(number, bool):
            raise TypeError("announcement: a number expected")
        if not isinstance(changeable, bool):
            raise TypeError("changeable: true or false expected")
        return cls(number, changeable)


def _excerpt(text: str) -> str:
    """The start of an announcement's text as recipients read it (no markers)."""
    plain = " ".join(parse(text).plain.split())
    if len(plain) > PREVIEW_CHARACTERS:
        plain = plain[: PREVIEW_CHARACTERS - 1] + "…"
    return plain


async def _line(ctx: Context, view: AnnouncementView) -> str:
    """One announcement: who it is for in words, the start of its text, and its
    numbers; a scheduled one (not yet released, so nobody counted yet) shows how many
    would get it now, as the preview did."""
    status = f"compose.status.{view.status}"
    head = ctx.t(
        "compose.list_item",
        id=view.id,
        status=ctx.t(status) if ctx.texts.has(status) else view.status,
        when=moment(ctx, view.send_at),
        audience=_audience_words(ctx, view.audience),
        text=_excerpt(view.text),
    )
    if view.status == "scheduled":
        audience = Audience.stored(view.audience)
        expected = await ctx.db.announcements.preview(audience, view.topic)
        return "\n".join((head, ctx.t("compose.list_expected", total=expected.total)))
    counts = view.counts
    numbers = ctx.t(
        "compose.list_counts",
        recipients=view.recipients,
        delivered=counts.delivered,
        failed=counts.failed,
        blocked=counts.blocked,
        held=counts.held,
        pending=counts.pending,
    )
    return "\n".join((head, numbers))


def _audience_words(ctx: Context, stored: str) -> str:
    try:
        return in_words(ctx, Audience.stored(stored))
    except AudienceError:  # written by an older version: shown as stored
        return stored


async def recent(msg: Incoming, ctx: Context) -> list[Reply]:
    """/berichten: the last ten, newest first; a button for each one still open."""
    views = await ctx.db.announcements.recent(10)
    if not views:
        return [Reply(text=ctx.t("compose.list_empty"))]
    lines = [ctx.t("compose.list_title"), *[await _line(ctx, view) for view in views]]
    choices = tuple(
        ctx.choice("compose.manage_button", f"{ACTION}:w:{view.id}", id=view.id)
        for view in views
        if view.status in CANCELLABLE
    )
    return [Reply(text="\n\n".join(lines), choices=choices)]


async def pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """``berichten:w:<id>``: what to do with one announcement (verbinders only)."""
    if not ctx.is_admin:
        return await refuse(ctx, f"button={ACTION}")
    parts = (msg.action or "").split(":")
    raw = parts[2] if len(parts) == 3 and parts[1] == "w" else ""
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else 0
    view = await ctx.db.announcements.get(number) if number else None
    if view is None:
        return [Reply(text=ctx.t("compose.unknown_announcement"), press_outcome=PressOutcome.STALE)]
    if view.status not in CANCELLABLE:
        return [Reply(text=ctx.t("compose.too_late", id=view.id), press_outcome=PressOutcome.STALE)]
    return await FLOW.start(ctx, "choose", ChangeData(view.id, view.status in CHANGEABLE))


# -- the change flow ------------------------------------------------------------------


def _ask_choose(ctx: Context, data: ChangeData, b: Buttons) -> Reply:
    changes = (b(NEW_TEXT), b(NEW_TIME)) if data.changeable else ()
    text = ctx.t(
        "compose.change" if data.changeable else "compose.change_sending", id=data.announcement
    )
    return Reply(text=text, choices=(*changes, b(CANCEL), b(LEAVE)))


def _ask_text(ctx: Context, data: ChangeData, b: Buttons) -> Reply:
    text = ctx.t("compose.change_text_ask", id=data.announcement, limit=TEXT_LIMIT)
    return Reply(text=text, choices=(b(LEAVE),))


def _ask_time(ctx: Context, data: ChangeData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("compose.change_time_ask", id=data.announcement), choices=(b(LEAVE),))


def _ask_cancel(ctx: Context, data: ChangeData, b: Buttons) -> Reply:
    text = ctx.t("compose.cancel_ask", id=data.announcement)
    return Reply(text=text, choices=(b(CANCEL_YES), b(CANCEL_NO)))


def _end(ctx: Context, key: str, **params: object) -> Go[ChangeData]:
    return Go(None, say=(Reply(text=ctx.t(key, **params)),))


def left(ctx: Context, data: ChangeData) -> Go[ChangeData]:
    return _end(ctx, "compose.unchanged")


async def on_choose(ctx: Context, data: ChangeData, answer: Answer) -> Go[ChangeData]:
    step = {NEW_TEXT.name: "text", NEW_TIME.name: "time", CANCEL.name: "cancel"}
    if not data.changeable:
        step = {CANCEL.name: "cancel"}
    if answer.action in step:
        return Go(step[str(answer.action)])
    return Go("choose", say=(Reply(text=ctx.t("compose.unclear")),))


async def on_text(ctx: Context, data: ChangeData, answer: Answer) -> Go[ChangeData]:
    text = (answer.text or "").strip()
    problem = text_problem(ctx, text)
    if problem is not None:
        return Go("text", say=(problem,))
    return await _change(ctx, data, text=text)


async def on_time(ctx: Context, data: ChangeData, answer: Answer) -> Go[ChangeData]:
    now = ctx.clock.now()
    when = parse_when(answer.text or "", now, ctx.settings.zone)
    if when.at is None:
        return Go("time", say=(Reply(text=when_problem(ctx, when, "compose.when_unreadable")),))
    return await _change(ctx, data, send_at=max(when.at, now))


async def _change(
    ctx: Context, data: ChangeData, *, text: str | None = None, send_at: datetime | None = None
) -> Go[ChangeData]:
    number = data.announcement
    if not await ctx.db.announcements.change(number, text=text, send_at=send_at):
        return _end(ctx, "compose.too_late", id=number)
    detail = "text" if text is not None else "time"
    await ctx.db.audit.record(
        ctx.clock.now(), "announcement.changed", ctx.person.id, f"id={number} {detail}"
    )
    if send_at is not None:
        view = await ctx.db.announcements.get(number)
        wait = quiet_wait(ctx, send_at, view is not None and view.urgent)
        key = "compose.changed_time_quiet" if wait else "compose.changed_time"
        return _end(ctx, key, id=number, when=moment(ctx, send_at), **(wait or {}))
    return _end(ctx, "compose.changed_text", id=number)


async def on_cancel(ctx: Context, data: ChangeData, answer: Answer) -> Go[ChangeData]:
    if answer.action == CANCEL_NO.name:
        return left(ctx, data)
    if answer.action != CANCEL_YES.name:
        return Go("cancel", say=(Reply(text=ctx.t("compose.unclear")),))
    now, number = ctx.clock.now(), data.announcement
    if not await ctx.db.announcements.cancel(number, now):
        return _end(ctx, "compose.too_late", id=number)
    return _end(ctx, "compose.announcement_cancelled", id=number)


class ChangeFlow(Flow[ChangeData]):
    """The change flow. "Niets doen" pressed once the conversation is over (after a
    change, its button may still be on screen) does what it says: nothing, and says
    so, rather than that the button expired."""

    async def pressed(self, msg: Incoming, ctx: Context) -> list[Reply]:
        parts = (msg.action or "").split(":")
        leave = len(parts) == 4 and parts[3] == LEAVE.code
        if leave and ctx.is_admin and _open(self, ctx) is None:
            return [Reply(text=ctx.t("compose.unchanged"))]
        return await super().pressed(msg, ctx)


def _open(flow: Flow[ChangeData], ctx: Context) -> Open[ChangeData] | None:
    try:
        return flow.current(ctx)
    except ValueError:
        return None


FLOW: Flow[ChangeData] = ChangeFlow(
    name=NAME,
    prefix="bw",
    data=ChangeData,
    steps=[
        Step(
            "choose",
            verbinders_only(NAME, on_choose),
            _ask_choose,
            (LEAVE, NEW_TEXT, NEW_TIME, CANCEL),
        ),
        Step("text", verbinders_only(NAME, on_text), _ask_text, (LEAVE,)),
        Step("time", verbinders_only(NAME, on_time), _ask_time, (LEAVE,)),
        Step("cancel", verbinders_only(NAME, on_cancel), _ask_cancel, (CANCEL_YES, CANCEL_NO)),
    ],
    stale="compose.stale",
    on_stale=stale_or_refused(NAME, "compose.stale"),
    ttl=timedelta(days=1),
    means=typed_word,
    stop=LEAVE,
    stopped=left,
)
ACTIONS = FLOW.legend()
