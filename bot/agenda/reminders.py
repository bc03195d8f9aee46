"""What the agenda sends by itself: invitations, reminders, and word of a change or a
cancellation.

**The rules** (:class:`Rules`, ``content/agenda_reminders.yaml``) say per kind of
event when the invitation goes and when the reminders go: "7 days before, at 10:00" is
wall time in the event's zone (:func:`Rule.due`), so a reminder the day before an event
on the Monday after a DST switch still comes at 10:00 local time; "2 hours before" is
two hours before the start's instant.

**The engine** (:class:`ReminderEngine`) runs in the process that sends the outbox, a
round at most every second, in two steps:

1. *Follow the events.* An event whose ``sequence`` differs from the one the engine
   last acted on (``told_sequence``; None for a new event) gets its reminder rows
   (``agenda_reminders``) planned again from the rules: a row whose instant changed
   waits for the new one; a rule that is gone, or a cancelled event, drops its rows.
   When the time or the place changed, one row ``changed-<sequence>`` says what
   changed to those who answered yes or maybe; a cancellation sends one row
   ``cancelled`` to them. ``told`` keeps what people were last told, so the change
   is said once and says what it was before. Seats an edit freed (a raised capacity)
   go to the waitlist, who are told.
2. *Send what is due.* A due row is claimed with a lease (so two senders never send it
   both), its recipients are read in batches and each gets one outbox row with the
   key ``agenda:<row>:<instant>:<person>``: a round that runs twice sends once. A
   reminder or invitation more than the grace period late (``MISFIRE_GRACE_SECONDS``:
   the bot was down through its time) is skipped and logged, and so is one whose
   event has begun; a change or cancellation goes as long as the event is not over.

Everything is in the database, so a restart loses nothing and sends nothing twice.
Who gets what: see :func:`recipients`. Texts: ``agenda_remind.*`` in the person's
language. Personal data is never logged: only row ids, event ids and counts.
"""

from __future__ import annotations

import json
import logging
import time as monotonic_time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.agenda.model import KINDS, Event, EventData, instant, wall_time
from bot.agenda.prompts import KIND as PROMPT
from bot.agenda.prompts import Prompt, Prompts, Writer, receivers
from bot.agenda.words import ACTION, when
from bot.broadcast.audience import Audience
from bot.broadcast.quiet import QuietHours
from bot.core.clock import Clock
from bot.core.messages import Choice, Reply
from bot.core.texts import Texts
from bot.outbox.queue import Outbox, Outgoing
from bot.paths import content_dir
from bot.people.vocab import AGENDA
from bot.storage.models import AgendaEvent, AgendaReminder, AgendaRsvp, User
from bot.storage.repositories.agenda import to_event
from bot.storage.repositories.announcements import matches, receives
from bot.storage.repositories.rsvp import MAYBE, YES, RsvpRepo
from bot.yamltext import load_yaml

if TYPE_CHECKING:
    from bot.core.context import Services

log = logging.getLogger(__name__)

INVITE, REMIND, CHANGED, CANCELLED = "invite", "remind", "changed", "cancelled"
PENDING, SENT, SKIPPED, DROPPED = "pending", "sent", "skipped", "dropped"
DEFAULT = "default"
RULES_FILE = "agenda_reminders.yaml"
OUTBOX_KIND = "agenda"


class RulesError(ValueError):
    """``agenda_reminders.yaml`` is not as described at its top."""


@dataclass(frozen=True)
class Rule:
    """One message before an event: ``days`` before its date at the wall time ``at``,
    or ``days`` and ``hours`` before its start's instant when there is no ``at``."""

    kind: str  # INVITE or REMIND
    days: int = 0
    hours: int = 0
    at: time | None = None

    @property
    def name(self) -> str:
        """The row's name: ``invite``, ``7d``, ``1d``, ``2h`` (unique per event)."""
        if self.kind == INVITE:
            return INVITE
        return f"{self.days}d" if self.at is not None else f"{self.days * 24 + self.hours}h"

    def due(self, event: EventData) -> datetime:
        """The instant (UTC) this message is due for ``event``."""
        if self.at is not None:
            day = event.start.date() - timedelta(days=self.days)
            return instant(datetime.combine(day, self.at), event.zone)
        return event.starts_at - timedelta(days=self.days, hours=self.hours)


@dataclass(frozen=True)
class Rules:
    """Per kind of event: the invitation (if any) and the reminders."""

    by_kind: dict[str, tuple[Rule, ...]]

    def of(self, kind: str) -> tuple[Rule, ...]:
        return self.by_kind.get(kind) or self.by_kind.get(DEFAULT, ())

    @classmethod
    def load(cls, content: Path) -> Rules:
        path = content / RULES_FILE
        if not path.exists():
            return cls({})
        return cls.parse(load_yaml(path.read_text(encoding="utf-8")), str(path))

    @classmethod
    def parse(cls, raw: object, where: str = RULES_FILE) -> Rules:
        if not isinstance(raw, dict):
            raise RulesError(f"{where}: expected a mapping of kinds")
        found: dict[str, tuple[Rule, ...]] = {}
        for kind, spec in raw.items():
            if kind != DEFAULT and kind not in KINDS:
                raise RulesError(f"{where}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
            found[kind] = _kind_rules(spec, f"{where}: {kind}")
        return cls(found)


def _kind_rules(spec: object, where: str) -> tuple[Rule, ...]:
    if not isinstance(spec, dict) or set(spec) - {INVITE, REMIND}:
        raise RulesError(f"{where}: expected 'invite' and 'remind'")
    rules: list[Rule] = []
    invite = spec.get(INVITE)
    if invite not in (None, "none"):
        rules.append(_rule(INVITE, invite, where))
    reminders = spec.get(REMIND) or []
    if not isinstance(reminders, list):
        raise RulesError(f"{where}: 'remind' must be a list")
    rules.extend(_rule(REMIND, item, where) for item in reminders)
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise RulesError(f"{where}: the same moment twice ({', '.join(names)})")
    return tuple(rules)


def _rule(kind: str, spec: object, where: str) -> Rule:
    if not isinstance(spec, dict) or not spec or set(spec) - {"days", "hours", "at"}:
        raise RulesError(f"{where}: expected {{days: N, at: 'HH:MM'}} or {{hours: N}}: {spec!r}")
    days, hours, at = spec.get("days", 0), spec.get("hours", 0), spec.get("at")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (days, hours)):
        raise RulesError(f"{where}: days and hours are whole numbers: {spec!r}")
    if at is not None:
        if hours or not isinstance(at, str):
            raise RulesError(f"{where}: 'at' is a time in quotes, with days only: {spec!r}")
        try:
            moment = time.fromisoformat(at)
        except ValueError:
            raise RulesError(f"{where}: 'at' is not a time (HH:MM): {at!r}") from None
        return Rule(kind, days=days, at=moment)
    if not days and not hours:
        raise RulesError(f"{where}: a moment before the event needs days or hours: {spec!r}")
    return Rule(kind, days=days, hours=hours)


# -- what people were told ------------------------------------------------------------


def snapshot(event: EventData) -> dict[str, str | None]:
    """The title, times and place, as people were told them (stored as ``told``)."""
    return {
        "title": event.title,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "zone": event.zone,
        "address": event.address,
        "online_url": event.online_url,
    }


def changes(told: dict[str, Any], event: EventData) -> list[str]:
    """What changed since ``told`` that people must hear: ``time``, ``place``."""
    now = snapshot(event)
    found = []
    if any(told.get(k) != now[k] for k in ("start", "end", "zone")):
        found.append("time")
    if any(told.get(k) != now[k] for k in ("address", "online_url")):
        found.append("place")
    return found


def told_event(told: dict[str, Any], event: EventData) -> EventData:
    """The event as people were told it (for "was: ..."): ``event`` with the told
    times and place."""
    return replace(
        event,
        start=datetime.fromisoformat(told["start"]),
        end=datetime.fromisoformat(told["end"]),
        zone=told["zone"],
        address=told.get("address"),
        online_url=told.get("online_url"),
    )


# -- who gets a row -------------------------------------------------------------------


def recipients(row_kind: str, event_id: int, audience: str) -> ColumnElement[bool]:
    """The people a row of ``row_kind`` goes to (besides having a private chat):

    - an invitation: the event's audience, minus who answered already, who stopped
      or blocked the bot, turned off the topic "agenda", or muted agenda messages;
    - a reminder: who said yes with a seat, or maybe; not who muted this event or all
      agenda reminders, stopped or blocked the bot;
    - a change or cancellation: who said yes (the waitlist too) or maybe, unless they
      stopped or blocked the bot: muting does not hide that an event moved.
    """
    answered = exists().where(AgendaRsvp.event_id == event_id, AgendaRsvp.user_id == User.id)
    if row_kind == INVITE:
        return and_(
            matches(Audience.stored(audience)),
            receives(AGENDA),
            User.agenda_muted.is_(False),
            ~answered,
        )
    base = [
        User.messages_enabled.is_(True),
        User.active.is_(True),
        exists().where(
            AgendaRsvp.event_id == event_id,
            AgendaRsvp.user_id == User.id,
            AgendaRsvp.answer.in_((YES, MAYBE)),
            *(
                (
                    AgendaRsvp.waitlist_position.is_(None),
                    AgendaRsvp.muted.is_(False),
                )
                if row_kind == REMIND
                else ()
            ),
        ),
    ]
    if row_kind == REMIND:
        base.append(User.agenda_muted.is_(False))
    return and_(*base)


# -- the engine -----------------------------------------------------------------------


@dataclass
class _Claimed:
    id: int
    event_id: int
    name: str
    kind: str
    due_at: datetime
    detail: str
    lease_until: datetime


@dataclass
class ReminderEngine:
    sessions: Callable[[], AsyncSession]
    outbox: Outbox
    texts: Texts
    clock: Clock
    rules: Rules
    prompts: Prompts = field(default_factory=lambda: Prompts({}))
    quiet: QuietHours | None = None  # prompts wait for its end; reminders do not
    grace: timedelta = timedelta(hours=6)
    default_language: str = "nl"
    lease: timedelta = timedelta(minutes=2)
    batch: int = 5000  # user ids per transaction of the fan-out
    interval: float = 1.0  # seconds between rounds
    _looked: float = field(default=float("-inf"), repr=False)

    async def tick(self) -> None:
        """One round, at most every ``interval`` seconds: follow, then send."""
        if monotonic_time.monotonic() - self._looked < self.interval:
            return
        self._looked = monotonic_time.monotonic()
        await self.run_once()

    async def run_once(self) -> tuple[int, int]:
        """Follow every changed event, then send every due row: (events, rows)."""
        now = self.clock.now()
        followed = sent = 0
        while await self.follow_one(now):
            followed += 1
        while await self.send_one(now):
            sent += 1
        return followed, sent

    # -- 1. follow the events -----------------------------------------------------------

    async def follow_one(self, now: datetime) -> bool:
        """Plan the rows of one event whose sequence the engine has not acted on;
        False when there is none."""
        async with self.sessions() as session, session.begin():
            unseen = or_(
                AgendaEvent.told_sequence.is_(None),
                AgendaEvent.told_sequence != AgendaEvent.sequence,
            )
            query = select(AgendaEvent).where(unseen).order_by(AgendaEvent.id).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = (await session.execute(query)).scalar_one_or_none()
            if row is None:
                return False
            event = to_event(row)
            told = json.loads(row.told) if row.told else None
            existing = {
                r.name: r
                for r in (
                    await session.execute(
                        select(AgendaReminder).where(AgendaReminder.event_id == row.id)
                    )
                ).scalars()
            }
            added = self._plan(event, told, existing, now)
            session.add_all(
                AgendaReminder(event_id=row.id, name=name, kind=kind, due_at=due, detail=detail)
                for name, kind, due, detail in added
                if name not in existing
            )
            if not event.cancelled and event.ends_at > now:
                await self._promote(session, event, now)
            row.told_sequence = row.sequence
            row.told = json.dumps(snapshot(event))
        log.info("agenda event %d: reminders planned (sequence %d)", event.id, event.sequence)
        return True

    def _plan(
        self,
        event: Event,
        told: dict[str, Any] | None,
        existing: dict[str, AgendaReminder],
        now: datetime,
    ) -> list[tuple[str, str, datetime, str]]:
        """Bring ``existing`` rows in line with ``event`` as it is now; the rows to add,
        as (name, kind, due, detail)."""
        new: list[tuple[str, str, datetime, str]] = []
        if event.cancelled:
            for r in existing.values():
                if r.status == PENDING and r.kind in (INVITE, REMIND, CHANGED, PROMPT):
                    r.status, r.done_at = DROPPED, now
            if told is not None and event.ends_at > now:
                new.append((CANCELLED, CANCELLED, now, ""))
            return new
        if told is not None and event.ends_at > now and (changed := changes(told, event)):
            detail = json.dumps({"what": changed, "was": told})
            new.append((f"{CHANGED}-{event.sequence}", CHANGED, now, detail))
        planned: dict[str, Rule | Prompt] = {r.name: r for r in self.rules.of(event.kind)}
        planned.update((p.name, p) for p in self.prompts.of(event.kind))
        for name, rule in planned.items():
            row = existing.get(name)
            if row is None:
                due = rule.due(event)
                new.append((name, rule.kind, max(due, now) if rule.kind == INVITE else due, ""))
            else:
                _move(row, rule, event, now)
        for name, row in existing.items():
            timed = row.kind in (INVITE, REMIND, PROMPT)
            if timed and name not in planned and row.status == PENDING:
                row.status, row.done_at = DROPPED, now  # its rule is gone
        return new

    async def _promote(self, session: AsyncSession, event: Event, now: datetime) -> None:
        """Seats that an edit freed (a raised capacity) go to the waitlist, who are told
        in this transaction (the same message as a seat given up in the chat)."""
        promoted = await RsvpRepo(session).fill_seats(event.id)
        if not promoted:
            return
        found = await session.execute(
            select(User.id, User.platform, User.private_chat_id, User.language).where(
                User.id.in_(promoted),
                User.messages_enabled.is_(True),
                User.active.is_(True),
                User.private_chat_id.is_not(None),
            )
        )
        items = []
        for user_id, platform, chat, language in found.all():
            lang = language if language in self.texts.languages else self.default_language
            text = self.texts.get(
                lang, "agenda.promoted", title=event.title, when=when(self.texts, event, lang)
            )
            items.append(
                Outgoing(
                    key=f"agenda-promoted:{event.id}:{user_id}:{now.isoformat()}",
                    platform=platform,
                    chat_id=str(chat),
                    reply=Reply(text=text),
                    user_id=user_id,
                    kind=OUTBOX_KIND,
                )
            )
        await self.outbox.enqueue(items, session=session)
        log.info("agenda event %d: %d promoted from the waitlist", event.id, len(items))

    # -- 2. send what is due ------------------------------------------------------------

    def _due(self, now: datetime) -> ColumnElement[bool]:
        due = and_(
            AgendaReminder.status == PENDING,
            AgendaReminder.due_at <= now,
            or_(AgendaReminder.lease_until.is_(None), AgendaReminder.lease_until < now),
        )
        if self.quiet is not None and self.quiet.contains(now):
            return and_(due, AgendaReminder.kind != PROMPT)  # prompts wait for the morning
        return due

    async def send_one(self, now: datetime) -> bool:
        """Claim one due row and queue its messages; False when none is due."""
        lease_until = now + self.lease
        async with self.sessions() as session, session.begin():
            found = await session.scalar(
                select(AgendaReminder.id)
                .where(self._due(now))
                .order_by(AgendaReminder.due_at, AgendaReminder.id)
                .limit(1)
            )
            if found is None:
                return False
            claimed = await session.execute(
                update(AgendaReminder)
                .where(AgendaReminder.id == found, self._due(now))
                .values(lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return True  # another sender took it a moment ago: look again
            got = await session.get(AgendaReminder, found)
            assert got is not None
            job = _Claimed(
                got.id, got.event_id, got.name, got.kind, got.due_at, got.detail, lease_until
            )
            event_row = await session.get(AgendaEvent, got.event_id)
            event = None if event_row is None else to_event(event_row)
        skip = self._why_skip(job, event, now)
        if skip is not None or event is None:
            await self._finish(job, SKIPPED, 0, now)
            late = now - job.due_at
            log.warning(
                "agenda %s %d for event %d skipped: %s (due %s, %s late, grace %s)",
                job.kind,
                job.id,
                job.event_id,
                skip or "the event is gone",
                job.due_at.isoformat(),
                late,
                self.grace,
            )
            return True
        count = await self._fan_out(job, event, now)
        if count is None:
            log.info("agenda %s %d: taken over by another sender", job.kind, job.id)
            return True
        await self._finish(job, SENT, count, now)
        log.info("agenda %s %d for event %d: %d queued", job.kind, job.id, event.id, count)
        self.outbox.wake()
        return True

    def _why_skip(self, job: _Claimed, event: Event | None, now: datetime) -> str | None:
        if event is None:
            return "the event is gone"
        if job.kind == PROMPT:
            return self._why_skip_prompt(job, event, now)
        if job.kind in (INVITE, REMIND):
            if event.cancelled:
                return "the event is cancelled"
            if event.starts_at <= now:
                return "the event has begun"
            if now - job.due_at > self.grace:
                return "past the grace period"
            deadline = event.rsvp_deadline
            if job.kind == INVITE and deadline is not None and deadline <= now:
                return "the RSVP deadline has passed"
        elif event.ends_at <= now:
            return "the event is over"
        return None

    def _why_skip_prompt(self, job: _Claimed, event: Event, now: datetime) -> str | None:
        prompt = self.prompts.named(event.kind, job.name)
        if prompt is None:
            return "its rule is gone"
        if event.cancelled:
            return "the event is cancelled"
        if not prompt.after and event.starts_at <= now:
            return "the event has begun"
        # late counts from when it could go: after the quiet hours it fell in
        held = self.quiet is not None and self.quiet.contains(job.due_at)
        could = self.quiet.ends_after(job.due_at) if held and self.quiet else job.due_at
        if now - could > self.grace:
            return "past the grace period"
        return None

    async def _finish(self, job: _Claimed, status: str, count: int, now: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(AgendaReminder)
                .where(AgendaReminder.id == job.id, AgendaReminder.status == PENDING)
                .values(status=status, done_at=now, recipients=count, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    async def _fan_out(self, job: _Claimed, event: Event, now: datetime) -> int | None:
        """Queue the row's messages, ``batch`` user ids at a time, one ``INSERT ...
        SELECT`` per language (the outbox encrypts each language's text once), renewing
        the lease with each batch; None when the row is no longer ours."""
        languages = list(dict.fromkeys([self.default_language, *self.texts.languages]))
        if job.kind == PROMPT:
            prompt = self.prompts.named(event.kind, job.name)
            assert prompt is not None  # _why_skip said so
            who = receivers(prompt, event)
            replies = await self._prompt_replies(prompt, event, languages)
            if replies is None:
                return 0  # nothing to say (every point of the checklist is done)
        else:
            who = recipients(job.kind, event.id, event.audience)
            replies = {
                lang: self.reply(job.kind, event, lang, now, job.detail) for lang in languages
            }
        condition = and_(who, User.private_chat_id.is_not(None))
        others = languages[1:]
        speaks = {
            lang: (
                or_(User.language.is_(None), User.language.not_in(others))
                if lang == self.default_language
                else User.language == lang
            )
            for lang in languages
        }
        prefix = f"agenda:{job.id}:{int(job.due_at.timestamp())}:"
        async with self.sessions() as session:
            last = int(await session.scalar(select(func.max(User.id))) or 0)
        total, lease_until = 0, job.lease_until
        for low in range(0, last + 1, self.batch):
            renewed = self.clock.now() + self.lease
            async with self.sessions() as session, session.begin():
                kept = await session.execute(
                    update(AgendaReminder)
                    .where(
                        AgendaReminder.id == job.id,
                        AgendaReminder.status == PENDING,
                        AgendaReminder.lease_until == lease_until,
                    )
                    .values(lease_until=renewed)
                    .execution_options(synchronize_session=False)
                )
                if getattr(kept, "rowcount", 0) != 1:
                    return None
                lease_until = job.lease_until = renewed
                for lang in languages:
                    people = select(User.id, User.platform, User.private_chat_id).where(
                        condition, speaks[lang], User.id > low, User.id <= low + self.batch
                    )
                    total += await self.outbox.enqueue_to(
                        session, people, prefix, replies[lang], OUTBOX_KIND
                    )
        return total

    # -- the words ----------------------------------------------------------------------

    async def _prompt_replies(
        self, prompt: Prompt, event: Event, languages: list[str]
    ) -> dict[str, Reply] | None:
        writer = Writer(self.texts, self.outbox.cipher, self.prompts)
        async with self.sessions() as session, session.begin():
            replies = {}
            for lang in languages:
                reply = await writer.write(session, prompt, event, lang)
                if reply is None:
                    return None
                replies[lang] = reply
        return replies

    def reply(self, kind: str, event: Event, lang: str, now: datetime, detail: str = "") -> Reply:
        """The message of a row of ``kind`` about ``event`` in ``lang``, at ``now``."""
        t = self.texts
        title, moment = event.title, when(t, event, lang)
        place = place_line(t, event, lang)
        if kind == INVITE:
            text = t.get(lang, "agenda_remind.invite", title=title, when=moment, place=place)
            choices: Sequence[Choice] = (
                Choice(t.get(lang, "agenda.yes"), f"{ACTION}:y:{event.id}"),
                Choice(t.get(lang, "agenda.maybe"), f"{ACTION}:m:{event.id}"),
                Choice(t.get(lang, "agenda.no"), f"{ACTION}:n:{event.id}"),
            )
            return Reply(text=_lines(text), choices=tuple(choices))
        if kind == REMIND:
            soon = how_soon(t, event, lang, now)
            text = t.get(
                lang, "agenda_remind.reminder", title=title, soon=soon, when=moment, place=place
            )
            choices = (
                Choice(t.get(lang, "agenda_remind.cannot"), f"{ACTION}:n:{event.id}"),
                Choice(t.get(lang, "agenda_remind.mute"), f"{ACTION}:mute:{event.id}"),
            )
            return Reply(text=_lines(text), choices=choices)
        if kind == CANCELLED:
            return Reply(text=t.get(lang, "agenda_remind.cancelled", title=title, when=moment))
        info = json.loads(detail or "{}")
        was = told_event(info["was"], event)
        lines = [t.get(lang, "agenda_remind.changed", title=title)]
        if "time" in info.get("what", ()):
            lines.append(
                t.get(lang, "agenda_remind.changed_time", was=when(t, was, lang), now=moment)
            )
        if "place" in info.get("what", ()):
            lines.append(
                t.get(
                    lang,
                    "agenda_remind.changed_place",
                    was=place_line(t, was, lang) or t.get(lang, "agenda_remind.no_place"),
                    now=place or t.get(lang, "agenda_remind.no_place"),
                )
            )
        lines.append(t.get(lang, "agenda_remind.changed_end"))
        return Reply(
            text="\n".join(lines),
            choices=(Choice(t.get(lang, "agenda_remind.cannot"), f"{ACTION}:n:{event.id}"),),
        )


def _lines(text: str) -> str:
    """Without the empty line an unknown place leaves."""
    return "\n".join(line for line in text.splitlines() if line.strip())


def _move(row: AgendaReminder, rule: Rule | Prompt, event: Event, now: datetime) -> None:
    """A planned row after its event changed: it waits for the new instant, unless that
    has passed and the row was sent already (an invitation goes only once)."""
    due = rule.due(event)
    if rule.kind == INVITE:
        if row.status == SENT:
            return
        due = max(due, now)  # an event added late is still announced
    if row.due_at != due and (row.status == PENDING or due > now):
        row.due_at, row.status, row.lease_until, row.done_at = due, PENDING, None, None


def place_line(texts: Texts, event: EventData, lang: str) -> str:
    """Where: the address and/or the online link, or "" when neither is known."""
    parts = [p for p in (event.address, event.online_url) if p]
    return texts.get(lang, "agenda_remind.place", place=", ".join(parts)) if parts else ""


def how_soon(texts: Texts, event: EventData, lang: str, now: datetime) -> str:
    """ "morgen", "over 7 dagen", "vandaag", "over 2 uur": from ``now`` to the start, in
    the event's zone (days by the calendar, hours within the day)."""
    today: date = wall_time(now, event.zone).date()
    days = (event.start.date() - today).days
    if days > 1:
        return texts.get(lang, "agenda_remind.in_days", days=days)
    if days == 1:
        return texts.get(lang, "agenda_remind.tomorrow")
    hours = int((event.starts_at - now).total_seconds() // 3600)
    if hours > 1:
        return texts.get(lang, "agenda_remind.in_hours", hours=hours)
    if hours == 1:
        return texts.get(lang, "agenda_remind.in_an_hour")
    return texts.get(lang, "agenda_remind.very_soon")


def timing_problems(content: Path) -> list[str]:
    """What is wrong with the reminder and prompt rules (``alliantiebot content check``)."""
    problems = []
    for load in (Rules.load, Prompts.load):
        try:
            load(content)
        except ValueError as exc:  # RulesError, PromptsError
            problems.append(str(exc))
    return problems


def engine_for(
    services: Services, rules: Rules | None = None, prompts: Prompts | None = None
) -> ReminderEngine:
    """The engine over a running app's services and settings."""
    settings = services.settings
    content = content_dir(settings.content_dir)
    return ReminderEngine(
        sessions=services.sessions,
        outbox=services.outbox,
        texts=services.texts,
        clock=services.clock,
        rules=rules or Rules.load(content),
        prompts=prompts or Prompts.load(content),
        quiet=QuietHours.parse(settings.quiet_hours, settings.zone),
        grace=timedelta(seconds=settings.misfire_grace_seconds),
        default_language=settings.default_language,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        interval=settings.outbox_poll_interval,
    )
