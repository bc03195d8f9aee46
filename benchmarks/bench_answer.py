"""Question answering speed: answer latency, index build time, and growth with 10x content.

Run: ``.venv/bin/python benchmarks/bench_answer.py [--questions 1000] [--scale 10]
[--cpu-rounds 5]``

Answers ``--questions`` questions (the development set, cycled) in process and
reports p50/p99 latency, then does the same over a synthetic knowledge base
``--scale`` times as large (every entry copied with its words shuffled and
renamed, so the vocabulary and the posting lists grow too). Targets: p99 <= 10 ms,
index build <= 1 s, latency growing less than 3x for 10x content.

Last, the CPU time of ``Answerer.answer`` per question as the bot spends it: the
middleware has already asked ``Safety.crisis`` of the message (untimed here, as
it is not the answerer's), so the answer finds that check remembered. Each round
answers every question once; the median of ``--cpu-rounds`` rounds is reported
(process CPU time, steadier than wall time on a shared machine).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import _common
import yaml

from bot.knowledge.answer import Answerer
from bot.knowledge.content import Entry, Knowledge, load_knowledge
from bot.paths import content_dir

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "quality" / "dev_questions.yaml"


def _questions() -> list[str]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    items = [str(i["q"]) for i in data["answerable"]]
    items += [str(q) for key in ("out_of_scope", "medical", "not_crisis") for q in data[key]]
    return items


def _safety_messages() -> list[str]:
    """Crisis, near-miss and support messages: the safety layer's own worst cases."""
    folder = QUESTIONS.parent
    messages = []
    for name in ("safety_independent.yaml", "support_independent.yaml"):
        data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        messages += [str(i["text"]) for key in data for i in data[key]]
    return messages


def _invented(rng: random.Random) -> str:
    """A new word of 4-12 letters, alternating consonants and vowels like real words."""
    consonants, vowels = "bdfghjklmnprstvwz", "aeiou"
    length = rng.randint(4, 12)
    return "".join(rng.choice(vowels if i % 2 else consonants) for i in range(length))


def _shuffled(text: str, rng: random.Random) -> str:
    words = text.split()
    rng.shuffle(words)
    # New words in every copy, so the vocabulary grows with the content too
    # (about 25 per entry: more than real text would add, so on the safe side).
    return " ".join(words + [_invented(rng) for _ in range(3)])


def scaled(knowledge: Knowledge, factor: int, seed: int = 7) -> Knowledge:
    rng = random.Random(seed)
    entries = list(knowledge.entries)
    for copy in range(1, factor):
        for entry in knowledge.entries:
            data = entry.model_dump()
            data["id"] = f"{entry.id}-x{copy}"
            data["related"] = []
            data["title"] = _shuffled(entry.title, rng)
            data["questions"] = [_shuffled(q, rng) for q in entry.questions]
            data["answer"] = _shuffled(entry.answer, rng)
            data["en"] = None
            entries.append(Entry.model_validate(data))
    return Knowledge(
        entries=entries,
        synonyms=knowledge.synonyms,
        stopwords=knowledge.stopwords,
        smalltalk=knowledge.smalltalk,
        sources=knowledge.sources,
    )


def measure(answerer: Answerer, questions: list[str], count: int) -> list[float]:
    for question in questions[:50]:  # warm caches (stemmer, fuzzy) like a running bot
        answerer.answer(question)
    timings = []
    for i in range(count):
        question = questions[i % len(questions)]
        started = time.perf_counter()
        answerer.answer(question)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def cpu_per_answer(answerer: Answerer, questions: list[str], rounds: int) -> float:
    """Median over ``rounds`` of the mean CPU milliseconds of one ``answer``, after the
    middleware's crisis check of the same message (not counted)."""
    for question in questions:  # warm caches like a running bot
        answerer.answer(question)
    means = []
    for _ in range(rounds):
        spent = 0.0
        for question in questions:
            answerer.safety.crisis(question)
            started = time.process_time()
            answerer.answer(question, default_language="nl")
            spent += time.process_time() - started
        means.append(spent / len(questions) * 1000)
    return statistics.median(means)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--builds", type=int, default=5, help="index builds to time")
    parser.add_argument("--cpu-rounds", type=int, default=5, help="rounds of the CPU measure")
    args = parser.parse_args()
    content = content_dir()
    base = load_knowledge(content)
    # The real safety layer (lexicon and classifier), region table and decision:
    # every question pays for all of them, as in the bot.
    loaded = Answerer.load(content)
    safety, region, decision = loaded.safety, loaded.region, loaded.decision
    questions = _questions() + _safety_messages()
    print(_common.machine_summary())
    rows = []
    for label, knowledge in (
        ("content", base),
        (f"{args.scale}x content", scaled(base, args.scale)),
    ):
        builds = []
        for _ in range(args.builds):
            started = time.perf_counter()
            answerer = Answerer(knowledge, safety, region, decision)
            builds.append(time.perf_counter() - started)
        timings = measure(answerer, questions, args.questions)
        rows.append(
            (
                label,
                len(knowledge.entries),
                statistics.median(builds),
                percentile(timings, 50),
                percentile(timings, 99),
            )
        )
    print(f"{'knowledge':<14}{'entries':>8}{'build s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for label, entries, build, p50, p99 in rows:
        print(f"{label:<14}{entries:>8}{build:>10.3f}{p50:>9.2f}{p99:>9.2f}")
    growth50, growth99 = rows[1][3] / rows[0][3], rows[1][4] / rows[0][4]
    print(f"latency growth for {args.scale}x content: p50 x{growth50:.2f}, p99 x{growth99:.2f}")
    print(
        f"targets: p99 <= 10 ms: {'met' if rows[0][4] <= 10 else 'MISSED'}; "
        f"build <= 1 s: {'met' if rows[0][2] <= 1 else 'MISSED'}; "
        f"growth < 3x: {'met' if growth99 < 3 else 'MISSED'}"
    )
    cpu = cpu_per_answer(loaded, questions, args.cpu_rounds)
    print(
        f"answer CPU per question after the crisis check: {cpu:.3f} ms "
        f"(median of {args.cpu_rounds} rounds of {len(questions)} questions)"
    )


if __name__ == "__main__":
    main()
