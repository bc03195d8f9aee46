"""/bericht: a verbinder composes an announcement, step by step, and sends it.

A declared flow (:mod:`bot.core.flow`) over :class:`ComposeData`, with stamped
buttons (``bc:<run>:<turn>:<code>``): an old, second or forged press is refused
and changes nothing, so a second "Versturen" sends nothing twice. The steps:

audience → (a picker: roles, gemeenten, organisations, topics) → topic → text →
extra (a picture, a file or a link button; or nothing) → link → preview → when /
edit → the end.

The preview is the announcement exactly as recipients see it (the engine's
``announcement_reply``), with who gets it per platform and who is left out and why.
"Versturen" creates it with ``ctx.db.announcements.create``; the engine sends it
and reports to this chat. Who gets it can also be typed as an audience expression
(``role:gangmaker,gemeente:leiden``). Only verbinders open it (``admin_only``);
sending checks again.

Also here: the unsubscribe tap under every announcement (``afmelden:<id>``), for
anyone, and a picture or file sent while the composer waits for one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot.broadcast.audience import EVERYONE as ALL
from bot.broadcast.audience import Audience, AudienceError
from bot.broadcast.render import TEXT_LIMIT, shown_length, topic_name
from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Open, Step
from bot.core.messages import (
    FileKind,
    Incoming,
    PressOutcome,
    PrivateChatInvite,
    Reply,
    is_web_link,
)
from bot.core.router import Handler
from bot.people.vocab import TOPICS
from handlers import broadcast_audience as audience
from handlers import broadcast_preview as preview
from handlers.broadcast_audience import BACK, NAME, PICK_STEPS, PICKS, STOP, ComposeData, unclear
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word

LABEL_LIMIT = 40  # characters on a link button
CONSOLE = "console"  # the terminal: a file is attached with /bijlage <pad>
MEGABYTE = 1024 * 1024
# [tekst](adres) in a text: the address must be a web link to become a link.
_MARKED_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\s]*)\)")
UNSUBSCRIBE = "afmelden"  # the action prefix of the tap under an announcement

EVERYONE = Action("everyone", "ae", label="compose.everyone")
BY = {
    kind: Action(f"by_{kind}", code, label=f"compose.by.{kind}")
    for kind, code in zip(PICKS, ("ar", "ag", "ao", "at"), strict=True)
}
GROUPS = Action("groups", "ak", label="compose.groups_add")
CLEAR = Action("clear", "ac", label="compose.clear")
NEXT = Action("next", "n", label="compose.next", words=("done",))
# At the text step: keep the text there is (after Wijzigen); "klaar" typed says it too.
KEEP_TEXT = Action("keep_text", "tk", label="compose.text_keep", words=("done",))
TOPIC = {
    code: Action(f"topic_{n}", f"u{n}", label=f"compose.topics.{code}")
    for n, code in enumerate(TOPICS)
}
LINK = Action("link", "el", label="compose.extra_link")
NO_EXTRA = Action("no_extra", "e0", label="compose.extra_none", words=("no", "skip"))
DROP = Action("drop", "e9", label="compose.extra_drop")


# -- entry points -------------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/bericht: in a private chat only, so a group does not see it half-way. After
    one was sent, a new one begins."""
    if not msg.is_private:
        invite = PrivateChatInvite("bericht", ctx.t("compose.private_button"))
        return [Reply(text=ctx.t("compose.private_only"), private_invite=invite)]
    if _sent(ctx) is not None:
        await ctx.clear_state()
    return await FLOW.open(ctx)


def _sent(ctx: Context) -> ComposeData | None:
    """The composed announcement, when the open conversation is at ``sent``."""
    try:
        open_ = FLOW.current(ctx)
    except ValueError:
        return None
    return open_.data if open_ is not None and open_.step == preview.SENT else None


async def _stale(ctx: Context) -> list[Reply]:
    """An old button: after sending, "it was sent already"; else the flow's line."""
    sent = _sent(ctx)
    if sent is not None and ctx.is_admin:
        return [preview.already_sent(ctx, sent)]
    return await stale_or_refused(NAME, "compose.stale")(ctx)


class Composer(Flow[ComposeData]):
    """The composer's flow. Once sent it stays at ``sent`` only to answer a second
    Versturen ("it was sent already"); anything else typed then is not for the
    composer any more: the conversation ends and the text goes where it would have."""

    async def typed(self, msg: Incoming, ctx: Context) -> list[Reply]:
        sent = _sent(ctx)
        if sent is None:
            return await super().typed(msg, ctx)
        if preview.says_send(ctx, msg.text):
            return [preview.already_sent(ctx, sent)]
        await ctx.clear_state()
        router = ctx.router
        return await router.dispatch(msg, ctx) if router is not None else []


def first(ctx: Context) -> tuple[str, ComposeData]:
    return "audience", ComposeData()


def stopped(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    return Go(None, say=(Reply(text=ctx.t("compose.cancelled")),))


# -- what each step asks --------------------------------------------------------------


def _ask_audience(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    text = "\n\n".join((ctx.t("compose.audience"), audience.summary(ctx, data)))
    groups = b(GROUPS, key="compose.groups_remove" if data.groups else None)
    more = (b(NEXT), b(CLEAR)) if data.chosen else ()
    choices = (b(EVERYONE), *(b(BY[kind]) for kind in PICKS), groups, *more, b(STOP))
    return Reply(text=text, choices=choices)


def _ask_topic(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    return Reply(
        text=ctx.t("compose.topic"),
        choices=(*(b(TOPIC[code]) for code in TOPICS), *b.back("topic", data), b(STOP)),
    )


def _ask_text(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    """The text to type; when there is one already (an edit), it is shown, and kept
    with a tap (or "klaar")."""
    ask = ctx.t("compose.text", limit=TEXT_LIMIT)
    if not data.text:
        return Reply(text=ask, choices=(b(BACK), b(STOP)))
    current = ctx.t("compose.text_current", text=data.text)
    return Reply(text="\n\n".join((ask, current)), choices=(b(KEEP_TEXT), b(BACK), b(STOP)))


def _ask_extra(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    lines, choices = [ctx.t("compose.extra")], [b(LINK), b(NO_EXTRA)]
    if ctx.person.platform == CONSOLE:  # no paperclip in a terminal
        lines.append(ctx.t("compose.extra_console"))
    if data.attachment is not None:
        lines.append(ctx.t("compose.extra_current", what=preview.describe(ctx, data.attachment)))
        choices = [b(LINK), b(NO_EXTRA, key="compose.extra_keep"), b(DROP)]
    return Reply(text="\n\n".join(lines), choices=(*choices, b(BACK), b(STOP)))


def _ask_link(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("compose.link", limit=LABEL_LIMIT), choices=(b(BACK), b(STOP)))


async def _next(ctx: Context, data: ComposeData, step: str) -> Go[ComposeData]:
    """The next step, or back to the preview once it has been shown (an edit)."""
    return await preview.to_preview(ctx, data) if data.review else Go(step, data)


# -- what each answer does ------------------------------------------------------------


async def on_audience(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    name = answer.action
    picker = next((kind for kind, action in BY.items() if action.name == name), None)
    if picker is not None:
        return audience.open_picker(picker, data)
    if name == EVERYONE.name:
        return Go("audience", data.with_audience(Audience(everyone=True, groups=data.groups)))
    if name == GROUPS.name:
        return Go("audience", replace(data, groups=not data.groups))
    if name == CLEAR.name:
        return Go("audience", data.with_audience(Audience()))
    if name == NEXT.name:
        return (
            await _after_audience(ctx, data)
            if data.chosen
            else unclear("audience", ctx, "compose.audience_empty")
        )
    if name is None and answer.text:
        return await _typed_audience(ctx, data, answer.text)
    return unclear("audience", ctx)


async def _typed_audience(ctx: Context, data: ComposeData, text: str) -> Go[ComposeData]:
    """An audience expression: ``role:gangmaker,gemeente:leiden``; the buttons' names
    are understood too (``rol:Gangmakers``, ``gemeente:Leiden en Teylingen``)."""
    try:
        chosen = Audience.parse(
            text,
            gemeenten=audience.options("gemeenten"),
            organisations=audience.options("organisations"),
            labels=audience.labels(ctx),
        )
    except AudienceError as exc:
        if not exc.word:
            return unclear("audience", ctx, "compose.audience_empty")
        if exc.word == ALL:  # everyone, and a filter too: which of the two?
            return unclear("audience", ctx, "compose.audience_everyone_and")
        return Go("audience", say=(Reply(text=audience.not_known(ctx, exc)),))
    return await _after_audience(ctx, data.with_audience(chosen))


async def _after_audience(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    """An audience of one topic is about that topic; otherwise the topic is asked."""
    if not data.topic and len(data.topics) == 1:
        data = replace(data, topic=data.topics[0])
    return await _next(ctx, data, "text" if data.topic else "topic")


async def on_topic(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    code = next((c for c, action in TOPIC.items() if action.name == answer.action), None)
    if code is None:
        return unclear("topic", ctx)
    return await _next(ctx, replace(data, topic=code), "text")


def text_problem(ctx: Context, text: str) -> Reply | None:
    """Why ``text`` (stripped) cannot be an announcement's text; None when it can."""
    if not text:
        return Reply(text=ctx.t("compose.text_empty"))
    length = shown_length(text)  # as recipients see it: the markup's markers not counted
    if length > TEXT_LIMIT:
        return Reply(text=ctx.t("compose.text_too_long", length=length, limit=TEXT_LIMIT))
    return None


def link_warnings(ctx: Context, text: str) -> tuple[Reply, ...]:
    """A warning for each ``[tekst](adres)`` whose address is no web link: it stays
    as typed, not a link (the text is taken all the same)."""
    return tuple(
        Reply(text=ctx.t("compose.text_link_not_web", link=found.group(0), url=found.group(2)))
        for found in _MARKED_LINK.finditer(text)
        if not is_web_link(found.group(2))
    )


async def on_text(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == KEEP_TEXT.name:  # "klaar": go on with the text there is
        return (
            await _next(ctx, data, "extra")
            if data.text
            else unclear("text", ctx, "compose.text_empty")
        )
    text = (answer.text or "").strip()
    problem = text_problem(ctx, text)
    if problem is not None:
        return Go("text", say=(problem,))
    go = await _next(ctx, replace(data, text=text), "extra")
    return replace(go, say=(*link_warnings(ctx, text), *go.say))


async def on_extra(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == LINK.name:
        return Go("link")
    if answer.action == NO_EXTRA.name:
        return await preview.to_preview(ctx, data)
    if answer.action == DROP.name:
        return Go("extra", replace(data, attachment=None))
    if answer.action is None and (answer.text or "").lstrip().startswith("http"):
        return await on_link(ctx, data, answer)  # a link typed straight away
    return unclear("extra", ctx, "compose.extra_unclear")


async def on_link(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    """``https://… Lees meer``: the link, then the text on the button."""
    url, *words = (answer.text or "").split(maxsplit=1) or [""]
    if not is_web_link(url):
        return unclear("link", ctx, "compose.link_bad")
    label = " ".join(" ".join(words).split()) or ctx.t("compose.link_label")
    if len(label) > LABEL_LIMIT:
        return unclear("link", ctx, "compose.link_label_long", limit=LABEL_LIMIT)
    return await preview.to_preview(
        ctx, replace(data, attachment={"kind": "link", "url": url, "name": label})
    )


# -- back: where each step leads back to ---------------------------------------------


def _back_to(step: str) -> Callable[[ComposeData], tuple[str, ComposeData]]:
    return lambda data: (step, data)


def _text_back(data: ComposeData) -> tuple[str, ComposeData]:
    return ("topic" if not data.topics or len(data.topics) > 1 else "audience"), data


FLOW: Flow[ComposeData] = Composer(
    name=NAME,
    prefix="bc",
    data=ComposeData,
    steps=[
        Step(
            "audience",
            verbinders_only(NAME, on_audience),
            _ask_audience,
            (STOP, EVERYONE, *BY.values(), GROUPS, CLEAR, NEXT),
        ),
        *PICK_STEPS,
        Step(
            "topic",
            verbinders_only(NAME, on_topic),
            _ask_topic,
            (STOP, BACK, *TOPIC.values()),
            back=_back_to("audience"),
        ),
        Step(
            "text",
            verbinders_only(NAME, on_text),
            _ask_text,
            (STOP, BACK, KEEP_TEXT),
            back=_text_back,
        ),
        Step(
            "extra",
            verbinders_only(NAME, on_extra),
            _ask_extra,
            (STOP, BACK, LINK, NO_EXTRA, DROP),
            back=_back_to("text"),
        ),
        Step(
            "link", verbinders_only(NAME, on_link), _ask_link, (STOP, BACK), back=_back_to("extra")
        ),
        *preview.STEPS,
    ],
    stale="compose.stale",
    on_stale=_stale,
    ttl=timedelta(days=2),
    means=typed_word,
    first=first,
    stop=STOP,
    stopped=stopped,
    back=BACK,
    at_first="compose.first",
)
ACTIONS = FLOW.legend()


# -- a picture or file, while the composer waits for one -------------------------------


def with_attachments(otherwise: Handler) -> Handler:
    """The router's answer to a picture or file (``Kind.UNSUPPORTED``): the
    composer's while one is open, ``otherwise`` anywhere else."""

    async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
        state = ctx.state
        if msg.attachment is None or state is None or state.flow != FLOW.name:
            return await otherwise(msg, ctx)
        if not ctx.is_admin:
            return await refuse(ctx, f"file={NAME}")
        try:
            open_ = FLOW.current(ctx)
        except ValueError:
            return await otherwise(msg, ctx)
        if open_ is None or open_.step == preview.SENT:
            return await otherwise(msg, ctx)
        return await _attached(msg, ctx, open_)

    return handle


async def _attached(msg: Incoming, ctx: Context, open_: Open[ComposeData]) -> list[Reply]:
    """At the extra step: the picture or file; at the text step, with a caption: the
    caption is the text and the picture comes with it. Then the preview."""
    data, sent, caption = open_.data, msg.attachment, msg.text.strip()
    if open_.step == "text" and caption:
        problem = text_problem(ctx, caption)
        if problem is not None:
            return await _again(ctx, problem)
        data = replace(data, text=caption)
    elif open_.step != "extra":
        return await _again(ctx, Reply(text=ctx.t("compose.attachment_not_now")))
    if sent is None or sent.too_large or sent.path is None:
        key = "compose.file_too_large" if sent and sent.too_large else "compose.file_missing"
        limit = f"{ctx.settings.media_max_bytes / MEGABYTE:.3g} MB"
        return await _again(ctx, Reply(text=ctx.t(key, limit=limit)))
    kind = "image" if sent.kind is FileKind.IMAGE else "document"
    name = sent.filename or sent.path.name
    attached = {"kind": kind, "path": str(sent.path), "name": name}
    go = await preview.to_preview(ctx, replace(data, attachment=attached))
    return await FLOW.move(ctx, "preview", go.data or data, open_.stamp, go.say)


async def _again(ctx: Context, say: Reply) -> list[Reply]:
    """Say why, and ask the open step again."""
    return await FLOW.again(ctx, [say]) or [say]


# -- the unsubscribe tap under an announcement --------------------------------------------


async def unsubscribe(msg: Incoming, ctx: Context) -> list[Reply]:
    """``afmelden:<id>``: no more announcements on that announcement's topic, for
    whoever taps it; ``/profiel`` turns it back on. ``afmelden:0`` is the preview's."""
    raw = (msg.action or "").partition(":")[2]
    if raw == "0":
        return [Reply(text=ctx.t("compose.unsubscribe_preview"))]
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else 0
    topic = await ctx.db.announcements.unsubscribe(ctx.person.id, number) if number else None
    if topic is None:
        stale = PressOutcome.STALE
        return [Reply(text=ctx.t("compose.unsubscribe_unknown"), press_outcome=stale)]
    name = topic_name(ctx.texts, ctx.lang, topic)
    return [Reply(text=ctx.t("compose.unsubscribed", topic=name))]
