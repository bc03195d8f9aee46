"""The spinnenweb check-in, driven like a person: buttons, typed answers, stale and
forged buttons, pause and resume (also across a restart), consent, reflection and
the follow-up jobs. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.core.state import State
from bot.settings import Settings
from bot.spinnenweb import jobs as spinnenweb_jobs
from bot.spinnenweb.model import Spinnenweb
from bot.spinnenweb.records import CheckinRecord
from bot.storage.models import Checkin, OutboxMessage, User
from bot.storage.repositories.checkins import CheckinRepo
from bot.storage.repositories.conversation import StateRepo
from tests.helpers.conversation import Person
from tests.helpers.fakes import RecordingChannel

PNG = b"\x89PNG\r\n\x1a\n"
SHORT_COUNT = 6
EXTENDED_COUNT = 42


# -- helpers ------------------------------------------------------------------


def _t(app: App, key: str, lang: str = "nl", **params: object) -> str:
    assert app.services is not None
    return app.services.texts.get(lang, key, **params)


def _web(app: App) -> Spinnenweb:
    assert app.services is not None and app.services.spinnenweb is not None
    return app.services.spinnenweb


def _consent(app: App, lang: str = "nl") -> str:
    settings = app.settings
    months, hours = settings.checkin_retention_months, settings.generated_file_hours
    return _t(app, "checkin.consent", lang, months=months, hours=hours)


def _names(app: App, lang: str = "nl") -> list[str]:
    return [d.name[lang] for d in _web(app).dimensions]


def _progress(app: App, number: int, total: int = SHORT_COUNT, lang: str = "nl") -> str:
    """ "Vraag n van 6 · <dimension>" of question ``number`` (1-based)."""
    web = _web(app)
    mode = "kort" if total == SHORT_COUNT else "uitgebreid"
    question = web.question(mode, number - 1)
    return _t(
        app,
        "checkin.progress",
        lang,
        number=number,
        total=total,
        dimension=question.dimension.name[lang],
    )


async def _user(app: App, name: str = "anna") -> User:
    assert app.services is not None
    async with app.services.sessions() as session:
        result = await session.execute(select(User).where(User.platform_user_id == name))
        return result.scalar_one()


async def _state(app: App, name: str = "anna", chat_id: str | None = None) -> State | None:
    assert app.services is not None
    user = await _user(app, name)
    async with app.services.sessions() as session:
        repo = StateRepo(session, app.services.cipher)
        return await repo.get(user.id, chat_id or name, app.clock.now())


async def _answers(app: App, name: str = "anna") -> dict[str, int]:
    state = await _state(app, name)
    assert state is not None and state.flow == "checkin"
    return dict(state.data.get("answers", {}))


async def _rows(app: App) -> list[Checkin]:
    assert app.services is not None
    async with app.services.sessions() as session:
        return list((await session.execute(select(Checkin).order_by(Checkin.id))).scalars())


async def _records(app: App, name: str = "anna") -> list[CheckinRecord]:
    assert app.services is not None
    user = await _user(app, name)
    async with app.services.sessions() as session:
        return await CheckinRepo(session, app.services.cipher).history(user.id)


def _current(bot: Person) -> tuple[str, int]:
    """(run, turn) of the check-in buttons in the last replies."""
    actions = [c.action for r in bot.last for c in r.choices if c.action.startswith("sw:")]
    assert actions, f"no check-in buttons in {bot.text!r}"
    _, run, turn, _ = actions[-1].split(":")
    return run, int(turn)


async def _begin(bot: Person, *, consent: bool | None = True, extended: bool = False) -> None:
    """/spinnenweb, answer the consent question (when asked), choose the mode."""
    app = bot.app
    await bot.send("/spinnenweb")
    if consent is not None:
        key = "checkin.consent_yes" if consent else "checkin.consent_no"
        await bot.press(_t(app, key))
    await bot.press(_t(app, "checkin.mode_long" if extended else "checkin.mode_short"))
    assert _progress(app, 1, EXTENDED_COUNT if extended else SHORT_COUNT) in bot.text


async def _answer_all(bot: Person, scores: list[int]) -> list[Reply]:
    replies: list[Reply] = []
    for score in scores:
        replies = await bot.press(str(score))
    return replies


async def _finish_without_extras(bot: Person) -> None:
    """From the reflection offer: no reflection, no reminder."""
    await bot.press(_t(bot.app, "checkin.reflect_no"))
    await bot.press(_t(bot.app, "checkin.followup_never"))
    assert _t(bot.app, "checkin.done") in bot.text


def _result(replies: list[Reply]) -> Reply:
    found = [r for r in replies if r.image is not None]
    assert len(found) == 1, [r.text for r in replies]
    return found[0]


# -- a complete check-in ----------------------------------------------------------


@pytest.mark.real_charts
async def test_quick_checkin_by_buttons_asks_consent_and_stores_encrypted(
    bot: Person, app: App, clock: FrozenClock
) -> None:
    replies = await bot.send("/spinnenweb")
    assert replies[-1].text == _consent(app)
    assert bot.choices == [_t(app, "checkin.consent_yes"), _t(app, "checkin.consent_no")]

    await bot.press(_t(app, "checkin.consent_yes"))
    assert bot.last[0].text == _t(app, "checkin.consent_thanks")
    assert bot.last[-1].text == _t(app, "checkin.choose_mode")
    user = await _user(app)
    assert user.consent_at == clock.now()
    assert user.consent_version == _web(app).consent_version

    await bot.press(_t(app, "checkin.mode_short"))
    intro = _web(app).intro["nl"]
    assert intro in bot.text
    assert "geen test en geen diagnose" in intro
    scores = [7, 6, 5, 4, 3, 10]
    replies = []
    for number, score in enumerate(scores, start=1):
        assert _progress(app, number) in bot.text
        assert [c for c in bot.choices if c.isdigit()] == [str(n) for n in range(11)]
        replies = await bot.press(str(score))
    assert intro not in "\n".join(r.text for r in replies)

    result = _result(replies)
    assert result.image is not None
    assert result.image.path.exists()
    assert result.image.path.read_bytes()[:8] == PNG
    assert result.image.alt == _t(app, "checkin.chart_alt")
    for name, score in zip(_names(app), scores, strict=True):
        assert _t(app, "checkin.summary_line", name=name, score=str(score)) in result.text
    assert _t(app, "checkin.summary_first") in result.text
    assert _t(app, "checkin.not_a_test") in result.text
    assert replies[-1].text == _t(app, "checkin.reflect_offer")

    rows = await _rows(app)
    assert len(rows) == 1
    row = rows[0]
    assert row.user_id == user.id and row.mode == "kort"
    assert row.taken_at == clock.now()
    with pytest.raises(ValueError):
        json.loads(row.payload)
    assert row.payload.startswith(b"gAAAAA")  # a Fernet token
    assert b"lichaamsfuncties" not in row.payload
    assert app.services is not None
    payload = app.services.cipher.decrypt(row.payload)
    ids = [d.id for d in _web(app).dimensions]
    assert payload["scores"] == {i: float(s) for i, s in zip(ids, scores, strict=True)}
    assert payload["answers"] == dict(zip(ids, scores, strict=True))
    assert payload["marked"] == []

    await _finish_without_extras(bot)
    assert await _state(app) is None
    assert len(await _rows(app)) == 1


async def test_extended_checkin_typed_scores_are_aspect_means(bot: Person, app: App) -> None:
    web = _web(app)
    # Per dimension seven answers; their means are 6.4, 5.7, 8.1, 3.3, 7 and 9.9.
    per_dimension = [
        [6, 6, 6, 6, 7, 7, 7],
        [5, 5, 6, 6, 6, 6, 6],
        [8, 8, 8, 8, 8, 8, 9],
        [3, 3, 3, 3, 3, 4, 4],
        [7, 7, 7, 7, 7, 7, 7],
        [9, 10, 10, 10, 10, 10, 10],
    ]
    expected = [6.4, 5.7, 8.1, 3.3, 7.0, 9.9]
    shown = ["6,4", "5,7", "8,1", "3,3", "7", "9,9"]
    answers = [score for scores in per_dimension for score in scores]
    questions = web.questions("uitgebreid")
    assert len(questions) == EXTENDED_COUNT == len(answers)

    await _begin(bot, extended=True)
    replies: list[Reply] = []
    for number, (question, score) in enumerate(zip(questions, answers, strict=True), start=1):
        assert _progress(app, number, EXTENDED_COUNT) in bot.text
        assert question.aspect is not None
        assert question.aspect.question["nl"] in bot.text
        replies = await bot.send(str(score))

    result = _result(replies)
    for name, text in zip(_names(app), shown, strict=True):
        assert _t(app, "checkin.summary_line", name=name, score=text) in result.text
    (record,) = await _records(app)
    assert record.mode == "uitgebreid"
    assert record.scores == {d.id: value for d, value in zip(web.dimensions, expected, strict=True)}
    assert record.answers == {q.id: s for q, s in zip(questions, answers, strict=True)}


# -- typed answers ----------------------------------------------------------------


async def test_typed_scores_in_many_forms(bot: Person, app: App) -> None:
    await _begin(bot)
    typed = [("zeven", 7), ("6", 6), ("5/10", 5), ("een 4", 4), ("3 van de 10", 3), ("Twee.", 2)]
    for number, (text, score) in enumerate(typed, start=1):
        assert _progress(app, number) in bot.text
        await bot.send(text)
        if number < SHORT_COUNT:
            assert _progress(app, number + 1) in bot.text, text
            assert list((await _answers(app)).values())[-1] == score, text
    (record,) = await _records(app)
    assert list(record.answers.values()) == [score for _, score in typed]
    assert list(record.scores.values()) == [float(score) for _, score in typed]


@pytest.mark.parametrize(("text", "score"), [("zeven van de 10", 7), ("acht/10", 8)])
async def test_typed_score_as_word_out_of_ten(bot: Person, app: App, text: str, score: int) -> None:
    """A number word with "/10" or "van de 10" is that number, not the 10 behind it."""
    await _begin(bot)
    replies = await bot.send(text)
    assert _progress(app, 2) in replies[-1].text
    assert await _answers(app) == {_web(app).dimensions[0].id: score}


@pytest.mark.parametrize(
    ("text", "key", "score"),
    [
        ("11", "checkin.out_of_range", "11"),
        ("-1", "checkin.out_of_range", "-1"),
        ("7,5", "checkin.not_whole", ""),
        ("hallo", "checkin.not_a_score", ""),
    ],
)
async def test_bad_typed_score_is_explained_and_asked_again(
    bot: Person, app: App, text: str, key: str, score: str
) -> None:
    await _begin(bot)
    await bot.send("8")
    assert _progress(app, 2) in bot.text
    replies = await bot.send(text)
    assert replies[0].text == _t(app, key, score=score)
    assert _progress(app, 2) in replies[-1].text
    assert await _answers(app) == {_web(app).dimensions[0].id: 8}
    state = await _state(app)
    assert state is not None and state.step == "question" and state.data["pos"] == 1
    await bot.send("4")  # the same question is still open
    assert _progress(app, 3) in bot.text
    assert list((await _answers(app)).values()) == [8, 4]


async def test_sticker_empty_and_oversized_messages_keep_the_checkin(
    bot: Person, app: App, settings: Settings
) -> None:
    await _begin(bot)
    await bot.press("6")
    await bot.sticker()
    assert bot.text == _t(app, "fallback.unsupported")
    await bot.send("   ")
    assert bot.text == _t(app, "errors.empty")
    limit = settings.max_message_length
    await bot.send("7" * (limit + 1))
    assert bot.text == _t(app, "errors.too_long", limit=limit)
    assert list((await _answers(app)).values()) == [6]
    await bot.send("9")
    assert _progress(app, 3) in bot.text
    assert list((await _answers(app)).values()) == [6, 9]


# -- back, mark, pause, resume, stop -------------------------------------------------


async def test_back_shows_the_earlier_answer_and_stops_at_the_first(bot: Person, app: App) -> None:
    await _begin(bot)
    assert _t(app, "checkin.back") not in bot.choices  # nothing to go back to yet
    await bot.press("7")
    await bot.press("4")
    assert _progress(app, 3) in bot.text
    await bot.press(_t(app, "checkin.back"))
    assert _progress(app, 2) in bot.text
    assert _t(app, "checkin.earlier", score=4) in bot.text
    await bot.send("terug")
    assert _progress(app, 1) in bot.text
    assert _t(app, "checkin.earlier", score=7) in bot.text
    replies = await bot.send("terug")
    assert replies[0].text == _t(app, "checkin.first")
    assert _progress(app, 1) in replies[-1].text
    await bot.press("9")  # a new answer replaces the earlier one
    assert _progress(app, 2) in bot.text
    assert _t(app, "checkin.earlier", score=4) in bot.text
    assert list((await _answers(app)).values()) == [9, 4]
    await _answer_all(bot, [4, 5, 5, 5, 5])
    (record,) = await _records(app)
    assert list(record.answers.values()) == [9, 4, 5, 5, 5, 5]


async def test_mark_and_unmark_to_talk_about(bot: Person, app: App) -> None:
    names, ids = _names(app), [d.id for d in _web(app).dimensions]
    mark, unmark = _t(app, "checkin.mark"), _t(app, "checkin.unmark")
    marked = _t(app, "checkin.marked")
    await _begin(bot)

    await bot.press(mark)  # question 1: marked by button
    assert _progress(app, 1) in bot.text and marked in bot.text
    assert unmark in bot.choices and mark not in bot.choices
    await bot.press(unmark)
    assert marked not in bot.text and mark in bot.choices
    await bot.send("praten")
    assert marked in bot.text
    await bot.press("5")

    await bot.send("hier wil ik over praten")  # question 2: marked, then unmarked
    assert marked in bot.text
    await bot.press(unmark)
    assert marked not in bot.text
    await bot.press("6")

    await bot.press(mark)  # question 3: marked by button
    await bot.press("7")
    replies = await _answer_all(bot, [8, 8, 8])

    result = _result(replies)
    items = f"{names[0]}, {names[2]}"
    assert _t(app, "checkin.summary_marked", items=items) in result.text
    assert names[1] not in result.text.split(_t(app, "checkin.summary_marked", items=""))[1]
    (record,) = await _records(app)
    assert record.marked == [ids[0], ids[2]]


async def test_pause_answers_free_text_as_a_question_and_resumes(bot: Person, app: App) -> None:
    await _begin(bot)
    await bot.press("7")
    await bot.press(_t(app, "checkin.pause"))
    assert bot.text == _t(app, "checkin.paused")
    assert bot.choices == [_t(app, "checkin.resume_continue")]

    question = "Wat is Positieve Gezondheid?"
    other = Person(app, user_id="bob", display_name="Bob")
    expected = await other.send(question)
    replies = await bot.send(question)
    assert [r.text for r in replies] == [r.text for r in expected]
    await bot.send("8")  # also a number is a question now, not a score
    assert _progress(app, 3) not in bot.text
    state = await _state(app)
    assert state is not None and state.step == "paused"
    assert list(state.data["answers"].values()) == [7]

    await bot.send("/spinnenweb")
    assert _t(app, "checkin.resume") in bot.text
    assert _t(app, "checkin.resume_where", number=2, total=6) in bot.text
    assert bot.choices == [
        _t(app, "checkin.resume_continue"),
        _t(app, "checkin.resume_restart"),
        _t(app, "checkin.stop"),
    ]
    await bot.press(_t(app, "checkin.resume_continue"))
    assert _progress(app, 2) in bot.text

    await bot.send("pauze")  # typed, and resumed by the paused prompt's own button
    assert bot.text == _t(app, "checkin.paused")
    await bot.press(_t(app, "checkin.resume_continue"))
    assert _progress(app, 2) in bot.text
    await _answer_all(bot, [6, 5, 4, 3, 2])
    (record,) = await _records(app)
    assert list(record.answers.values()) == [7, 6, 5, 4, 3, 2]


async def test_spinnenweb_mid_checkin_offers_restart(bot: Person, app: App) -> None:
    await _begin(bot)
    await bot.press("7")
    await bot.press("6")
    await bot.send("/spinnenweb")
    assert _t(app, "checkin.resume_where", number=3, total=6) in bot.text
    old_run, _ = _current(bot)
    await bot.send("opnieuw")
    assert bot.text == _t(app, "checkin.choose_mode")  # consent was given already
    new_run, _ = _current(bot)
    assert new_run != old_run
    await bot.press(_t(app, "checkin.mode_short"))
    assert _progress(app, 1) in bot.text
    assert _t(app, "checkin.earlier", score=7) not in bot.text
    assert await _answers(app) == {}


async def test_checkin_continues_after_a_restart(
    settings: Settings, clock: FrozenClock, channel: RecordingChannel
) -> None:
    first = App(settings, clock=clock, channels={channel.name: channel})
    await first.start(scheduler=False, sender=False)
    try:
        before = Person(first)
        await _begin(before)
        await before.press("7")
        await before.press("6")
        assert _progress(first, 3) in before.text
        shown = list(before.last)
    finally:
        await first.stop()

    second = App(settings, clock=clock, channels={channel.name: channel})
    await second.start(scheduler=False, sender=False)
    try:
        after = Person(second)
        after.last = shown  # the buttons of the message sent before the restart
        await after.press("5")
        assert _progress(second, 4) in after.text
        await after.send("/spinnenweb")
        assert _t(second, "checkin.resume_where", number=4, total=6) in after.text
        await after.press(_t(second, "checkin.resume_continue"))
        assert _progress(second, 4) in after.text
        await _answer_all(after, [4, 3, 2])
        (record,) = await _records(second)
        assert list(record.answers.values()) == [7, 6, 5, 4, 3, 2]
    finally:
        await second.stop()


@pytest.mark.parametrize("how", ["button", "typed"])
async def test_stop_mid_checkin_keeps_nothing(bot: Person, app: App, how: str) -> None:
    await _begin(bot)
    await bot.press("7")
    await bot.press("6")
    question = list(bot.last)
    if how == "button":
        replies = await bot.press(_t(app, "checkin.stop"))
    else:
        replies = await bot.send("stop")
    assert replies[0].text == _t(app, "checkin.stopped")
    assert _t(app, "menu.spinnenweb") in bot.choices
    assert await _state(app) is None
    assert await _rows(app) == []
    await bot.send("5")  # no longer an answer
    assert _progress(app, 3) not in bot.text
    assert await _state(app) is None
    bot.last = question  # a button of the stopped check-in
    await bot.press("5")
    assert bot.text == _t(app, "checkin.stale_none")
    assert await _rows(app) == []


# -- stale and forged buttons -----------------------------------------------------


async def test_button_of_an_earlier_question_is_stale(bot: Person, app: App) -> None:
    await _begin(bot)
    first_question = list(bot.last)
    await bot.press("7")
    await bot.press("6")
    assert _progress(app, 3) in bot.text
    bot.last = first_question
    replies = await bot.press("2")
    assert replies[0].text == _t(app, "checkin.stale")
    assert _progress(app, 3) in replies[-1].text
    assert list((await _answers(app)).values()) == [7, 6]
    await bot.press("5")  # the fresh buttons work
    assert _progress(app, 4) in bot.text
    assert list((await _answers(app)).values()) == [7, 6, 5]


async def test_same_button_twice_records_once(bot: Person, app: App) -> None:
    await _begin(bot)
    await bot.press("7")
    second = list(bot.last)
    await bot.press("6")
    bot.last = second
    await bot.press("6")
    assert bot.last[0].text == _t(app, "checkin.stale")
    assert list((await _answers(app)).values()) == [7, 6]

    await _answer_all(bot, [5, 4, 3])
    last_question = list(bot.last)
    assert _progress(app, 6) in bot.text
    replies = await bot.press("2")
    assert _result(replies).image is not None
    bot.last = last_question
    replies = await bot.press("2")  # pressed again after the result
    assert replies[0].text == _t(app, "checkin.stale")
    assert replies[-1].text == _t(app, "checkin.reflect_offer")
    assert all(r.image is None for r in replies)
    assert len(await _rows(app)) == 1


@pytest.mark.parametrize("event_ids", [False, True], ids=["console", "platform-updates"])
async def test_double_press_at_the_same_time_records_once(
    bot: Person, app: App, event_ids: bool
) -> None:
    """Two deliveries of one button at once (a double tap): one check-in, not two.
    With platform update ids the person's turn is taken with the dedupe record;
    without (the console), when the person is looked up."""
    await _begin(bot)
    await _answer_all(bot, [5] * (SHORT_COUNT - 1))
    assert _progress(app, SHORT_COUNT) in bot.text
    first = Person(app, last=list(bot.last), with_event_ids=event_ids)
    second = Person(app, last=list(bot.last), with_event_ids=event_ids)
    replies = await asyncio.gather(first.press("2"), second.press("2"))
    results = [r for group in replies for r in group if r.image is not None]
    assert len(await _rows(app)) == 1
    assert len(results) == 1


@pytest.mark.parametrize(
    "template",
    [
        "sw:zzz:1:5",
        "sw:zzz:{turn}:5",
        "sw:{run}:{turn}:99",
        "sw:{run}:x:5",
        "sw:{run}:-{turn}:5",
        "sw:{run}:999:5",
        "sw:",
        "sw",
        "sw:{run}:{turn}",
        "sw:{run}:{turn}:5:5",
        "sw:{run}:²:5",
        "sw:{run}:{turn}:²",
    ],
)
async def test_forged_button_data_is_harmless(bot: Person, app: App, template: str) -> None:
    await _begin(bot)
    await bot.press("7")
    run, turn = _current(bot)
    replies = await bot.press(template.format(run=run, turn=turn))
    assert replies, template
    assert replies[0].text == _t(app, "checkin.stale")
    assert _progress(app, 2) in replies[-1].text
    assert list((await _answers(app)).values()) == [7]
    assert await _rows(app) == []
    await bot.press("6")  # the check-in goes on with the fresh buttons
    assert _progress(app, 3) in bot.text


@pytest.mark.parametrize("op", ["f3", "f99", "f²", "zz"])
async def test_forged_follow_up_choice_is_harmless(bot: Person, app: App, op: str) -> None:
    await _begin(bot)
    await _answer_all(bot, [5] * SHORT_COUNT)
    await bot.press(_t(app, "checkin.reflect_no"))
    assert bot.last[-1].text == _t(app, "checkin.followup")
    run, turn = _current(bot)
    replies = await bot.press(f"sw:{run}:{turn}:{op}")
    assert _t(app, "errors.internal") not in "\n".join(r.text for r in replies)
    assert replies[-1].text == _t(app, "checkin.followup")
    state = await _state(app)
    assert state is not None and state.step == "followup"


async def test_button_of_a_finished_checkin(bot: Person, app: App) -> None:
    await _begin(bot)
    await _answer_all(bot, [5] * (SHORT_COUNT - 1))
    last_question = list(bot.last)
    await bot.press("5")
    offer = list(bot.last)
    await _finish_without_extras(bot)
    for old in (last_question, offer):
        bot.last = old
        action = next(c.action for r in old for c in r.choices if c.action.startswith("sw:"))
        replies = await bot.press(action)
        assert [r.text for r in replies] == [_t(app, "checkin.stale_none")]
        assert bot.choices == [_t(app, "checkin.start_again")]
    assert len(await _rows(app)) == 1
    assert await _state(app) is None
    await bot.press(_t(app, "checkin.start_again"))
    assert bot.text == _t(app, "checkin.choose_mode")


# -- consent --------------------------------------------------------------------------


async def test_refused_consent_shows_the_result_and_keeps_nothing(bot: Person, app: App) -> None:
    await bot.send("/spinnenweb")
    await bot.press(_t(app, "checkin.consent_no"))
    assert bot.last[0].text == _t(app, "checkin.consent_declined")
    await bot.press(_t(app, "checkin.mode_short"))
    replies = await _answer_all(bot, [8, 7, 6, 5, 4, 3])
    result = _result(replies)
    assert result.image is not None and result.image.path.read_bytes()[:8] == PNG
    assert _t(app, "checkin.summary_line", name=_names(app)[0], score="8") in result.text
    assert replies[-1].text == _t(app, "checkin.forgotten")
    assert await _rows(app) == []
    assert await _state(app) is None
    user = await _user(app)
    assert user.consent_at is None and user.consent_version is None
    await bot.send("/spinnenweb")  # asked again next time
    assert bot.text == _consent(app)


async def test_consent_is_asked_once(bot: Person, app: App, clock: FrozenClock) -> None:
    await _begin(bot, consent=True)
    await _answer_all(bot, [7] * SHORT_COUNT)
    await _finish_without_extras(bot)
    consent_at = (await _user(app)).consent_at

    clock.advance(days=42)
    await bot.send("/spinnenweb")
    assert bot.text == _t(app, "checkin.choose_mode")
    assert _t(app, "checkin.consent_yes") not in bot.choices
    await bot.press(_t(app, "checkin.mode_short"))
    replies = await _answer_all(bot, [8, 7, 6, 7, 7, 7])
    result = _result(replies)
    names = _names(app)
    line = _t(app, "checkin.summary_line_change", name=names[0], score="8", arrow="↑", before="7")
    assert line in result.text
    line = _t(app, "checkin.summary_line_change", name=names[2], score="6", arrow="↓", before="7")
    assert line in result.text
    assert _t(app, "checkin.summary_since", date="05-01-2026") in result.text
    assert len(await _rows(app)) == 2
    assert (await _user(app)).consent_at == consent_at


# -- where a check-in can start ---------------------------------------------------------


async def test_group_chat_invites_to_a_private_chat(app: App) -> None:
    group = Person(app, private=False, chat_id="group-1")
    payloads = []
    for start in ("/spinnenweb", "/start checkin"):
        replies = await group.send(start)
        assert [r.text for r in replies] == [_t(app, "checkin.private_only", command="spinnenweb")]
        invite = replies[0].private_invite
        assert invite is not None
        payloads.append(invite.start_payload)
    await group.send("/start")
    replies = await group.press(_t(app, "menu.spinnenweb"))
    assert replies[0].text == _t(app, "checkin.private_only", command="spinnenweb")
    assert replies[0].private_invite is not None
    assert await _state(app, chat_id="group-1") is None
    await group.send("7")
    assert _progress(app, 1) not in group.text
    for number, payload in enumerate(payloads):  # the invitation's deep link, in private
        private = Person(app, user_id=f"p{number}")
        await private.send(f"/start {payload}")
        assert private.text == _consent(app)


@pytest.mark.parametrize("how", ["deep link", "menu"])
async def test_checkin_starts_from_deep_link_and_menu(bot: Person, app: App, how: str) -> None:
    if how == "deep link":
        await bot.send("/start checkin")
    else:
        await bot.send("/start")
        await bot.press(_t(app, "menu.spinnenweb"))
    assert bot.text == _consent(app)
    await bot.press(_t(app, "checkin.consent_yes"))
    await bot.press(_t(app, "checkin.mode_short"))
    assert _progress(app, 1) in bot.text


async def test_english_prompts(bot: Person, app: App) -> None:
    await bot.send("/taal en")
    await bot.send("/spinnenweb")
    assert bot.text == _consent(app, "en")
    await bot.press(_t(app, "checkin.consent_yes", "en"))
    assert bot.last[-1].text == _t(app, "checkin.choose_mode", "en")
    await bot.send("short")
    assert "Question 1 of 6" in bot.text
    assert _progress(app, 1, lang="en") in bot.text
    assert _web(app).intro["en"] in bot.text
    await bot.send("seven")
    assert _progress(app, 2, lang="en") in bot.text
    replies = await _answer_all(bot, [6, 5, 4, 3, 2])
    result = _result(replies)
    assert _t(app, "checkin.summary_line", "en", name="Bodily functions", score="7") in result.text
    assert replies[-1].text == _t(app, "checkin.reflect_offer", "en")


# -- reflection -----------------------------------------------------------------------------


async def test_an_indirect_crisis_or_someone_elses_in_a_reflection_is_answered_first(
    bot: Person, app: App
) -> None:
    await _begin(bot)
    await _answer_all(bot, [5] * SHORT_COUNT)
    await bot.press(_t(app, "checkin.reflect_yes"))
    await bot.send("k wil der eigenlijk nie meer zijn")
    assert bot.text == _t(app, "safety.crisis")
    await bot.send("mijn zus zegt dat ze haar pillen spaart")
    assert bot.text == _t(app, "safety.crisis_other")
    state = await _state(app)
    assert state is not None and state.step == "reflect" and state.data["rpos"] == 0


async def test_crisis_in_a_reflection_gets_the_safety_reply(bot: Person, app: App) -> None:
    await _begin(bot)
    await _answer_all(bot, [5] * SHORT_COUNT)
    await bot.press(_t(app, "checkin.reflect_yes"))
    assert bot.text == _t(app, "checkin.reflect.noticed")
    replies = await bot.send("ik wil niet meer leven")
    assert [r.text for r in replies] == [_t(app, "safety.crisis")]
    for number in ("113", "0800-0113", "112"):
        assert number in replies[0].text
    state = await _state(app)
    assert state is not None and state.step == "reflect" and state.data["rpos"] == 0
    await bot.send("Ik slaap slecht")  # the reflection is still open
    assert bot.text == _t(app, "checkin.reflect.wish")
    await bot.press(_t(app, "checkin.reflect_done"))
    (record,) = await _records(app)
    assert record.reflection == {"noticed": "Ik slaap slecht"}


async def test_crisis_during_a_question_keeps_the_question_open(bot: Person, app: App) -> None:
    await _begin(bot)
    await bot.press("7")
    replies = await bot.send("ik wil niet meer leven")
    assert [r.text for r in replies] == [_t(app, "safety.crisis")]
    state = await _state(app)
    assert state is not None and state.step == "question" and state.data["pos"] == 1
    await bot.send("3")
    assert _progress(app, 3) in bot.text
    assert list((await _answers(app)).values()) == [7, 3]


async def test_reflection_answers_are_stored_with_the_checkin(bot: Person, app: App) -> None:
    await _begin(bot)
    await _answer_all(bot, [6] * SHORT_COUNT)
    await bot.send("ja")
    assert bot.text == _t(app, "checkin.reflect.noticed")
    await bot.send("Mijn zingeving is laag")
    assert bot.text == _t(app, "checkin.reflect.wish")
    await bot.press(_t(app, "checkin.skip"))
    assert bot.text == _t(app, "checkin.reflect.helpers")
    replies = await bot.send("  mijn buurvrouw  ")
    assert replies[0].text == _t(app, "checkin.reflect_thanks")
    assert replies[-1].text == _t(app, "checkin.followup")
    (record,) = await _records(app)
    assert record.reflection == {"noticed": "Mijn zingeving is laag", "helpers": "mijn buurvrouw"}
    rows = await _rows(app)
    assert b"buurvrouw" not in rows[0].payload
    await bot.send("nee")  # no reminder; without a wish, no wish question
    assert [r.text for r in bot.last] == [
        _t(app, "checkin.followup_none"),
        _t(app, "checkin.done"),
    ]
    assert await _state(app) is None


# -- follow-up with a running scheduler -----------------------------------------------------


@pytest.fixture
def live_clock() -> FrozenClock:
    """A frozen clock at the real time: the scheduler itself runs on real time."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def scheduled(
    settings: Settings, live_clock: FrozenClock, channel: RecordingChannel
) -> AsyncIterator[App]:
    application = App(settings, clock=live_clock, channels={channel.name: channel})
    await application.start(sender=False)
    try:
        yield application
    finally:
        await application.stop()


async def _jobs(app: App, user_id: int) -> dict[str, datetime | None]:
    assert app.scheduler is not None
    return dict(await app.scheduler.list_jobs(f"user:{user_id}:"))


async def _checkin_with_wish(bot: Person, wish: str) -> None:
    await _begin(bot)
    await _answer_all(bot, [6] * SHORT_COUNT)
    await bot.press(_t(bot.app, "checkin.reflect_yes"))
    await bot.send("Mijn lichaam doet het goed")
    await bot.send(wish)
    await bot.send("mijn huisarts")
    assert bot.last[-1].text == _t(bot.app, "checkin.followup")


async def test_follow_up_schedules_reminder_and_wish(
    scheduled: App, live_clock: FrozenClock
) -> None:
    app, now = scheduled, live_clock.now()
    bot = Person(app)
    wish = "Elke dag een half uur wandelen"
    await _checkin_with_wish(bot, wish)
    user = await _user(app)
    (record,) = await _records(app)
    assert record.reflection["wish"] == wish

    suggested = _t(app, "checkin.followup_weeks_suggested", weeks=6)
    assert suggested == "Over 6 weken (aangeraden)"
    replies = await bot.press(suggested)
    remind_at = now + timedelta(weeks=6)
    local = remind_at.astimezone(app.settings.zone).strftime("%d-%m-%Y")
    assert replies[0].text == _t(app, "checkin.followup_set", weeks=6, date=local)
    assert replies[-1].text == _t(app, "checkin.wish_followup", wish=wish)
    assert (await _jobs(app, user.id)) == {f"user:{user.id}:checkin-reminder": remind_at}

    replies = await bot.press(_t(app, "checkin.yes"))
    assert replies[0].text == _t(app, "checkin.wish_set")
    assert replies[-1].text == _t(app, "checkin.done")
    assert (await _jobs(app, user.id)) == {
        f"user:{user.id}:checkin-reminder": remind_at,
        f"user:{user.id}:wish": now + timedelta(days=14),
    }
    assert await _state(app) is None

    for _ in range(2):  # the job as the scheduler would run it, twice
        await spinnenweb_jobs.wish_followup(user.id, record.id)
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    assert len(rows) == 1
    assert rows[0].chat_id == "anna" and rows[0].user_id == user.id
    assert wish.encode() not in rows[0].payload
    text = app.services.cipher.decrypt(rows[0].payload)["text"]
    assert wish in text
    assert text == _t(app, "checkin.wish_question", wish=wish)


async def test_follow_up_typed_weeks_and_no_wish(scheduled: App, live_clock: FrozenClock) -> None:
    app = scheduled
    bot = Person(app)
    await _checkin_with_wish(bot, "Vaker vrienden zien")
    user = await _user(app)
    await bot.send("4")
    remind_at = live_clock.now() + timedelta(weeks=4)
    local = remind_at.astimezone(app.settings.zone).strftime("%d-%m-%Y")
    assert bot.last[0].text == _t(app, "checkin.followup_set", weeks=4, date=local)
    await bot.send("nee")
    assert [r.text for r in bot.last] == [_t(app, "checkin.done")]
    assert (await _jobs(app, user.id)) == {f"user:{user.id}:checkin-reminder": remind_at}


async def _at_the_reminder(bot: Person) -> None:
    await _begin(bot)
    await _answer_all(bot, [6] * SHORT_COUNT)
    await bot.press(_t(bot.app, "checkin.reflect_no"))
    assert bot.last[-1].text == _t(bot.app, "checkin.followup")


@pytest.mark.parametrize(
    ("typed", "weeks"),
    [("2", 2), ("12", 12), ("12 weken", 12), ("over 4 weken", 4), ("twee weken", 2), ("6w", 6)],
)
async def test_typed_weeks_at_the_reminder_as_telegram_sends_them(
    scheduled: App, live_clock: FrozenClock, typed: str, weeks: int
) -> None:
    """Typed text reaches the check-in as it is (Telegram shows buttons without
    numbers): a number means that many weeks, with or without "weken"."""
    app = scheduled
    bot = Person(app, platform="telegram")
    await _at_the_reminder(bot)
    await bot.send(typed)
    remind_at = live_clock.now() + timedelta(weeks=weeks)
    local = remind_at.astimezone(app.settings.zone).strftime("%d-%m-%Y")
    assert bot.last[0].text == _t(app, "checkin.followup_set", weeks=weeks, date=local)
    user = await _user(app)
    assert (await _jobs(app, user.id)) == {f"user:{user.id}:checkin-reminder": remind_at}


async def test_typed_weeks_without_an_option_are_asked_again(scheduled: App) -> None:
    app = scheduled
    bot = Person(app, platform="telegram")
    await _at_the_reminder(bot)
    for typed in ("3", "3 weken", "2 maanden", "12 maanden", "0", "5"):
        replies = await bot.send(typed)
        assert [r.text for r in replies] == [
            _t(app, "checkin.followup_unclear"),
            _t(app, "checkin.followup"),
        ], typed
    assert "4 weken" in _t(app, "checkin.followup_unclear")  # it says how to answer
    assert "4 weeks" in _t(app, "checkin.followup_unclear", "en")
    user = await _user(app)
    assert (await _jobs(app, user.id)) == {}
    state = await _state(app)
    assert state is not None and state.step == "followup"


async def test_no_reminder_removes_the_reminder_job(
    scheduled: App, live_clock: FrozenClock
) -> None:
    app = scheduled
    bot = Person(app)
    await _begin(bot)
    await _answer_all(bot, [6] * SHORT_COUNT)
    await bot.press(_t(app, "checkin.reflect_no"))
    await bot.press(_t(app, "checkin.followup_weeks", weeks=2))
    user = await _user(app)
    assert list(await _jobs(app, user.id)) == [f"user:{user.id}:checkin-reminder"]

    live_clock.advance(days=14)
    await bot.send("/spinnenweb")
    await bot.press(_t(app, "checkin.mode_short"))
    await _answer_all(bot, [7] * SHORT_COUNT)
    await bot.press(_t(app, "checkin.reflect_no"))
    replies = await bot.press(_t(app, "checkin.followup_never"))
    assert replies[0].text == _t(app, "checkin.followup_none")
    assert (await _jobs(app, user.id)) == {}
    assert len(await _rows(app)) == 2


async def test_stop_removes_reminder_and_wish_jobs(scheduled: App) -> None:
    app = scheduled
    bot = Person(app)
    await _checkin_with_wish(bot, "Minder piekeren")
    await bot.press(_t(app, "checkin.followup_weeks", weeks=12))
    await bot.press(_t(app, "checkin.yes"))
    user = await _user(app)
    assert set(await _jobs(app, user.id)) == {
        f"user:{user.id}:checkin-reminder",
        f"user:{user.id}:wish",
    }
    await bot.send("/stop")
    assert (await _jobs(app, user.id)) == {}
    assert app.scheduler is not None
    assert await app.scheduler.job_ids()  # housekeeping is not the person's job
