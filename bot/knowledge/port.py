"""The knowledge port (``bot.core.ports.KnowledgeBase``) over the running service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.knowledge.answer import Answer
from bot.knowledge.content import Knowledge
from bot.knowledge.service import KnowledgeService


class KnowledgePort:
    """Questions answered by the current index; ``reload_content`` is the whole
    content reload (``Services.reload_content``: knowledge, sentences, the rest)."""

    def __init__(self, service: KnowledgeService, reload_content: Callable[[], Awaitable[int]]):
        self._service = service
        self._reload_content = reload_content

    def answer(self, text: str, default_language: str) -> Answer:
        return self._service.answerer.answer(text, default_language=default_language)

    @property
    def loaded(self) -> Knowledge:
        return self._service.answerer.knowledge

    async def reload_content(self) -> int:
        return await self._reload_content()
