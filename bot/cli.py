"""The ``alliantiebot`` command: its parser (with the help texts) and the commands.

The help texts are for operators and developers, in English like the rest of the
CLI; they hold no reST markup, since argparse prints them as they are. Commands that
only read the database (``db current``, ``content gaps``, ``keys status``) create and
migrate nothing. A configuration problem prints one line naming the variable and
exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.agenda import cli as events_cli
from bot.broadcast import cli as broadcast_cli
from bot.circles import cli as circles_cli
from bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.app import App
    from bot.channels.base import Channel
    from bot.core.messages import Incoming, Reply
    from bot.crypto import Cipher
    from bot.storage.keycheck import KeyRecord

EXIT_CONFIG = 2
# Where `alliantiebot chat` logs (warnings and up); only errors also go to stderr.
CHAT_LOG = Path("data") / "alliantiebot-chat.log"

_WIDTH = 79
_SETTINGS_HELP = """settings:
  Every setting comes from an environment variable, or from a .env file in the
  working directory. The full list with defaults is the "Configuration" section
  of README.md; .env.example is a commented template to copy to .env; deploying
  (Docker, PostgreSQL, several workers) is described in docs/operations.md.

exit codes:
  0 done; 1 failed (the message says why); 2 configuration error: one line
  naming the setting, e.g. a missing database or a malformed token; 130 Ctrl-C.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written (they are wrapped in ``_command``)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28, width=_WIDTH)


def _paragraphs(text: str) -> str:
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), _WIDTH) for p in text.strip().split("\n\n")
    )


def _examples(*pairs: tuple[str, str]) -> str:
    """An "examples:" block: each command line with what it does beside it, or, when a
    line would be too long, below it (the whole block alike)."""
    width = max(len(command) for command, _ in pairs)
    if all(2 + width + 4 + len(what) <= _WIDTH for _, what in pairs):
        lines = [f"  {command.ljust(width)}  # {what}" for command, what in pairs]
    else:
        lines = [f"  {command}\n      # {what}" for command, what in pairs]
    return "\n".join(["examples:", *lines]) + "\n"


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    examples: tuple[tuple[str, str], ...],
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary,
        description=_paragraphs(description),
        epilog=_examples(*examples),
        formatter_class=_Formatter,
    )


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    return parser.add_subparsers(
        dest="action", required=True, title="subcommands", metavar="SUBCOMMAND"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alliantiebot",
        description=_paragraphs(
            "The chat bot of the Alliantie Positieve Gezondheid Zuid-Holland Noord: it "
            "answers Positive Health questions from curated Dutch content, runs private "
            "spinnenweb check-ins, and talks on Telegram or in this terminal. Start with "
            "alliantiebot chat: it needs no configuration."
        ),
        epilog=_examples(
            ("alliantiebot chat", "talk to the bot here; no setup"),
            ('alliantiebot ask "wat is het spinnenweb?"', "one answer, as the bot gives it"),
            ("alliantiebot run", "serve the configured platforms"),
            ("alliantiebot db upgrade", "create or migrate the database"),
            ("alliantiebot content gaps", "questions nobody could answer"),
            ("alliantiebot keys --help", "more about one command"),
        )
        + "\n"
        + _SETTINGS_HELP,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"alliantiebot {__version__}",
        help="print the version and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    _chat_parser(sub)
    _run_parser(sub)
    _ask_parser(sub)
    _content_parser(sub)
    _db_parser(sub)
    _keys_parser(sub)
    broadcast_cli.add_parser(sub, _command, _subcommands)
    events_cli.add_parser(sub, _command, _subcommands)
    circles_cli.add_parser(sub, _command, _subcommands)
    return parser


def _chat_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chat = _command(
        sub,
        "chat",
        "talk to the bot in this terminal (or from a pipe)",
        """Talk to the bot in this terminal, as a resident would on Telegram. Choices are
        shown as numbered options: answer with the number or the text of an option.
        Pictures and files are written to disk and their path is printed. Piped input is
        read until it ends, so conversations can be scripted.

        Needs no configuration: the SQLite database and a data key file are created under
        ./data. Log lines (warnings and up) go to data/alliantiebot-chat.log, so they stay
        out of the conversation; only errors also show on standard error.""",
        (
            ("alliantiebot chat", "talk as the user local"),
            ("alliantiebot chat --user fatima", "talk as someone else"),
            ("printf '/start\\n/help\\n' | alliantiebot chat", "a scripted conversation"),
        ),
    )
    chat.add_argument(
        "--user",
        default="local",
        help="who is talking; each name is a person of their own, with their own "
        "language, check-ins and data (default: local; BOT_ADMINS=console:local makes "
        "local a verbinder)",
    )


def _run_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = _command(
        sub,
        "run",
        "start the service: Telegram when its token is set, the HTTP server, the scheduler",
        """Start the service: the platform channels whose tokens are set (Telegram:
        TELEGRAM_BOT_TOKEN), the scheduler, the outbox sender and the HTTP server with
        GET /healthz (HTTP_HOST, HTTP_PORT). Database migrations are applied first.
        SIGTERM or Ctrl-C stops it cleanly; SIGHUP reloads the content.

        With no platform token it talks on standard input instead (the terminal chat
        plus the HTTP server), but only when standard input is a terminal or
        ALLOW_CONSOLE=1. Otherwise (a detached container, a service manager) it stops
        with one line and exit code 2, rather than reading an empty input and exiting.
        The Docker image sets ALLOW_CONSOLE=false.""",
        (
            ("TELEGRAM_BOT_TOKEN=123456:ABC... alliantiebot run", "serve Telegram"),
            ("alliantiebot run", "no token: talk here"),
            ("ALLOW_CONSOLE=1 alliantiebot run < script.txt", "no token, scripted"),
        ),
    )
    run.add_argument(
        "--user",
        default="local",
        help="who is talking on standard input when no platform is set (default: local)",
    )


def _ask_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = _command(
        sub,
        "ask",
        "answer a question from the content, as the bot would",
        """Answer a question from the curated content exactly as the bot would, without
        touching the database: the answer with its sources, and any options it offers.
        With --json, print one JSON object per question (answered, outcome, score, topic,
        sources, language, ...); with --json and no question, read one question per line
        from standard input.""",
        (
            ('alliantiebot ask "wat is het spinnenweb?"', "as a person sees it"),
            ('alliantiebot ask --lang en "wat is het spinnenweb?"', "answer in English"),
            ("alliantiebot ask --json < questions.txt", "JSON, one line each"),
        ),
    )
    ask.add_argument(
        "question",
        nargs="*",
        help="the question, in Dutch or English (none with --json: read standard input)",
    )
    ask.add_argument(
        "--json", action="store_true", help="print one JSON object per line, for scripts"
    )
    ask.add_argument(
        "--lang",
        choices=["nl", "en"],
        help="answer in nl (Dutch) or en (English); default: the question's own language",
    )


def _content_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = _command(
        sub,
        "content",
        "check the content, list unanswered questions, explain safety, retrain models",
        """Look after the curated content (content/, or CONTENT_DIR): validate it, list
        the questions the bot could not answer, show what the safety layer sees in a
        message, or retrain the models. How answering and the safety layer work:
        docs/knowledge.md.""",
        (
            ("alliantiebot content check", "validate; CI runs it"),
            ("alliantiebot content gaps --limit 20", "the 20 most asked"),
            ('alliantiebot content explain "ik kan niet meer"', "what safety sees"),
        ),
    )
    actions = _subcommands(content)
    _command(
        actions,
        "check",
        "validate the content and report confusions (CI runs it)",
        """Load every content file and validate it: the knowledge entries, their links,
        and that no example question trips the safety layer. Also report confusions: an
        example question that finds another entry first. Exit code 1 when there are
        errors; confusions are only reported.""",
        (("alliantiebot content check", "errors, confusions and a count"),),
    )
    gaps = _command(
        actions,
        "gaps",
        "list the questions nobody could answer, most asked first (reads only)",
        """List the questions the bot could not answer, with how often each was asked,
        most asked first, over the last UNANSWERED_RETENTION_DAYS days. Only the text of a
        question is kept, never who asked it, and no date is shown.

        Reads the database at DATABASE_URL and changes nothing: a missing database, or one
        without alliantiebot's tables, is one line and exit code 2.""",
        (
            ("alliantiebot content gaps", "the 50 most asked"),
            ("alliantiebot content gaps --limit 10", "the 10 most asked"),
        ),
    )
    gaps.add_argument(
        "--limit", type=int, default=50, help="how many questions to show (default 50)"
    )
    explain = _command(
        actions,
        "explain",
        "show what the safety layer sees in a message",
        """For reviewers of the safety layer: print the message's normal form, the crisis
        and medical patterns it trips, the classifier's probability, the safety decision
        and how the bot would answer. Nothing is stored.""",
        (('alliantiebot content explain "ik wil er niet meer zijn"', "why a crisis"),),
    )
    explain.add_argument("text", help="the message to explain (quote it)")
    train = _command(
        actions,
        "train",
        "retrain the crisis classifier and the decision to answer (dev extra)",
        """Retrain the crisis classifier on the safety corpus in the content folder and
        fit the decision to answer on a question set, and write both into the content
        folder; the cross-validated results are printed. Needs the dev extra
        (scikit-learn): pip install -e '.[dev]'.""",
        (("alliantiebot content train", "retrain both, from a source checkout"),),
    )
    train.add_argument(
        "--questions",
        default="tests/quality/dev_questions.yaml",
        help="the question set the decision to answer is fitted on "
        "(default: tests/quality/dev_questions.yaml)",
    )


def _db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dbp = _command(
        sub,
        "db",
        "create or migrate the database, or show its revision",
        """The database at DATABASE_URL (default: the SQLite file ./data/alliantiebot.db;
        PostgreSQL for several workers). The bot applies the migrations itself at every
        start; these commands are for operators and deploy scripts.""",
        (
            ("alliantiebot db upgrade", "create or migrate; says what it did"),
            ("alliantiebot db current", "the revision, without changing anything"),
        ),
    )
    actions = _subcommands(dbp)
    _command(
        actions,
        "upgrade",
        "create the database or apply new migrations, and say what was done",
        """Apply the Alembic migrations up to the newest revision this version knows,
        creating the database's tables (and an SQLite file) if needed. Prints what it did:
        "upgraded from empty to NEWEST", "upgraded from OLD to NEWEST" or "already at
        NEWEST". Safe while the bot runs, and from several workers at once (on PostgreSQL
        one migrates and the others wait).""",
        (("alliantiebot db upgrade", "e.g. upgraded from empty to the newest"),),
    )
    _command(
        actions,
        "current",
        "print the database's revision (reads only)",
        """Print the database's Alembic revision. When it is older than this version's
        newest, a note on standard error says so. Reads only: a missing database, or one
        without alliantiebot's tables, is one line and exit code 2, and nothing is created.""",
        (("alliantiebot db current", "the revision, e.g. for a deploy script"),),
    )


def _keys_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = _command(
        sub,
        "keys",
        "rotate the data key (DATA_KEY), or show which keys the data needs",
        """DATA_KEY encrypts health data and conversation state at rest. It may hold
        several keys, newest first: the first encrypts, all decrypt. To replace a key, put
        the new one first (DATA_KEY=new,old) on every process and restart them, run keys
        rotate, then drop the old key. The whole procedure: docs/operations.md, "The data
        key".""",
        (
            ("alliantiebot keys status", "which keys the data may still need"),
            ("alliantiebot keys rotate", "re-encrypt everything with the newest key"),
        ),
    )
    actions = _subcommands(keys)
    rotate = _command(
        actions,
        "rotate",
        "re-encrypt all stored data with the newest key",
        """Re-encrypt every encrypted value with the first key in DATA_KEY, in batches of
        --batch-size rows with one transaction each, printing progress. It may run while
        the bot runs, and after an interruption it continues where it was. It ends with
        "done: ..." (exit code 0) when the older keys may be removed; exit code 1 means run
        it again (it says why). A missing database is one line and exit code 2.""",
        (
            ("DATA_KEY=new,old alliantiebot keys rotate", "once every process has new,old"),
            ("alliantiebot keys rotate --batch-size 100", "smaller transactions"),
        ),
    )
    rotate.add_argument(
        "--batch-size", type=int, default=500, help="rows per transaction (default 500)"
    )
    _command(
        actions,
        "status",
        "show which keys the stored data may still need (reads only)",
        """Print the fingerprints (a short hash, never the key) of the keys in DATA_KEY and
        of the keys the stored data may still be encrypted with, and whether one is
        missing or a rotation is due. Reads only: nothing is created or migrated.""",
        (("alliantiebot keys status", "fingerprints, newest first"),),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(str(exc))
    from bot.logging_setup import configure

    configure(
        settings.log_level,
        quiet=args.command in ("chat", "ask", "content", "keys", "broadcast", "events", "circles"),
        # The terminal chat: log lines to a file, not between the lines of the conversation.
        log_file=CHAT_LOG if args.command == "chat" else None,
    )
    try:
        return _dispatch(settings, args)
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``alliantiebot chat | head``): stop quietly. Point
        # stdout at nothing, so that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    """Run the chosen command; its exit code."""
    if args.command == "chat":
        return asyncio.run(_chat(settings, args.user, http=False))
    if args.command == "run":
        return asyncio.run(_run(settings, args.user))
    if args.command == "ask":
        from bot.knowledge.cli import ask

        return ask(settings, " ".join(args.question), as_json=args.json, language=args.lang)
    if args.command == "content":
        return _content(settings, args)
    if args.command == "broadcast":
        return asyncio.run(broadcast_cli.run(settings, args))
    if args.command == "events":
        return asyncio.run(events_cli.run(settings, args))
    if args.command == "circles":
        return asyncio.run(circles_cli.run(settings, args))
    if args.command == "keys":
        return asyncio.run(_keys(settings, args.action, getattr(args, "batch_size", 500)))
    return asyncio.run(_db(settings, args.action))


def _content(settings: Settings, args: argparse.Namespace) -> int:
    """``alliantiebot content check|train|explain|gaps``."""
    from bot.knowledge import cli as content_cli

    if args.action == "check":
        return content_cli.check(settings)
    if args.action == "train":
        return content_cli.train(settings, args.questions)
    if args.action == "explain":
        return content_cli.explain(settings, args.text)
    return asyncio.run(content_cli.gaps(settings, args.limit))


def _fail(message: str) -> int:
    print(f"alliantiebot: configuration error: {message}", file=sys.stderr)
    return EXIT_CONFIG


@contextlib.asynccontextmanager
async def _started(
    settings: Settings, channels: dict[str, Channel] | None = None, **kwargs: bool
) -> AsyncIterator[App]:
    """The started app, stopped on the way out. On SQLite the process that runs the
    scheduler's jobs holds the file's scheduler lock from before the start until after
    the stop (bot/scheduling/single.py): a second one is refused with one line."""
    from bot.app import App
    from bot.scheduling import single
    from bot.storage import db

    scheduler = kwargs.get("scheduler")
    runs_jobs = settings.run_scheduler if scheduler is None else scheduler
    lock = single.acquire(settings.database_url, runs_jobs=runs_jobs)
    try:
        app = App(settings, channels=channels)
        try:
            await app.start(**kwargs)
        except db.DatabaseUnavailable as exc:
            await app.stop()
            raise db.unreachable(exc) from None
        except BaseException:
            await app.stop()
            raise
        try:
            yield app
        finally:
            await app.stop()
    finally:
        if lock is not None:
            lock.release()


async def _chat(settings: Settings, user: str, *, http: bool) -> int:
    async with _started(settings, http=http) as app:
        return await _converse(settings, app, user)


async def _converse(settings: Settings, app: App, user: str) -> int:
    """The terminal conversation with the started app, until its input ends or a signal."""
    from bot.channels.console import ConsoleChannel

    services = app.services
    if services is None:
        raise RuntimeError("the app did not start")
    texts = services.texts
    # The console's own lines (the intro, "Tot ziens!") in the person's language:
    # looked up once after each message, since /taal may have changed it.
    language: list[str] = [settings.default_language]
    console = ConsoleChannel(
        user=user,
        label=lambda key, **kw: texts.get(language[0], key, **kw),
        media_dir=settings.media_dir,
        media_max_bytes=settings.media_max_bytes,
    )

    async def handle(msg: Incoming) -> list[Reply]:
        replies = await app.handle(msg)
        language[0] = await _language_of(services.sessions, console.name, user) or language[0]
        return replies

    language[0] = await _language_of(services.sessions, console.name, user) or language[0]
    app.add_channel(console)
    await _until_signal(app, console.converse(handle))
    return 0


async def _language_of(
    sessions: async_sessionmaker[AsyncSession], platform: str, user: str
) -> str | None:
    """The stored language of this person, or None when they are not known yet."""
    from bot.storage.repositories.users import UserRepo

    async with sessions() as session:
        person = await UserRepo(session).find(platform, user)
    return None if person is None else person.language


async def _until_signal(app: App, work: Coroutine[Any, Any, None] | None = None) -> None:
    """Run ``work`` (or nothing) until it ends or SIGTERM/SIGINT arrives; then return.

    SIGHUP reloads the content without a restart.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload_in_background(app))
    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
    if work is not None:
        waiters.append(asyncio.ensure_future(work))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for task in done:
        task.result()


_background: set[asyncio.Task[Any]] = set()


def _reload_in_background(app: App) -> None:
    async def reload() -> None:
        services = app.services
        if services is None:  # stopped meanwhile: nothing to reload
            return
        try:
            count = await services.reload_content()
        except Exception as exc:
            logging.getLogger(__name__).error("content reload on SIGHUP failed: %s", exc)
        else:
            logging.getLogger(__name__).warning("content reloaded on SIGHUP: %d entries", count)

    task = asyncio.create_task(reload())
    _background.add(task)  # keep a reference until done
    task.add_done_callback(_background.discard)


async def _run(settings: Settings, user: str) -> int:
    from bot.channels.registry import platform_channels

    channels = platform_channels(settings)
    if not channels:
        _check_console_allowed(settings)
        return await _chat(settings, user, http=True)
    async with _started(settings, channels, http=True) as app:
        await _until_signal(app)
    return 0


def _check_console_allowed(settings: Settings) -> None:
    """`run` without a platform talks on standard input only where someone can type:
    on a terminal, or when ALLOW_CONSOLE=1 says so. A detached container's empty input
    would otherwise end the bot at once with exit 0, and a restart policy loop it."""
    if settings.allow_console is True:
        return
    if settings.allow_console is False:
        reason = "ALLOW_CONSOLE=false (the Docker image sets it)"
    elif _stdin_is_a_terminal():
        return
    else:
        reason = "standard input is not a terminal"
    raise ConfigError(
        f"TELEGRAM_BOT_TOKEN: not set, so there is no platform to serve, and {reason}; "
        "set the token, or ALLOW_CONSOLE=1 to talk to the bot on standard input"
    )


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # no stdin, or a closed one
        return False


async def _db(settings: Settings, action: str) -> int:
    from bot.storage import db

    url, patience = settings.database_url, settings.db_startup_timeout
    if action == "current":
        async with db.existing(url, patience) as (_, revision):
            print(revision)
            note = db.revision_problem(revision)
            if note is not None:
                print(f"alliantiebot: {note}", file=sys.stderr)
        return 0
    async with db.connected(url, patience) as engine:
        before = await db.current_revision(engine)
        if before is not None:
            db.require_known(before)
        await db.upgrade(engine)
        after = await db.current_revision(engine)
    if before == after:
        print(f"already at {after}")
    else:
        print(f"upgraded from {before or 'empty'} to {after}")
    return 0


def _configured_cipher(settings: Settings) -> Cipher | None:
    """The keys in DATA_KEY or the key file; None when there are none (no key file is
    made just to show the status)."""
    from bot.crypto import cipher_from_settings

    no_key = settings.data_key is None and settings.environment == "development"
    if no_key and not settings.data_key_file.exists():
        return None
    return cipher_from_settings(settings)


def _print_key_status(cipher: Cipher | None, record: KeyRecord | None) -> None:
    needed = sorted(record.keys) if record is not None else []
    configured = cipher.fingerprints if cipher is not None else []
    print(
        "keys in DATA_KEY (newest first): "
        + (", ".join(configured) or "(none: DATA_KEY is not set and there is no key file)")
    )
    print(f"keys the data may still need: {', '.join(needed) or '(not recorded yet)'}")
    missing = set(needed) - set(configured)
    if missing:
        print(f"missing from DATA_KEY: {', '.join(sorted(missing))}")
    elif needed and cipher is not None and set(needed) != {cipher.newest_fingerprint}:
        print("run `alliantiebot keys rotate` before removing a key from DATA_KEY")


async def _keys(settings: Settings, action: str, batch_size: int) -> int:
    from bot.crypto import cipher_from_settings
    from bot.storage import db, keycheck, rotation

    if batch_size < 1:
        raise ConfigError("--batch-size: at least 1")
    # The database first: on a missing one, say so before a key file is made.
    async with db.existing(settings.database_url, settings.db_startup_timeout) as (
        engine,
        revision,
    ):
        sessions = db.session_factory(engine)
        if action == "status":
            db.require_head(revision)  # reads only: never migrates
            async with sessions() as session:
                record = await keycheck.keys_in_use(session)
            _print_key_status(_configured_cipher(settings), record)
            return 0
        db.require_known(revision)
        cipher = cipher_from_settings(settings)
        await db.upgrade(engine)  # rotation writes: it needs every encrypted column
        report = await rotation.rotate_all(
            sessions, cipher, batch_size=batch_size, progress=lambda line: print(line, flush=True)
        )
    for table in report.tables:
        counts = table.counts
        print(
            f"{table.table}: {counts[rotation.Outcome.ROTATED]} re-encrypted, "
            f"{counts[rotation.Outcome.CURRENT]} already under the newest key"
            + (
                f", {counts[rotation.Outcome.UNREADABLE]} unreadable with every key (left as "
                "they are)"
                if counts[rotation.Outcome.UNREADABLE]
                else ""
            )
        )
    if not report.complete:
        print(
            f"{report.count(rotation.Outcome.BUSY)} rows changed while they were re-encrypted; "
            "run `alliantiebot keys rotate` again",
            file=sys.stderr,
        )
        return 1
    if report.still_needed:
        print(
            f"a process started meanwhile with another key first "
            f"({', '.join(sorted(report.still_needed))}): restart every process with the "
            "newest key first, then run `alliantiebot keys rotate` again",
            file=sys.stderr,
        )
        return 1
    print(
        f"done: all readable data is encrypted with the newest key ({report.newest}); "
        "the older keys may now be removed from DATA_KEY"
    )
    return 0
