"""/bericht's last steps: the preview, when it goes out, what to change, and sending.

The preview is the announcement exactly as recipients see it (the engine's
``announcement_reply``; its unsubscribe tap is ``afmelden:0`` here, which only
explains), with who gets it per platform and who is left out and why. "Versturen"
creates it with ``ctx.db.announcements.create``: the engine sends it, now or at the
time given in Dutch (``parse_when``), and reports in this chat. The steps are
declared with the rest of the flow in :mod:`handlers.broadcast`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from bot.broadcast.quiet import QuietHours
from bot.broadcast.render import announcement_reply
from bot.broadcast.when import PAST, WEEKDAY, When, parse_when
from bot.core.context import Context
from bot.core.dates import month_name, weekday_name
from bot.core.flow import Action, Answer, Buttons, Go, Step
from bot.core.messages import PressOutcome, Reply
from bot.storage.repositories.announcements import Attachment
from handlers.broadcast_audience import BACK, NAME, STOP, ComposeData, in_words, unclear
from handlers.verbinders import verbinders_only

SEND = Action("send", "s", label="compose.send_now")
LATER = Action("later", "w", label="compose.later")
URGENT = Action("urgent", "u", label="compose.urgent_on")
EDIT = Action("edit", "e", label="compose.edit")
NOW = Action("now", "wn", label="compose.now")
EDITS = {
    "audience": Action("edit_audience", "ea", label="compose.edit_audience"),
    "topic": Action("edit_topic", "et", label="compose.edit_topic"),
    "text": Action("edit_text", "ex", label="compose.edit_text"),
    "extra": Action("edit_extra", "ee", label="compose.edit_extra"),
}
TO_PREVIEW = Action("to_preview", "ep", label="compose.to_preview")
SENT = "sent"  # the last step: created; it only answers a second Versturen
SEND_NUMBER = "1"  # Versturen's number in the console: the preview's first choice


def moment(ctx: Context, at: datetime) -> str:
    """A moment as a verbinder reads it, in ``TIMEZONE``: "13-03-2026 om 10:00"."""
    local = at.astimezone(ctx.settings.zone)
    return ctx.t("compose.moment", date=local.strftime("%d-%m-%Y"), time=local.strftime("%H:%M"))


def _date_words(ctx: Context, day: date) -> str:
    """A date in words: "13 maart 2027"."""
    month = month_name(ctx.texts, ctx.lang, day)
    return ctx.t("compose.date_words", day=day.day, month=month, year=day.year)


def when_problem(ctx: Context, when: When, unreadable: str) -> str:
    """Why a typed moment is not taken: past, a weekday that does not fit the date
    (naming the real one), or ``unreadable``."""
    if when.problem == PAST:
        return ctx.t("compose.when_past")
    if when.problem == WEEKDAY and when.day is not None and when.weekday is not None:
        return ctx.t(
            "compose.when_weekday",
            date=_date_words(ctx, when.day),
            weekday=weekday_name(ctx.texts, ctx.lang, when.day.weekday()),
            typed=weekday_name(ctx.texts, ctx.lang, when.weekday),
        )
    return ctx.t(unreadable)


def _local(ctx: Context, data: ComposeData) -> str:
    return "" if data.send_at is None else moment(ctx, data.send_at)


def quiet_hours(ctx: Context) -> QuietHours | None:
    """The engine's quiet hours (``QUIET_HOURS`` in ``TIMEZONE``); None: none."""
    return QuietHours.parse(ctx.settings.quiet_hours, ctx.settings.zone)


def _release(ctx: Context, at: datetime) -> str:
    """When it goes out, as read from today: "om 08:00", "morgen om 08:00", or
    "op 13-03-2026 om 08:00"."""
    zone = ctx.settings.zone
    local, today = at.astimezone(zone), ctx.clock.now().astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return ctx.t("compose.release.today", time=clock)
    if local.date() == today + timedelta(days=1):
        return ctx.t("compose.release.tomorrow", time=clock)
    return ctx.t("compose.release.later", when=moment(ctx, at))


def quiet_wait(ctx: Context, at: datetime, urgent: bool) -> dict[str, str] | None:
    """A non-urgent announcement due at ``at`` in the quiet hours waits: the hours
    and when it really goes out (``hours``, ``release``); None when it does not wait."""
    quiet = quiet_hours(ctx)
    if urgent or quiet is None or not quiet.contains(at):
        return None
    return {"hours": quiet.text(), "release": _release(ctx, quiet.ends_after(at))}


def _urgent_line(ctx: Context, urgent: bool) -> str:
    quiet = quiet_hours(ctx)
    if urgent:
        return ctx.t("compose.urgent_yes")
    if quiet is None:
        return ctx.t("compose.urgent_no_hours")
    return ctx.t("compose.urgent_no", hours=quiet.text())


def _ask_preview(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    when = _local(ctx, data)
    wait = quiet_wait(ctx, data.send_at or ctx.clock.now(), data.urgent)
    key = ("compose.confirm_at" if when else "compose.confirm_now") + ("_quiet" if wait else "")
    lines = [ctx.t(key, when=when, **(wait or {})), _urgent_line(ctx, data.urgent)]
    # Nobody to send to: no Versturen (the count said so, and to choose Wijzigen).
    send = (b(SEND, key="compose.send_at" if when else None),) if data.recipients else ()
    urgent = b(URGENT, key="compose.urgent_off" if data.urgent else None)
    return Reply(text="\n".join(lines), choices=(*send, b(LATER), urgent, b(EDIT), b(STOP)))


def _ask_when(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("compose.when"), choices=(b(NOW), b(BACK), b(STOP)))


def _ask_edit(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    edits = tuple(b(action) for action in EDITS.values())
    return Reply(text=ctx.t("compose.edit_what"), choices=(*edits, b(TO_PREVIEW), b(STOP)))


# -- the preview ---------------------------------------------------------------------


def attachment_of(data: ComposeData) -> Attachment | None:
    raw = data.attachment
    if raw is None:
        return None
    return Attachment(
        kind=raw["kind"], path=raw.get("path"), name=raw.get("name"), url=raw.get("url")
    )


def describe(ctx: Context, raw: dict[str, str]) -> str:
    shown = raw.get("name") or raw.get("url") or ""
    return ctx.t(f"compose.attachment.{raw['kind']}", name=shown)


def _counts(ctx: Context, per_platform: dict[str, int], left_out: dict[str, int]) -> str:
    total = sum(per_platform.values())
    if total == 0:
        lines = [ctx.t("compose.count_none")]
    else:
        platforms = ", ".join(
            f"{_platform(ctx, name)} {count}"
            for name, count in sorted(per_platform.items())
            if count
        )
        lines = [ctx.t("compose.count", total=total, platforms=platforms)]
    reasons = [
        ctx.t(f"compose.left_out.{reason}", count=count)
        for reason, count in left_out.items()
        if count and ctx.texts.has(f"compose.left_out.{reason}")
    ]
    if reasons:
        lines.append(ctx.t("compose.left_out_line", reasons=", ".join(reasons)))
    return "\n".join(lines)


def _platform(ctx: Context, name: str) -> str:
    key = f"compose.platforms.{name}"
    return ctx.t(key) if ctx.texts.has(key) else name


async def to_preview(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    """The announcement as recipients will see it, who gets it and who not; then
    what to do with it."""
    shown = announcement_reply(ctx.texts, ctx.lang, 0, data.text, attachment_of(data), data.topic)
    preview = await ctx.db.announcements.preview(data.audience(), data.topic)
    data = replace(data, review=True, options=(), recipients=preview.total)
    who = ctx.t("compose.preview_for", audience=in_words(ctx, data.audience()))
    counts = Reply(text="\n".join((who, _counts(ctx, preview.per_platform, preview.left_out))))
    return Go("preview", data, (Reply(text=ctx.t("compose.preview")), shown, counts))


async def on_preview(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == SEND.name:
        return await _send(ctx, data)
    if answer.action == URGENT.name:
        return Go("preview", replace(data, urgent=not data.urgent))
    step = {LATER.name: "when", EDIT.name: "edit"}.get(answer.action or "")
    if step is not None:
        return Go(step)
    if answer.action is None and answer.text:  # a time typed straight away?
        return _at(ctx, data, answer.text, "preview", "compose.preview_unclear")
    return unclear("preview", ctx, "compose.preview_unclear")


async def on_when(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == NOW.name:
        return Go("preview", replace(data, send_at=None))
    return _at(ctx, data, answer.text or "", "when", "compose.when_unreadable")


def _at(ctx: Context, data: ComposeData, text: str, step: str, unreadable: str) -> Go[ComposeData]:
    """The moment ``text`` names, in ``TIMEZONE``, and back to the preview; a moment
    past or not understood is said so (``unreadable``) and ``step`` asked again."""
    now = ctx.clock.now()
    when = parse_when(text, now, ctx.settings.zone)
    if when.at is None:
        return Go(step, say=(Reply(text=when_problem(ctx, when, unreadable)),))
    if when.at > now + timedelta(minutes=1):
        return Go("preview", replace(data, send_at=when.at))
    # "nu": right away; "over 1 minuut" too, and said so
    soon = (Reply(text=ctx.t("compose.when_soon")),) if when.at > now else ()
    return Go("preview", replace(data, send_at=None), say=soon)


async def on_edit(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    step = next((s for s, action in EDITS.items() if action.name == answer.action), None)
    if step is not None:
        return Go(step)
    if answer.action == TO_PREVIEW.name:
        return await to_preview(ctx, data)
    return unclear("edit", ctx)


async def _send(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    """Create the announcement; the engine sends it (now or at ``send_at``) and
    reports in this chat. The flow ends here, so a second press is stale."""
    now = ctx.clock.now()
    if data.send_at is not None and data.send_at <= now:
        return unclear("when", ctx, "compose.when_past")
    repo, chosen = ctx.db.announcements, data.audience()
    preview = await repo.preview(chosen, data.topic)
    if preview.total == 0:
        return unclear("preview", ctx, "compose.nobody")
    user = ctx.person
    number = await repo.create(
        created_by=user.id,
        audience=chosen,
        topic=data.topic,
        text=data.text,
        attachment=attachment_of(data),
        urgent=data.urgent,
        send_at=data.send_at or now,
        report_to=(user.platform, ctx.chat_id),
        now=now,
    )
    return Go(SENT, replace(data, sent=number, recipients=preview.total))


def _ask_sent(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    """Sent (or scheduled): what happens now. The conversation stays at this step, so
    a second Versturen, typed or an old button, is told it was sent already."""
    when = _local(ctx, data)
    wait = quiet_wait(ctx, data.send_at or ctx.clock.now(), data.urgent)
    key = ("compose.created_at" if when else "compose.created_now") + ("_quiet" if wait else "")
    return Reply(text=ctx.t(key, id=data.sent, total=data.recipients, when=when, **(wait or {})))


async def on_sent(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    """Only a typed Versturen comes here (see ``handlers.broadcast``): sent already."""
    return Go(None, say=(already_sent(ctx, data),))


def already_sent(ctx: Context, data: ComposeData) -> Reply:
    return Reply(text=ctx.t("compose.already_sent", id=data.sent), press_outcome=PressOutcome.STALE)


def says_send(ctx: Context, text: str) -> bool:
    """Whether typed text is the Versturen (or Inplannen) button again: its label, or
    in the console its number (the first of the preview's choices)."""
    said = " ".join(text.casefold().split()).strip(" .!")
    labels = {ctx.t(key).casefold() for key in ("compose.send_now", "compose.send_at")}
    return said in labels or said == SEND_NUMBER


def _back_to_preview(data: ComposeData) -> tuple[str, ComposeData]:
    return "preview", data


STEPS: tuple[Step[ComposeData], ...] = (
    Step(
        "preview",
        verbinders_only(NAME, on_preview),
        _ask_preview,
        (STOP, SEND, LATER, URGENT, EDIT),
    ),
    Step(
        "when",
        verbinders_only(NAME, on_when),
        _ask_when,
        (STOP, BACK, NOW),
        back=_back_to_preview,
    ),
    Step("edit", verbinders_only(NAME, on_edit), _ask_edit, (STOP, *EDITS.values(), TO_PREVIEW)),
    Step(SENT, verbinders_only(NAME, on_sent), _ask_sent, ()),
)
