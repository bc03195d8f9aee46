"""Slack's rendering rules as plain functions: the core's replies as Block Kit.

No network and no SDK: the Slack channel sends what these return.

- Text goes out as ``mrkdwn`` sections with ``verbatim`` on, so Slack adds nothing
  of its own (no mentions, no channel links); everything we send is escaped first
  (``&``, ``<``, ``>``), so ``<!channel>`` in a person's words stays text. Text in the
  light markup (``Reply.markup``) is parsed first; its spans become ``*bold*``,
  ``_italic_`` and ``<url|label>``. A bare http(s) address becomes ``<url>``, so it can
  be clicked (Telegram does that itself).
- A section's text holds at most 3,000 characters (counted as rendered, in UTF-16
  code units: an emoji can count twice), a message at most 50 blocks: longer text is
  split on paragraph boundaries, then lines, then words; more blocks become several
  messages, the buttons in the last one. Each message has a plain ``text`` for
  notifications.
- Choices are buttons in ``actions`` blocks of at most 25; ``action_id`` is ``c<n>``
  (``l<n>`` for a link button), unique per message; ``value`` is the choice's action
  data, validated going out (:func:`valid_value`) and coming back (:func:`value_of`).
- After a press (:func:`pressed`) the message keeps its text, loses its buttons and
  gets a context line "✓ <label>".
- Pictures and files are not blocks: :func:`uploads` says what the channel uploads
  (``files_upload_v2``). A :class:`~bot.core.messages.ShareLink` is left out, as in the
  console: Slack has no link that sends ``/start <payload>``, and the text says what to
  do without it. A private feature asked for in a channel is answered with
  :func:`dm_invite`: an ephemeral message with a button that opens the DM.

Slack has no way to escape ``*``, ``_`` or ``~`` in mrkdwn: text that is not in the
light markup but holds ``*so*`` at word boundaries shows bold in Slack.
"""

from __future__ import annotations

import bisect
import dataclasses
import html
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.markup import Marked, Span, marked_text
from bot.core.messages import Choice, Reply, is_web_link

Label = Callable[..., str]  # key, **params -> the sentence (Texts.get for a language)

SECTION_LIMIT = 3000  # characters of a section's text
BLOCK_LIMIT = 50  # blocks in one message
ACTIONS_LIMIT = 25  # elements in one actions block
VALUE_LIMIT = 2000  # characters of a button's value
BUTTON_TEXT_LIMIT = 75  # characters of a button's label
URL_LIMIT = 3000  # characters of a button's url
FALLBACK_LIMIT = 3000  # characters of a message's notification text we send
CHOICE_ID = re.compile(r"c[0-9]{1,4}")  # action_id of a choice button
LINK_ID = re.compile(r"l[0-9]{1,4}")  # action_id of a link button
# A bare address in the text; trailing punctuation is the sentence's, not the link's.
_BARE_URL = re.compile(r"https?://\S+")
_TRAILING = ".,;:!?)]}'\""
_DM_ID = re.compile(r"[A-Z0-9]{2,32}")  # Slack's team and app ids: T0123ABC, A0456DEF


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One Slack message: for ``chat.postMessage`` (``chat.update``, or
    ``chat.postEphemeral`` when ``ephemeral``)."""

    text: str  # the notification text: plain, escaped
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False

    def kwargs(self) -> dict[str, Any]:
        """The ``text`` and ``blocks`` arguments of the Web API call."""
        return {"text": self.text, "blocks": self.blocks}


@dataclass(frozen=True, slots=True)
class Upload:
    """A picture or file the channel uploads (``files_upload_v2``) after the messages."""

    path: Path
    filename: str
    title: str
    alt: str | None = None  # a picture's text alternative (``alt_txt``)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (the safe count: never less than characters)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Plain text → Slack text: only ``&``, ``<`` and ``>`` are special."""
    return html.escape(text, quote=False)


def _linked(text: str) -> str:
    """Escaped plain text, a bare http(s) address as ``<url>``."""
    out: list[str] = []
    position = 0
    for found in _BARE_URL.finditer(text):
        url = found.group().rstrip(_TRAILING)
        if not is_web_link(url) or (found.start() > 0 and text[found.start() - 1].isalnum()):
            continue
        out.append(escape(text[position : found.start()]))
        out.append(f"<{_url(url)}>")
        position = found.start() + len(url)
    out.append(escape(text[position:]))
    return "".join(out)


def _url(url: str) -> str:
    """An address inside ``<…>``: escaped, and ``|`` (the label's separator) encoded."""
    return escape(url).replace("|", "%7C")


def _tag(span: Span, closing: bool = False) -> str:
    if span.kind == "link":
        return ">" if closing else f"<{_url(span.url or '')}|"
    return "*" if span.kind == "bold" else "_"


def to_mrkdwn(marked: Marked) -> str:
    """Marked text → Slack mrkdwn: the plain pieces escaped, the spans as markers,
    nested as the spans are (a span that would cross another is closed and opened)."""
    spans = [s for s in marked.spans if s.end > s.start and (s.kind != "link" or s.url)]
    bounds = sorted({0, len(marked.plain)} | {p for s in spans for p in (s.start, s.end)})
    opening: dict[int, list[Span]] = {}
    for span in spans:  # outer before inner, as they come
        opening.setdefault(span.start, []).append(span)
    out: list[str] = []
    stack: list[Span] = []
    for here, following in zip(bounds, [*bounds[1:], len(marked.plain)], strict=True):
        ending = [i for i, span in enumerate(stack) if span.end <= here]
        depth = ending[0] if ending else len(stack)
        out.extend(_tag(span, closing=True) for span in reversed(stack[depth:]))
        reopened = [span for span in stack[depth:] if span.end > here]
        starting = opening.get(here, [])
        stack[depth:] = reopened + starting
        out.extend(_tag(span) for span in reopened + starting)
        piece = marked.plain[here:following]
        in_link = any(span.kind == "link" for span in stack)
        out.append(escape(piece) if in_link else _linked(piece))
    return "".join(out)


def _link_size(span: Span) -> int:
    """The rendered length of a link span with its text as plain characters."""
    return utf16_len(_url(span.url or "")) + 3 + (span.end - span.start)


class _Splitter:
    """Parts of a marked text whose mrkdwn fits ``limit``: between paragraphs where
    possible, else between lines, else between words, else anywhere."""

    def __init__(self, marked: Marked, limit: int) -> None:
        # The spans in order of their start (outer before inner, as parsed); with the
        # furthest end so far, the few that reach into a part are found by bisection.
        # A link that could not fit in any section (an address of thousands of "&")
        # is left as its plain text.
        spans = [s for s in marked.spans if s.kind != "link" or _link_size(s) <= limit]
        marked = Marked(marked.plain, tuple(sorted(spans, key=lambda s: s.start)))
        self.marked = marked
        self.limit = limit
        self.starts = [span.start for span in marked.spans]
        self.reach = list(itertools.accumulate((span.end for span in marked.spans), max))

    def fits(self, start: int, end: int) -> bool:
        # Rendered text is never shorter than the plain text: a cheap "no" first.
        if end - start > self.limit:
            return False
        first = bisect.bisect_right(self.reach, start)
        spans = self.marked.spans[first : bisect.bisect_left(self.starts, end)]
        part = Marked(self.marked.plain, spans).slice(start, end)
        return utf16_len(to_mrkdwn(part)) <= self.limit

    def ranges(self, start: int, end: int, separators: Sequence[str]) -> list[tuple[int, int]]:
        if self.fits(start, end):
            return [(start, end)]
        if not separators:
            return self.cut(start, end)
        separator, finer = separators[0], separators[1:]
        pieces: list[tuple[int, int]] = []
        here = start
        while (found := self.marked.plain.find(separator, here, end)) != -1:
            pieces.append((here, found))
            here = found + len(separator)
        pieces.append((here, end))
        ends = [piece_end for _, piece_end in pieces]
        chunks: list[tuple[int, int]] = []
        index = 0
        while index < len(pieces):
            first, last = pieces[index]
            if not self.fits(first, last):
                chunks.extend(self.ranges(first, last, finer))
                index += 1
                continue
            # The most pieces from here that fit together (a longer part never renders
            # shorter): searched among those whose plain text alone fits.
            low, high = index, bisect.bisect_right(ends, first + self.limit) - 1
            while low < high:
                middle = (low + high + 1) // 2
                if self.fits(first, ends[middle]):
                    low = middle
                else:
                    high = middle - 1
            chunks.append((first, ends[low]))
            index = low + 1
        return chunks

    def cut(self, start: int, end: int) -> list[tuple[int, int]]:
        """Cut anywhere: each part the longest that fits (at least one character)."""
        parts: list[tuple[int, int]] = []
        while start < end:
            # The longest fitting end lies in [low, high].
            low, high = start + 1, min(end, start + self.limit)
            while low < high:
                middle = (low + high + 1) // 2
                if self.fits(start, middle):
                    low = middle
                else:
                    high = middle - 1
            parts.append((start, low))
            start = low
        return parts


def _parts(marked: Marked, limit: int) -> list[tuple[str, str]]:
    """(section text, its plain text, not escaped) for each part of a marked text that fits
    ``limit``: whitespace at the ends of a part dropped, empty parts left out."""
    splitter = _Splitter(marked, limit)
    parts: list[tuple[str, str]] = []
    for start, end in splitter.ranges(0, len(marked.plain), ["\n\n", "\n", " "]):
        part = splitter.marked.slice(start, end).strip()
        if not part.plain:
            continue
        text = to_mrkdwn(part)
        if utf16_len(text) > limit:  # one character of a link whose address alone is too long
            text = escape(part.plain)
        parts.append((text, part.plain))
    return parts


def split_mrkdwn(marked: Marked, limit: int = SECTION_LIMIT) -> list[str]:
    """Marked text → section texts of at most ``limit`` characters (rendered, in UTF-16
    code units)."""
    return [text for text, _ in _parts(marked, limit)]


def valid_value(value: object) -> bool:
    """What a choice's action data may be, going out and coming back: text of 1 to
    64 bytes (a :class:`Choice` carries no more) and at most 2,000 characters (Slack's
    own limit), printable."""
    if not isinstance(value, str) or not value or len(value) > VALUE_LIMIT:
        return False
    return len(value.encode()) <= 64 and value.isprintable()


def _button_text(label: str) -> dict[str, Any]:
    text = label if len(label) <= BUTTON_TEXT_LIMIT else label[: BUTTON_TEXT_LIMIT - 1] + "…"
    return {"type": "plain_text", "text": text or "…", "emoji": True}


def _valid_url(url: str) -> bool:
    return len(url) <= URL_LIMIT and (is_web_link(url) or _slack_link(url))


def _slack_link(url: str) -> bool:
    return url.startswith("slack://") and url.isprintable() and " " not in url


def buttons(
    choices: Sequence[Choice], extra: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """``actions`` blocks for the choices (a choice whose data or link Slack would
    refuse is left out), then ``extra`` buttons, at most 25 to a block."""
    elements: list[dict[str, Any]] = []
    for number, choice in enumerate(choices, start=1):
        if choice.url is not None:
            if _valid_url(choice.url):
                elements.append(
                    {
                        "type": "button",
                        "text": _button_text(choice.label),
                        "action_id": f"l{number}",
                        "url": choice.url,
                    }
                )
        elif valid_value(choice.action):
            elements.append(
                {
                    "type": "button",
                    "text": _button_text(choice.label),
                    "action_id": f"c{number}",
                    "value": choice.action,
                }
            )
    elements.extend(extra)
    return [
        {"type": "actions", "elements": elements[i : i + ACTIONS_LIMIT]}
        for i in range(0, len(elements), ACTIONS_LIMIT)
    ]


def _fallback(texts: Sequence[str]) -> str:
    """The notification text: the plain text, shortened, then escaped."""
    text = "\n\n".join(texts)
    if len(text) > FALLBACK_LIMIT:
        text = text[: FALLBACK_LIMIT - 1].rstrip() + "…"
    return escape(text)


def _messages(
    marked: Marked, tail: list[dict[str, Any]], labels: Sequence[str]
) -> list[RenderedMessage]:
    """Sections of the text, then the ``tail`` blocks (buttons) in the last message,
    at most 50 blocks to a message."""
    parts = _parts(marked, SECTION_LIMIT)
    sections = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}
        for text, _ in parts
    ]
    plain = [text for _, text in parts]
    groups = [sections[i : i + BLOCK_LIMIT] for i in range(0, len(sections), BLOCK_LIMIT)]
    texts = [plain[i : i + BLOCK_LIMIT] for i in range(0, len(plain), BLOCK_LIMIT)]
    if groups and len(groups[-1]) + len(tail) <= BLOCK_LIMIT:
        groups[-1] = groups[-1] + tail
    else:
        for i in range(0, len(tail), BLOCK_LIMIT):
            groups.append(tail[i : i + BLOCK_LIMIT])
            texts.append([" · ".join(labels)])
    return [
        RenderedMessage(text=_fallback(group_texts) or "…", blocks=group)
        for group, group_texts in zip(groups, texts, strict=True)
    ]


def blocks(
    reply: Reply, *, dm_link: str | None = None, dm_label: str = ""
) -> list[RenderedMessage]:
    """A reply as Slack messages: its text as sections, its choices as buttons in the
    last one. With ``dm_link`` a reply that asks to go on in private
    (``Reply.private_invite``) gets a button that opens the DM, labelled with the
    invite's own label, else ``dm_label`` (``channels.slack.open_dm``). Pictures and
    files: :func:`uploads`."""
    extra: list[dict[str, Any]] = []
    invite = reply.private_invite
    if invite is not None and dm_link is not None and _valid_url(dm_link):
        label = invite.button_label or dm_label
        extra.append(_link_button(label, dm_link, len(reply.choices) + 1))
    tail = buttons(reply.choices, extra)
    labels = [c.label for c in reply.choices]
    return _messages(marked_text(reply), tail, labels)


def _link_button(label: str, link: str, number: int) -> dict[str, Any]:
    return {"type": "button", "text": _button_text(label), "action_id": f"l{number}", "url": link}


def dm_invite(
    text: str, link: str, *, t: Label, label: str = "", markup: bool = False
) -> list[RenderedMessage]:
    """The ephemeral answer in a channel to a private feature: ``text`` and a button
    that opens the DM at ``link`` (:func:`dm_link`, or an http(s) link), labelled
    ``label`` or else ``channels.slack.open_dm``. One message, unless the text needs
    more than 50 blocks: the button is in the last."""
    label = label or t("channels.slack.open_dm")
    if not _valid_url(link):
        raise ValueError("a DM link must be an http(s) or slack:// link")
    tail = [{"type": "actions", "elements": [_link_button(label, link, 1)]}]
    messages = _messages(marked_text(Reply(text, markup=markup)), tail, [label])
    return [dataclasses.replace(message, ephemeral=True) for message in messages]


def dm_link(team_id: str, app_id: str) -> str:
    """The link that opens the app's DM (its Messages tab) in the Slack app."""
    if not (_DM_ID.fullmatch(team_id) and _DM_ID.fullmatch(app_id)):
        raise ValueError("not a Slack team or app id")
    return f"slack://app?team={team_id}&id={app_id}&tab=messages"


def uploads(reply: Reply) -> list[Upload]:
    """The picture and file of a reply, for the channel to upload after its messages."""
    found: list[Upload] = []
    if reply.image is not None:
        image = reply.image
        found.append(Upload(image.path, image.path.name, image.alt, alt=image.alt))
    if reply.document is not None:
        document = reply.document
        found.append(Upload(document.path, document.filename, document.filename))
    return found


def pressed(
    blocks: Sequence[Mapping[str, Any]], label: str | None, *, t: Label
) -> list[dict[str, Any]]:
    """The blocks of a message after one of its buttons was pressed: the same text,
    no buttons, and "✓ <label>" below (``channels.slack.pressed``). Without a label
    (a stale press) only the buttons go. A message without buttons stays as it is."""
    kept = [dict(block) for block in blocks if block.get("type") != "actions"]
    if len(kept) == len(blocks) or not label:
        return kept
    line = t("channels.slack.pressed", label=label)
    kept.append(
        {"type": "context", "elements": [{"type": "plain_text", "text": line, "emoji": True}]}
    )
    return kept


def _action(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pressed action: ``payload`` is a block_actions body or one of its actions."""
    actions = payload.get("actions")
    if actions is None:
        return payload
    if isinstance(actions, list) and actions and isinstance(actions[0], Mapping):
        return actions[0]
    return None


def value_of(payload: Mapping[str, Any]) -> str | None:
    """The action data of a pressed choice button, validated; None for anything a
    choice could not have sent (another action id, no value, too long, control
    characters): the channel gives the polite stale reply."""
    action = _action(payload)
    if action is None or action.get("type", "button") != "button":
        return None
    if not isinstance(action.get("action_id"), str) or not CHOICE_ID.fullmatch(action["action_id"]):
        return None
    value = action.get("value")
    return value if valid_value(value) else None


def is_link_press(payload: Mapping[str, Any]) -> bool:
    """A link button was pressed: Slack tells the app, but there is nothing to do
    except acknowledge it (no stale reply)."""
    action = _action(payload)
    action_id = action.get("action_id") if action is not None else None
    return isinstance(action_id, str) and LINK_ID.fullmatch(action_id) is not None


def pressed_label(payload: Mapping[str, Any]) -> str | None:
    """The label of the pressed button, as Slack sends it back."""
    action = _action(payload)
    text = action.get("text") if action is not None else None
    label = text.get("text") if isinstance(text, Mapping) else None
    return label if isinstance(label, str) and label else None
