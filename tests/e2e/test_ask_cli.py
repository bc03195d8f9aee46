"""`alliantiebot ask` and `alliantiebot content ...` as a person or a script runs them."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.paths import content_dir
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.slow
KEYS = {"question", "answered", "answer", "sources", "score", "topic"}


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "TELEGRAM_", "SLACK_", "CONTENT_", "DATA_KEY"))
    }
    env.update(DATA_KEY=TEST_KEY, LOG_LEVEL="WARNING", PYTHONIOENCODING="utf-8", **extra)
    return env


def _bot(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ask_prints_the_answer_for_a_person() -> None:
    result = _bot("ask", "wat zijn de zes dimensies van positieve gezondheid")
    assert result.returncode == 0, result.stderr
    assert "Bron:" in result.stdout
    assert "1. " in result.stdout  # related topics


def test_ask_json_has_the_fields_and_the_referral() -> None:
    result = _bot("ask", "--json", "hoeveel ibuprofen mag ik nemen")
    record = json.loads(result.stdout)
    assert set(record) >= KEYS
    assert record["answered"] is False and record["sources"] == []
    assert "huisarts" in record["answer"]


def test_ask_json_reads_questions_from_stdin_in_order() -> None:
    questions = [
        "wat is positieve gezondheid",
        "hoe laat gaat de bus naar leiden",
        "ik wil dood",
        "what is the spider web",
    ]
    result = _bot("ask", "--json", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in records] == questions
    assert records[0]["answered"] and records[0]["topic"] == "positieve-gezondheid-wat"
    assert records[0]["sources"] and 0 < records[0]["score"] <= 1
    assert not records[1]["answered"]
    assert "0800-0113" in records[2]["answer"]
    assert records[3]["answered"] and "Source:" in records[3]["answer"]


def test_content_check_passes_and_catches_a_broken_link(tmp_path: Path) -> None:
    assert _bot("content", "check").returncode == 0
    content = tmp_path / "content"
    shutil.copytree(content_dir(), content)
    path = content / "knowledge" / "basis.yaml"
    path.write_text(path.read_text().replace("related: [", "related: [bestaat-niet, ", 1))
    result = _bot("content", "check", CONTENT_DIR=str(content))
    assert result.returncode == 1
    assert "related entry 'bestaat-niet' does not exist" in result.stdout


def test_content_gaps_lists_unanswered_questions_most_frequent_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"
    chat = _bot(
        "chat",
        stdin="hoe laat sluit de markt\nwie won de tour\nhoe laat sluit de markt\n",
        DATABASE_URL=url,
    )
    assert chat.returncode == 0, chat.stderr
    gaps = _bot("content", "gaps", DATABASE_URL=url)
    assert gaps.returncode == 0, gaps.stderr
    lines = gaps.stdout.splitlines()
    assert lines[0].split()[0] == "2" and lines[0].endswith("hoe laat sluit de markt")
    assert lines[1].split()[0] == "1"


def test_sighup_reloads_content_without_restart(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(content_dir(), content)
    env = _env(DATABASE_URL=f"sqlite:///{tmp_path}/bot.db", CONTENT_DIR=str(content))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        encoding="utf-8",
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    for stream, sink in ((process.stdout, out), (process.stderr, err)):
        threading.Thread(
            target=lambda s=stream, q=sink: [q.put(line) for line in s], daemon=True
        ).start()

    def ask() -> str:
        assert process.stdin is not None
        process.stdin.write("wat doet een gangmaker\n")
        process.stdin.flush()
        seen = []
        while not seen or not seen[-1].startswith("Bron:"):
            seen.append(out.get(timeout=60))
        return "".join(seen)

    try:
        assert "(herladen)" not in ask()
        path = content / "knowledge" / "alliantie.yaml"
        path.write_text(
            path.read_text().replace("Een gangmaker jaagt", "Een gangmaker (herladen) jaagt")
        )
        process.send_signal(signal.SIGHUP)
        while "content reloaded on SIGHUP" not in err.get(timeout=60):
            pass  # the reload runs in the background; its log line says when it is done
        assert "(herladen)" in ask()
    finally:
        process.terminate()
        process.wait(timeout=30)
