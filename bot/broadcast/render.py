"""An announcement exactly as a recipient sees it; the preview uses the same function.

The text, the attachment (a picture, a file, or a link button), and in a private
chat one tap at the end to stop hearing about the announcement's topic
(``afmelden:<id>``, handled by the chat side). A group gets no such tap: one
member's tap cannot speak for the group.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.markup import parse
from bot.core.messages import Choice, Document, Image, Reply, is_web_link
from bot.core.texts import Texts
from bot.storage.repositories.announcements import Attachment

UNSUBSCRIBE_PREFIX = "afmelden"
TEXT_LIMIT = 4000  # characters of an announcement's text, as recipients see it


def shown_length(text: str) -> int:
    """The length of ``text`` as recipients read it: the markup's markers (``*``,
    ``_``, a link's address) do not count."""
    return len(parse(text).plain)


def topic_name(texts: Texts, language: str, topic: str) -> str:
    """How a topic reads in a sentence ("nieuws", "de agenda"); the code itself when
    the content has no name for it."""
    key = f"announce.topics.{topic}"
    return texts.get(language, key) if texts.has(key) else topic


def announcement_reply(
    texts: Texts,
    language: str,
    announcement_id: int,
    text: str,
    attachment: Attachment | None,
    topic: str,
    unsubscribe: bool = True,
) -> Reply:
    """The announcement as it goes out to one chat, in ``language``."""
    body = text
    choices: list[Choice] = []
    image: Image | None = None
    document: Document | None = None
    if attachment is not None and attachment.kind == "image" and attachment.path:
        image = Image(Path(attachment.path), texts.get(language, "announce.picture"))
    elif attachment is not None and attachment.kind == "document" and attachment.path:
        path = Path(attachment.path)
        document = Document(path, attachment.name or path.name)
    elif attachment is not None and attachment.kind == "link" and attachment.url:
        label = attachment.name or attachment.url
        if is_web_link(attachment.url):
            choices.append(Choice.link(label, attachment.url))
        else:  # not a link a button may open: shown as text, as typed
            body += "\n\n" + texts.get(language, "announce.link", label=label, url=attachment.url)
    if unsubscribe:
        label = texts.get(
            language, "announce.unsubscribe", topic=topic_name(texts, language, topic)
        )
        choices.append(Choice(label, f"{UNSUBSCRIBE_PREFIX}:{announcement_id}"))
    return Reply(text=body, choices=tuple(choices), image=image, document=document, markup=True)
