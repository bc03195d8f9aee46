"""Telegram's rendering rules as plain functions: no SDK import, easy to test.

- Text goes out with ``parse_mode=HTML``; everything we send is escaped first, so
  a ``<``, ``&`` or ``*`` in content or in a person's words shows as typed. Text in
  the light markup (``Reply.markup``) is parsed first; its spans become ``<b>``,
  ``<i>`` and ``<a href>`` around the escaped pieces, per message part after the split.
- A message holds at most 4,096 characters and a caption 1,024, counted after
  entity parsing in UTF-16 code units (an emoji can count twice). Longer text is
  split on paragraph boundaries, then lines, then words.
- Callback data is 1 to 64 bytes.
- Deep links are ``https://t.me/<bot>?start=<payload>``, payload ``[A-Za-z0-9_-]{1,64}``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.core.markup import Marked, Span
from bot.core.messages import Choice

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Buttons in one row: at most this many, and this many characters of labels together.
ROW_BUTTONS = 3
ROW_CHARACTERS = 30
SCORE_ROW = 6  # 0-5 and 6-10: fits a phone screen


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Plain text → Telegram HTML (only &, < and > are special there)."""
    return html.escape(text, quote=False)


def _hard_cut(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for char in text:
        if utf16_len(current + char) > limit:
            parts.append(current)
            current = ""
        current += char
    if current:
        parts.append(current)
    return parts


def _pack(pieces: Sequence[str], joiner: str, limit: int, finer: list[str]) -> list[str]:
    """Join pieces into chunks of at most ``limit``; a piece too big on its own is
    split with the next finer separator."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if utf16_len(piece) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_split(piece, limit, finer))
            continue
        candidate = f"{current}{joiner}{piece}" if current else piece
        if utf16_len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _split(text: str, limit: int, separators: list[str]) -> list[str]:
    if utf16_len(text) <= limit:
        return [text]
    if not separators:
        return _hard_cut(text, limit)
    separator, finer = separators[0], separators[1:]
    return _pack(text.split(separator), separator, limit, finer)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split plain text into messages of at most ``limit`` characters: between
    paragraphs where possible, else between lines, else between words."""
    chunks = _split(text.strip("\n"), limit, ["\n\n", "\n", " "])
    return [chunk for chunk in (c.strip("\n") for c in chunks) if chunk.strip()]


def split_marked(marked: Marked, limit: int = MESSAGE_LIMIT) -> list[Marked]:
    """:func:`split_text` for marked text: the same parts of the plain text, each with
    the spans that reach into it cut to fit (a span across a split is in both)."""
    parts: list[Marked] = []
    position = 0
    for chunk in split_text(marked.plain, limit):
        start = marked.plain.index(chunk, position)  # the parts are in order
        position = start + len(chunk)
        parts.append(marked.slice(start, position))
    return parts


def _tag(span: Span, closing: bool = False) -> str:
    name = {"bold": "b", "italic": "i", "link": "a"}[span.kind]
    if closing:
        return f"</{name}>"
    if span.kind == "link" and span.url:
        return f'<a href="{html.escape(span.url, quote=True)}">'
    return f"<{name}>"


def to_html(marked: Marked) -> str:
    """Marked text → Telegram HTML: the plain pieces escaped, the spans as tags,
    nested as the spans are (a span that would cross another is closed and opened)."""
    bounds = sorted({0, len(marked.plain)} | {p for s in marked.spans for p in (s.start, s.end)})
    out: list[str] = []
    stack: list[Span] = []
    for here, following in zip(bounds, [*bounds[1:], len(marked.plain)], strict=True):
        ending = [i for i, span in enumerate(stack) if span.end <= here]
        depth = ending[0] if ending else len(stack)
        out.extend(_tag(span, closing=True) for span in reversed(stack[depth:]))
        reopened = [span for span in stack[depth:] if span.end > here]
        starting = [s for s in marked.spans if s.start == here and s.end > here]
        stack[depth:] = reopened + starting
        out.extend(_tag(span) for span in reopened + starting)
        out.append(escape(marked.plain[here:following]))
    return "".join(out)


def valid_callback_data(data: str | None) -> bool:
    if not data:
        return False
    size = len(data.encode())
    return size <= CALLBACK_DATA_LIMIT and data.isprintable()


def deep_link(username: str, payload: str) -> str | None:
    """The t.me link that opens a private chat and sends ``/start payload``."""
    if not username or not DEEP_LINK_PAYLOAD.fullmatch(payload):
        return None
    return f"https://t.me/{username}?start={payload}"


def keyboard_rows(choices: Sequence[Choice]) -> list[list[Choice]]:
    """Lay out choices for an inline keyboard: scores in rows of six, other
    buttons side by side while their labels are short, long ones on their own."""
    scores = [c for c in choices if c.label.isdigit()]
    others = [c for c in choices if not c.label.isdigit()]
    rows = [list(scores[i : i + SCORE_ROW]) for i in range(0, len(scores), SCORE_ROW)]
    row: list[Choice] = []
    for choice in others:
        width = sum(len(c.label) for c in row) + len(choice.label)
        if row and (len(row) >= ROW_BUTTONS or width > ROW_CHARACTERS):
            rows.append(row)
            row = []
        row.append(choice)
    if row:
        rows.append(row)
    return rows


def command_and_target(text: str) -> tuple[str, str | None]:
    """``/start@my_bot payload`` → (``start``, ``my_bot``); no target → None."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    name, _, target = head.lstrip("/").partition("@")
    return name.lower(), (target or None)


def without_mention(text: str, username: str) -> str:
    """Remove ``@username`` (any case) from a message addressed to the bot."""
    pattern = re.compile(rf"@{re.escape(username)}\b", re.IGNORECASE)
    return re.sub(r"[ \t]{2,}", " ", pattern.sub("", text)).strip()
