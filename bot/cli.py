"""The ``alliantiebot`` command.

- ``alliantiebot chat [--user NAME]``: talk to the bot in this terminal (or a pipe).
- ``alliantiebot run``: start the service: the platforms whose tokens are set,
  or the terminal chat when none are; plus the HTTP server (``/healthz``).
- ``alliantiebot db upgrade`` / ``db current``: apply or show migrations.
- ``alliantiebot keys rotate``: re-encrypt all stored data with the newest key
  in ``DATA_KEY`` (resumable); ``keys status``: which keys data may still need.

A configuration problem prints one line naming the variable and exits with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.app import App
    from bot.channels.base import Channel
    from bot.core.messages import Incoming, Reply

EXIT_CONFIG = 2
# Where `alliantiebot chat` logs (warnings and up); only errors also go to stderr.
CHAT_LOG = Path("data") / "alliantiebot-chat.log"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alliantiebot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"alliantiebot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default="local", help="who is talking (default: local)")
    run = sub.add_parser("run", help="start the bot on the configured platforms")
    run.add_argument("--user", default="local", help="console user when no platform is set")
    dbp = sub.add_parser("db", help="database migrations")
    dbp.add_argument("action", choices=["upgrade", "current"])
    keys = sub.add_parser("keys", help="the data key: re-encrypt stored data with the newest key")
    keys.add_argument("action", choices=["rotate", "status"])
    keys.add_argument(
        "--batch-size", type=int, default=500, help="rotate: rows per transaction (default 500)"
    )
    ask = sub.add_parser("ask", help="answer a question from the content, as the bot would")
    ask.add_argument("question", nargs="*", help="the question (none with --json: read stdin)")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    ask.add_argument("--lang", choices=["nl", "en"], help="answer in this language")
    content = sub.add_parser(
        "content", help="check the content, list unanswered questions, retrain the models"
    )
    content.add_argument("action", choices=["check", "gaps", "train", "explain"])
    content.add_argument("--limit", type=int, default=50, help="gaps: how many (default 50)")
    content.add_argument(
        "--questions",
        default="tests/quality/dev_questions.yaml",
        help="train: the question set the decision to answer is fitted on",
    )
    content.add_argument("text", nargs="?", default="", help="explain: a message to explain")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(str(exc))
    from bot.logging_setup import configure

    configure(
        settings.log_level,
        quiet=args.command in ("chat", "ask", "content", "keys"),
        # The terminal chat: log lines to a file, not between the lines of the conversation.
        log_file=CHAT_LOG if args.command == "chat" else None,
    )
    try:
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.user, http=False))
        if args.command == "run":
            return asyncio.run(_run(settings, args.user))
        if args.command == "ask":
            from bot.knowledge.cli import ask

            return ask(settings, " ".join(args.question), as_json=args.json, language=args.lang)
        if args.command == "content":
            from bot.knowledge import cli as content_cli

            if args.action == "check":
                return content_cli.check(settings)
            if args.action == "train":
                return content_cli.train(settings, args.questions)
            if args.action == "explain":
                return content_cli.explain(settings, args.text)
            return asyncio.run(content_cli.gaps(settings, args.limit))
        if args.command == "keys":
            return asyncio.run(_keys(settings, args.action, args.batch_size))
        return asyncio.run(_db(settings, args.action))
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    print(f"alliantiebot: configuration error: {message}", file=sys.stderr)
    return EXIT_CONFIG


async def _start(
    settings: Settings, channels: dict[str, Channel] | None = None, **kwargs: bool
) -> App:
    from bot.app import App
    from bot.storage import db

    app = App(settings, channels=channels)
    try:
        await app.start(**kwargs)
    except db.DatabaseUnavailable as exc:
        await app.stop()
        raise db.unreachable(exc) from None
    except BaseException:
        await app.stop()
        raise
    return app


async def _chat(settings: Settings, user: str, *, http: bool) -> int:
    from bot.channels.console import ConsoleChannel

    app = await _start(settings, http=http)
    services = app.services
    if services is None:
        raise RuntimeError("the app did not start")
    texts = services.texts
    # The console's own lines (the intro, "Tot ziens!") in the person's language:
    # looked up once after each message, since /taal may have changed it.
    language: list[str] = [settings.default_language]
    console = ConsoleChannel(user=user, label=lambda key, **kw: texts.get(language[0], key, **kw))

    async def handle(msg: Incoming) -> list[Reply]:
        replies = await app.handle(msg)
        language[0] = await _language_of(services.sessions, console.name, user) or language[0]
        return replies

    language[0] = await _language_of(services.sessions, console.name, user) or language[0]
    app.add_channel(console)
    try:
        await _until_signal(app, console.converse(handle))
    finally:
        await app.stop()
    return 0


async def _language_of(
    sessions: async_sessionmaker[AsyncSession], platform: str, user: str
) -> str | None:
    """The stored language of this person, or None when they are not known yet."""
    from bot.storage.repositories import UserRepo

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
        return await _chat(settings, user, http=True)
    app = await _start(settings, channels, http=True)
    try:
        await _until_signal(app)
    finally:
        await app.stop()
    return 0


async def _db(settings: Settings, action: str) -> int:
    from bot.storage import db

    async with db.connected(settings.database_url, settings.db_startup_timeout) as engine:
        if action == "upgrade":
            await db.upgrade(engine)
        print(await db.current_revision(engine) or "(empty database)")
    return 0


async def _keys(settings: Settings, action: str, batch_size: int) -> int:
    from bot.crypto import cipher_from_settings
    from bot.storage import db, keycheck, rotation

    if batch_size < 1:
        raise ConfigError("--batch-size: at least 1")
    cipher = cipher_from_settings(settings)
    async with db.connected(settings.database_url, settings.db_startup_timeout) as engine:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        if action == "status":
            async with sessions() as session:
                record = await keycheck.keys_in_use(session)
            needed = sorted(record.keys) if record is not None else []
            print(f"keys in DATA_KEY (newest first): {', '.join(cipher.fingerprints)}")
            print(f"keys the data may still need: {', '.join(needed) or '(not recorded yet)'}")
            missing = set(needed) - set(cipher.fingerprints)
            if missing:
                print(f"missing from DATA_KEY: {', '.join(sorted(missing))}")
            elif needed and set(needed) != {cipher.newest_fingerprint}:
                print("run `alliantiebot keys rotate` before removing a key from DATA_KEY")
            return 0
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
