"""Slack events handled per second, end to end through slack-bolt in HTTP mode.

Goal: at least 70% of a bare bolt ``AsyncApp`` that echoes the text, measured
side by side in the same run on the same fake Slack.

The real :class:`bot.app.App` with the real :class:`SlackChannel` in HTTP mode
(bolt's signature check on the bot's own aiohttp server, ``/slack/events``)
talks to the fake Slack Web API of the tests (``tests/helpers/fake_slack.py``).
Load: signed ``event_callback`` POSTs of DM messages (``message``,
``channel_type: im``), ``--concurrency`` in flight at a time, over ``--people``
people, each person's messages in order (a person's next message goes out only
after the reply to the previous one). An event is done when the fake records
the ``chat.postMessage`` into that DM; latency runs from the start of the POST
to that moment. The text is a question the knowledge base answers ("Wat is
positieve gezondheid?" ..., with 320 different greetings and thanks around them),
so every event is a database round trip (user,
consent, answer log) for the bot.

The bare app: ``AsyncApp(signing_secret=..., client=AsyncWebClient(base_url=fake))``
with one ``message`` listener that ``say``s the text back, served by
``app.web_app()`` on an aiohttp server of its own; same fake, same load.

Everything (fake, load, both apps) runs in this one process and event loop, so
the fake's and the load's CPU time count against both apps alike; the ratio is
the figure to read, the absolute rates are lower than on separate processes.
The channel's outgoing rate limiter (5 messages/s per workspace, Slack's own
limit) is lifted for the measurement: it would otherwise be the only thing
measured. The outbox sender runs: a reply that comes while the previous reply
to the same DM is still being recorded as sent queues behind it in the outbox
and the sender delivers it (the bot's normal path).

Usage::

    .venv/bin/python benchmarks/bench_slack.py --db both
    .venv/bin/python benchmarks/bench_slack.py --db sqlite --events 200 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import _common

SECRET = "bench-signing-secret"
QUESTIONS = (
    "Wat is positieve gezondheid?",
    "Hoe word ik gangmaker?",
    "Wat is een verbinder?",
    "Wat is een leeratelier?",
    "Wat is het spinnenweb?",
)
# Greetings and thanks around the questions: 5 x 8 x 8 = 320 different texts, so
# (as in real use) the crisis check's memory of recent lines seldom has the text.
OPENINGS = ("", "Hoi, ", "Hallo, ", "Goedemiddag, ", "Vraagje: ", "Beste bot, ", "Hee ", "Dag, ")
CLOSINGS = (
    "",
    " Dank je!",
    " Alvast bedankt.",
    " Groetjes",
    " Dankjewel",
    " Fijne dag",
    " :)",
    " Bvd",
)
WARMUP_EVENTS = 30


def question_text(n: int) -> str:
    """The n-th text: a question the knowledge base answers, said a little differently."""
    question = QUESTIONS[n % len(QUESTIONS)]
    opening = OPENINGS[(n // len(QUESTIONS)) % len(OPENINGS)]
    closing = CLOSINGS[(n // (len(QUESTIONS) * len(OPENINGS))) % len(CLOSINGS)]
    if opening:
        question = question[0].lower() + question[1:]
    return f"{opening}{question}{closing}"


EVENT_TIMEOUT = 10.0  # seconds without the reply: the event counts as an error


def _fake_class() -> Any:
    from tests.helpers.fake_slack import FakeSlack

    class TimedFake(FakeSlack):
        """The fake Slack; it also notes when each DM got a message."""

        def __init__(self) -> None:
            super().__init__()
            self.waiters: dict[str, asyncio.Future[float]] = {}

        def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = super()._post_message(params)
            waiter = self.waiters.pop(result["channel"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())
            return result

    return TimedFake


@dataclass
class Run:
    backend: str
    target: str
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    why: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Load:
    """Signed DM events to one URL; each person's events one after the other."""

    def __init__(self, fake: Any, url: str, prefix: str) -> None:
        self.fake = fake
        self.url = url
        self.prefix = prefix  # new people per run: first contact is part of the load
        self.counter = 0

    async def run(self, run: Run, people: int, events: int, concurrency: int) -> None:
        import aiohttp

        from tests.helpers.fake_slack import signed_headers

        self.counter += 1
        queue: asyncio.Queue[int] = asyncio.Queue()
        for person in range(people):
            queue.put_nowait(person)
        per_person = max(1, events // people)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def person_loop(person: int) -> None:
                user = f"U{self.prefix}{self.counter:03d}{person:05d}"
                channel = "D" + user[1:]
                for number in range(per_person):
                    text = question_text(person * per_person + number)
                    event = {
                        "type": "message",
                        "channel": channel,
                        "channel_type": "im",
                        "user": user,
                        "text": text,
                        "ts": f"{time.time():.6f}",
                    }
                    body = json.dumps(self.fake.event_callback(event))
                    waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                    self.fake.waiters[channel] = waiter
                    began = time.perf_counter()
                    async with session.post(
                        self.url, data=body.encode(), headers=signed_headers(SECRET, body)
                    ) as response:
                        await response.read()
                        if response.status != 200:
                            run.errors += 1
                            run.why[f"HTTP {response.status}"] += 1
                            continue
                    try:
                        done = await asyncio.wait_for(waiter, EVENT_TIMEOUT)
                    except TimeoutError:
                        run.errors += 1
                        run.why["no reply"] += 1
                        continue
                    run.events += 1
                    run.latencies.append(done - began)
                    # Any further replies to this event arrive before the next one goes out.
                    await asyncio.sleep(0)

            async def worker() -> None:
                while not queue.empty():
                    await person_loop(queue.get_nowait())

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            run.seconds = time.perf_counter() - began


async def start_bot(settings: Any) -> Any:
    from bot.app import App
    from bot.channels.slack import SlackChannel
    from bot.outbox.ratelimit import RateLimiter

    channel = SlackChannel(settings)
    channel.limiter = RateLimiter(None)  # Slack's 5/s per workspace would be all we see
    app = App(settings, channels={channel.name: channel})
    await app.start(http=True, scheduler=False, sender=True)
    return app


async def start_bare(fake: Any, port: int) -> Any:
    """The bare bolt echo app (``tests/helpers/bare_bolt.py``) on the same fake."""
    from tests.helpers.bare_bolt import start_bare as serve

    return await serve(fake.bot_token, fake.api_url, SECRET, port)


async def bench_backend(args: argparse.Namespace, backend: str) -> list[Run]:
    from tests.helpers.telegram_bot import free_port

    runs: list[Run] = []
    fake = _fake_class()()
    await fake.start()
    try:
        with _common.temp_database(backend, args.pg_url) as db:
            bot_port, bare_port = free_port(), free_port()
            settings = _common.bench_settings(
                db,
                flood_limit_per_minute=1_000_000_000,
                slack_bot_token=fake.bot_token,
                slack_api_url=fake.api_url,
                slack_signing_secret=SECRET,
                http_port=bot_port,
            )
            app = await start_bot(settings)
            runner = await start_bare(fake, bare_port)
            try:
                loads = {
                    "alliantiebot": Load(fake, f"http://127.0.0.1:{bot_port}/slack/events", "B"),
                    "bare bolt echo": Load(fake, f"http://127.0.0.1:{bare_port}/slack/events", "E"),
                }
                for target, load in loads.items():
                    warm = Run(backend, target)
                    await load.run(warm, 10, WARMUP_EVENTS, min(10, args.concurrency))
                    if warm.errors:
                        print(f"{backend} {target} warm-up: {dict(warm.why)}", file=sys.stderr)
                for _ in range(args.repeat):
                    for target, load in loads.items():  # interleaved: same machine state
                        run = Run(backend, target)
                        await load.run(run, args.people, args.events, args.concurrency)
                        runs.append(run)
            finally:
                await runner.cleanup()
                await app.stop()
    finally:
        await fake.stop()
    return runs


def report(runs: list[Run]) -> None:
    rows = []
    ratios: dict[str, float] = {}
    for (backend, target), group in _common.grouped(runs, lambda r: (r.backend, r.target)).items():
        best = sorted(group, key=lambda r: r.rate)[len(group) // 2]  # the median run
        lat = [x for r in group for x in r.latencies]
        rows.append(
            (
                backend,
                target,
                sum(r.events for r in group),
                f"{best.rate:.0f}",
                f"{_common.percentile(lat, 0.5) * 1000:.1f}",
                f"{_common.percentile(lat, 0.99) * 1000:.1f}",
                sum(r.errors for r in group),
            )
        )
        ratios.setdefault(backend, 0.0)
        if target == "alliantiebot":
            ratios[backend + ":bot"] = best.rate
        else:
            ratios[backend + ":bare"] = best.rate
    print(_common.machine_summary())
    print(
        _common.table(
            ["db", "app", "events", "events/s (median run)", "p50 ms", "p99 ms", "errors"], rows
        )
    )
    for backend in dict.fromkeys(r.backend for r in runs):
        bot, bare = ratios.get(backend + ":bot", 0.0), ratios.get(backend + ":bare", 0.0)
        share = bot / bare if bare else 0.0
        verdict = "meets" if share >= 0.70 else "BELOW"
        print(f"{backend}: alliantiebot / bare bolt = {share:.0%} ({verdict} the 70% goal)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _common.add_common_arguments(parser, max_seconds=300)
    parser.add_argument("--people", type=int, default=100, help="people per run (default 100)")
    parser.add_argument("--events", type=int, default=500, help="events per run (default 500)")
    parser.add_argument(
        "--concurrency", type=int, default=20, help="people in flight at once (default 20)"
    )
    args = parser.parse_args()
    if str(_common.REPO) not in sys.path:
        sys.path.append(str(_common.REPO))
    _common.interruptible()
    _common.quiet_logging()
    runs = _common.run_async(_common.over_backends(args, bench_backend), args.max_seconds * 2)
    report(runs)


if __name__ == "__main__":
    main()
