"""First conversations, through the whole middleware chain and storage."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.core.messages import Incoming, Kind, Reply
from bot.outbox.queue import CANCELLED, Outgoing
from bot.storage.models import AuditLog, OutboxMessage, User
from tests.helpers.conversation import Person


async def _user(app: App, user_id: str = "anna") -> User:
    assert app.services is not None
    async with app.services.sessions() as session:
        result = await session.execute(select(User).where(User.platform_user_id == user_id))
        return result.scalar_one()


async def test_start_welcomes_in_dutch_with_menu(bot: Person) -> None:
    replies = await bot.send("/start")
    assert "Hoi Anna!" in replies[-1].text
    assert "Alliantie Positieve Gezondheid" in replies[-1].text
    assert bot.choices == [
        "Stel een vraag",
        "Vul je spinnenweb in",
        "Wat kan ik hier?",
        "Taal / Language",
        "Bekijk de agenda",
    ]


async def test_help_lists_every_command_and_the_human_contact(bot: Person) -> None:
    await bot.send("/help")
    for command in ("/start", "/help", "/taal", "/stop"):
        assert command in bot.text
    assert "info@alliantiepg.nl" in bot.text
    assert "huisarts" in bot.text


async def test_menu_button_leads_to_help(bot: Person) -> None:
    await bot.send("/start")
    await bot.press("Wat kan ik hier?")
    assert "/taal" in bot.text


async def test_language_by_button_is_remembered(bot: Person, app: App) -> None:
    await bot.send("/taal")
    assert bot.choices == ["Nederlands", "English"]
    await bot.press("English")
    assert "English" in bot.text
    await bot.send("/start")
    assert bot.text.startswith("Hi Anna!")
    assert (await _user(app)).language == "en"


async def test_language_typed_and_as_argument(bot: Person, app: App) -> None:
    await bot.send("/taal")
    await bot.send("engels")
    assert (await _user(app)).language == "en"
    await bot.send("/language nl")
    assert (await _user(app)).language == "nl"
    assert "Nederlands" in bot.text


async def test_language_flow_gives_way_to_unclear_text(bot: Person, app: App) -> None:
    await bot.send("/taal")
    await bot.send("klingon")
    assert "herken ik niet" in bot.text
    await bot.send("hallo")  # no longer in the language flow
    assert "Stel gerust je vraag" in bot.text


async def test_forged_and_stale_buttons_are_harmless(bot: Person, app: App) -> None:
    await bot.press("taal:xx")
    assert "knop werkt niet meer" in bot.text
    await bot.press("nonsense:1:2")
    assert "knop werkt niet meer" in bot.text
    await bot.press("")
    assert "knop werkt niet meer" in bot.text
    assert (await _user(app)).language == "nl"


async def test_unknown_command_sticker_empty_and_huge(bot: Person) -> None:
    await bot.send("/bestaatniet")
    assert "/bestaatniet" in bot.text and "/help" in bot.text
    await bot.sticker()
    assert "alleen tekst" in bot.text
    await bot.send("   ")
    assert "leeg" in bot.text
    await bot.send("a" * 10_000)
    assert "te lang" in bot.text


async def test_english_platform_language_is_used_for_new_people(app: App) -> None:
    person = Person(app, user_id="bob", display_name="Bob", language_code="en-GB")
    await person.send("/start")
    assert person.text.startswith("Hi Bob!")


async def test_stop_cancels_pending_messages_and_start_resumes(bot: Person, app: App) -> None:
    await bot.send("/start")
    user = await _user(app)
    assert app.services is not None
    await app.services.outbox.enqueue(
        [
            Outgoing(
                key="n1",
                platform="console",
                chat_id="anna",
                reply=Reply(text="nieuws"),
                user_id=user.id,
            )
        ]
    )
    await bot.send("/stop")
    assert "geen berichten meer" in bot.text
    user = await _user(app)
    assert user.messages_enabled is False
    async with app.services.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
        assert row.status == CANCELLED
        actions = [a.action for a in (await session.execute(select(AuditLog))).scalars()]
    assert "messages.stopped" in actions
    await bot.send("/start")
    assert "weer berichten" in bot.text
    assert (await _user(app)).messages_enabled is True


async def test_redelivered_platform_update_is_handled_once(app: App) -> None:
    update = Incoming(
        platform="telegram",
        user_id="42",
        chat_id="42",
        kind=Kind.COMMAND,
        text="/start",
        event_id="1001",
    )
    assert await app.handle(update)
    assert await app.handle(update) == []


async def test_admins_from_settings_become_verbinders(app: App) -> None:
    await Person(app, user_id="verbinder1").send("/start")
    await Person(app, user_id="anna").send("/start")
    assert "verbinder" in (await _user(app, "verbinder1")).role_set
    assert "verbinder" not in (await _user(app, "anna")).role_set


async def test_group_and_private_chats_keep_separate_state(app: App) -> None:
    private = Person(app, user_id="anna")
    group = Person(app, user_id="anna", chat_id="group-1", private=False)
    await group.send("/taal")
    await private.send("engels")  # not in the language flow in the private chat
    assert "English" not in private.text
    await group.send("engels")
    assert "English" in group.text
