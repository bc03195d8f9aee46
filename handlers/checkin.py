"""The spinnenweb check-in: consent, questions, the picture, reflection, follow-up.

A declared flow (:mod:`bot.core.flow`), kept in the encrypted conversation state so
it survives a restart. Steps: consent → mode → question (×6 or ×42) → result →
reflect_offer → reflect (×3) → followup → wish → the end. The engine does the rest:
stamped buttons (``sw:<run>:<turn>:<code>``), stop, back, pause and "go on where
you were?" (``paused``, ``resume``). What it keeps is
:class:`bot.spinnenweb.progress.CheckinData`; the words of its prompts are in
:mod:`bot.spinnenweb.prompts`, the record, summary and picture in
:mod:`bot.spinnenweb.result`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot import metrics
from bot.core.context import Context
from bot.core.flow import Action, Answer, Buttons, Flow, Go, Pause, Step
from bot.core.messages import Incoming, PressOutcome, Reply
from bot.spinnenweb import prompts, result
from bot.spinnenweb.model import EXTENDED, SHORT
from bot.spinnenweb.progress import CheckinData
from bot.spinnenweb.prompts import REFLECTION
from bot.spinnenweb.scores import Verdict, parse_score
from handlers import ask
from handlers.menu import menu_choices, start_choice
from handlers.private import private_only
from handlers.webview import draw_web, summary_text, typed_word

STATE_TTL = timedelta(days=30)  # a paused check-in is kept this long

# -- the answers: a short code on the wire, a name in code (FLOW.legend() lists them) --

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
# While reflecting, typed "stop" ends the reflection, not the check-in (a pressed
# ``x`` still stops, as everywhere).
REFLECT_DONE = replace(REFLECT_NO, label="checkin.reflect_done", words=("stop",))
STOP_PRESSED = replace(STOP, words=())
STOP_TYPED = replace(STOP, label=None)  # where the prompt shows no stop button
SKIP = Action("skip", "s", label="checkin.skip", words=("skip",))
NO_REMINDER = Action("no_reminder", "f0", words=("no",))
WEEKS = tuple(Action(f"weeks_{w}", f"f{w}") for w in prompts.FOLLOW_UP_WEEKS)
REMINDERS = {0: NO_REMINDER, **dict(zip(prompts.FOLLOW_UP_WEEKS, WEEKS, strict=True))}
WISH_YES = Action("wish", "wy", label="checkin.yes", words=("yes",))
WISH_NO = Action("no_wish", "wn", label="checkin.no", words=("no",))
CONTINUE = Action("continue", "r", label="checkin.resume_continue", words=("resume", "yes"))
RESTART = Action("restart", "n", label="checkin.resume_restart", words=("restart",))
SCORE_OF = {action.name: n for n, action in enumerate(SCORES)}
WEEKS_OF = {action.name: weeks for weeks, action in REMINDERS.items()}


# -- entry points -------------------------------------------------------------------


async def begin(msg: Incoming, ctx: Context) -> list[Reply]:
    """/spinnenweb, the menu choice, and ``/start checkin`` (a deep link)."""
    if not msg.is_private:
        return [private_only(ctx, "checkin")]
    return await FLOW.open(ctx)


def first(ctx: Context) -> tuple[str, CheckinData]:
    """Where a check-in begins: consent, unless given for this version of the text."""
    ctx.on_commit(metrics.checkin_started)  # a new run (not a resumed one) begins
    user = ctx.person
    if user.consent_at is not None and user.consent_version == ctx.web.consent_version:
        return "mode", CheckinData(store=True)
    return "consent", CheckinData()


async def _stale(ctx: Context) -> list[Reply]:
    """An old, second or forged press: the current prompt again, with fresh buttons;
    nothing is recorded twice. With no check-in open: an offer to start one."""
    stale = Reply(text=ctx.t("checkin.stale"), press_outcome=PressOutcome.STALE)
    again = await FLOW.again(ctx, [stale])
    if again is not None:
        return again
    choices = start_choice(ctx, "spinnenweb", "checkin.start_again")
    return [
        Reply(text=ctx.t("checkin.stale_none"), choices=choices, press_outcome=stale.press_outcome)
    ]


# -- what each step asks ------------------------------------------------------------------


def _ask_consent(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    settings = ctx.settings
    text = ctx.t(
        "checkin.consent",
        months=settings.checkin_retention_months,
        hours=settings.generated_file_hours,
    )
    return Reply(text=text, choices=(b(CONSENT_YES), b(CONSENT_NO)))


def _ask_question(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    mode, position, marks = str(data.mode), data.pos or 0, data.marks or []
    text = prompts.question_text(
        ctx.t, ctx.web, ctx.lang, mode, position, data.answers or {}, marks
    )
    marked = ctx.web.question(mode, position).id in marks
    choices = (
        *(b(action, score=n) for n, action in enumerate(SCORES)),
        *b.back("question", data),
        b(MARK, key="checkin.unmark" if marked else None),
        b(PAUSE),
        b(STOP),
    )
    return Reply(text=text, choices=choices)


def _ask_followup(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    options = prompts.followup_options(ctx.t)
    return Reply(
        text=ctx.t("checkin.followup"),
        choices=tuple(b.text(REMINDERS[weeks], label) for label, weeks in options),
        # The options carry their weeks: "2" is "Over 2 weken" on every channel.
        choice_numbers=tuple(weeks or None for _, weeks in options),
    )


def _ask_resume(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    """/spinnenweb while a check-in is open: go on where you were, or begin again?"""
    lines = [ctx.t("checkin.resume")]
    if data.pos is not None:  # set only while the questions are being answered
        total = ctx.web.count(data.mode or SHORT)
        lines.append(ctx.t("checkin.resume_where", number=data.pos + 1, total=total))
    return Reply(text="\n".join(lines), choices=(b(CONTINUE), b(RESTART), b(STOP)))


def _ask_reflect(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    text = ctx.t(f"checkin.reflect.{REFLECTION[data.rpos or 0]}")
    return Reply(text=text, choices=(b(SKIP), b(REFLECT_DONE)))


def _ask_wish(ctx: Context, data: CheckinData, b: Buttons) -> Reply:
    text = ctx.t("checkin.wish_followup", wish=data.refl.get("wish", ""))
    return Reply(text=text, choices=(b(WISH_YES), b(WISH_NO)))


# -- what each answer does -------------------------------------------------------------


def _unclear(step: str, ctx: Context, key: str = "checkin.unclear") -> Go[CheckinData]:
    """Not an answer this step understands: say so (how to answer) and ask again."""
    return Go(step, say=(Reply(text=ctx.t(key)),))


def stopped(ctx: Context, data: CheckinData) -> Go[CheckinData]:
    key = "checkin.stopped_saved" if data.checkin else "checkin.stopped"
    return Go(None, say=(Reply(text=ctx.t(key), choices=menu_choices(ctx)),))


def _done(ctx: Context, before: list[Reply]) -> Go[CheckinData]:
    return Go(None, say=(*before, Reply(text=ctx.t("checkin.done"), choices=menu_choices(ctx))))


async def on_consent(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == CONSENT_NO.name:
        declined = Reply(text=ctx.t("checkin.consent_declined"))
        return Go("mode", replace(data, store=False), (declined,))
    if answer.action != CONSENT_YES.name:
        return _unclear("consent", ctx)
    now, version = ctx.clock.now(), ctx.web.consent_version
    ctx.person.consent_at, ctx.person.consent_version = now, version
    await ctx.db.audit.record(now, "consent.given", ctx.person.id, version)
    return Go("mode", replace(data, store=True), (Reply(text=ctx.t("checkin.consent_thanks")),))


async def on_mode(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    mode = {SHORT_MODE.name: SHORT, LONG_MODE.name: EXTENDED}.get(answer.action or "")
    if mode is None:
        return _unclear("mode", ctx)
    return Go("question", replace(data, mode=mode, pos=0, answers={}, marks=[]))


def question_before(data: CheckinData) -> tuple[str, CheckinData] | None:
    """Back from a question: the one before it (its answer is shown), if any."""
    position = data.pos or 0
    return None if position == 0 else ("question", replace(data, pos=position - 1))


async def on_question(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    position, mode = data.pos or 0, str(data.mode)
    question = ctx.web.question(mode, position)
    if answer.action == MARK.name:
        marks = list(data.marks or [])
        marks.remove(question.id) if question.id in marks else marks.append(question.id)
        return Go("question", replace(data, marks=marks))
    score = SCORE_OF.get(answer.action or "")
    if score is None:
        parsed = parse_score(answer.text or "", ctx.web)
        if parsed.verdict is not Verdict.OK or parsed.score is None:
            key = {
                Verdict.OUT_OF_RANGE: "checkin.out_of_range",
                Verdict.NOT_WHOLE: "checkin.not_whole",
            }.get(parsed.verdict, "checkin.not_a_score")
            shown = parsed.score if parsed.score is not None else ""
            return Go("question", say=(Reply(text=ctx.t(key, score=shown)),))
        score = int(parsed.score)
    data = replace(data, answers={**(data.answers or {}), question.id: score})
    if position + 1 < ctx.web.count(mode):
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
    ctx.on_commit(metrics.checkin_finished)
    shown = Reply(text=summary_text(ctx, record, previous), image=picture)
    if not data.store:
        forgotten = Reply(text=ctx.t("checkin.forgotten"), choices=menu_choices(ctx))
        return Go(None, say=(shown, forgotten))
    return Go("reflect_offer", replace(data, answers=None, marks=None, pos=None), (shown,))


async def on_reflect_offer(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    if answer.action == REFLECT_YES.name:
        return Go("reflect", replace(data, rpos=0))
    if answer.action == REFLECT_NO.name:
        return Go("followup")
    return _unclear("reflect_offer", ctx)


async def on_reflect(ctx: Context, data: CheckinData, answer: Answer) -> Go[CheckinData]:
    position = data.rpos or 0
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
    weeks = WEEKS_OF.get(answer.action or "")
    if weeks is None and answer.action is None and answer.text is not None:
        weeks = prompts.typed_weeks(ctx.t, ctx.web, answer.text)
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
    if answer.action not in (WISH_YES.name, WISH_NO.name):
        return _unclear("wish", ctx)
    replies: list[Reply] = []
    if answer.action == WISH_YES.name and ctx.reminders.available and data.checkin:
        run_at = ctx.clock.now() + prompts.WISH_AFTER
        ctx.reminders.wish_followup(ctx.person.id, data.checkin, run_at)
        replies.append(Reply(text=ctx.t("checkin.wish_set")))
    return _done(ctx, replies)


# STOP comes first where its word could clash with the step's own: "stop" wins. (The
# mode step lists it last for the order of its buttons; no mode word is "stop".)
FLOW: Flow[CheckinData] = Flow(
    name="checkin",
    prefix="sw",
    data=CheckinData,
    steps=[
        Step("consent", on_consent, _ask_consent, (STOP, CONSENT_YES, CONSENT_NO)),
        Step("mode", on_mode, "checkin.choose_mode", (SHORT_MODE, LONG_MODE, STOP)),  # buttons
        Step(
            "question",
            on_question,
            _ask_question,
            (STOP, BACK, MARK, PAUSE, *SCORES),
            back=question_before,
        ),
        Step(
            "reflect_offer",
            on_reflect_offer,
            "checkin.reflect_offer",
            (STOP_TYPED, REFLECT_YES, REFLECT_NO),
        ),
        Step("reflect", on_reflect, _ask_reflect, (REFLECT_DONE, SKIP, STOP_PRESSED)),
        Step("followup", on_followup, _ask_followup, (STOP, NO_REMINDER, *WEEKS)),
        Step("wish", on_wish, _ask_wish, (STOP, WISH_YES, WISH_NO)),
    ],
    stale="checkin.stale",
    ttl=STATE_TTL,
    means=typed_word,
    on_stale=_stale,
    first=first,
    stop=STOP,
    stopped=stopped,
    back=BACK,
    at_first="checkin.first",
    pause=Pause(
        pause=PAUSE,
        go_on=CONTINUE,
        again=RESTART,
        paused="checkin.paused",
        reopened=_ask_resume,
        unclear="checkin.unclear",
        aside=ask.question,  # paused: text is a question to the bot as usual
    ),
)
ACTIONS = FLOW.legend()  # every code and its named action, for the docs and the tests
