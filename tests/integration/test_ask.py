"""Asking questions in the chat: answers with sources, grey zone, honesty, safety."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.app import App
from bot.core.messages import FileKind, Incoming, IncomingFile, Kind
from bot.paths import content_dir
from bot.settings import Settings
from bot.storage.models import UnansweredQuestion
from tests.helpers.conversation import Person


async def test_a_question_is_answered_with_its_source_and_related_topics(bot: Person) -> None:
    await bot.send("wat is een gangmaker eigenlijk")
    assert "gangmaker" in bot.text.lower()
    assert "Bron: Factsheet Alliantie Positieve Gezondheid ZHN" in bot.text
    assert 2 <= len(bot.choices) <= 3
    related = bot.choices[0]
    await bot.press(related)
    assert bot.text.startswith(related)
    assert "Bron:" in bot.text


async def test_an_english_question_gets_an_english_answer(bot: Person) -> None:
    await bot.send("what is positive health?")
    assert "Source:" in bot.text
    assert "Positive Health" in bot.text


async def test_unknown_questions_are_not_guessed_and_are_recorded_without_who_asked(
    bot: Person, app: App
) -> None:
    await bot.send("wie heeft de tour de france vorig jaar gewonnen")
    assert "geen goed antwoord" in bot.text
    assert "info@alliantiepg.nl" in bot.text
    assert app.services is not None
    async with app.services.sessions() as session:
        rows = list((await session.execute(select(UnansweredQuestion))).scalars())
    assert [r.question for r in rows] == ["wie heeft de tour de france vorig jaar gewonnen"]
    assert not hasattr(rows[0], "user_id")


async def test_grey_zone_asks_what_you_mean(bot: Person) -> None:
    await bot.send("samenwerking in de wijk")
    assert "Bedoel je" in bot.text
    assert bot.choices[-1] == "Iets anders"
    await bot.press("Iets anders")
    assert "info@alliantiepg.nl" in bot.text


async def test_medical_questions_go_to_the_huisarts(bot: Person) -> None:
    await bot.send("hoeveel paracetamol mag ik per dag")
    assert "huisarts" in bot.text and "apotheek" in bot.text
    assert "Bron:" not in bot.text


async def test_crisis_comes_first_even_in_a_conversation(bot: Person, app: App) -> None:
    await bot.send("/taal")
    await bot.send("ik wil niet meer leven")
    assert "113" in bot.text and "0800-0113" in bot.text and "112" in bot.text
    assert "huisarts" in bot.text
    await bot.send("engels")  # the conversation they were in is kept
    assert "English" in bot.text


@pytest.mark.parametrize("kind", [FileKind.IMAGE, FileKind.DOCUMENT])
async def test_a_crisis_in_the_caption_of_a_picture_or_file_gets_the_crisis_reply(
    bot: Person, kind: FileKind, tmp_path: Path
) -> None:
    picture = IncomingFile(kind, tmp_path / "foto.jpg", "foto.jpg", 1000)
    await bot.deliver(
        Incoming(
            platform=bot.platform,
            user_id=bot.user_id,
            chat_id=bot.user_id,
            kind=Kind.UNSUPPORTED,
            text="ik wil niet meer leven",
            attachment=picture,
        )
    )
    assert "113" in bot.text and "0800-0113" in bot.text and "112" in bot.text


def _database_down(app: App, monkeypatch: object) -> None:
    assert app.services is not None

    def down() -> object:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(app.services, "sessions", down)  # type: ignore[attr-defined]


async def test_crisis_reply_even_when_the_database_is_down(
    bot: Person, app: App, monkeypatch: object
) -> None:
    _database_down(app, monkeypatch)
    await bot.send("ik denk aan zelfmoord")
    assert "0800-0113" in bot.text


async def test_the_menu_button_explains_how_to_ask(bot: Person) -> None:
    await bot.send("/start")
    await bot.press("Stel een vraag")
    assert "eigen woorden" in bot.text
    assert "Bron:" not in bot.text


async def test_vraag_explains_and_offers_popular_topics(bot: Person) -> None:
    await bot.send("/vraag")
    assert "eigen woorden" in bot.text
    assert "Wat is Positieve Gezondheid?" in bot.choices[0] or len(bot.choices) >= 4
    await bot.send("/vraag wat is het spinnenweb")
    assert "Bron:" in bot.text


async def test_greetings_and_thanks_are_not_questions(bot: Person, app: App) -> None:
    await bot.send("hoi!")
    assert "Stel gerust je vraag" in bot.text
    await bot.send("dank je wel")
    assert "Graag gedaan" in bot.text
    assert app.services is not None
    async with app.services.sessions() as session:
        assert (await session.execute(select(UnansweredQuestion))).first() is None


async def test_stale_topic_button(bot: Person) -> None:
    await bot.press("kb:bestaat-niet")
    assert "knop werkt niet meer" in bot.text


async def test_reload_is_for_verbinders_and_keeps_old_content_when_broken(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(content_dir(), content)
    app = App(make_settings(database_url=database_url, content_dir=content))
    await app.start(scheduler=False, sender=False)
    try:
        inwoner, verbinder = Person(app, user_id="anna"), Person(app, user_id="verbinder1")
        await inwoner.send("/herlaad")
        assert "verbinders" in inwoner.text
        knowledge = content / "knowledge" / "alliantie.yaml"
        knowledge.write_text(
            knowledge.read_text().replace("Een gangmaker jaagt", "Een gangmaker (nieuw) jaagt")
        )
        await verbinder.send("/herlaad")
        assert "opnieuw geladen" in verbinder.text
        await inwoner.send("wat doet een gangmaker")
        assert "gangmaker (nieuw)" in inwoner.text
        knowledge.write_text(knowledge.read_text() + "\n- id: kapot\n")
        await verbinder.send("/herlaad")
        assert "lukte niet" in verbinder.text
        await inwoner.send("wat doet een gangmaker")
        assert "gangmaker (nieuw)" in inwoner.text
    finally:
        await app.stop()


def _text(app: App, key: str, language: str = "nl") -> str:
    assert app.services is not None
    return app.services.texts.get(language, key)


async def test_someone_elses_crisis_gets_the_reply_for_helping(bot: Person, app: App) -> None:
    await bot.send("mijn vriend zegt dat hij er een eind aan wil maken")
    assert bot.text == _text(app, "safety.crisis_other")
    assert "0800-0113" in bot.text and "112" in bot.text and "huisarts" in bot.text


async def test_a_plan_with_pills_gets_the_crisis_reply_not_the_medicine_rule(
    bot: Person, app: App
) -> None:
    await bot.send("ik heb al weken mijn slaappillen opgespaard")
    assert bot.text == _text(app, "safety.crisis")


async def test_a_question_about_113_gets_information(bot: Person, app: App) -> None:
    await bot.send("wat doet 113 eigenlijk?")
    assert bot.text == _text(app, "safety.info")
    assert bot.text != _text(app, "safety.crisis")


async def test_ordinary_feelings_get_warmth_help_nearby_and_the_spinnenweb(bot: Person) -> None:
    await bot.send("ik voel me de laatste tijd zo eenzaam")
    assert "eenzaam" in bot.text
    assert "088-0767000" in bot.text  # De Luisterlijn
    assert "0800-0113" in bot.text  # 113 as a safety net
    assert "sociaal (wijk)team" in bot.text
    assert "geen goed antwoord" not in bot.text
    assert bot.choices[0] == "Vul je spinnenweb in"
    assert len(bot.choices) == 2  # and one entry that fits
    await bot.press("Vul je spinnenweb in")
    assert "spinnenweb" in bot.text.lower()


async def test_an_overloaded_mantelzorger_hears_of_the_mantelzorgsteunpunt(bot: Person) -> None:
    await bot.send("de zorg voor mijn moeder met dementie valt me zo zwaar")
    assert "mantelzorgsteunpunt" in bot.text


async def test_membership_of_the_region_is_a_yes_or_a_no(bot: Person) -> None:
    await bot.send("hoort Sassenheim bij de regio?")
    assert bot.text.startswith("Ja, Sassenheim")
    assert "Teylingen" in bot.text and "Zoeterwoude" in bot.text and "Bron:" in bot.text
    await bot.send("valt Zoetermeer onder de alliantie?")
    assert bot.text.startswith("Nee, Zoetermeer")


async def test_a_person_named_in_the_seeds_with_how_to_reach_them(bot: Person) -> None:
    await bot.send("wie is Tessa den Dulk?")
    assert bot.text.startswith("Tessa den Dulk")
    assert "BuZz" in bot.text and "info@alliantiepg.nl" in bot.text and "Bron:" in bot.text


async def test_symptoms_go_to_the_huisarts_and_a_match_result_does_not(bot: Person) -> None:
    await bot.send("ik heb al dagen rugpijn, moet ik warmte of ijs gebruiken?")
    assert "huisarts" in bot.text and "Bron:" not in bot.text
    await bot.send("wat was de uitslag van de wedstrijd van Ajax")
    assert "geen advies" not in bot.text


async def test_the_reply_for_someone_else_also_comes_when_the_database_is_down(
    bot: Person, app: App, monkeypatch: object
) -> None:
    _database_down(app, monkeypatch)
    await bot.send("mijn dochter snijdt zichzelf")
    assert bot.text == _text(app, "safety.crisis_other")
