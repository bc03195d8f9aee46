"""The light markup a verbinder types in an announcement: parsed once, here.

``*vet*`` is bold, ``_cursief_`` italic, ``[tekst](https://…)`` a link; one may sit
inside the other (``*vet en _cursief_*``, ``_zie [hier](https://…)_``), a link's own
text is taken as typed. :func:`parse` turns it into :class:`Marked`: the plain text
(markers removed) and its :class:`Span` s, in characters of the plain text, so each
channel draws them its own way (Telegram: HTML; the console: the link after its text).

Anything not well-formed stays as typed: a marker opens only before a non-space, at
the start of a word (``2*3*4`` and ``snake_case`` stay), and closes after a non-space
at the end of one, on the same line; a run of two or more (``**``, ``___``) is no
marker. A link needs an http(s) address :func:`~bot.core.messages.is_web_link`
accepts. A bare ``https://…`` stays as it is, underscores and all (Telegram makes it
clickable itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.messages import Reply, is_web_link

SpanKind = Literal["bold", "italic", "link"]
MARKERS: dict[str, SpanKind] = {"*": "bold", "_": "italic"}
# [text](url): text on one line without brackets; the url may hold one level of
# balanced parentheses (https://nl.wikipedia.org/wiki/Leiden_(stad)).
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\)")
_BARE_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class Span:
    """Part of the plain text drawn bold, italic, or as a link to ``url``:
    characters ``start`` up to (not including) ``end``."""

    kind: SpanKind
    start: int
    end: int
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Marked:
    """Plain text and its spans: nested properly, outer before inner."""

    plain: str
    spans: tuple[Span, ...] = ()

    def slice(self, start: int, end: int) -> Marked:
        """``plain[start:end]`` with the spans that reach into it, cut to fit."""
        spans = tuple(
            Span(s.kind, max(s.start, start) - start, min(s.end, end) - start, s.url)
            for s in self.spans
            if min(s.end, end) > max(s.start, start)
        )
        return Marked(self.plain[start:end], spans)

    def strip(self) -> Marked:
        """Without leading and trailing whitespace."""
        start = len(self.plain) - len(self.plain.lstrip())
        return self.slice(start, max(start, len(self.plain.rstrip())))


def parse(text: str) -> Marked:
    """``text`` in the light markup → plain text and spans."""
    parser = _Parser(text)
    parser.run(0, len(text), frozenset(MARKERS))
    return Marked("".join(parser.out), tuple(parser.spans))


def marked_text(reply: Reply) -> Marked:
    """A reply's text as :class:`Marked`: parsed when the reply says it is in the
    markup (``Reply.markup``), else all plain, exactly as written."""
    return parse(reply.text) if reply.markup else Marked(reply.text)


def readable(marked: Marked) -> str:
    """The plain text with each link's address after its text, in brackets (where
    spans cannot be drawn: the console)."""
    text = marked.plain
    links = [s for s in marked.spans if s.kind == "link" and s.url]
    for span in sorted(links, key=lambda s: s.end, reverse=True):
        if text[span.start : span.end] != span.url:
            text = f"{text[: span.end]} ({span.url}){text[span.end :]}"
    return text


def _word(char: str) -> bool:
    return char.isalnum()


class _Parser:
    """One parse: the text, the plain text so far and the spans (outer first)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.length = 0
        self.spans: list[Span] = []
        # (marker, end) → where a search for its closer found none up to: a later
        # opener of it before there finds none either (keeps a parse linear).
        self.unclosed: dict[tuple[str, int], int] = {}

    def emit(self, piece: str) -> None:
        self.out.append(piece)
        self.length += len(piece)

    def run(self, i: int, end: int, markers: frozenset[str]) -> None:
        """Plain text and spans of ``text[i:end]``; ``markers`` may open here."""
        text = self.text
        while i < end:
            link = self.link(i, end)
            if link is not None:
                start = self.length
                self.emit(link.group(1))
                self.spans.append(Span("link", start, self.length, link.group(2)))
                i = link.end()
                continue
            skip = _bare_url(text, i, end)
            close = self.closer(i, end) if text[i] in markers and self.opens(i, end) else None
            if skip is not None or close is None:
                stop = skip if skip is not None else i + 1
                self.emit(text[i:stop])
                i = stop
                continue
            index, start = len(self.spans), self.length
            self.spans.append(Span(MARKERS[text[i]], start, start))  # its end comes below
            self.run(i + 1, close, markers - {text[i]})
            self.spans[index] = Span(MARKERS[text[i]], start, self.length)
            i = close + 1

    def opens(self, i: int, end: int) -> bool:
        """The marker at ``i`` can open: at a word's start, before a non-space."""
        text, marker = self.text, self.text[i]
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < end else " "
        return not _word(before) and before != marker and not after.isspace() and after != marker

    def link(self, i: int, end: int) -> re.Match[str] | None:
        """A well-formed link at ``i``, ending before ``end``."""
        found = _LINK.match(self.text, i, end) if self.text[i] == "[" else None
        return found if found is not None and is_web_link(found.group(2)) else None

    def closer(self, i: int, end: int) -> int | None:
        """Where the marker opened at ``i`` closes before ``end`` (links and bare
        addresses skipped, the same line); None when it does not."""
        text, marker = self.text, self.text[i]
        if i < self.unclosed.get((marker, end), -1):
            return None
        j = i + 1
        while j < end and text[j] != "\n":
            link = self.link(j, end)
            skip = link.end() if link is not None else _bare_url(text, j, end)
            if skip is not None:
                j = skip
                continue
            if text[j] == marker and j > i + 1 and self.closes(j):
                return j
            j += 1
        self.unclosed[(marker, end)] = j
        return None

    def closes(self, j: int) -> bool:
        """The marker at ``j`` can close: after a non-space, at a word's end."""
        text, marker = self.text, self.text[j]
        before = text[j - 1]
        after = text[j + 1] if j + 1 < len(text) else " "
        return not before.isspace() and before != marker and not _word(after) and after != marker


def _bare_url(text: str, i: int, end: int) -> int | None:
    """The end of a bare http(s) address starting at ``i`` (a marker right after it
    not included), or None."""
    if text[i] != "h" or (i > 0 and _word(text[i - 1])):
        return None
    found = _BARE_URL.match(text, i, end)
    if found is None:
        return None
    stop = found.end()
    while stop > i and text[stop - 1] in MARKERS:
        stop -= 1
    return stop
