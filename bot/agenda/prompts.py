"""The prompts around meetings (issue 16): what the bot asks before and after an event,
whom, and when; and the words of each prompt.

**The rules** (:class:`Prompts`, ``content/agenda_prompts.yaml``) say per kind of event
which prompts go, to whom (``hosts``, ``verbinders``, ``attendees``, ``role:<role>``)
and when (``before`` or ``after`` the event, N days, at a local wall time). The reminder
engine (:mod:`bot.agenda.reminders`) plans them as rows of kind ``prompt`` beside the
reminders, and sends them the same way: once, through the outbox, respecting ``/stop``,
``/agenda stil`` and the grace period; unlike reminders they also wait for the end of
the quiet hours.

**The prompts** (what each asks is fixed here, the words are ``agenda_prompts.*``):

- ``checklist``: the hosts' points (``items``: room, agenda, invitation text), each with
  a done button (``pr:done:<event>:<item>``); nothing when all are done;
- ``checklist_nudge``: the points still open, to the hosts; nothing when none are;
- ``inbreng``: "Wat wil je inbrengen?" with a button that opens the answer
  (``pr:in:<event>``); ``inbreng_reminder``: the same, only to who brought nothing in;
- ``digest``: what was brought in, grouped by person, with names, and a CSV button
  (``pr:csv:<event>``);
- ``meenemen``: "Wat neem je mee?" after the event, with a button (``pr:mee:<event>``).

The buttons are answered by ``handlers/agenda_answers.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.agenda.model import KINDS, Event, EventData, instant
from bot.agenda.words import when
from bot.broadcast.audience import Audience
from bot.core.messages import Choice, Reply
from bot.core.texts import Texts
from bot.crypto import Cipher
from bot.storage.models import AgendaPromptAnswer, AgendaRsvp, User
from bot.storage.repositories.announcements import matches
from bot.storage.repositories.prompts import PromptAnswer, PromptRepo
from bot.storage.repositories.rsvp import YES
from bot.yamltext import load_yaml

PROMPT_ACTION = "pr"
KIND = "prompt"  # the kind of a prompt's row in agenda_reminders
CHECKLIST, CHECKLIST_NUDGE = "checklist", "checklist_nudge"
INBRENG, INBRENG_REMINDER = "inbreng", "inbreng_reminder"
DIGEST, MEENEMEN = "digest", "meenemen"
# What people take home, afterwards: to the group only what each agreed to share (with
# their name); to the verbinders everything, marked shared or not.
SHARED, TAKEAWAYS = "meenemen_gedeeld", "meenemen_verbinders"
NAMES = (
    CHECKLIST,
    CHECKLIST_NUDGE,
    INBRENG,
    INBRENG_REMINDER,
    DIGEST,
    MEENEMEN,
    SHARED,
    TAKEAWAYS,
)
HOSTS, VERBINDERS, ATTENDEES, ROLE = "hosts", "verbinders", "attendees", "role:"
RULES_FILE = "agenda_prompts.yaml"
DEFAULT_ITEMS = ("zaal", "agenda", "uitnodiging")


class PromptsError(ValueError):
    """``agenda_prompts.yaml`` is not as described at its top."""


@dataclass(frozen=True)
class Prompt:
    name: str
    to: tuple[str, ...]
    days: int
    at: time
    after: bool = False
    items: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return KIND

    def due(self, event: EventData) -> datetime:
        """The instant (UTC): ``days`` before the event's date, or after its last day,
        at the wall time ``at`` in the event's zone."""
        if self.after:
            day = event.end.date() + timedelta(days=self.days)
        else:
            day = event.start.date() - timedelta(days=self.days)
        return instant(datetime.combine(day, self.at), event.zone)


@dataclass(frozen=True)
class Prompts:
    by_kind: dict[str, tuple[Prompt, ...]]

    def of(self, kind: str) -> tuple[Prompt, ...]:
        return self.by_kind.get(kind, ())

    def named(self, kind: str, name: str) -> Prompt | None:
        return next((p for p in self.of(kind) if p.name == name), None)

    def items(self, kind: str) -> tuple[str, ...]:
        """The checklist's points for ``kind`` (the nudge asks about the same)."""
        found = self.named(kind, CHECKLIST)
        return found.items if found is not None else DEFAULT_ITEMS

    @classmethod
    def load(cls, content: Path) -> Prompts:
        path = content / RULES_FILE
        if not path.exists():
            return cls({})
        return cls.parse(load_yaml(path.read_text(encoding="utf-8")), str(path))

    @classmethod
    def parse(cls, raw: object, where: str = RULES_FILE) -> Prompts:
        if raw is None:
            return cls({})
        if not isinstance(raw, dict):
            raise PromptsError(f"{where}: expected a mapping of kinds")
        found: dict[str, tuple[Prompt, ...]] = {}
        for kind, items in raw.items():
            if kind not in KINDS:
                raise PromptsError(f"{where}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
            if not isinstance(items, list):
                raise PromptsError(f"{where}: {kind}: expected a list of prompts")
            prompts = tuple(_prompt(item, f"{where}: {kind}") for item in items)
            names = [p.name for p in prompts]
            if len(set(names)) != len(names):
                raise PromptsError(f"{where}: {kind}: a prompt named twice")
            found[kind] = prompts
        return cls(found)


def _prompt(spec: object, where: str) -> Prompt:
    if not isinstance(spec, dict):
        raise PromptsError(f"{where}: expected a prompt with name, to and before/after")
    unknown = set(spec) - {"name", "to", "before", "after", "items"}
    if unknown:
        raise PromptsError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    name = spec.get("name")
    if name not in NAMES:
        raise PromptsError(f"{where}: unknown prompt {name!r} (prompts: {', '.join(NAMES)})")
    where = f"{where}: {name}"
    if ("before" in spec) == ("after" in spec):
        raise PromptsError(f"{where}: give either 'before' or 'after'")
    after = "after" in spec
    days, at = _moment(spec["after" if after else "before"], where)
    items = spec.get("items") or ()
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise PromptsError(f"{where}: items is a list of words")
    if items and name != CHECKLIST:
        raise PromptsError(f"{where}: only the checklist has items")
    if name == CHECKLIST and not items:
        items = DEFAULT_ITEMS
    return Prompt(str(name), _to(spec.get("to"), where), days, at, after, tuple(items))


def _to(raw: object, where: str) -> tuple[str, ...]:
    to = tuple(part.strip() for part in str(raw or "").split(",") if part.strip())
    if not to:
        raise PromptsError(f"{where}: 'to' names nobody")
    for who in to:
        role = who.startswith(ROLE) and len(who) > len(ROLE)
        if who not in (HOSTS, VERBINDERS, ATTENDEES) and not role:
            raise PromptsError(f"{where}: unknown 'to' {who!r}")
    return to


def _moment(raw: object, where: str) -> tuple[int, time]:
    if not isinstance(raw, dict) or set(raw) != {"days", "at"}:
        raise PromptsError(f"{where}: expected {{days: N, at: 'HH:MM'}}")
    days, at = raw["days"], raw["at"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise PromptsError(f"{where}: days is a whole number")
    wrong = PromptsError(f"{where}: 'at' is a time in quotes (HH:MM): {at!r}")
    if not isinstance(at, str):
        raise wrong
    try:
        return days, time.fromisoformat(at)
    except ValueError:
        raise wrong from None


# -- who gets a prompt ----------------------------------------------------------------


def receivers(prompt: Prompt, event: Event) -> ColumnElement[bool]:
    """The people ``prompt`` about ``event`` goes to (besides a private chat): anyone of
    its ``to``; not who stopped, blocked the bot or muted the agenda; for the inbreng,
    only people the event is for, and its reminder only who brought nothing in."""
    parts: list[ColumnElement[bool]] = []
    for who in prompt.to:
        if who == HOSTS:
            hosts = frozenset(event.hosts)
            parts.append(matches(Audience(organisations=hosts)) if hosts else false())
        elif who == VERBINDERS:
            parts.append(matches(Audience(roles=frozenset({"verbinder"}))))
        elif who == ATTENDEES:
            parts.append(
                exists().where(
                    AgendaRsvp.event_id == event.id,
                    AgendaRsvp.user_id == User.id,
                    AgendaRsvp.answer == YES,
                    AgendaRsvp.waitlist_position.is_(None),
                )
            )
        else:
            parts.append(matches(Audience(roles=frozenset({who.removeprefix(ROLE)}))))
    chosen = [
        or_(*parts),
        User.messages_enabled.is_(True),
        User.active.is_(True),
        User.agenda_muted.is_(False),
    ]
    if prompt.name in (INBRENG, INBRENG_REMINDER):
        chosen.append(matches(Audience.stored(event.audience)))
    if prompt.name == INBRENG_REMINDER:
        chosen.append(
            ~exists().where(
                AgendaPromptAnswer.event_id == event.id,
                AgendaPromptAnswer.user_id == User.id,
                AgendaPromptAnswer.prompt == INBRENG,
            )
        )
    return and_(*chosen)


# -- the words ------------------------------------------------------------------------


@dataclass
class Writer:
    """Writes a prompt's message in one language, reading what it needs (the open
    checklist points, what was brought in) in the engine's transaction."""

    texts: Texts
    cipher: Cipher
    prompts: Prompts

    async def write(
        self, session: AsyncSession, prompt: Prompt, event: Event, lang: str
    ) -> Reply | None:
        """The message, or None when there is nothing to say (all points done)."""
        t = self.texts
        base = {"title": event.title, "when": when(t, event, lang)}
        key = f"agenda_prompts.{prompt.name}"
        repo = PromptRepo(session, self.cipher)
        if prompt.name in (CHECKLIST, CHECKLIST_NUDGE):
            items = self.prompts.items(event.kind)
            await repo.ensure_items(event.id, items)
            still = await repo.open_items(event.id, items)
            if not still:
                return None
            labels = {i: t.get(lang, f"agenda_prompts.items.{i}") for i in still}
            lines = [t.get(lang, key, **base), *(f"- {labels[i]}" for i in still)]
            choices = tuple(
                Choice(
                    t.get(lang, "agenda_prompts.done", item=labels[i]),
                    f"{PROMPT_ACTION}:done:{event.id}:{i}",
                )
                for i in still
            )
            return Reply(text="\n".join(lines), choices=choices)
        if prompt.name in (INBRENG, INBRENG_REMINDER, MEENEMEN):
            button, code = ("take", "mee") if prompt.name == MEENEMEN else ("bring", "in")
            label = t.get(lang, f"agenda_prompts.{button}")
            return Reply(
                text=t.get(lang, key, **base),
                choices=(Choice(label, f"{PROMPT_ACTION}:{code}:{event.id}"),),
            )
        if prompt.name in (SHARED, TAKEAWAYS):
            taken = await repo.answers(event.id, MEENEMEN)
            return takeaways(t, lang, taken, base, everything=prompt.name == TAKEAWAYS)
        return digest(t, lang, event, await repo.answers(event.id, INBRENG), base)


def digest(
    texts: Texts, lang: str, event: Event, answers: Sequence[PromptAnswer], base: dict[str, str]
) -> Reply:
    """What was brought in, grouped by who brought it, with names."""
    t = texts
    if not answers:
        return Reply(text=t.get(lang, "agenda_prompts.digest_none", **base))
    by_person: dict[int, tuple[str, list[str]]] = {}
    for answer in answers:
        name = answer.name or t.get(lang, "agenda_prompts.no_name")
        by_person.setdefault(answer.user_id, (name, []))[1].append(answer.text)
    count, people = len(answers), len(by_person)
    lines = [t.get(lang, "agenda_prompts.digest", count=count, people=people, **base)]
    for name, said in by_person.values():
        lines.append(f"{name}:")
        lines += [f"- {text}" for text in said]
    return Reply(
        text="\n".join(lines),
        choices=(Choice(t.get(lang, "agenda_prompts.csv"), f"{PROMPT_ACTION}:csv:{event.id}"),),
    )


def takeaways(
    texts: Texts,
    lang: str,
    answers: Sequence[PromptAnswer],
    base: dict[str, str],
    *,
    everything: bool,
) -> Reply | None:
    """What people take home: the shared ones with names (for the group), or all of them
    marked shared or only for the verbinders; None when there is nothing to show."""
    t = texts
    shown = [a for a in answers if everything or a.share]
    if not shown:
        return None
    key = "agenda_prompts.takeaways_all" if everything else "agenda_prompts.takeaways_shared"
    lines = [t.get(lang, key, count=len(shown), **base)]
    for answer in shown:
        name = answer.name or t.get(lang, "agenda_prompts.no_name")
        mark = (
            ""
            if not everything
            else " "
            + t.get(lang, "agenda_prompts.shared" if answer.share else "agenda_prompts.not_shared")
        )
        lines.append(f"- {name}{mark}: {answer.text}")
    return Reply(text="\n".join(lines))
