"""A person's own data: /mijnweb (history), /mijngegevens (export), /vergeetmij (delete).

All three show or touch health data, so they answer in a private chat only.
Button data carries check-in ids; they are always looked up together with the
person's own id, so forged data cannot reach anyone else's check-in.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from functools import partial

from bot import charts
from bot.core.context import Context
from bot.core.messages import Choice, Document, Image, Incoming, PressOutcome, Reply
from bot.spinnenweb.model import fmt
from bot.spinnenweb.records import CheckinRecord
from handlers.menu import start_choice
from handlers.private import private_only
from handlers.webview import draw_web, local_date, summary_text

WEB_ACTION = "mw"
COMPARE_CHOICES = 12  # the most recent check-ins offered as buttons to compare
TREND_TEXT_POINTS = 8


def _menu_web(ctx: Context) -> tuple[Choice, ...]:
    return start_choice(ctx, "spinnenweb", "menu.spinnenweb")


# -- /mijnweb -----------------------------------------------------------------


async def my_web(msg: Incoming, ctx: Context) -> list[Reply]:
    if not msg.is_private:
        return [private_only(ctx, "mijnweb")]
    history = await ctx.db.checkins.history(ctx.person.id)
    if not history:
        return [Reply(text=ctx.t("mijnweb.none"), choices=_menu_web(ctx))]
    if msg.args.strip():
        return await _compare_typed(ctx, history, msg.args)
    latest = history[-1]
    previous = history[-2] if len(history) > 1 else None
    token = secrets.token_hex(3)
    picture = await draw_web(ctx, latest, previous, f"web-{token}")
    replies = [Reply(text=summary_text(ctx, latest, previous), image=picture)]
    if len(history) > 1:
        replies.append(await _trend(ctx, history, token))
    else:
        replies.append(Reply(text=ctx.t("mijnweb.only_one"), choices=_menu_web(ctx)))
    return replies


async def _trend(ctx: Context, history: list[CheckinRecord], token: str) -> Reply:
    web, lang = ctx.web, ctx.lang
    dates = [local_date(ctx, c) for c in history]
    series = {d.name[lang]: [c.scores[d.id] for c in history] for d in web.dimensions}
    draw = partial(
        charts.render_trend, dates=dates, series=series, title=ctx.t("mijnweb.trend_title")
    )
    path = await ctx.files.picture(ctx.person.id, f"trend-{token}", draw)
    lines = [ctx.t("mijnweb.trend_intro", count=len(history), first=dates[0], last=dates[-1])]
    for dimension in web.dimensions:
        points = [fmt(c.scores[dimension.id], lang) for c in history[-TREND_TEXT_POINTS:]]
        lines.append(
            ctx.t("mijnweb.trend_line", name=dimension.name[lang], scores=" → ".join(points))
        )
    return Reply(
        text="\n".join(lines),
        image=Image(path=path, alt=ctx.t("mijnweb.trend_alt")),
        choices=(ctx.choice("mijnweb.compare", f"{WEB_ACTION}:pick"),),
    )


def _date_labels(ctx: Context, history: list[CheckinRecord]) -> dict[int, str]:
    """A label per check-in: its date, with the time where a date repeats."""
    days = [local_date(ctx, c) for c in history]
    labels = {}
    for checkin, day in zip(history, days, strict=True):
        if days.count(day) > 1:
            day += checkin.taken_at.astimezone(ctx.settings.zone).strftime(" %H:%M")
        labels[checkin.id] = day
    return labels


async def compare_pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """``mw:pick`` → choose the first date; ``mw:a:<id>`` → the second; ``mw:b:<a>:<b>``."""
    if not msg.is_private:
        return [private_only(ctx, "mijnweb")]
    parts = (msg.action or "").split(":")[1:]
    history = await ctx.db.checkins.history(ctx.person.id)
    by_id = {c.id: c for c in history}
    labels = _date_labels(ctx, history)
    ids = [int(p) for p in parts[1:] if p.isascii() and p.isdigit()]
    if len(history) < 2 or any(i not in by_id for i in ids) or len(ids) != len(parts) - 1:
        return [
            Reply(
                text=ctx.t("mijnweb.stale"),
                choices=_menu_web(ctx),
                press_outcome=PressOutcome.STALE,
            )
        ]
    recent = history[-COMPARE_CHOICES:]
    if parts[0] == "pick" and not ids:
        choices = tuple(Choice(labels[c.id], f"{WEB_ACTION}:a:{c.id}") for c in recent)
        return [Reply(text=ctx.t("mijnweb.pick_first"), choices=choices)]
    if parts[0] == "a" and len(ids) == 1:
        choices = tuple(
            Choice(labels[c.id], f"{WEB_ACTION}:b:{ids[0]}:{c.id}")
            for c in recent
            if c.id != ids[0]
        )
        return [Reply(text=ctx.t("mijnweb.pick_second", date=labels[ids[0]]), choices=choices)]
    if parts[0] == "b" and len(ids) == 2 and ids[0] != ids[1]:
        return await _compare(ctx, by_id[ids[0]], by_id[ids[1]])
    return [
        Reply(text=ctx.t("mijnweb.stale"), choices=_menu_web(ctx), press_outcome=PressOutcome.STALE)
    ]


async def _compare(ctx: Context, one: CheckinRecord, other: CheckinRecord) -> list[Reply]:
    earlier, later = sorted((one, other), key=lambda c: (c.taken_at, c.id))
    picture = await draw_web(ctx, later, earlier, f"compare-{secrets.token_hex(3)}")
    return [Reply(text=summary_text(ctx, later, earlier), image=picture)]


def _parse_day(text: str) -> date | None:
    # Imported here: dateutil is needed only for a typed date (0.6 MiB at every start).
    from dateutil import parser as dateparser

    try:
        return dateparser.parse(text, dayfirst=not text[:4].isdigit()).date()
    except (ValueError, OverflowError):
        return None


async def _compare_typed(ctx: Context, history: list[CheckinRecord], args: str) -> list[Reply]:
    """``/mijnweb 5-1-2026 1-3-2026``: the last check-in of each of two days."""
    words = args.split()
    days = [_parse_day(w) for w in words]
    labels = _date_labels(ctx, history)
    known = ", ".join(dict.fromkeys(labels[c.id][:10] for c in history))
    if len(days) != 2 or None in days:
        return [Reply(text=ctx.t("mijnweb.dates_unclear", dates=known))]
    found = []
    for day in days:
        same_day = [c for c in history if c.taken_at.astimezone(ctx.settings.zone).date() == day]
        if not same_day:
            return [Reply(text=ctx.t("mijnweb.date_not_found", dates=known))]
        found.append(same_day[-1])
    if found[0].id == found[1].id:
        return [Reply(text=ctx.t("mijnweb.dates_unclear", dates=known))]
    return await _compare(ctx, found[0], found[1])


# -- /mijngegevens ----------------------------------------------------------------


async def my_data(msg: Incoming, ctx: Context) -> list[Reply]:
    if not msg.is_private:
        return [private_only(ctx, "mijngegevens")]
    user = ctx.person
    now = ctx.clock.now()
    data = await ctx.db.personal.export(user)
    data["people"] = await ctx.db.people.export(user)  # gemeente, organisation, topics, invites
    data["agenda_prompts"] = await ctx.db.prompts.export(user.id)  # inbreng, meenemen, votes
    jobs = await ctx.reminders.scheduled(user.id)
    data["scheduled_messages"] = [
        {"id": name, "next_run": at.isoformat() if at else None} for name, at in jobs
    ]
    export = {"exported_at": now.isoformat(), "about": ctx.t("mydata.json_about"), **data}
    exported = json.dumps(export, ensure_ascii=False, indent=2)
    path = await ctx.files.export(user.id, f"{now:%Y%m%d-%H%M%S}.json", exported)
    checkins = data["checkins"]
    consent = (
        ctx.t(
            "mydata.consent_given",
            date=user.consent_at.astimezone(ctx.settings.zone).strftime("%d-%m-%Y"),
        )
        if user.consent_at is not None
        else ctx.t("mydata.consent_none")
    )
    text = ctx.t(
        "mydata.summary",
        since=user.created_at.astimezone(ctx.settings.zone).strftime("%d-%m-%Y"),
        checkins=len(checkins),
        first=_day(ctx, checkins[0]["taken_at"]) if checkins else "-",
        last=_day(ctx, checkins[-1]["taken_at"]) if checkins else "-",
        reminders=len(jobs),
        messages=len(data["messages_from_the_bot"]),
        consent=consent,
        hours=ctx.settings.generated_file_hours,
    )
    await ctx.db.audit.record(now, "data.exported", user.id)
    return [Reply(text=text, document=Document(path=path, filename=path.name))]


def _day(ctx: Context, iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ctx.settings.zone).strftime("%d-%m-%Y")


# -- /vergeetmij ----------------------------------------------------------------------
