"""Worker processes for the tests of several workers on one database: each runs a small
script (``python -c``) from the repository root, its output (stdout and stderr) read
line by line, and is killed (after a SIGCONT, in case a test froze it) when done."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def shared_settings(settings: Settings) -> dict[str, object]:
    """What a worker needs to share this test's bot: its database, its data key and its
    folders, as values for the worker's Settings."""
    assert settings.data_key is not None
    files = settings.image_dir.parent
    return {
        "database_url": settings.database_url,
        "data_key": settings.data_key.get_secret_value(),
        "data_key_file": str(settings.data_key_file),
        "image_dir": str(settings.image_dir),
        "export_dir": str(files / "exports"),
        "media_dir": str(files / "media"),
    }


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())

    def said(self, words: str) -> int:
        return sum(words in line for line in self.lines)


@contextlib.asynccontextmanager
async def workers(script: str, arguments: Sequence[str], count: int) -> AsyncIterator[list[Worker]]:
    """``count`` processes running ``script`` with ``arguments``; all gone afterwards."""
    started: list[Worker] = []
    try:
        for _ in range(count):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                script,
                *arguments,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            worker = Worker(process)
            worker.reader = asyncio.create_task(worker.read())
            started.append(worker)
        yield started
    finally:
        for worker in started:
            if worker.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGCONT)
                    worker.process.kill()
            await worker.process.wait()
            if worker.reader is not None:
                await worker.reader
