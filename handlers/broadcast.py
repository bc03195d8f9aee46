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

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.broadcast.audience import EVERYONE as ALL
from bot.broadcast.audience import Audience, AudienceError
from bot.broadcast.render import announcement_reply, topic_name
from bot.broadcast.when import PAST, parse_when
from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
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
from bot.storage.repositories.announcements import Attachment
from handlers import broadcast_audience as audience
from handlers.broadcast_audience import BACK, NAME, PICK_STEPS, PICKS, STOP, ComposeData
from handlers.verbinders import refuse, stale_or_refused, verbinders_only
from handlers.webview import typed_word

TEXT_LIMIT = 4000  # characters of an announcement's text
LABEL_LIMIT = 40  # characters on a link button
UNSUBSCRIBE = "afmelden"  # the action prefix of the tap under an announcement

EVERYONE = Action("everyone", "ae", label="compose.everyone")
BY = {
    kind: Action(f"by_{kind}", code, label=f"compose.by.{kind}")
    for kind, code in zip(PICKS, ("ar", "ag", "ao", "at"), strict=True)
}
GROUPS = Action("groups", "ak", label="compose.groups_add")
CLEAR = Action("clear", "ac", label="compose.clear")
NEXT = Action("next", "n", label="compose.next")
TOPIC = {
    code: Action(f"topic_{n}", f"u{n}", label=f"compose.topics.{code}")
    for n, code in enumerate(TOPICS)
}
LINK = Action("link", "el", label="compose.extra_link")
NO_EXTRA = Action("no_extra", "e0", label="compose.extra_none", words=("no", "skip"))
DROP = Action("drop", "e9", label="compose.extra_drop")
SEND = Action("send", "s", label="compose.send_now")
LATER = Action("later", "w", label="compose.later")
URGENT = Action("urgent", "u", label="compose.urgent_on")
EDIT = Action("edit", "e", label="compose.edit")
NOW = Action("now", "wn", label="compose.now")
EDITS = {
    "audience": Action("edit_audience", "ea", label="compose.edit_audience"),
    "topic": Action("edit_topic", "et", label="compose.edit_topic"),
    "text": Action("edit_text", "ex", label="compose.edit_text"),
    "extra": Action("edit_extra", "ee", label="compose.edit_extra"),
}
TO_PREVIEW = Action("to_preview", "ep", label="compose.to_preview")


# -- entry points -------------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/bericht: in a private chat only, so a group does not see it half-way."""
    if not msg.is_private:
        invite = PrivateChatInvite("bericht", ctx.t("compose.private_button"))
        return [Reply(text=ctx.t("compose.private_only"), private_invite=invite)]
    return await FLOW.open(ctx)


def first(ctx: Context) -> tuple[str, ComposeData]:
    return "audience", ComposeData()


def stopped(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    return Go(None, say=(Reply(text=ctx.t("compose.cancelled")),))


def _unclear(
    step: str, ctx: Context, key: str = "compose.unclear", **params: object
) -> Go[ComposeData]:
    return Go(step, say=(Reply(text=ctx.t(key, **params)),))


def moment(ctx: Context, at: datetime) -> str:
    """A moment as a verbinder reads it, in ``TIMEZONE``: "13-03-2026 om 10:00"."""
    local = at.astimezone(ctx.settings.zone)
    return ctx.t("compose.moment", date=local.strftime("%d-%m-%Y"), time=local.strftime("%H:%M"))


def _local(ctx: Context, data: ComposeData) -> str:
    return "" if data.send_at is None else moment(ctx, data.send_at)


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
    return Reply(text=ctx.t("compose.text", limit=TEXT_LIMIT), choices=(b(BACK), b(STOP)))


def _ask_extra(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    lines, choices = [ctx.t("compose.extra")], [b(LINK), b(NO_EXTRA)]
    if data.attachment is not None:
        lines.append(ctx.t("compose.extra_current", what=_describe(ctx, data.attachment)))
        choices = [b(LINK), b(NO_EXTRA, key="compose.extra_keep"), b(DROP)]
    return Reply(text="\n\n".join(lines), choices=(*choices, b(BACK), b(STOP)))


def _ask_link(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("compose.link", limit=LABEL_LIMIT), choices=(b(BACK), b(STOP)))


def _ask_preview(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    when = _local(ctx, data)
    lines = [ctx.t("compose.confirm_at", when=when) if when else ctx.t("compose.confirm_now")]
    lines.append(ctx.t("compose.urgent_yes" if data.urgent else "compose.urgent_no"))
    send = b(SEND, key="compose.send_at" if when else None)
    urgent = b(URGENT, key="compose.urgent_off" if data.urgent else None)
    return Reply(text="\n".join(lines), choices=(send, b(LATER), urgent, b(EDIT), b(STOP)))


def _ask_when(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("compose.when"), choices=(b(NOW), b(BACK), b(STOP)))


def _ask_edit(ctx: Context, data: ComposeData, b: Buttons) -> Reply:
    edits = tuple(b(action) for action in EDITS.values())
    return Reply(text=ctx.t("compose.edit_what"), choices=(*edits, b(TO_PREVIEW), b(STOP)))


# -- the preview ---------------------------------------------------------------------


def attachment_of(data: ComposeData) -> Attachment | None:
    raw = data.attachment
    if raw is None:
        return None
    return Attachment(
        kind=raw["kind"], path=raw.get("path"), name=raw.get("name"), url=raw.get("url")
    )


def _describe(ctx: Context, raw: dict[str, str]) -> str:
    shown = raw.get("name") or raw.get("url") or ""
    return ctx.t(f"compose.attachment.{raw['kind']}", name=shown)


def _counts(ctx: Context, per_platform: dict[str, int], left_out: dict[str, int]) -> str:
    total = sum(per_platform.values())
    if total == 0:
        lines = [ctx.t("compose.count_none")]
    else:
        platforms = ", ".join(
            f"{_platform(ctx, name)} {count}"
            for name, count in sorted(per_platform.items())
            if count
        )
        lines = [ctx.t("compose.count", total=total, platforms=platforms)]
    reasons = [
        ctx.t(f"compose.left_out.{reason}", count=count)
        for reason, count in left_out.items()
        if count and ctx.texts.has(f"compose.left_out.{reason}")
    ]
    if reasons:
        lines.append(ctx.t("compose.left_out_line", reasons=", ".join(reasons)))
    return "\n".join(lines)


def _platform(ctx: Context, name: str) -> str:
    key = f"compose.platforms.{name}"
    return ctx.t(key) if ctx.texts.has(key) else name


async def to_preview(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    """The announcement as recipients will see it, who gets it and who not; then
    what to do with it."""
    data = replace(data, review=True, options=())
    shown = announcement_reply(ctx.texts, ctx.lang, 0, data.text, attachment_of(data), data.topic)
    preview = await ctx.db.announcements.preview(data.audience(), data.topic)
    counts = Reply(text=_counts(ctx, preview.per_platform, preview.left_out))
    return Go("preview", data, (Reply(text=ctx.t("compose.preview")), shown, counts))


async def _next(ctx: Context, data: ComposeData, step: str) -> Go[ComposeData]:
    """The next step, or back to the preview once it has been shown (an edit)."""
    return await to_preview(ctx, data) if data.review else Go(step, data)


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
            else _unclear("audience", ctx, "compose.audience_empty")
        )
    if name is None and answer.text:
        return await _typed_audience(ctx, data, answer.text)
    return _unclear("audience", ctx)


async def _typed_audience(ctx: Context, data: ComposeData, text: str) -> Go[ComposeData]:
    """An audience expression: ``role:gangmaker,gemeente:leiden``."""
    try:
        chosen = Audience.parse(
            text,
            gemeenten=audience.options("gemeenten"),
            organisations=audience.options("organisations"),
        )
    except AudienceError as exc:
        if not exc.word:
            return _unclear("audience", ctx, "compose.audience_empty")
        if exc.word == ALL:  # everyone, and a filter too: which of the two?
            return _unclear("audience", ctx, "compose.audience_everyone_and")
        return _unclear("audience", ctx, "compose.audience_unknown", word=exc.word)
    return await _after_audience(ctx, data.with_audience(chosen))


async def _after_audience(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    """An audience of one topic is about that topic; otherwise the topic is asked."""
    if not data.topic and len(data.topics) == 1:
        data = replace(data, topic=data.topics[0])
    return await _next(ctx, data, "text" if data.topic else "topic")


async def on_topic(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    code = next((c for c, action in TOPIC.items() if action.name == answer.action), None)
    if code is None:
        return _unclear("topic", ctx)
    return await _next(ctx, replace(data, topic=code), "text")


async def on_text(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    text = (answer.text or "").strip()
    if not text:
        return _unclear("text", ctx, "compose.text_empty")
    if len(text) > TEXT_LIMIT:
        return _unclear("text", ctx, "compose.text_too_long", length=len(text), limit=TEXT_LIMIT)
    return await _next(ctx, replace(data, text=text), "extra")


async def on_extra(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == LINK.name:
        return Go("link")
    if answer.action == NO_EXTRA.name:
        return await to_preview(ctx, data)
    if answer.action == DROP.name:
        return Go("extra", replace(data, attachment=None))
    if answer.action is None and answer.text and answer.text.split()[0].startswith("http"):
        return await on_link(ctx, data, answer)  # a link typed straight away
    return _unclear("extra", ctx, "compose.extra_unclear")


async def on_link(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    """``https://… Lees meer``: the link, then the text on the button."""
    url, _, words = (answer.text or "").strip().partition(" ")
    if not is_web_link(url):
        return _unclear("link", ctx, "compose.link_bad")
    label = " ".join(words.split()) or ctx.t("compose.link_label")
    if len(label) > LABEL_LIMIT:
        return _unclear("link", ctx, "compose.link_label_long", limit=LABEL_LIMIT)
    return await to_preview(
        ctx, replace(data, attachment={"kind": "link", "url": url, "name": label})
    )


async def on_preview(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == SEND.name:
        return await _send(ctx, data)
    if answer.action == URGENT.name:
        return Go("preview", replace(data, urgent=not data.urgent))
    step = {LATER.name: "when", EDIT.name: "edit"}.get(answer.action or "")
    if step is not None:
        return Go(step)
    if answer.action is None and answer.text:  # a time typed straight away
        return await on_when(ctx, data, answer)
    return _unclear("preview", ctx)


async def on_when(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    if answer.action == NOW.name:
        return Go("preview", replace(data, send_at=None))
    now = ctx.clock.now()
    when = parse_when(answer.text or "", now, ctx.settings.zone)
    if when.at is None:
        key = "compose.when_past" if when.problem == PAST else "compose.when_unreadable"
        return _unclear("when", ctx, key)
    at = None if when.at <= now + timedelta(minutes=1) else when.at  # "nu": right away
    return Go("preview", replace(data, send_at=at))


async def on_edit(ctx: Context, data: ComposeData, answer: Answer) -> Go[ComposeData]:
    step = next((s for s, action in EDITS.items() if action.name == answer.action), None)
    if step is not None:
        return Go(step)
    if answer.action == TO_PREVIEW.name:
        return await to_preview(ctx, data)
    return _unclear("edit", ctx)


async def _send(ctx: Context, data: ComposeData) -> Go[ComposeData]:
    """Create the announcement; the engine sends it (now or at ``send_at``) and
    reports in this chat. The flow ends here, so a second press is stale."""
    now = ctx.clock.now()
    if data.send_at is not None and data.send_at <= now:
        return _unclear("when", ctx, "compose.when_past")
    repo, chosen = ctx.db.announcements, data.audience()
    preview = await repo.preview(chosen, data.topic)
    if preview.total == 0:
        return _unclear("preview", ctx, "compose.nobody")
    user = ctx.person
    number = await repo.create(
        created_by=user.id,
        audience=chosen,
        topic=data.topic,
        text=data.text,
        attachment=attachment_of(data),
        urgent=data.urgent,
        send_at=data.send_at or now,
        report_to=(user.platform, ctx.chat_id),
        now=now,
    )
    when = _local(ctx, data)
    key = "compose.created_at" if when else "compose.created_now"
    done = ctx.t(key, id=number, total=preview.total, when=when)
    return Go(None, say=(Reply(text=done),))


# -- back: where each step leads back to ---------------------------------------------


def _back_to(step: str) -> Callable[[ComposeData], tuple[str, ComposeData]]:
    return lambda data: (step, data)


def _text_back(data: ComposeData) -> tuple[str, ComposeData]:
    return ("topic" if not data.topics or len(data.topics) > 1 else "audience"), data


FLOW: Flow[ComposeData] = Flow(
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
        Step("text", verbinders_only(NAME, on_text), _ask_text, (STOP, BACK), back=_text_back),
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
        Step(
            "preview",
            verbinders_only(NAME, on_preview),
            _ask_preview,
            (STOP, SEND, LATER, URGENT, EDIT),
            back=_back_to("extra"),
        ),
        Step(
            "when",
            verbinders_only(NAME, on_when),
            _ask_when,
            (STOP, BACK, NOW),
            back=_back_to("preview"),
        ),
        Step(
            "edit", verbinders_only(NAME, on_edit), _ask_edit, (STOP, *EDITS.values(), TO_PREVIEW)
        ),
    ],
    stale="compose.stale",
    on_stale=stale_or_refused(NAME, "compose.stale"),
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
    composer's at its ``extra`` step, ``otherwise`` anywhere else."""

    async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
        state = ctx.state
        if msg.attachment is None or state is None or state.flow != FLOW.name:
            return await otherwise(msg, ctx)
        return await _attached(msg, ctx)

    return handle


async def _attached(msg: Incoming, ctx: Context) -> list[Reply]:
    try:
        open_ = FLOW.current(ctx)
    except ValueError:
        open_ = None
    sent = msg.attachment
    if not ctx.is_admin:
        return await refuse(ctx, f"file={NAME}")
    if open_ is None or sent is None or open_.step != "extra":
        again = await FLOW.again(ctx, [Reply(text=ctx.t("compose.attachment_not_now"))])
        return again or [Reply(text=ctx.t("compose.attachment_not_now"))]
    if sent.too_large or sent.path is None:
        key = "compose.file_too_large" if sent.too_large else "compose.file_missing"
        return await FLOW.again(ctx, [Reply(text=ctx.t(key))]) or []
    kind = "image" if sent.kind is FileKind.IMAGE else "document"
    name = sent.filename or sent.path.name
    go = await to_preview(
        ctx, replace(open_.data, attachment={"kind": kind, "path": str(sent.path), "name": name})
    )
    return await FLOW.move(ctx, "preview", go.data or open_.data, open_.stamp, go.say)


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
