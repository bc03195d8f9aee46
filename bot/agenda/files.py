"""Agenda files: the YAML format and .ics files that ``events import`` reads, the
checks every event passes before anything is stored, and the import itself.

The import is all or nothing: every problem in the file is reported (one line each,
saying which event and what is wrong) and then nothing is stored; a file without
problems is stored in one transaction. It is idempotent on UID: importing the same
file twice changes nothing the second time. The YAML format is in docs/agenda.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.agenda.ical import CalendarError, from_ical
from bot.agenda.model import CANCELLED, KINDS, PLANNED, PUBLIC, Event, EventData, instant
from bot.broadcast.audience import Audience, AudienceError, closest, region_gemeenten
from bot.paths import content_dir
from bot.storage.repositories.agenda import AgendaRepo
from bot.yamltext import load_yaml

FIELDS = (
    "uid", "kind", "title", "description", "start", "end", "zone", "place", "online",
    "hosts", "audience", "capacity", "rsvp_by", "status",
)  # fmt: skip
FILE_STATUSES = (PLANNED, CANCELLED)
# The longest text each field's column holds (bot.storage.models.AgendaEvent).
LIMITS = {"uid": 255, "title": 200, "address": 255, "online_url": 512, "audience": 512}


class AgendaFileError(ValueError):
    """A file that cannot be imported: every problem, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    """One event of a file: where it is (for messages), its data, cancelled or not."""

    where: str
    data: EventData
    cancelled: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """What an event may name: the region's gemeenten and the partner organisations."""

    gemeenten: tuple[str, ...]
    organisations: tuple[str, ...]

    @classmethod
    def from_content(cls, content: Path) -> Vocabulary:
        organisations_file = content / "organisations.yaml"
        data = load_yaml(organisations_file.read_text(encoding="utf-8")) or {}
        ids = tuple(str(o["id"]) for o in data.get("organisations", []))
        return cls(tuple(region_gemeenten(content)), ids)

    @classmethod
    def current(cls, override: Path | None = None) -> Vocabulary:
        """The vocabulary of the content directory (``CONTENT_DIR`` or the default): what
        the chat uses, so that handlers need no paths."""
        return cls.from_content(content_dir(override))


@dataclass
class Outcome:
    """What an import did, per event: counts by what happened."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("added", "updated", "unchanged", "cancelled"), 0)
    )

    def line(self) -> str:
        return ", ".join(f"{count} {what}" for what, count in self.counts.items())


# Reading -----------------------------------------------------------------------------


def read_file(path: Path, zone: str) -> list[Entry]:
    """The events of a .yaml/.yml or .ics file; :class:`AgendaFileError` if unreadable."""
    suffix = path.suffix.casefold()
    if suffix not in (".yaml", ".yml", ".ics"):
        raise AgendaFileError([f"{path.name}: not a .yaml or .ics file"])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AgendaFileError([f"{path}: cannot be read ({exc.strerror})"]) from None
    if suffix == ".ics":
        try:
            read = from_ical(raw, zone)
        except CalendarError as exc:
            raise AgendaFileError([f"{path.name}: {exc}"]) from None
        return [
            Entry(f"{path.name}: event {n} ({r.data.uid})", r.data, r.cancelled)
            for n, r in enumerate(read, start=1)
        ]
    return read_yaml(raw.decode("utf-8", errors="replace"), path.name, zone)


def read_yaml(text: str, name: str, zone: str) -> list[Entry]:
    """The events of an agenda YAML file (format: docs/agenda.md)."""
    try:
        document = load_yaml(text)
    except Exception as exc:  # yaml.YAMLError, with the line and column in its text
        raise AgendaFileError([f"{name}: not valid YAML ({' '.join(str(exc).split())})"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise AgendaFileError([f"{name}: expected a mapping with a list under 'events:'"])
    default_zone = str(document.get("zone") or zone)
    entries: list[Entry] = []
    problems: list[str] = []
    for number, item in enumerate(document["events"], start=1):
        reader = _YamlEvent(item, f"{name}: event {number}", default_zone)
        entry = reader.entry()
        problems += reader.problems
        if entry is not None:
            entries.append(entry)
    if problems:
        raise AgendaFileError(problems)
    return entries


class _YamlEvent:
    """One event of a YAML file, read field by field; problems collected."""

    def __init__(self, item: Any, where: str, zone: str) -> None:
        self.item = item if isinstance(item, dict) else {}
        self.where = where
        self.problems: list[str] = [] if isinstance(item, dict) else [f"{where}: not a mapping"]
        uid = str(self.item.get("uid") or "").strip()
        if uid:
            self.where = f"{where} ({uid})"
        self.zone = str(self.item.get("zone") or zone)

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.where}: {text}")

    def entry(self) -> Entry | None:
        if self.problems:
            return None
        unknown = sorted(str(k) for k in self.item if k not in FIELDS)
        for key in unknown:
            self.problem(f"unknown field {key!r} (fields: {', '.join(FIELDS)})")
        uid = self._required("uid")
        title = self._required("title")
        if not _zone_exists(self.zone):
            self.problem(f"zone {self.zone!r} is not an IANA time zone such as Europe/Amsterdam")
            return None
        start = self._moment("start", None)
        end = self._moment("end", start)
        status = str(self.item.get("status") or PLANNED).strip().casefold()
        if status not in FILE_STATUSES:
            self.problem(f"status {status!r} is not one of {', '.join(FILE_STATUSES)}")
        data_fields = self._optional()
        if self.problems or start is None or end is None:
            return None
        data = EventData(uid=uid, title=title, start=start, end=end, zone=self.zone, **data_fields)
        return Entry(self.where, data, cancelled=status == CANCELLED)

    def _required(self, key: str) -> str:
        value = str(self.item.get(key) or "").strip()
        if not value:
            self.problem(f"{key} is missing")
        return value

    def _moment(self, key: str, day_of: datetime | None) -> datetime | None:
        """A wall time: a date and time, or (for the end) a time on the start's day."""
        raw = self.item.get(key)
        value = _wall_time(raw, day_of)
        if value is None:
            if raw is None:
                self.problem(f"{key} is missing")
            elif day_of is not None or key == "start":
                self.problem(
                    f'{key} {raw!r} is not a date and time; write it as "2027-03-11 19:30"'
                    + (' or, for the same day, "21:30" (with the quotes)' if key == "end" else "")
                )
        return value

    def _optional(self) -> dict[str, Any]:
        item = self.item
        hosts = item.get("hosts") or ()
        host_list = hosts.split(",") if isinstance(hosts, str) else list(hosts)
        capacity = item.get("capacity")
        if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
            self.problem(f"capacity {capacity!r} is not a number of seats (1 or more)")
            capacity = None
        deadline = _wall_time(item.get("rsvp_by"), None)
        if item.get("rsvp_by") is not None and deadline is None:
            self.problem(f"rsvp_by {item['rsvp_by']!r} is not a date and time")
        return {
            "kind": str(item.get("kind") or "").strip().casefold(),
            "description": str(item.get("description") or "").strip(),
            "address": str(item.get("place") or "").strip() or None,
            "online_url": str(item.get("online") or "").strip() or None,
            "hosts": tuple(str(h).strip() for h in host_list if str(h).strip()),
            "audience": str(item.get("audience") or PUBLIC).strip(),
            "capacity": capacity,
            "rsvp_deadline": None if deadline is None else instant(deadline, self.zone),
        }


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _wall_time(raw: Any, day_of: datetime | None) -> datetime | None:
    """A YAML value as a naive wall time: a datetime, a date (its midnight), an ISO
    string ("2027-03-11 19:30"), or with ``day_of`` a time of that day ("21:30")."""
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=None) if raw.tzinfo is None else None
    if isinstance(raw, date):
        return datetime.combine(raw, time())
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo is None else None
    if day_of is None:
        return None
    try:
        return datetime.combine(day_of.date(), time.fromisoformat(text.replace(".", ":")))
    except ValueError:
        return None


# Checking ----------------------------------------------------------------------------


def check(entries: Iterable[Entry], vocabulary: Vocabulary) -> list[str]:
    """Problems an event has on its own or with another of the same file."""
    problems: list[str] = []
    seen_uids: dict[str, str] = {}
    starts: dict[tuple[str, datetime], Entry] = {}
    for entry in entries:
        problems += [f"{entry.where}: {p}" for p in event_problems(entry.data, vocabulary)]
        if entry.data.uid in seen_uids:
            problems.append(
                f"{entry.where}: the uid is used twice (also {seen_uids[entry.data.uid]})"
            )
        seen_uids.setdefault(entry.data.uid, entry.where)
        key = (entry.data.kind, entry.data.starts_at)
        other = starts.get(key)
        if other is not None and not entry.cancelled and not other.cancelled:
            problems.append(f"{entry.where}: {_duplicate(entry.data, other.data.uid)}")
        starts.setdefault(key, entry)
    return problems


@dataclass(frozen=True)
class Issue:
    """One thing wrong with an event, for any reader: what (``code``) and what to name
    (``value``: the value or field; ``suggestion``: the known value probably meant;
    ``limit``: a length). The CLI writes it in English (:func:`describe`), the chat in
    the person's language (``handlers.agenda_manage``)."""

    code: str  # kind, end_before_start, end_at_start, host, too_long, gemeente,
    # organisation, audience, audience_not_for_events, past, duplicate
    value: str = ""
    suggestion: str | None = None
    limit: int = 0


def event_issues(data: EventData, vocabulary: Vocabulary) -> list[Issue]:
    """What is wrong with one event by itself (not its time against the clock)."""
    issues: list[Issue] = []
    if data.kind not in KINDS:
        issues.append(Issue("kind", data.kind))
    if data.end < data.start:
        issues.append(Issue("end_before_start"))
    elif data.end == data.start:
        issues.append(Issue("end_at_start"))
    for host in data.hosts:
        if host not in vocabulary.organisations:
            issues.append(Issue("host", host, closest(host, vocabulary.organisations)))
    for name, limit in LIMITS.items():
        if len(getattr(data, name) or "") > limit:
            issues.append(Issue("too_long", name, limit=limit))
    audience_issue = _audience_issue(data.audience, vocabulary)
    if audience_issue is not None:
        issues.append(audience_issue)
    return issues


async def stored_issues(
    repo: AgendaRepo, data: EventData, now: datetime, *, others: Iterable[str] = ()
) -> list[Issue]:
    """What is wrong with an event new or changed now: a start in the past, another
    event of the same kind at the same time (one whose uid is in ``others`` aside)."""
    issues: list[Issue] = []
    if data.starts_at < now:
        issues.append(Issue("past"))
    skip = set(others)
    issues += [
        Issue("duplicate", other.uid)
        for other in await repo.same_start(data)
        if other.uid not in skip
    ]
    return issues


def describe(issue: Issue, data: EventData) -> str:
    """An issue in English, as the CLI says it."""
    code, value = issue.code, issue.value
    start = f"{data.start:%Y-%m-%d %H:%M}"
    if code == "kind":
        return (
            f"kind {value!r} is not one of {', '.join(KINDS)}"
            if value
            else f"kind is missing (one of {', '.join(KINDS)})"
        )
    if code == "end_before_start":
        return f"it ends ({data.end:%Y-%m-%d %H:%M}) before it starts ({start})"
    if code == "end_at_start":
        return f"it ends when it starts ({start})"
    if code in ("host", "gemeente", "organisation"):
        what = "host organisation" if code == "host" else code
        return _unknown(what, value, issue.suggestion)
    if code == "too_long":
        return f"{value} is longer than {issue.limit} characters"
    if code == "audience":
        return (
            f"audience {data.audience!r}: {value!r} is not understood "
            "(all, or role:, gemeente:, organisation: filters)"
        )
    if code == "audience_not_for_events":
        return f"audience {data.audience!r}: topics and groups are for announcements, not events"
    if code == "past":
        return f"it starts in the past ({start})"
    return _duplicate(data, value)


def event_problems(data: EventData, vocabulary: Vocabulary) -> list[str]:
    """What is wrong with one event by itself, in English (see :func:`event_issues`)."""
    return [describe(issue, data) for issue in event_issues(data, vocabulary)]


def _unknown(what: str, value: str, guess: str | None) -> str:
    hint = (
        f"; did you mean {guess!r}?"
        if guess
        else " (see content/" + ("regio.yaml)" if what == "gemeente" else "organisations.yaml)")
    )
    return f"unknown {what} {value!r}{hint}"


def _audience_issue(expression: str, vocabulary: Vocabulary) -> Issue | None:
    try:
        audience = Audience.parse(
            expression, gemeenten=vocabulary.gemeenten, organisations=vocabulary.organisations
        )
    except AudienceError as exc:
        if exc.kind == "gemeente":
            return Issue("gemeente", exc.value, closest(exc.value, vocabulary.gemeenten))
        if exc.kind == "organisation":
            return Issue("organisation", exc.value, closest(exc.value, vocabulary.organisations))
        return Issue("audience", exc.word)
    if audience.topics or audience.groups:
        return Issue("audience_not_for_events")
    return None


def _duplicate(data: EventData, other_uid: str) -> str:
    return (
        f"another {data.kind} ({other_uid}) starts at the same time "
        f"({data.start:%Y-%m-%d %H:%M}): the same event twice? Give it the same uid"
    )


# Importing ---------------------------------------------------------------------------


async def import_entries(
    repo: AgendaRepo, entries: list[Entry], vocabulary: Vocabulary, now: datetime
) -> Outcome:
    """Check every event, then store them all, or raise :class:`AgendaFileError` with
    every problem and store nothing (the caller's transaction is rolled back)."""
    problems = check(entries, vocabulary)
    in_file = {entry.data.uid for entry in entries}
    for entry in entries:
        problems += await _against_stored(repo, entry, in_file, now)
    if problems:
        raise AgendaFileError(problems)
    outcome = Outcome()
    for entry in entries:
        outcome.counts[await _store(repo, entry, now)] += 1
    return outcome


async def _against_stored(
    repo: AgendaRepo, entry: Entry, in_file: set[str], now: datetime
) -> list[str]:
    """Problems with what is stored and the clock: a new or changed event in the past,
    another event of the same kind at the same time. An event stored as it is in the
    file is not checked again (so an old file can be imported twice)."""
    stored = await repo.get(entry.data.uid)
    if stored is not None and _same(stored, entry):
        return []
    if entry.cancelled:
        return []
    issues = await stored_issues(repo, entry.data, now, others=in_file)
    return [f"{entry.where}: {describe(issue, entry.data)}" for issue in issues]


def _same(stored: Event, entry: Entry) -> bool:
    """Whether the file says what is stored. A cancelled event stays cancelled: a file
    that still lists it as planned does not bring it back (give it a new uid)."""
    same_data = all(
        getattr(stored, name) == getattr(entry.data, name)
        for name in EventData.__dataclass_fields__
    )
    return same_data and (stored.cancelled or not entry.cancelled)


async def _store(repo: AgendaRepo, entry: Entry, now: datetime) -> str:
    stored = await repo.get(entry.data.uid)
    if stored is not None and _same(stored, entry):
        return "unchanged"
    _, saved = await repo.save(entry.data, now)
    if entry.cancelled:
        await repo.cancel(entry.data.uid, now)
        return "cancelled"
    return saved
