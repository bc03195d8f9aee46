"""The spinnenweb check-in: consent, questions, the picture, reflection, follow-up.

A declared flow (:mod:`bot.core.flow`): one conversation per private chat, kept in
the (encrypted) conversation state so it survives a restart and can be paused.
Every prompt has a fresh ``turn``, and every button carries the run and turn it
was made for (``sw:<run>:<turn>:<op>``): a button from an older prompt, a second
press, or forged data does nothing but say so and show where the person is
(:func:`_stale`, the flow's ``on_stale``).

Steps: consent → mode → question (×6 or ×42) → result → reflect_offer →
reflect (×3) → followup → wish → done. ``paused`` and ``resume`` wrap them: they
are the check-in's own steps, not the engine's. What it keeps between messages is
:class:`bot.spinnenweb.progress.CheckinData`; the record, the summary and the
picture are worked out in :mod:`bot.spinnenweb.result`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from bot.core.choices import pick
from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Step
from bot.core.messages import Incoming, PressOutcome, Reply
from bot.spinnenweb import result
from bot.spinnenweb.model import EXTENDED, SHORT
from bot.spinnenweb.progress import CheckinData
from bot.spinnenweb.scores import Verdict, parse_score, week_vocabulary
from handlers import ask
from handlers.menu import menu_choices
from handlers.private import private_only
from handlers.webview import draw_web, summary_text, typed_word

log = logging.getLogger(__name__)

STATE_TTL = timedelta(days=30)  # a paused check-in is kept this long
REFLECTION = ("noticed", "wish", "helpers")
FOLLOW_UP_WEEKS = (2, 4, 6, 12)
SUGGESTED_WEEKS = 6
WISH_AFTER = timedelta(days=14)


# -- the answers: one table of short codes (on the wire) and what they mean ---------

STOP = Action("stop", "x", label="checkin.stop", words=("stop",))
CONSENT_YES = Action("consent", "cy", label="checkin.consent_yes", words=("yes",))
CONSENT_NO = Action("decline", "cn", label="checkin.consent_no", words=("no",))
SHORT_MODE = Action("short", "mk", label="checkin.mode_short", words=("short",))
LONG_MODE = Action("long", "mu", label="checkin.mode_long", words=("long",))
SCORES = tuple(Action(f"score_{n}", str(n), label="checkin.score") for n in range(11))
BACK = Action("back", "b", label="checkin.back", words=("back",))
MARK = Action("mark", "t", label="checkin.mark", words=("talk",))
PAUSE = Action("pause", "p", label="checkin.pause", words=("pause",))
REFLECT_YES = Action("reflect", "ry", label="checkin.reflect_yes", words=("yes",))
REFLECT_NO = Action("no_reflection", "rn", label="checkin.reflect_no", words=("no", "skip"))
SKIP = Action("skip", "s", label="checkin.skip", words=("skip",))
WEEKS = tuple(Action(f"weeks_{w}", f"f{w}") for w in FOLLOW_UP_WEEKS)
NO_REMINDER = Action("no_reminder", "f0", words=("no",))
WISH_YES = Action("wish", "wy", label="checkin.yes", words=("yes",))
WISH_NO = Action("no_wish", "wn", label="checkin.no", words=("no",))
CONTINUE = Action("continue", "r", label="checkin.resume_continue", words=("resume", "yes"))
RESTART = Action("restart", "n", label="checkin.resume_restart", words=("restart",))

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        STOP,
        CONSENT_YES,
        CONSENT_NO,
        SHORT_MODE,
        LONG_MODE,
        *SCORES,
        BACK,
        MARK,
        PAUSE,
        REFLECT_YES,
        REFLECT_NO,
        SKIP,
        *WEEKS,
        NO_REMINDER,
        WISH_YES,
        WISH_NO,
        CONTINUE,
        RESTART,
    )
}
SCORE_OF = {f"score_{n}": n for n in range(11)}
WEEKS_OF = {"no_reminder": 0, **{f"weeks_{w}": w for w in FOLLOW_UP_WEEKS}}

# While reflecting, "stop" ends the reflection, not the check-in: typed, it is the
# "done" button. (A pressed ``x`` still stops, as everywhere.)
REFLECT_DONE = replace(REFLECT_NO, label="checkin.reflect_done", words=("stop",))
STOP_PRESSED = replace(STOP, words=())


# -- entry points -------------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/spinnenweb, the menu choice, and ``/start checkin`` (a deep link)."""
    if not msg.is_private:
        return [private_only(ctx, "checkin")]
    try:
        open_ = FLOW.current(ctx)
    except ValueError:
        log.warning("check-in: stored state not readable; a new one begins")
        await ctx.clear_state()
        open_ = None
    if open_ is None:
        step, data = _new_run(ctx)
        return await FLOW.start(ctx, step, data)
    step, data, stamp = open_
    if step == "paused":
        data = replace(data, resume_step=data.paused_step or "question", paused_step=None)
    elif step != "resume":
        data = replace(data, resume_step=step)
    return await FLOW.move(ctx, "resume", data, stamp, ())


def _new_run(ctx: Context) -> tuple[str, CheckinData]:
    user = ctx.person
    if user.consent_at is not None and user.consent_version == ctx.web.consent_version:
        return "mode", CheckinData(store=True)
    return "consent", CheckinData()


async def typed(msg: Incoming, ctx: Context) -> list[Reply]:
    """Free text while a check-in is open: an answer, or a word like "terug"."""
    state = ctx.state
    if state is None or state.flow != FLOW.name:
        # The router sends text here only while a check-in is open. Checked at run
        # time (an assert is gone under python -O): without one, text is a question.
        log.warning("check-in text without an open check-in; answered as a question")
        return await ask.question(msg, ctx)
    if state.step == "paused":
        return await ask.question(msg, ctx)  # paused: text is a question as usual
    return await FLOW.typed(msg, ctx)


async def _stale(ctx: Context) -> list[Reply]:
    """An old, second or forged press: the current prompt again, with fresh buttons;
    nothing is recorded twice. With no check-in open: an offer to start one."""
    stale = Reply(text=ctx.t("checkin.stale"), press_outcome=PressOutcome.STALE)
    again = await FLOW.again(ctx, [stale])
    if again is not None:
        return again
    return [
        Reply(
            text=ctx.t("checkin.stale_none"),
            choices=(ctx.choice("checkin.start_again", "menu:spinnenweb"),),
            press_outcome=PressOutcome.STALE,
        )
    ]


# -- the steps: what each asks --------------------------------------------------------


def _ask_consent(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    return Reply(
        text=ctx.t(
            "checkin.consent",
            months=ctx.settings.checkin_retention_months,
            hours=ctx.settings.generated_file_hours,
        ),
        choices=(b(CONSENT_YES), b(CONSENT_NO)),
    )


def _ask_mode(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("checkin.choose_mode"), choices=(b(SHORT_MODE), b(LONG_MODE), b(STOP)))


def _ask_question(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    web, lang = ctx.web, ctx.lang
    mode, position = str(data.mode), int(data.pos or 0)
    question = web.question(mode, position)
    lines = []
    if position == 0 and not data.answers:
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
    earlier = (data.answers or {}).get(question.id)
    if earlier is not None:
        lines.append(ctx.t("checkin.earlier", score=earlier))
    marked = question.id in (data.marks or [])
    if marked:
        lines.append(ctx.t("checkin.marked"))
    choices = [b(action, score=n) for n, action in enumerate(SCORES)]
    if position > 0:
        choices.append(b(BACK))
    choices += [b(MARK, key="checkin.unmark" if marked else None), b(PAUSE), b(STOP)]
    return Reply(text="\n".join(lines), choices=tuple(choices))


def _ask_reflect_offer(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("checkin.reflect_offer"), choices=(b(REFLECT_YES), b(REFLECT_NO)))


def _ask_reflect(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    key = REFLECTION[data.rpos or 0]
    return Reply(text=ctx.t(f"checkin.reflect.{key}"), choices=(b(SKIP), b(REFLECT_DONE)))


def _followup_options(ctx: Context) -> list[tuple[str, Action, int | None]]:
    """(label, action, weeks) of each reminder choice; "no reminder" carries no weeks."""
    options: list[tuple[str, Action, int | None]] = [
        (
            ctx.t(
                "checkin.followup_weeks_suggested"
                if w == SUGGESTED_WEEKS
                else "checkin.followup_weeks",
                weeks=w,
            ),
            action,
            w,
        )
        for w, action in zip(FOLLOW_UP_WEEKS, WEEKS, strict=True)
    ]
    options.append((ctx.t("checkin.followup_never"), NO_REMINDER, None))
    return options


def _ask_followup(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    options = _followup_options(ctx)
    return Reply(
        text=ctx.t("checkin.followup"),
        choices=tuple(b.text(action, label) for label, action, _ in options),
        # The options carry their weeks: "2" is "Over 2 weken" on every channel.
        choice_numbers=tuple(weeks for _, _, weeks in options),
    )


def _ask_wish(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    return Reply(
        text=ctx.t("checkin.wish_followup", wish=data.refl.get("wish", "")),
        choices=(b(WISH_YES), b(WISH_NO)),
    )


def _ask_resume(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    where = ""
    if (data.resume_step or "question") == "question":
        where = ctx.t(
            "checkin.resume_where",
            number=(data.pos or 0) + 1,
            total=ctx.web.count(data.mode or SHORT),
        )
    return Reply(
        text="\n".join(p for p in (ctx.t("checkin.resume"), where) if p),
        choices=(b(CONTINUE), b(RESTART), b(STOP)),
    )


def _ask_paused(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    return Reply(text=ctx.t("checkin.paused"), choices=(b(CONTINUE),))


# -- the steps: what each answer does ---------------------------------------------------


def _unclear(step: str, ctx: Context, key: str = "checkin.unclear") -> Go[CheckinData]:
    """Not an answer this step understands: say so (how to answer) and ask again."""
    return Go(step, say=(Reply(text=ctx.t(key)),))


def _stop(ctx: Context, data: CheckinData) -> Go[CheckinData]:
    key = "checkin.stopped_saved" if data.checkin else "checkin.stopped"
    return Go(None, say=(Reply(text=ctx.t(key), choices=menu_choices(ctx)),))


def _done(ctx: Context, before: list[Reply]) -> Go[CheckinData]:
    return Go(None, say=(*before, Reply(text=ctx.t("checkin.done"), choices=menu_choices(ctx))))


async def on_consent(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    if answer.action == CONSENT_NO.name:
        return Go(
            "mode", replace(data, store=False), (Reply(text=ctx.t("checkin.consent_declined")),)
        )
    if answer.action != CONSENT_YES.name:
        return _unclear("consent", ctx)
    now = ctx.clock.now()
    ctx.person.consent_at = now
    ctx.person.consent_version = ctx.web.consent_version
    await ctx.db.audit.record(now, "consent.given", ctx.person.id, ctx.web.consent_version)
    return Go("mode", replace(data, store=True), (Reply(text=ctx.t("checkin.consent_thanks")),))


async def on_mode(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    modes = {SHORT_MODE.name: SHORT, LONG_MODE.name: EXTENDED}
    mode = modes.get(answer.action or "")
    if mode is None:
        return _unclear("mode", ctx)
    return Go("question", replace(data, mode=mode, pos=0, answers={}, marks=[]))


async def on_question(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    position = data.pos or 0
    question = ctx.web.question(str(data.mode), position)
    action = answer.action
    if action == STOP.name:
        return _stop(ctx, data)
    if action == BACK.name:
        if position == 0:
            return Go("question", say=(Reply(text=ctx.t("checkin.first")),))
        return Go("question", replace(data, pos=position - 1))
    if action == MARK.name:
        marks = list(data.marks or [])
        if question.id in marks:
            marks.remove(question.id)
        else:
            marks.append(question.id)
        return Go("question", replace(data, marks=marks))
    if action == PAUSE.name:
        return Go("paused", replace(data, paused_step="question"))
    score = SCORE_OF.get(action or "")
    if score is None:
        parsed = parse_score(answer.text or "", ctx.web)
        if parsed.verdict is not Verdict.OK or parsed.score is None:
            key = {
                Verdict.OUT_OF_RANGE: "checkin.out_of_range",
                Verdict.NOT_WHOLE: "checkin.not_whole",
            }.get(parsed.verdict, "checkin.not_a_score")
            notice = ctx.t(key, score=parsed.score if parsed.score is not None else "")
            return Go("question", say=(Reply(text=notice),))
        score = int(parsed.score)
    data = replace(data, answers={**(data.answers or {}), question.id: score})
    if position + 1 < ctx.web.count(str(data.mode)):
        return Go("question", replace(data, pos=position + 1))
    return await _result(ctx, data)


def _run(ctx: Context) -> str:
    """This check-in's run (it names its picture and its reminder)."""
    state = ctx.state
    return "" if state is None else str(state.data.get("run", ""))


async def _result(ctx: Context, data: CheckinData) -> Go[CheckinData]:
    user, now, mode = ctx.person, ctx.clock.now(), str(data.mode)
    record = result.build_record(ctx.web, mode, data.answers or {}, data.marks or [], now)
    previous = await ctx.db.checkins.latest(user.id)
    if data.store:
        await ctx.db.checkins.add(user.id, record, now)
        data = replace(data, checkin=record.id)
        await ctx.db.audit.record(now, "checkin.saved", user.id, mode)
    picture = await draw_web(ctx, record, previous, _run(ctx))
    shown = Reply(text=summary_text(ctx, record, previous), image=picture)
    if not data.store:
        return Go(
            None, say=(shown, Reply(text=ctx.t("checkin.forgotten"), choices=menu_choices(ctx)))
        )
    return Go("reflect_offer", replace(data, answers=None, marks=None, pos=None), (shown,))


async def on_reflect_offer(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    if answer.action == REFLECT_YES.name:
        return Go("reflect", replace(data, rpos=0))
    if answer.action == REFLECT_NO.name:
        return Go("followup")
    return _unclear("reflect_offer", ctx)


async def on_reflect(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    position = data.rpos or 0
    if answer.action == STOP.name:  # a pressed "x"; typed "stop" is REFLECT_DONE
        return _stop(ctx, data)
    if answer.action == REFLECT_DONE.name:
        return Go("followup")
    if answer.action != SKIP.name:
        text = (answer.text or "").strip()
        if not text:
            return _unclear("reflect", ctx)
        data = replace(data, refl={**data.refl, REFLECTION[position]: text})
        if data.checkin:
            await ctx.db.checkins.save_reflection(
                ctx.person.id, data.checkin, dict(data.refl), ctx.clock.now()
            )
    if position + 1 < len(REFLECTION):
        return Go("reflect", replace(data, rpos=position + 1))
    return Go("followup", data, (Reply(text=ctx.t("checkin.reflect_thanks")),))


async def on_followup(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    weeks = WEEKS_OF.get(answer.action or "")
    if weeks is None and answer.action is None and answer.text is not None:
        # The same rule as the console's (bot/core/choices.py): a label, or the
        # number of weeks an option carries, bare or with a unit ("2", "12 weken").
        # Positions ("1", "2") are not answers here: only the console shows them,
        # and it resolves them before the text gets here.
        options = _followup_options(ctx)
        index = pick(
            answer.text,
            [label for label, _, _ in options],
            numbers=[w for _, _, w in options],
            vocabulary=week_vocabulary(ctx.web),
        )
        weeks = None if index is None else WEEKS_OF[options[index][1].name]
    if weeks is None:
        return _unclear("followup", ctx, "checkin.followup_unclear")
    replies = _set_reminder(ctx, weeks)
    await ctx.db.audit.record(ctx.clock.now(), "checkin.followup", ctx.person.id, f"weeks={weeks}")
    if data.refl.get("wish") and ctx.reminders.available:
        return Go("wish", data, tuple(replies))
    return _done(ctx, replies)


def _set_reminder(ctx: Context, weeks: int) -> list[Reply]:
    user, reminders = ctx.person, ctx.reminders
    if weeks == 0:
        reminders.cancel_checkin_reminder(user.id)
        return [Reply(text=ctx.t("checkin.followup_none"))]
    if not reminders.available:
        return [Reply(text=ctx.t("checkin.followup_unavailable"))]
    run_at = ctx.clock.now() + timedelta(weeks=weeks)
    reminders.checkin_reminder(user.id, run_at, key=f"checkin-reminder:{user.id}:{_run(ctx)}")
    local = run_at.astimezone(ctx.settings.zone).strftime("%d-%m-%Y")
    replies = [Reply(text=ctx.t("checkin.followup_set", weeks=weeks, date=local))]
    if not user.messages_enabled:
        replies.append(Reply(text=ctx.t("checkin.messages_off")))
    return replies


async def on_wish(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    if answer.action not in (WISH_YES.name, WISH_NO.name):
        return _unclear("wish", ctx)
    replies: list[Reply] = []
    if answer.action == WISH_YES.name and ctx.reminders.available and data.checkin:
        ctx.reminders.wish_followup(ctx.person.id, data.checkin, ctx.clock.now() + WISH_AFTER)
        replies.append(Reply(text=ctx.t("checkin.wish_set")))
    return _done(ctx, replies)


async def on_resume(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    if answer.action == CONTINUE.name:
        return Go(data.resume_step or "question", replace(data, resume_step=None))
    if answer.action == RESTART.name:
        step, fresh = _new_run(ctx)
        return Go(step, fresh, restart=True)
    return _unclear("resume", ctx)


async def on_paused(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == STOP.name:
        return _stop(ctx, data)
    if answer.action == CONTINUE.name:
        return Go(data.paused_step or "question", replace(data, paused_step=None))
    return _unclear("paused", ctx)  # typed text never comes here (see ``typed``)


# STOP comes first in every step: "stop" wins over the step's own words, as before.
FLOW: Flow[CheckinData] = Flow(
    name="checkin",
    prefix="sw",
    data=CheckinData,
    steps=[
        Step(
            "consent",
            on=on_consent,
            ask=_ask_consent,
            actions=(STOP, CONSENT_YES, CONSENT_NO),
        ),
        Step("mode", on=on_mode, ask=_ask_mode, actions=(STOP, SHORT_MODE, LONG_MODE)),
        Step(
            "question",
            on=on_question,
            ask=_ask_question,
            actions=(STOP, BACK, MARK, PAUSE, *SCORES),
        ),
        Step(
            "reflect_offer",
            on=on_reflect_offer,
            ask=_ask_reflect_offer,
            actions=(STOP, REFLECT_YES, REFLECT_NO),
        ),
        Step(
            "reflect", on=on_reflect, ask=_ask_reflect, actions=(REFLECT_DONE, SKIP, STOP_PRESSED)
        ),
        Step("followup", on=on_followup, ask=_ask_followup, actions=(STOP, NO_REMINDER, *WEEKS)),
        Step("wish", on=on_wish, ask=_ask_wish, actions=(STOP, WISH_YES, WISH_NO)),
        Step("resume", on=on_resume, ask=_ask_resume, actions=(STOP, CONTINUE, RESTART)),
        Step("paused", on=on_paused, ask=_ask_paused, actions=(STOP_PRESSED, CONTINUE)),
    ],
    stale="checkin.stale",
    ttl=STATE_TTL,
    means=typed_word,
    on_stale=_stale,
)
