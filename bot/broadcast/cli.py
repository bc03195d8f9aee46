"""``alliantiebot broadcast send|list|status|cancel``: announcements from scripts.

The command only writes and reads rows; the running bot (the process with the outbox
sender) sends them, so it works from a second process on the same database while
the bot runs. ``send`` prints what recipients will see and the same counts as the
chat's preview, and asks to confirm (``--yes`` skips that). Exit codes: 0 done,
1 refused (the message says why), 2 configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.broadcast.render import TEXT_LIMIT, shown_length
from bot.people import vocab

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.settings import Settings
    from bot.storage.repositories.announcements import AnnouncementView

Command = Callable[..., argparse.ArgumentParser]


class Refused(Exception):
    """Bad input: printed as one line, exit code 1."""


def add_parser(sub: Any, command: Command, subcommands: Callable[..., Any]) -> None:
    """``broadcast`` and its subcommands, with the CLI's own help helpers."""
    parent = command(
        sub,
        "broadcast",
        "send an announcement to an audience, list, follow or cancel announcements",
        """Announcements from the verbinders, for scripts: the same as /bericht in the
        chat. The running bot sends them (the process with the outbox sender, at the
        platforms' rate limits, holding non-urgent ones during QUIET_HOURS); this
        command only stores and reads them, so it works while the bot runs, from
        another process on the same database. How delivery works:
        docs/announcements.md.""",
        (
            (
                "alliantiebot broadcast send --audience all --text-file news.txt",
                "to everyone, now",
            ),
            ("alliantiebot broadcast list", "the recent ones with their counts"),
            ("alliantiebot broadcast status 12", "one in detail"),
            ("alliantiebot broadcast cancel 12", "stop it"),
        ),
    )
    actions = subcommands(parent)
    _send_parser(actions, command)
    listing = command(
        actions,
        "list",
        "list recent announcements with their status and counts (reads only)",
        """List the most recent announcements, newest first: id, status, when it goes or
        went out (in TIMEZONE), audience, topic, recipients and how many were delivered,
        failed, blocked, held back by quiet hours or are still waiting.""",
        (("alliantiebot broadcast list --limit 5", "the last five"),),
    )
    listing.add_argument("--limit", type=int, default=10, help="how many to show (default 10)")
    status = command(
        actions,
        "status",
        "show one announcement: text, audience, counts, why deliveries failed",
        """Show one announcement: its status, time, audience, topic and text, and its
        counts: delivered, failed (with the reasons), blocked, held back by quiet hours,
        still waiting.""",
        (("alliantiebot broadcast status 12", "announcement 12"),),
    )
    status.add_argument("id", type=int, help="the announcement's number (see broadcast list)")
    cancel = command(
        actions,
        "cancel",
        "cancel a scheduled announcement, or the unsent rest of one being sent",
        """Cancel an announcement: a scheduled one does not go out; of one being sent,
        what is not delivered yet is not sent. One that is done or cancelled already
        cannot be cancelled (exit code 1).""",
        (("alliantiebot broadcast cancel 12", "announcement 12"),),
    )
    cancel.add_argument("id", type=int, help="the announcement's number (see broadcast list)")


def _send_parser(actions: Any, command: Command) -> None:
    send = command(
        actions,
        "send",
        "store an announcement for the bot to send, after showing what goes to whom",
        """Store an announcement for the running bot to send. First it prints the
        message as recipients will see it, how many get it per platform and how many are
        left out and why (messages stopped, bot blocked, topic turned off), and asks to
        confirm. The audience is "all" (everyone with messages on) or filters:
        role:<role>, gemeente:<id>, organisation:<id>, topic:<topic>, and groups for the
        linked group chats; within one kind any may match, across kinds all must. The
        time is read in TIMEZONE, in Dutch or English ("nu", "morgen 9:00", "13 maart
        10u", "vrijdag 10:00", "over 2 uur", "tomorrow 9am"). Non-urgent announcements
        wait during QUIET_HOURS.""",
        (
            ("alliantiebot broadcast send --audience all --text-file a.txt", "everyone, now"),
            (
                "alliantiebot broadcast send --audience role:gangmaker,gemeente:leiden "
                '--text-file a.txt --at "vrijdag 10:00" --yes',
                "gangmakers in Leiden, Friday at ten, without asking",
            ),
        ),
    )
    send.add_argument(
        "--audience",
        required=True,
        help="who gets it: all, or filters such as role:gangmaker,gemeente:leiden "
        "(roles: " + ", ".join(vocab.ROLES) + "; topics: " + ", ".join(vocab.TOPICS) + ")",
    )
    send.add_argument(
        "--text-file",
        required=True,
        type=Path,
        help=(
            f"a UTF-8 file with the text, at most {TEXT_LIMIT} characters as recipients "
            "read them; *vet*, _cursief_ and [tekst](https://...) work as in the chat; "
            "- reads standard input"
        ),
    )
    send.add_argument(
        "--at", default="nu", help='when, read in TIMEZONE (default "nu": now); e.g. "morgen 9:00"'
    )
    send.add_argument(
        "--urgent", action="store_true", help="send during quiet hours too (QUIET_HOURS)"
    )
    send.add_argument(
        "--topic",
        default=vocab.DEFAULT_TOPIC,
        help=f"what it is about, for those who turned a topic off (default {vocab.DEFAULT_TOPIC}; "
        "one of " + ", ".join(vocab.TOPICS) + ")",
    )
    send.add_argument("--yes", action="store_true", help="do not ask to confirm")


READS_ONLY = ("list", "status")
CANNOT_CANCEL = {"done": "has gone out", "cancelled": "was cancelled already"}


def _audience_problem(expression: str, word: str) -> str:
    """One line on what is wrong with ``--audience``."""
    if not word:
        return "--audience: empty; e.g. all, or role:gangmaker,gemeente:leiden"
    if word.strip().lower() in ("all", "iedereen") and "," in expression:
        return "--audience: all is everyone; leave it out to send to the filters only"
    return f"--audience: {word!r} is not understood"


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``broadcast <action>``; its exit code."""
    from bot.storage import db

    # The bot's own database, never a new one: a mistyped DATABASE_URL is an error.
    url, patience = settings.database_url, settings.db_startup_timeout
    try:
        async with db.command_transaction(
            url, patience, reads_only=args.action in READS_ONLY
        ) as session:
            return await _action(settings, session, args)
    except (Refused, db.NotUpgraded) as exc:
        print(f"alliantiebot: {exc}", file=sys.stderr)
        return 1


async def _action(settings: Settings, session: AsyncSession, args: argparse.Namespace) -> int:
    from bot.core.clock import SystemClock
    from bot.storage.repositories.announcements import AnnouncementRepo

    repo = AnnouncementRepo(session)
    now = SystemClock().now()
    if args.action == "send":
        return await _send(settings, session, args, now)
    if args.action == "list":
        for view in await repo.recent(max(args.limit, 1)):
            print(_line(settings, view))
        return 0
    found = await repo.get(args.id)
    if found is None:
        raise Refused(f"there is no announcement {args.id}")
    if args.action == "status":
        _print_status(settings, found, await repo.failures(found.id))
        return 0
    if not await repo.cancel(found.id, now):
        why = CANNOT_CANCEL.get(found.status, f"is {found.status}")
        raise Refused(f"announcement {found.id} {why}: nothing to cancel")
    print(f"announcement {found.id} cancelled")
    return 0


def _read_text(path: Path) -> str:
    from bot.core.messages import clean_text

    try:
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Refused(f"--text-file: there is no file {path}") from None
    except UnicodeDecodeError:
        raise Refused(f"--text-file: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise Refused(f"--text-file: cannot read {path}: {exc.strerror or exc}") from None
    text = clean_text(raw).strip()
    if not text:
        raise Refused("--text-file: the text is empty")
    length = shown_length(text)  # as recipients read it: the markup's markers do not count
    if length > TEXT_LIMIT:
        raise Refused(f"--text-file: the text has {length} characters; at most {TEXT_LIMIT}")
    return text


async def _vocabulary(settings: Settings, session: AsyncSession) -> tuple[list[str], list[str]]:
    """The gemeenten and organisations an audience may name: the content's lists and
    what people have in their profiles."""
    from sqlalchemy import select

    from bot.broadcast.audience import known_values, region_gemeenten
    from bot.paths import content_dir
    from bot.storage.models import User
    from bot.yamltext import load_yaml

    content = content_dir(settings.content_dir)
    organisations_file = content / "organisations.yaml"
    listed: list[str] = []
    if organisations_file.is_file():
        data = load_yaml(organisations_file.read_text(encoding="utf-8")) or {}
        listed = [str(o["id"]) for o in data.get("organisations", [])]
    stored_g = (await session.execute(select(User.gemeente).distinct())).scalars()
    stored_o = (await session.execute(select(User.organisation).distinct())).scalars()
    return (
        known_values(region_gemeenten(content), list(stored_g)),
        known_values(listed, ["anders"], list(stored_o)),
    )


async def _send(
    settings: Settings, session: AsyncSession, args: argparse.Namespace, now: datetime
) -> int:
    from bot.broadcast.audience import Audience, AudienceError
    from bot.broadcast.quiet import QuietHours
    from bot.broadcast.when import PAST, WEEKDAY, parse_when
    from bot.storage.repositories.announcements import AnnouncementRepo

    text = _read_text(args.text_file)
    if args.topic not in vocab.TOPICS:
        raise Refused(f"--topic: {args.topic!r} is not one of {', '.join(vocab.TOPICS)}")
    gemeenten, organisations = await _vocabulary(settings, session)
    try:
        audience = Audience.parse(args.audience, gemeenten=gemeenten, organisations=organisations)
    except AudienceError as exc:
        raise Refused(_audience_problem(args.audience, exc.word)) from None
    when = parse_when(args.at, now, settings.zone)
    if when.at is None:
        problem = "lies in the past" if when.problem == PAST else "is not understood"
        if when.problem == WEEKDAY and when.day is not None:
            problem = f"does not fit: {when.day:%d-%m-%Y} is a {when.day:%A}"
        raise Refused(f"--at: {args.at!r} {problem}")
    repo = AnnouncementRepo(session)
    preview = await repo.preview(audience, args.topic)
    quiet = QuietHours.parse(settings.quiet_hours, settings.zone)
    _print_preview(settings, text, audience.text(), args.topic, preview, when.at, args.urgent)
    if quiet is not None and not args.urgent and quiet.contains(when.at):
        held = quiet.ends_after(when.at).astimezone(settings.zone)
        print(f"quiet hours: it goes out at {held:%Y-%m-%d %H:%M}")
    if preview.total == 0:
        raise Refused("nobody would get it; nothing stored")
    if not args.yes and not _confirmed():
        print("nothing stored")
        return 1
    made = await repo.create(
        created_by=None,
        audience=audience,
        topic=args.topic,
        text=text,
        attachment=None,
        urgent=args.urgent,
        send_at=when.at,
        report_to=None,
        now=now,
    )
    print(
        f"announcement {made} stored; the running bot sends it "
        f"(follow it with: alliantiebot broadcast status {made})"
    )
    return 0


def _confirmed() -> bool:
    try:
        answer = input("Send it? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes", "j", "ja")


def _print_preview(
    settings: Settings,
    text: str,
    audience: str,
    topic: str,
    preview: Any,
    at: datetime,
    urgent: bool,
) -> None:
    from bot.broadcast.render import announcement_reply
    from bot.core.markup import marked_text, readable
    from bot.core.texts import Texts
    from bot.paths import content_dir

    texts = Texts.load(content_dir(settings.content_dir))
    reply = announcement_reply(texts, settings.default_language, 0, text, None, topic)
    print("---- as recipients see it ----")
    print(readable(marked_text(reply)))  # as the terminal shows it: no markers
    for number, choice in enumerate(reply.choices, start=1):
        print(f"  {number}. {choice.label}")
    print("------------------------------")
    per_platform = ", ".join(f"{p} {n}" for p, n in sorted(preview.per_platform.items()))
    left_out = ", ".join(f"{why} {n}" for why, n in preview.left_out.items())
    print(f"audience: {audience} (topic {topic}){' URGENT' if urgent else ''}")
    print(f"recipients: {preview.total} ({per_platform or 'none'})")
    print(f"left out: {left_out}")
    print(f"send at: {at.astimezone(settings.zone):%Y-%m-%d %H:%M} ({settings.timezone})")


def _line(settings: Settings, view: AnnouncementView) -> str:
    c = view.counts
    return (
        f"{view.id:>5}  {view.status:<9}  {view.send_at.astimezone(settings.zone):%Y-%m-%d %H:%M}"
        f"  {view.audience}  topic {view.topic}{'  urgent' if view.urgent else ''}  "
        f"recipients {view.recipients}: delivered {c.delivered}, failed {c.failed}, "
        f"blocked {c.blocked}, held {c.held}, waiting {c.pending}"
    )


def _print_status(settings: Settings, view: AnnouncementView, failures: dict[str, int]) -> None:
    print(_line(settings, view))
    if failures:
        print("failed: " + ", ".join(f"{why} ({n})" for why, n in failures.items()))
    print("text:")
    print(view.text)
