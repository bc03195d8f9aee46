"""The running knowledge base, reloadable without a restart.

A reload builds a complete new index off the event loop and then swaps it in
one assignment, so a question is always answered by one consistent version.
A reload that finds errors (a broken content file) keeps the old index.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.knowledge.answer import Answerer

log = logging.getLogger(__name__)


class KnowledgeService:
    def __init__(self, content: Path) -> None:
        self.content = content
        # At start, broken entries are left out and logged (CI's `content check`
        # fails on them): a bad link should not keep the bot from answering at all.
        self.answerer = self._build(strict=False)

    def _build(self, strict: bool = True) -> Answerer:
        answerer = Answerer.load(self.content)
        errors = answerer.knowledge.errors
        if errors and strict:
            raise ValueError(f"{len(errors)} content errors, first: {errors[0]}")
        for error in errors:
            log.warning("content: %s", error)
        return answerer

    async def reload(self) -> int:
        """Rebuild from disk; returns the number of entries. Raises on broken content."""
        answerer = await asyncio.to_thread(self._build)
        self.answerer = answerer
        log.info("content reloaded: %d entries", len(answerer.knowledge.entries))
        return len(answerer.knowledge.entries)
