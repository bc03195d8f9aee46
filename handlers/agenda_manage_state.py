"""/agenda beheer's state and checks: :class:`Draft` (the event being made or changed,
as the conversation keeps it), the new event's uid, moments in words, and the checks
every event passes (``bot.agenda.files.event_issues`` and ``stored_issues``, the same as
an imported file's) said in the person's language."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Self

from bot.agenda.files import Issue, Vocabulary, event_issues, stored_issues
from bot.agenda.model import PUBLIC, Event, EventData
from bot.core.context import Context
from bot.core.dates import month_name, weekday_name
from bot.core.flow import Go
from bot.core.messages import Reply
from bot.core.texts import Texts

NAME = "agendabeheer"  # the stored conversation
UID_DOMAIN = "alliantiepg.nl"


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(name)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Draft:
    """An event being made or changed. Times are ISO text: naive wall times in
    ``zone``, the RSVP deadline an aware instant (kept as it was, not asked)."""

    uid: str = ""  # "": a new event (its uid is made when it is saved)
    kind: str = ""
    title: str = ""
    start: str = ""
    end: str = ""
    zone: str = ""
    address: str = ""
    online_url: str = ""
    hosts: tuple[str, ...] = ()
    audience: str = PUBLIC
    capacity: int = 0  # 0: no limit
    description: str = ""  # kept as it was (a file may have one)
    rsvp_deadline: str = ""
    review: bool = False  # the preview was shown: each field step leads back to it
    purpose: str = ""  # "edit" or "cancel" while an event is picked
    options: tuple[str, ...] = ()  # the uids the pick list shows, in order
    labels: tuple[str, ...] = ()  # and their lines

    def to_data(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("hosts", "options", "labels"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, f.default)
            if f.name in ("hosts", "options", "labels"):
                value = _strings(value, f.name)
            elif not isinstance(value, type(f.default)):
                raise TypeError(f.name)
            values[f.name] = value
        return cls(**values)

    @classmethod
    def of(cls, event: Event, purpose: str = "edit") -> Draft:
        """A stored event, to change (or to cancel)."""
        deadline = event.rsvp_deadline
        return cls(
            uid=event.uid,
            kind=event.kind,
            title=event.title,
            start=event.start.isoformat(),
            end=event.end.isoformat(),
            zone=event.zone,
            address=event.address or "",
            online_url=event.online_url or "",
            hosts=event.hosts,
            audience=event.audience,
            capacity=event.capacity or 0,
            description=event.description,
            rsvp_deadline=deadline.isoformat() if deadline is not None else "",
            purpose=purpose,
        )

    def data(self, uid: str = "") -> EventData:
        start = datetime.fromisoformat(self.start)
        return EventData(
            uid=uid or self.uid,
            kind=self.kind,
            title=self.title,
            start=start,
            end=datetime.fromisoformat(self.end) if self.end else start,
            zone=self.zone,
            description=self.description,
            address=self.address or None,
            online_url=self.online_url or None,
            hosts=self.hosts,
            audience=self.audience,
            capacity=self.capacity or None,
            rsvp_deadline=datetime.fromisoformat(self.rsvp_deadline)
            if self.rsvp_deadline
            else None,
        )


def say(step: str, ctx: Context, key: str, **params: object) -> Go[Draft]:
    """Say ``key`` and ask ``step`` again (the flow stays where it is)."""
    return Go(step, say=(Reply(text=ctx.t(key, **params)),))


def new_uid(data: EventData) -> str:
    """A new event's uid: ``<kind>-<yyyymmdd>-<8 hex>@alliantiepg.nl``, stable for its
    whole life (a change of date keeps it)."""
    return f"{data.kind}-{data.start:%Y%m%d}-{secrets.token_hex(4)}@{UID_DOMAIN}"


def moment_words(ctx: Context, moment: datetime) -> str:
    """A moment as the cards write it: "donderdag 12 maart 2026, 19.30"."""
    weekday = weekday_name(ctx.texts, ctx.lang, moment.weekday())
    month = month_name(ctx.texts, ctx.lang, moment.date())
    return ctx.t(
        "agenda_manage.moment",
        weekday=weekday,
        day=moment.day,
        month=month,
        year=moment.year,
        time=clock(ctx, moment),
    )


def date_examples(texts: Texts, lang: str, today: date) -> dict[str, str]:
    """The dates the prompts show as examples, made from today so that they always
    read and are ahead: a Thursday one to two weeks on, in words with its weekday
    (``ex_date``: "donderdag 14 januari 19.30") and as numbers with an end
    (``ex_range``: "14-1 19:30 tot 21:30")."""
    day = today + timedelta(days=7 + (3 - today.weekday()) % 7)
    params = {
        "weekday": weekday_name(texts, lang, day.weekday()),
        "day": day.day,
        "month": month_name(texts, lang, day),
        "month_number": day.month,
    }
    return {
        f"ex_{name}": texts.get(lang, f"agenda_manage.example.{name}", **params)
        for name in ("date", "range")
    }


def examples(ctx: Context) -> dict[str, str]:
    """:func:`date_examples` for today in the bot's zone."""
    today = ctx.clock.now().astimezone(ctx.settings.zone).date()
    return date_examples(ctx.texts, ctx.lang, today)


def clock(ctx: Context, moment: datetime) -> str:
    """ "19.30" in Dutch, "19:30" in English (as the cards write it)."""
    sep = ":" if ctx.lang == "en" else "."
    return f"{moment.hour:02d}{sep}{moment.minute:02d}"


def vocabulary(ctx: Context) -> Vocabulary:
    return Vocabulary.current(ctx.settings.content_dir)


async def issue_text(ctx: Context, issue: Issue, data: EventData) -> str:
    """One problem of the shared checks, in the person's language."""
    key = f"agenda_manage.problem.{issue.code}"
    params: dict[str, object] = {"value": issue.value, "limit": issue.limit}
    if issue.code == "too_long":
        params["value"] = ctx.t(f"agenda_manage.long_field.{issue.value}")
    if issue.code == "duplicate":
        other = await ctx.db.agenda.get(issue.value)
        params["title"] = other.title if other is not None else issue.value
        params["kind"] = ctx.t(f"agenda_manage.kinds.{data.kind}")
    if issue.code in ("end_before_start", "end_at_start", "past", "duplicate"):
        params["start"] = moment_words(ctx, data.start)
        params["end"] = moment_words(ctx, data.end)
    text = ctx.t(key, **params)
    if issue.suggestion:
        text = "\n".join((text, ctx.t("agenda_manage.did_you_mean", suggestion=issue.suggestion)))
    return text


async def problems(
    ctx: Context, data: EventData, *, codes: tuple[str, ...] | None = None, past: bool = True
) -> list[Reply]:
    """What the shared checks find (only ``codes`` of the event's own; ``past``:
    whether a start in the past counts), each a reply; [] when it is fine."""
    found = [i for i in event_issues(data, vocabulary(ctx)) if codes is None or i.code in codes]
    found += [
        i
        for i in await stored_issues(ctx.db.agenda, data, ctx.clock.now())
        if past or i.code != "past"
    ]
    return [Reply(text=await issue_text(ctx, issue, data)) for issue in found]
