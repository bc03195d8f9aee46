"""People and roles (issue 14), through the whole bot on SQLite and PostgreSQL: the
profile, invites, /rollen, linked groups, and the refusals for everyone else."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from sqlalchemy import select

from bot.app import App
from bot.core.clock import FrozenClock
from bot.core.messages import PressOutcome
from bot.storage.models import AuditLog, GroupLink, Invite, InviteUse, User
from tests.helpers.conversation import Person, typed_in_console


async def _user(app: App, user_id: str = "anna") -> User | None:
    assert app.services is not None
    async with app.services.sessions() as session:
        result = await session.execute(select(User).where(User.platform_user_id == user_id))
        return result.scalar_one_or_none()


async def _rows(app: App, model: type) -> list:  # type: ignore[type-arg]
    assert app.services is not None
    async with app.services.sessions() as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


async def _audit(app: App) -> list[tuple[str, int | None, str]]:
    return [(a.action, a.actor_user_id, a.detail) for a in await _rows(app, AuditLog)]


def _verbinder(app: App, chat_id: str | None = None, private: bool = True) -> Person:
    return Person(app, user_id="verbinder1", display_name="Lotte", chat_id=chat_id, private=private)


async def _press_all(person: Person, labels: Sequence[str]) -> None:
    for label in labels:
        assert person.find_choice(label) is not None, (label, person.choices)
        await person.press(label)


async def _make_invite(verbinder: Person, *labels: str) -> str:
    """Make an invite with the buttons ``labels``; the token the verbinder is shown."""
    await verbinder.send("/uitnodiging")
    await _press_all(verbinder, [*labels, "Ja, maak de uitnodiging"])
    (made,) = verbinder.last
    token = re.search(r"/code ([0-9a-f]{40})", made.text)
    assert token is not None, made.text
    assert made.share_link is not None and made.share_link.start_payload == f"inv_{token[1]}"
    return token[1]


# -- the profile ----------------------------------------------------------------------


async def test_start_offers_the_profile_once_in_a_private_chat(app: App) -> None:
    anna = Person(app)
    (first,) = await anna.send("/start")  # one message: the welcome, the offer, the menu
    assert first.text.startswith("Hoi Anna!") and first.text.endswith("Typ /profiel.")
    assert "Wat kan ik hier?" in [c.label for c in first.choices]
    again = await anna.send("/start")
    assert all("/profiel" not in r.text for r in again)
    in_group = Person(app, user_id="bob", chat_id="group-1", private=False)
    assert all("/profiel" not in r.text for r in await in_group.send("/start"))
    bob = await _user(app, "bob")
    assert bob is not None and bob.profile_offered_at is None  # still to offer in private


async def test_profile_step_by_step_exported_and_forgotten(app: App) -> None:
    anna = Person(app)
    await anna.send("/profiel")
    assert "Nederlands" in anna.choices and "English" in anna.choices
    await _press_all(anna, ["Nederlands", "Leiden", "DSV"])
    assert anna.choices[:2] == ["✓ Nieuws (aan)", "✓ Agenda (aan)"]
    await anna.press("✓ Agenda (aan)")
    assert "✗ Agenda (uit)" in anna.choices
    await anna.press("Klaar")
    assert "Gemeente: Leiden" in anna.text and "Organisatie: DSV" in anna.text
    assert "Agenda" not in anna.text.split("Berichten over:")[1].split("\n")[0]
    user = await _user(app)
    assert user is not None
    assert (user.gemeente, user.organisation, user.topics_off) == ("leiden", "dsv", "agenda")

    (export,) = await anna.send("/mijngegevens")
    assert export.document is not None
    data = json.loads(export.document.path.read_text(encoding="utf-8"))
    assert data["people"]["gemeente"] == "leiden"
    assert data["people"]["organisation"] == "dsv"
    assert data["people"]["topics_off"] == ["agenda"]

    await anna.send("/vergeetmij")
    await anna.press("Ja, verwijder alles")
    assert await _user(app) is None


async def test_profile_typed_answers_back_stop_and_english(app: App) -> None:
    anna = Person(app)
    await anna.send("/profiel")
    await anna.send("english")  # the rest is asked in English
    assert "Which municipality" in anna.text
    await anna.send("terug")
    assert "which language" in anna.text
    await anna.press("Skip")
    await anna.send("Alphen aan den Rijn")
    await anna.send("klingon")
    assert "I don't understand" in anna.text
    await anna.press("Another organisation")
    await anna.send("stop")
    assert "What you had chosen is saved" in anna.text
    user = await _user(app)
    assert user is not None
    assert (user.language, user.gemeente, user.organisation) == (
        "en",
        "alphen-aan-den-rijn",
        "anders",
    )
    assert user.topics_off == ""
    await anna.send("/profiel")
    await anna.press("Skip")
    await anna.press("I don't live in the region")
    await anna.press("No organisation")
    await anna.press("Done")
    user = await _user(app)
    assert user is not None and (user.gemeente, user.organisation) == ("buiten-de-regio", "geen")


async def test_profile_says_no_organisation_was_chosen_and_which_topics_are_on(app: App) -> None:
    anna = Person(app)
    await anna.send("/profiel")
    await _press_all(anna, ["Nederlands", "Leiden"])
    assert "Nu: nog niet gekozen." in anna.text
    await anna.press("Geen organisatie")
    assert "Nu aan: alles." in anna.text
    await anna.press("✓ Agenda (aan)")
    await anna.press("✓ Nieuws (aan)")
    assert "Nu aan: Leerateliers, Gangmakers, Spinnenweb-tips." in anna.text
    assert "Alles staat aan" not in anna.text
    await anna.press("Klaar")
    assert "Organisatie: geen organisatie" in anna.text
    await anna.send("/profiel")
    await _press_all(anna, ["Nederlands", "Leiden"])
    assert "Nu: geen organisatie." in anna.text
    await anna.send("geen organisatie")  # typed, as the label
    assert "Nu aan: Leerateliers" in anna.text
    await anna.press("Terug")
    await anna.send("Een andere organisatie")
    await anna.press("Klaar")
    assert "Organisatie: een andere organisatie" in anna.text


async def test_start_does_not_offer_the_profile_to_someone_who_filled_it_in(app: App) -> None:
    anna = Person(app)
    await anna.send("/profiel")
    await _press_all(anna, ["Nederlands", "Leiden"])
    await anna.send("stop")
    assert all("Typ /profiel." not in r.text for r in await anna.send("/start"))
    token = await _make_invite(_verbinder(app), "partner", "DSV", "Geen", "7 dagen", "5")
    bob = Person(app, user_id="bob", display_name="Bob")
    await bob.send(f"/code {token}")  # the invite fills in his organisation
    await bob.press("Ja, graag")
    assert all("Typ /profiel." not in r.text for r in await bob.send("/start"))


def _t(app: App, key: str) -> str:
    assert app.services is not None
    return app.services.texts.get("nl", key)


async def test_a_check_in_half_way_is_still_there_after_the_profile_and_a_code(
    app: App,
) -> None:
    anna = Person(app)
    await anna.send("/spinnenweb")
    await anna.press(_t(app, "checkin.consent_yes"))
    await anna.press(_t(app, "checkin.mode_short"))
    await anna.press("7")
    await anna.send("/profiel")
    await anna.press("Overslaan")
    await anna.send("stop")
    await anna.send("/code " + "1" * 40)  # unknown: no conversation of its own
    token = await _make_invite(_verbinder(app), "partner", "Geen", "Geen", "7 dagen", "5")
    await anna.send(f"/code {token}")
    await anna.press("Nee, liever niet")
    await anna.send("/spinnenweb")
    assert _t(app, "checkin.resume") in anna.text
    await anna.press(_t(app, "checkin.resume_continue"))
    assert "Vraag 2 van" in anna.text


async def test_an_old_profile_button_changes_nothing(app: App) -> None:
    anna = Person(app)
    await anna.send("/profiel")
    old = anna.find_choice("Nederlands")
    await anna.press("Nederlands")
    assert old is not None
    (stale,) = await anna.press(old.action)
    assert stale.press_outcome is PressOutcome.STALE
    await anna.press(old.action.rsplit(":", 1)[0] + ":g0")  # forged on an old turn
    user = await _user(app)
    assert user is not None and user.gemeente is None


# -- invites ------------------------------------------------------------------------------


async def test_invite_made_redeemed_by_link_once_and_stored_only_hashed(app: App) -> None:
    verbinder = _verbinder(app)
    token = await _make_invite(verbinder, "gangmaker", "DSV", "Leiden", "7 dagen", "5")
    assert len(token) == 40  # 160 bits
    (invite,) = await _rows(app, Invite)
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(invite))
    assert (invite.role, invite.organisation, invite.gemeente, invite.max_uses) == (
        "gangmaker",
        "dsv",
        "leiden",
        5,
    )

    anna = Person(app)
    await anna.send(f"/start inv_{token.upper()}")  # Telegram's /start, any case
    assert "gangmaker, bij DSV, in Leiden" in anna.text
    await anna.press("Ja, graag")
    assert "Gelukt" in anna.text
    user = await _user(app)
    assert user is not None and "gangmaker" in user.role_set
    assert (user.organisation, user.gemeente) == ("dsv", "leiden")

    await anna.send(f"/code {token}")
    assert "al gebruikt" in anna.text
    (invite,) = await _rows(app, Invite)
    assert invite.uses == 1 and len(await _rows(app, InviteUse)) == 1
    actions = [a for a, _, _ in await _audit(app)]
    assert "invite.created" in actions and "invite.redeemed" in actions
    assert all(token not in detail for _, _, detail in await _audit(app))

    await anna.send("/vergeetmij")  # the use goes with the person; the invite stays
    await anna.press("Ja, verwijder alles")
    assert await _user(app) is None and await _rows(app, InviteUse) == []
    assert [i.uses for i in await _rows(app, Invite)] == [1]


async def test_invite_declined_expired_used_up_revoked_unknown(
    app: App, clock: FrozenClock
) -> None:
    verbinder = _verbinder(app)
    once = await _make_invite(verbinder, "partner", "Geen", "Geen", "1 dag", "1")
    anna, bob = Person(app), Person(app, user_id="bob", display_name="Bob")

    await anna.send(f"/code {once}")
    await anna.press("Nee, liever niet")
    assert "niets veranderd" in anna.text
    await bob.send(f"/code {once}")
    await bob.press("Ja, graag")
    await anna.send(f"/code {once}")
    assert "al zo vaak gebruikt" in anna.text

    week = await _make_invite(verbinder, "bestuurder", "Geen", "Geen", "7 dagen", "5")
    await anna.send(f"/code {week}")  # asked, then revoked before the yes
    await verbinder.send("/uitnodiging")
    await verbinder.press("Open uitnodigingen")
    assert "bestuurder" in verbinder.text and "Gebruikt: 0 van 5" in verbinder.text
    (revoke,) = [c for c in verbinder.choices if c.startswith("Trek")]
    await verbinder.press(revoke)
    await verbinder.press("Ja, trek in")
    assert "is ingetrokken" in verbinder.text
    await anna.press("Ja, graag")
    assert "ingetrokken" in anna.text
    user = await _user(app)
    assert user is not None and "bestuurder" not in user.role_set

    later = await _make_invite(verbinder, "gangmaker", "Geen", "Geen", "1 dag", "5")
    clock.advance(days=1, seconds=1)
    await anna.send(f"/code {later}")
    assert "verlopen" in anna.text
    await anna.send("/code " + "0" * 40)
    assert "ken ik niet" in anna.text
    await anna.send("/code")
    assert "Typ /code en dan de code" in anna.text
    refused = [d for a, _, d in await _audit(app) if a == "invite.refused"]
    assert {d.split()[0] for d in refused} == {
        "reason=used_up",
        "reason=revoked",
        "reason=expired",
        "reason=unknown",
    }


async def test_invite_days_and_uses_typed_in_the_console_are_that_many(app: App) -> None:
    out = await typed_in_console(
        app,
        ["/uitnodiging", "partner", "Geen", "Geen", "5", "2", "Stoppen"],
        user="verbinder1",
    )
    days_step = out.split("(1 tot 365)")[1].split("> 5")[0]
    assert "  - 1 dag\n  - 7 dagen\n  - 30 dagen\n" in days_step  # shown without positions
    assert "4. Terug" not in days_step and "5. Stoppen" not in days_step
    assert "Geldig: 5 dagen" in out and "Te gebruiken door: 2 mensen" in out
    assert "Goed, ik heb geen uitnodiging gemaakt" in out  # "Stoppen" stopped it, at the end


async def test_invite_days_and_uses_typed_with_a_unit_or_in_words(app: App) -> None:
    verbinder = _verbinder(app)
    for days, uses, shown in (
        ("2 dagen", "twee mensen", "Geldig: 2 dagen\n- Te gebruiken door: 2 mensen"),
        ("twee dagen", "1", "Geldig: 2 dagen\n- Te gebruiken door: 1 persoon"),
        ("3 days", "5 people", "Geldig: 3 dagen\n- Te gebruiken door: 5 mensen"),
        ("een dag", "100", "Geldig: 1 dag\n- Te gebruiken door: 100 mensen"),
    ):
        await verbinder.send("/uitnodiging")
        await _press_all(verbinder, ["partner", "Geen", "Geen"])
        await verbinder.send(days)
        await verbinder.send(uses)
        assert shown in verbinder.text, (days, uses, verbinder.text)
        await verbinder.send("stop")
    await verbinder.send("/uitnodiging")
    await _press_all(verbinder, ["partner", "Geen", "Geen", "1 dag", "1"])
    await verbinder.press("Ja, maak de uitnodiging")
    assert "Geldig: 1 dag, voor 1 persoon." in verbinder.text
    await verbinder.send("/uitnodiging")
    await _press_all(verbinder, ["partner", "Geen", "Geen"])
    await verbinder.send("400 dagen")
    assert "begrijp ik niet" in verbinder.text


async def test_revoking_an_invite_asks_first_and_the_list_ends_with_done(app: App) -> None:
    verbinder = _verbinder(app)
    for _ in range(3):
        await _make_invite(verbinder, "partner", "Geen", "Geen", "7 dagen", "5")
    await verbinder.send("/uitnodiging")
    await verbinder.press("Open uitnodigingen")
    await verbinder.press("Trek #3 in")
    assert "Wil je uitnodiging #3 intrekken?" in verbinder.text
    assert verbinder.choices == ["Ja, trek in", "Nee"]
    assert all(i.revoked_at is None for i in await _rows(app, Invite))  # not yet
    await verbinder.send("nee")
    assert "Open uitnodigingen: 3" in verbinder.text
    assert [i.revoked_at for i in await _rows(app, Invite)] == [None, None, None]
    await verbinder.press("Trek #2 in")
    await verbinder.send("ja")
    assert "Uitnodiging #2 is ingetrokken" in verbinder.text
    assert [i.revoked_at is None for i in await _rows(app, Invite)] == [True, False, True]
    assert "Klaar" in verbinder.choices and "Stoppen" not in verbinder.choices
    (done,) = await verbinder.press("Klaar")
    assert done.text == "Klaar."
    await verbinder.send("/uitnodiging")
    await verbinder.press("Open uitnodigingen")
    (done,) = await verbinder.send("stop")
    assert done.text == "Klaar."


async def test_a_code_in_a_group_is_not_taken(app: App) -> None:
    token = await _make_invite(_verbinder(app), "partner", "Geen", "Geen", "7 dagen", "5")
    group = Person(app, chat_id="group-1", private=False)
    await group.send(f"/code {token}")
    assert "privégesprek" in group.text
    assert (await _rows(app, Invite))[0].uses == 0


# -- roles ----------------------------------------------------------------------------------


async def test_roles_granted_listed_revoked_and_audited(app: App) -> None:
    anna = Person(app)
    await anna.send("hallo")
    verbinder = _verbinder(app)
    await verbinder.send("/rollen geef Anna partner")
    assert "Anna (console:anna)" in verbinder.text
    await verbinder.press("Ja")
    assert "heeft nu de rol partner" in verbinder.text
    await verbinder.send("/rollen")
    assert "Anna (console:anna): partner" in verbinder.text
    assert "Lotte (console:verbinder1): verbinder" in verbinder.text

    await verbinder.send("/rollen geef console:anna verbinder")
    await verbinder.press("Ja")
    await anna.send("hallo")  # granted in the chat: kept, though not in BOT_ADMINS
    user = await _user(app)
    assert user is not None and user.role_set == {"partner", "verbinder"}
    await anna.send("/rollen neem Lotte verbinder")
    assert "BOT_ADMINS" in anna.text and anna.choices == []  # at once, no question
    await anna.send("/rollen neem Anna verbinder")
    assert "eigen rol" in anna.text and anna.choices == []
    await verbinder.send("/rollen neem anna verbinder")
    await verbinder.press("Ja")
    assert "heeft de rol verbinder niet meer" in verbinder.text
    user, lotte = await _user(app), await _user(app, "verbinder1")
    assert user is not None and lotte is not None
    assert user.role_set == {"partner"} and "verbinder" in lotte.role_set
    changes = [(a, actor, d) for a, actor, d in await _audit(app) if a.startswith("role.")]
    assert changes == [
        ("role.granted", lotte.id, f"user={user.id} role=partner"),
        ("role.granted", lotte.id, f"user={user.id} role=verbinder"),
        ("role.revoked", lotte.id, f"user={user.id} role=verbinder"),
    ]

    await anna.send("/vergeetmij")  # the role changes stay in the log, without her id
    await anna.press("Ja, verwijder alles")
    changes = [(a, d) for a, _, d in await _audit(app) if a.startswith("role.")]
    assert changes == [
        ("role.granted", "user=forgotten role=partner"),
        ("role.granted", "user=forgotten role=verbinder"),
        ("role.revoked", "user=forgotten role=verbinder"),
    ]


async def test_roles_refused_before_the_question_and_said_as_they_are(app: App) -> None:
    verbinder = _verbinder(app)
    await verbinder.send("hallo")
    await Person(app, user_id="local", display_name=None).send("hallo")  # no name
    await verbinder.send("/rollen neem console:verbinder1 verbinder")  # in BOT_ADMINS, herself
    assert "BOT_ADMINS" in verbinder.text and verbinder.choices == []
    await verbinder.send("/rollen neem console:local gangmaker")
    assert verbinder.text == "console:local heeft die rol niet: gangmaker. Er is niets veranderd."
    assert verbinder.choices == []
    await verbinder.send("/rollen geef console:local gangmaker")
    assert "Wil je console:local de rol gangmaker geven?" in verbinder.text
    await verbinder.press("Ja")
    assert "console:local heeft nu de rol gangmaker" in verbinder.text
    await verbinder.send("/rollen geef console:local gangmaker")
    assert verbinder.text == "console:local heeft die rol al: gangmaker. Er is niets veranderd."
    await verbinder.send("/rollen")
    assert "- console:local: gangmaker" in verbinder.text and "?" not in verbinder.text
    await verbinder.send("/rollen geef console:local kapper")
    assert verbinder.text.startswith("'kapper' is geen rol")
    assert "gangmaker, partner, bestuurder, verbinder" in verbinder.text
    grants = [a for a, _, _ in await _audit(app) if a.startswith("role.")]
    assert grants == ["role.granted"]


async def test_roles_by_a_name_several_people_share_and_unknown_names(app: App) -> None:
    await Person(app, user_id="a1", display_name="Sam").send("hoi")
    await Person(app, user_id="a2", display_name="Sam").send("hoi")
    verbinder = _verbinder(app)
    await verbinder.send("/rollen geef sam gangmaker")
    assert verbinder.choices[:2] == ["Sam (console:a1)", "Sam (console:a2)"]
    await verbinder.press("Sam (console:a2)")
    await verbinder.press("Ja")
    one, two = await _user(app, "a1"), await _user(app, "a2")
    assert one is not None and two is not None
    assert one.role_set == frozenset() and two.role_set == {"gangmaker"}
    await verbinder.send("/rollen geef Niemand gangmaker")
    assert "Ik vind niemand" in verbinder.text
    await verbinder.send("/rollen geef Sam koning")
    assert "'koning' is geen rol" in verbinder.text
    assert "gangmaker, partner, bestuurder, verbinder" in verbinder.text
    await verbinder.send("/rollen geef sam gangmaker")  # a2 has it already: said once picked
    await verbinder.press("Sam (console:a2)")
    assert "Sam (console:a2) heeft die rol al" in verbinder.text and "Ja" not in verbinder.choices


async def test_anyone_else_is_refused_politely_and_audited(app: App) -> None:
    anna = Person(app)
    for command in ("/rollen", "/uitnodiging", "/groepen", "/rollen geef Anna verbinder"):
        await anna.send(command)
        assert "alleen de verbinders" in anna.text
    verbinder = _verbinder(app)
    await verbinder.send("/rollen geef Anna verbinder")
    button = verbinder.find_choice("Ja")
    assert button is not None
    (refused,) = await anna.press(button.action)  # replayed by someone else
    assert "alleen de verbinders" in refused.text
    await anna.press("ui:abcdef:1:r-verbinder")  # forged
    user = await _user(app)
    assert user is not None and user.role_set == frozenset()
    refusals = [(actor, d) for a, actor, d in await _audit(app) if a == "admin.refused"]
    assert [d for _, d in refusals] == [
        "command=rollen",
        "command=uitnodiging",
        "command=groepen",
        "command=rollen",
        "button=rollen",
        "button=uitnodiging",
    ]
    assert {actor for actor, _ in refusals} == {user.id}


async def test_help_marks_every_verbinders_command_with_one_label(app: App) -> None:
    for language, label in (("nl", "(alleen verbinders"), ("en", "(verbinders only")):
        anna, verbinder = Person(app), _verbinder(app)
        if language == "en":
            for person in (anna, verbinder):
                await person.send("/taal")
                await person.press("English")
        (everyone,) = await anna.send("/help")
        (theirs,) = await verbinder.send("/help")
        extra = [line for line in theirs.text.split("\n") if line not in everyone.text]
        assert len(extra) >= 8, extra
        assert all(label in line for line in extra), extra
        assert "(coordinators)" not in theirs.text and "(verbinders)" not in theirs.text


async def test_forgetting_says_the_roles_go_too(app: App) -> None:
    anna = Person(app)
    await anna.send("/vergeetmij")
    assert "je rollen (zoals gangmaker of verbinder)" in anna.text


# -- groups -----------------------------------------------------------------------------------


async def test_groups_linked_listed_and_unlinked(app: App) -> None:
    in_group = _verbinder(app, chat_id="group-7", private=False)
    await in_group.send("/koppel Gangmakers Leiden")
    assert "gekoppeld" in in_group.text
    await in_group.send("/koppel")
    assert "al gekoppeld" in in_group.text
    verbinder = _verbinder(app)
    await verbinder.send("/koppel")
    assert "in de groep zelf" in verbinder.text
    await verbinder.send("/groepen")
    assert "Gangmakers Leiden (console:group-7)" in verbinder.text
    anna_in_group = Person(app, chat_id="group-7", private=False)
    await anna_in_group.send("/ontkoppel")
    assert "alleen de verbinders" in anna_in_group.text
    await in_group.send("/ontkoppel")
    assert "ontkoppeld" in in_group.text
    (group,) = await _rows(app, GroupLink)
    assert not group.active
    await verbinder.send("/groepen")
    assert "Gekoppelde groepen: 0" in verbinder.text
    actions = [a for a, _, _ in await _audit(app) if a.startswith("group.")]
    assert actions == ["group.linked", "group.unlinked"]
