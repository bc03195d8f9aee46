"""The spinnenweb check-in: consent, questions, the picture, reflection, follow-up.

One conversation per private chat, kept in the (encrypted) conversation state
so it survives a restart and can be paused. Every prompt has a fresh ``turn``
number, and every button carries the run and turn it was made for
(``sw:<run>:<turn>:<op>``): a button from an older prompt, a second press, or
forged data does nothing but say so and show where the person is.

Steps: consent → mode → question (×6 or ×42) → result → reflect_offer →
reflect (×3) → followup → wish → done. ``paused`` and ``resume`` wrap them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from bot import charts
from bot.core.choices import pick
from bot.core.context import Context
from bot.core.messages import Choice, Image, Incoming, PressOutcome, PrivateChatInvite, Reply
from bot.core.state import State
from bot.spinnenweb.model import EXTENDED, SHORT, arrow, fmt, ordered
from bot.spinnenweb.records import CheckinRecord
from bot.spinnenweb.scores import Verdict, parse_score, week_vocabulary
from handlers import ask
from handlers.menu import menu_choices

log = logging.getLogger(__name__)

FLOW = "checkin"
ACTION = "sw"
STATE_TTL = timedelta(days=30)  # a paused check-in is kept this long
REFLECTION = ("noticed", "wish", "helpers")
FOLLOW_UP_WEEKS = (2, 4, 6, 12)
SUGGESTED_WEEKS = 6
WISH_AFTER = timedelta(days=14)


# -- entry points -------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/spinnenweb, the menu choice, and ``/start checkin`` (a deep link)."""
    if not msg.is_private:
        return [private_only(ctx, "checkin")]
    state = ctx.state
    if state is not None and state.flow == FLOW and state.step not in ("", "done"):
        data = dict(state.data)
        if state.step == "paused":
            data["resume_step"] = data.pop("paused_step", "question")
        elif state.step != "resume":
            data["resume_step"] = state.step
        return await _prompt(ctx, "resume", data)
    return await _new_run(ctx)


def private_only(ctx: Context, payload: str) -> Reply:
    """In a group: no health data here; invite to a private chat. The invitation lets
    a channel add a deep link (Telegram: t.me/<bot>?start=<payload>)."""
    command = "spinnenweb" if payload == "checkin" else payload
    return Reply(
        text=ctx.t("checkin.private_only", command=command),
        private_invite=PrivateChatInvite(payload, ctx.t("checkin.private_button")),
    )


async def _new_run(ctx: Context) -> list[Reply]:
    data: dict[str, Any] = {"run": secrets.token_hex(3), "turn": 0}
    user = ctx.person
    if user.consent_at is not None and user.consent_version == ctx.web.consent_version:
        data["store"] = True
        return await _prompt(ctx, "mode", data)
    return await _prompt(ctx, "consent", data)


# -- prompts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Op:
    run: str
    turn: int
    op: str


def _is_number(text: str) -> bool:
    """ASCII digits only: "²".isdigit() is true, but int("²") fails."""
    return text.isascii() and text.isdigit()


def _parse_action(action: str | None) -> Op | None:
    parts = (action or "").split(":")
    if len(parts) != 4 or parts[0] != ACTION or not _is_number(parts[2]):
        return None
    return Op(parts[1], int(parts[2]), parts[3])


def _button(ctx: Context, data: dict[str, Any], key: str, op: str, **params: object) -> Choice:
    return ctx.choice(key, f"{ACTION}:{data['run']}:{data['turn']}:{op}", **params)


async def _save(ctx: Context, step: str, data: dict[str, Any]) -> None:
    await ctx.set_state(State(flow=FLOW, step=step, data=data), ttl=STATE_TTL)


async def _prompt(
    ctx: Context, step: str, data: dict[str, Any], before: list[Reply] | None = None
) -> list[Reply]:
    """Move to ``step``, store it with a new turn, and ask what that step asks."""
    data["turn"] = int(data.get("turn", 0)) + 1
    await _save(ctx, step, data)
    return [*(before or []), _ask(ctx, step, data)]


def _ask(ctx: Context, step: str, data: dict[str, Any]) -> Reply:
    def b(key: str, op: str, **params: object) -> Choice:
        return _button(ctx, data, key, op, **params)

    if step == "consent":
        return Reply(
            text=ctx.t(
                "checkin.consent",
                months=ctx.settings.checkin_retention_months,
                hours=ctx.settings.generated_file_hours,
            ),
            choices=(b("checkin.consent_yes", "cy"), b("checkin.consent_no", "cn")),
        )
    if step == "mode":
        return Reply(
            text=ctx.t("checkin.choose_mode"),
            choices=(
                b("checkin.mode_short", "mk"),
                b("checkin.mode_long", "mu"),
                b("checkin.stop", "x"),
            ),
        )
    if step == "question":
        return _question(ctx, data)
    if step == "reflect_offer":
        return Reply(
            text=ctx.t("checkin.reflect_offer"),
            choices=(b("checkin.reflect_yes", "ry"), b("checkin.reflect_no", "rn")),
        )
    if step == "reflect":
        key = REFLECTION[int(data.get("rpos", 0))]
        return Reply(
            text=ctx.t(f"checkin.reflect.{key}"),
            choices=(b("checkin.skip", "s"), b("checkin.reflect_done", "rn")),
        )
    if step == "followup":
        options = _followup_options(ctx)
        return Reply(
            text=ctx.t("checkin.followup"),
            choices=tuple(
                Choice(label, f"{ACTION}:{data['run']}:{data['turn']}:{op}")
                for label, op, _ in options
            ),
            # The options carry their weeks: "2" is "Over 2 weken" on every channel.
            choice_numbers=tuple(weeks for _, _, weeks in options),
        )
    if step == "wish":
        wish = str(data.get("refl", {}).get("wish", ""))
        return Reply(
            text=ctx.t("checkin.wish_followup", wish=wish),
            choices=(b("checkin.yes", "wy"), b("checkin.no", "wn")),
        )
    if step == "resume":
        resume_step = str(data.get("resume_step", "question"))
        where = ""
        if resume_step == "question":
            where = ctx.t(
                "checkin.resume_where",
                number=int(data.get("pos", 0)) + 1,
                total=ctx.web.count(str(data.get("mode", SHORT))),
            )
        return Reply(
            text="\n".join(p for p in (ctx.t("checkin.resume"), where) if p),
            choices=(
                b("checkin.resume_continue", "r"),
                b("checkin.resume_restart", "n"),
                b("checkin.stop", "x"),
            ),
        )
    if step == "paused":
        return Reply(text=ctx.t("checkin.paused"), choices=(b("checkin.resume_continue", "r"),))
    raise ValueError(step)  # a step without a prompt is a programming error


def _followup_options(ctx: Context) -> list[tuple[str, str, int | None]]:
    """(label, op, weeks) of each reminder choice; "no reminder" carries no weeks."""
    options: list[tuple[str, str, int | None]] = [
        (
            ctx.t(
                "checkin.followup_weeks_suggested"
                if w == SUGGESTED_WEEKS
                else "checkin.followup_weeks",
                weeks=w,
            ),
            f"f{w}",
            w,
        )
        for w in FOLLOW_UP_WEEKS
    ]
    options.append((ctx.t("checkin.followup_never"), "f0", None))
    return options


def _question(ctx: Context, data: dict[str, Any]) -> Reply:
    web, lang = ctx.web, ctx.lang
    mode = str(data["mode"])
    position = int(data["pos"])
    question = web.question(mode, position)
    lines = []
    if position == 0 and not data.get("answers"):
        lines += [web.intro[lang], ""]
    lines.append(
        ctx.t(
            "checkin.progress",
            number=position + 1,
            total=web.count(mode),
            dimension=question.dimension.name[lang],
        )
    )
    if question.aspect is None:
        lines.append(question.dimension.explain[lang])
    lines.append(question.text(lang))
    earlier = data.get("answers", {}).get(question.id)
    if earlier is not None:
        lines.append(ctx.t("checkin.earlier", score=earlier))
    marked = question.id in data.get("marks", [])
    if marked:
        lines.append(ctx.t("checkin.marked"))
    choices = [_button(ctx, data, "checkin.score", str(n), score=n) for n in range(11)]
    if position > 0:
        choices.append(_button(ctx, data, "checkin.back", "b"))
    choices.append(_button(ctx, data, "checkin.unmark" if marked else "checkin.mark", "t"))
    choices.append(_button(ctx, data, "checkin.pause", "p"))
    choices.append(_button(ctx, data, "checkin.stop", "x"))
    return Reply(text="\n".join(lines), choices=tuple(choices))


# -- incoming: buttons and typed text ------------------------------------------


async def pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """A ``sw:`` button. Only the current prompt's buttons count."""
    op = _parse_action(msg.action)
    state = ctx.state
    if (
        op is None
        or state is None
        or state.flow != FLOW
        or state.data.get("run") != op.run
        or int(state.data.get("turn", -1)) != op.turn
    ):
        return await _stale(ctx)
    return await _step(ctx, state.step, dict(state.data), op.op, None)


async def typed(msg: Incoming, ctx: Context) -> list[Reply]:
    """Free text while a check-in is open: an answer, or a word like "terug"."""
    state = ctx.state
    if state is None or state.flow != FLOW:
        # The router sends text here only while a check-in is open. Checked at run
        # time (an assert is gone under python -O): without one, text is a question.
        log.warning("check-in text without an open check-in; answered as a question")
        return await ask.question(msg, ctx)
    if state.step == "paused":
        return await ask.question(msg, ctx)  # paused: text is a question as usual
    op = _word_op(ctx, state.step, msg.text)
    return await _step(ctx, state.step, dict(state.data), op, msg.text)


def _word_op(ctx: Context, step: str, text: str) -> str | None:
    """The button a typed word stands for in this step, or None."""
    web = ctx.web
    common = {"stop": "x"}
    per_step: dict[str, dict[str, str]] = {
        "consent": {"yes": "cy", "no": "cn"},
        "mode": {"short": "mk", "long": "mu"},
        "question": {"back": "b", "talk": "t", "pause": "p"},
        "reflect_offer": {"yes": "ry", "no": "rn", "skip": "rn"},
        "reflect": {"skip": "s"},
        "followup": {"no": "f0"},
        "wish": {"yes": "wy", "no": "wn"},
        "resume": {"resume": "r", "yes": "r", "restart": "n"},
    }
    for word, op in {**common, **per_step.get(step, {})}.items():
        if web.means(word, text):
            return "rn" if step == "reflect" and op == "x" else op
    if step == "followup":
        # The same rule as the console's (bot/core/choices.py): a label, or the
        # number of weeks an option carries, bare or with a unit ("2", "12 weken").
        # Positions ("1", "2") are not answers here: only the console shows them,
        # and it resolves them before the text gets here.
        options = _followup_options(ctx)
        index = pick(
            text,
            [label for label, _, _ in options],
            numbers=[weeks for _, _, weeks in options],
            vocabulary=week_vocabulary(web),
        )
        return None if index is None else options[index][1]
    return None


async def _step(
    ctx: Context, step: str, data: dict[str, Any], op: str | None, text: str | None
) -> list[Reply]:
    if op == "x":
        return await _stop(ctx, step, data)
    if step == "consent":
        if op in ("cy", "cn"):
            return await _consent(ctx, data, op == "cy")
    elif step == "mode":
        if op in ("mk", "mu"):
            data.update(mode=SHORT if op == "mk" else EXTENDED, pos=0, answers={}, marks=[])
            return await _prompt(ctx, "question", data)
    elif step == "question":
        return await _on_question(ctx, data, op, text)
    elif step == "reflect_offer":
        if op == "ry":
            data["rpos"] = 0
            return await _prompt(ctx, "reflect", data)
        if op == "rn":
            return await _after_reflection(ctx, data)
    elif step == "reflect":
        return await _on_reflection(ctx, data, op, text)
    elif step == "followup":
        if op is not None and op.startswith("f") and _is_number(op[1:]):
            weeks = int(op[1:])
            if weeks == 0 or weeks in FOLLOW_UP_WEEKS:
                return await _on_followup(ctx, data, weeks)
    elif step == "wish":
        if op in ("wy", "wn"):
            return await _on_wish(ctx, data, op == "wy")
    elif step == "resume":
        if op == "r":
            return await _prompt(ctx, str(data.pop("resume_step", "question")), data)
        if op == "n":
            return await _new_run(ctx)
    elif step == "paused" and op == "r":
        return await _prompt(ctx, str(data.pop("paused_step", "question")), data)
    # Not an answer this step understands: say so (how to answer) and ask again.
    unclear = "checkin.followup_unclear" if step == "followup" else "checkin.unclear"
    return await _prompt(ctx, step, data, [Reply(text=ctx.t(unclear))])


async def _stale(ctx: Context) -> list[Reply]:
    state = ctx.state
    if state is None or state.flow != FLOW:
        return [
            Reply(
                text=ctx.t("checkin.stale_none"),
                choices=(ctx.choice("checkin.start_again", "menu:spinnenweb"),),
                press_outcome=PressOutcome.STALE,
            )
        ]
    # Show the current prompt again with fresh buttons; nothing is recorded twice.
    return await _prompt(
        ctx,
        state.step,
        dict(state.data),
        [Reply(text=ctx.t("checkin.stale"), press_outcome=PressOutcome.STALE)],
    )


async def _consent(ctx: Context, data: dict[str, Any], given: bool) -> list[Reply]:
    now = ctx.clock.now()
    data["store"] = given
    if given:
        ctx.person.consent_at = now
        ctx.person.consent_version = ctx.web.consent_version
        await ctx.db.audit.record(now, "consent.given", ctx.person.id, ctx.web.consent_version)
        before = [Reply(text=ctx.t("checkin.consent_thanks"))]
    else:
        before = [Reply(text=ctx.t("checkin.consent_declined"))]
    return await _prompt(ctx, "mode", data, before)


async def _on_question(
    ctx: Context, data: dict[str, Any], op: str | None, text: str | None
) -> list[Reply]:
    web = ctx.web
    mode = str(data["mode"])
    position = int(data["pos"])
    question = web.question(mode, position)
    if op == "b":
        if position == 0:
            return await _prompt(ctx, "question", data, [Reply(text=ctx.t("checkin.first"))])
        data["pos"] = position - 1
        return await _prompt(ctx, "question", data)
    if op == "t":
        marks = list(data.get("marks", []))
        if question.id in marks:
            marks.remove(question.id)
        else:
            marks.append(question.id)
        data["marks"] = marks
        return await _prompt(ctx, "question", data)
    if op == "p":
        data["paused_step"] = "question"
        return await _prompt(ctx, "paused", data)
    score: int | None = None
    if op is not None and text is None:  # a button: a score 0-10, or forged data
        if not _is_number(op) or not 0 <= int(op) <= 10:
            return await _stale(ctx)
        score = int(op)
    elif text is not None:
        parsed = parse_score(text, web)
        if parsed.verdict is Verdict.OK:
            score = parsed.score
        else:
            key = {
                Verdict.OUT_OF_RANGE: "checkin.out_of_range",
                Verdict.NOT_WHOLE: "checkin.not_whole",
            }.get(parsed.verdict, "checkin.not_a_score")
            notice = ctx.t(key, score=parsed.score if parsed.score is not None else "")
            return await _prompt(ctx, "question", data, [Reply(text=notice)])
    if score is None:
        return await _prompt(ctx, "question", data, [Reply(text=ctx.t("checkin.not_a_score"))])
    answers = dict(data.get("answers", {}))
    answers[question.id] = score
    data["answers"] = answers
    if position + 1 < web.count(mode):
        data["pos"] = position + 1
        return await _prompt(ctx, "question", data)
    return await _result(ctx, data)


# -- the result ---------------------------------------------------------------


async def _result(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    web, user = ctx.web, ctx.person
    mode = str(data["mode"])
    now = ctx.clock.now()
    answers = {k: int(v) for k, v in data["answers"].items()}
    order = {q.id: i for i, q in enumerate(web.questions(mode))}
    record = CheckinRecord(
        id=0,
        taken_at=now,
        mode=mode,
        scores=web.scores(mode, answers),
        answers=answers,
        marked=sorted(data.get("marks", []), key=lambda q: order.get(q, 0)),
    )
    previous = await ctx.db.checkins.latest(user.id)
    if data.get("store"):
        await ctx.db.checkins.add(user.id, record, now)
        data["checkin"] = record.id
        await ctx.db.audit.record(now, "checkin.saved", user.id, mode)
    picture = await draw_web(ctx, record, previous, f"{data['run']}")
    summary = summary_text(ctx, record, previous)
    result = Reply(text=summary, image=picture)
    for key in ("answers", "marks", "pos"):
        data.pop(key, None)
    if not data.get("store"):
        await ctx.clear_state()
        return [result, Reply(text=ctx.t("checkin.forgotten"), choices=menu_choices(ctx))]
    return await _prompt(ctx, "reflect_offer", data, [result])


def local_date(ctx: Context, record: CheckinRecord) -> str:
    return record.taken_at.astimezone(ctx.settings.zone).strftime("%d-%m-%Y")


async def draw_web(
    ctx: Context, today: CheckinRecord, previous: CheckinRecord | None, name: str
) -> Image:
    """The spinnenweb picture, drawn off the event loop, with a text alternative."""
    web, lang = ctx.web, ctx.lang
    labels = [d.name[lang] for d in web.dimensions]
    legend = None
    if previous is not None:
        legend = (
            ctx.t("checkin.legend_today", date=local_date(ctx, today)),
            ctx.t("checkin.legend_previous", date=local_date(ctx, previous)),
        )
    draw = partial(
        charts.render_web,
        labels=labels,
        today=ordered(today.scores, web.dimensions),
        title=ctx.t("checkin.chart_title", date=local_date(ctx, today)),
        previous=ordered(previous.scores, web.dimensions) if previous else None,
        legend=legend,
    )
    path = await ctx.files.picture(ctx.person.id, name, draw)
    return Image(path=path, alt=ctx.t("checkin.chart_alt"))


def summary_text(ctx: Context, record: CheckinRecord, previous: CheckinRecord | None) -> str:
    """The scores in words, for screen readers and the console: six lines, the
    change since last time (↑ ↓ =), and the aspects marked to talk about."""
    web, lang = ctx.web, ctx.lang
    lines = [ctx.t("checkin.summary_title", date=local_date(ctx, record))]
    for dimension in web.dimensions:
        score = record.scores[dimension.id]
        before = previous.scores.get(dimension.id) if previous is not None else None
        if before is None:
            lines.append(
                ctx.t("checkin.summary_line", name=dimension.name[lang], score=fmt(score, lang))
            )
        else:
            lines.append(
                ctx.t(
                    "checkin.summary_line_change",
                    name=dimension.name[lang],
                    score=fmt(score, lang),
                    arrow=arrow(score, before),
                    before=fmt(before, lang),
                )
            )
    if previous is None:
        lines.append(ctx.t("checkin.summary_first"))
    else:
        lines.append(ctx.t("checkin.summary_since", date=local_date(ctx, previous)))
    if record.marked:
        names = web.names(lang)
        lines.append(
            ctx.t("checkin.summary_marked", items=", ".join(names.get(m, m) for m in record.marked))
        )
    lines.append(ctx.t("checkin.not_a_test"))
    return "\n".join(lines)


# -- reflection and follow-up ----------------------------------------------------


async def _on_reflection(
    ctx: Context, data: dict[str, Any], op: str | None, text: str | None
) -> list[Reply]:
    position = int(data.get("rpos", 0))
    if op == "rn":
        return await _after_reflection(ctx, data)
    if op != "s":
        if text is None or not text.strip():
            return await _prompt(ctx, "reflect", data, [Reply(text=ctx.t("checkin.unclear"))])
        reflection = dict(data.get("refl", {}))
        reflection[REFLECTION[position]] = text.strip()
        data["refl"] = reflection
        if data.get("checkin"):
            await ctx.db.checkins.save_reflection(
                ctx.person.id, int(data["checkin"]), reflection, ctx.clock.now()
            )
    if position + 1 < len(REFLECTION):
        data["rpos"] = position + 1
        return await _prompt(ctx, "reflect", data)
    return await _after_reflection(ctx, data, [Reply(text=ctx.t("checkin.reflect_thanks"))])


async def _after_reflection(
    ctx: Context, data: dict[str, Any], before: list[Reply] | None = None
) -> list[Reply]:
    return await _prompt(ctx, "followup", data, before)


async def _on_followup(ctx: Context, data: dict[str, Any], weeks: int) -> list[Reply]:
    user = ctx.person
    reminders = ctx.reminders
    replies: list[Reply] = []
    if weeks == 0:
        reminders.cancel_checkin_reminder(user.id)
        replies.append(Reply(text=ctx.t("checkin.followup_none")))
    elif not reminders.available:
        replies.append(Reply(text=ctx.t("checkin.followup_unavailable")))
    else:
        run_at = ctx.clock.now() + timedelta(weeks=weeks)
        reminders.checkin_reminder(user.id, run_at, key=f"checkin-reminder:{user.id}:{data['run']}")
        local = run_at.astimezone(ctx.settings.zone).strftime("%d-%m-%Y")
        replies.append(Reply(text=ctx.t("checkin.followup_set", weeks=weeks, date=local)))
        if not user.messages_enabled:
            replies.append(Reply(text=ctx.t("checkin.messages_off")))
    await ctx.db.audit.record(ctx.clock.now(), "checkin.followup", user.id, f"weeks={weeks}")
    if data.get("refl", {}).get("wish") and reminders.available:
        return await _prompt(ctx, "wish", data, replies)
    return await _finish(ctx, replies)


async def _on_wish(ctx: Context, data: dict[str, Any], wanted: bool) -> list[Reply]:
    user = ctx.person
    reminders = ctx.reminders
    replies: list[Reply] = []
    if wanted and reminders.available and data.get("checkin"):
        reminders.wish_followup(user.id, int(data["checkin"]), ctx.clock.now() + WISH_AFTER)
        replies.append(Reply(text=ctx.t("checkin.wish_set")))
    return await _finish(ctx, replies)


async def _finish(ctx: Context, before: list[Reply]) -> list[Reply]:
    await ctx.clear_state()
    return [*before, Reply(text=ctx.t("checkin.done"), choices=menu_choices(ctx))]


async def _stop(ctx: Context, step: str, data: dict[str, Any]) -> list[Reply]:
    await ctx.clear_state()
    key = "checkin.stopped_saved" if data.get("checkin") else "checkin.stopped"
    return [Reply(text=ctx.t(key), choices=menu_choices(ctx))]
