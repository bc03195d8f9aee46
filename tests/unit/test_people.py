"""The people model without a database: tokens, the content lists, the role rules,
the flows' typed data, and where each answer of /profiel, /uitnodiging and /rollen
leads (table-driven, on a fake context)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from bot.core.flow import Answer, Go
from bot.core.messages import Choice
from bot.core.texts import Texts
from bot.paths import content_dir
from bot.people import directory as people_directory
from bot.people.roles import read_role, why_not_revoke, with_role, without_role
from bot.people.tokens import LINK_PREFIX, new_token, read_token, token_hash
from bot.people.vocab import TOPICS
from handlers import invites, profile, redeem, roles
from handlers.invite_prompts import days_text, uses_text
from handlers.invites import InviteData
from handlers.profile import ProfileData
from handlers.redeem import RedeemData
from handlers.roles import RoleData

NUMBERS = {"nl": ("nul", "een", "twee", "drie"), "en": ("zero", "one", "two", "three")}


class Users:
    """Everyone exists, without roles, under the platform id ``console:<id>``."""

    async def get(self, user_id: int) -> Any:
        return SimpleNamespace(
            id=user_id,
            platform="console",
            platform_user_id=str(user_id),
            display_name=None,
            role_set=frozenset(),
        )


@dataclass
class FakeContext:
    """What the steps use of Context: texts as their keys, the settings, a verbinder."""

    is_admin: bool = True
    settings: Any = field(
        default_factory=lambda: SimpleNamespace(content_dir=None, is_admin=lambda *_: False)
    )
    web: Any = field(default_factory=lambda: SimpleNamespace(numbers=NUMBERS))
    db: Any = field(default_factory=lambda: SimpleNamespace(users=Users()))
    person: Any = field(default_factory=lambda: SimpleNamespace(id=1))

    def t(self, key: str, **params: object) -> str:
        return key

    def choice(self, key: str, action: str, **params: object) -> Choice:
        return Choice(label=key, action=action)


# -- tokens, lists, roles -----------------------------------------------------------------


def test_tokens_carry_160_bits_survive_lower_case_and_are_stored_hashed() -> None:
    token = new_token()
    assert len(token) == 40 and token == token.lower() and int(token, 16) >= 0
    assert len(LINK_PREFIX + token) <= 64  # a Telegram deep link payload
    assert new_token() != token
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    for given in (token, f"inv_{token}", f"https://t.me/bot?start=inv_{token}", token.upper()):
        assert read_token(given) == token, given
    for bad in ("", "abc", token[:-1], token + "0", "x" * 40):
        assert read_token(bad) is None, bad


def test_the_lists_come_from_content_with_stable_ids() -> None:
    lists = people_directory.directory()
    assert len(lists.gemeenten) == 13
    assert lists.gemeente("alphen-aan-den-rijn") is not None
    assert lists.gemeente("leiden") is not None and lists.gemeente("den-haag") is None
    assert lists.organisation("dsv") is not None
    assert people_directory.place_id("Kaag en Braassem") == "kaag-en-braassem"


@pytest.mark.parametrize(
    ("role", "bot_admin", "self_", "why"),
    [
        ("gangmaker", False, False, None),
        ("gangmaker", True, True, None),
        ("verbinder", True, False, "rollen.is_bot_admin"),
        ("verbinder", False, True, "rollen.not_yourself"),
        ("verbinder", False, False, None),
    ],
)
def test_who_may_lose_which_role(role: str, bot_admin: bool, self_: bool, why: str | None) -> None:
    assert why_not_revoke(role, bot_admin=bot_admin, self_=self_) == why


def test_roles_as_stored() -> None:
    assert with_role(frozenset({"verbinder"}), "bestuurder") == "bestuurder,verbinder"
    assert without_role(frozenset({"bestuurder", "verbinder"}), "verbinder") == "bestuurder"
    assert read_role(" Gangmaker ") == "gangmaker"
    assert read_role("inwoner") is None and read_role("koning") is None


# -- the flows' typed data ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        ProfileData("en", "leiden", "dsv", ("agenda",)),
        InviteData("partner", "dsv", None, 7, 5, (3, 4)),
        RedeemData(4, "gangmaker", None, "leiden"),
        RoleData(True, "partner", ((1, "Anna (console:anna)"),), 1),
    ],
)
def test_data_round_trips(data: Any) -> None:
    assert type(data).from_data(data.to_data()) == data


@pytest.mark.parametrize(
    ("kind", "stored"),
    [
        (ProfileData, {"language": "fr", "gemeente": None, "organisation": None, "topics_off": []}),
        (ProfileData, {"language": "nl", "gemeente": 3, "organisation": None, "topics_off": []}),
        (
            InviteData,
            {
                "role": "koning",
                "organisation": None,
                "gemeente": None,
                "days": 1,
                "uses": 1,
                "listed": [],
            },
        ),
        (RedeemData, {"invite": 1, "role": "inwoner", "organisation": None, "gemeente": None}),
        (RoleData, {"grant": True, "role": "koning", "people": [], "target": None}),
        (RoleData, {"grant": True}),
    ],
)
def test_data_of_an_unknown_shape_is_refused(kind: Any, stored: dict[str, Any]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        kind.from_data(stored)


# -- where each answer leads ------------------------------------------------------------------

START = ProfileData()
INVITE = InviteData(role="gangmaker")


def _effects(go: Go[Any]) -> list[str]:
    return [e.name for e in go.effects]


@pytest.mark.parametrize(
    ("step", "data", "answer", "to", "changed", "effects"),
    [
        (
            profile.on_language,
            START,
            Answer("language:en"),
            "gemeente",
            {"language": "en"},
            ["keep_language"],
        ),
        (
            profile.on_language,
            START,
            Answer(None, "Engels"),
            "gemeente",
            {"language": "en"},
            ["keep_language"],
        ),
        (profile.on_language, START, Answer("skip"), "gemeente", {}, []),
        (profile.on_language, START, Answer(None, "Klingon"), "language", {}, []),
        (
            profile.on_gemeente,
            START,
            Answer("gemeente0"),
            "organisation",
            {"gemeente": "alphen-aan-den-rijn"},
            ["keep_gemeente"],
        ),
        (
            profile.on_gemeente,
            START,
            Answer(None, "kaag en braassem"),
            "organisation",
            {"gemeente": "kaag-en-braassem"},
            ["keep_gemeente"],
        ),
        (
            profile.on_gemeente,
            START,
            Answer("outside"),
            "organisation",
            {"gemeente": "buiten-de-regio"},
            ["keep_gemeente"],
        ),
        (profile.on_gemeente, START, Answer("gemeente19"), "gemeente", {}, []),  # past the list
        (profile.on_gemeente, START, Answer(None, "Den Haag"), "gemeente", {}, []),
        (
            profile.on_organisation,
            START,
            Answer("other"),
            "topics",
            {"organisation": "anders"},
            ["keep_organisation"],
        ),
        (
            profile.on_organisation,
            ProfileData(organisation="dsv"),
            Answer("no_organisation"),
            "topics",
            {"organisation": "geen"},
            ["keep_organisation"],
        ),
        (
            profile.on_organisation,
            START,
            Answer(None, "dsv"),
            "topics",
            {"organisation": "dsv"},
            ["keep_organisation"],
        ),
        (profile.on_organisation, START, Answer("skip"), "topics", {}, []),
        (
            profile.on_organisation,
            START,
            Answer(None, "Profiel.No_organisation"),  # the label, typed (texts are keys here)
            "topics",
            {"organisation": "geen"},
            ["keep_organisation"],
        ),
        (profile.on_organisation, START, Answer("organisation39"), "organisation", {}, []),
        (
            profile.on_topics,
            START,
            Answer("topic:agenda"),
            "topics",
            {"topics_off": ("agenda",)},
            ["keep_topics_off"],
        ),
        (
            profile.on_topics,
            ProfileData(topics_off=("agenda",)),
            Answer("topic:agenda"),
            "topics",
            {"topics_off": ()},
            ["keep_topics_off"],
        ),
        (profile.on_topics, START, Answer("done"), None, {}, []),
        (profile.on_topics, START, Answer(None, "alles"), "topics", {}, []),
        (
            invites.on_role,
            InviteData(),
            Answer("role:bestuurder"),
            "organisation",
            {"role": "bestuurder"},
            [],
        ),
        (
            invites.on_role,
            InviteData(),
            Answer(None, "partner"),
            "organisation",
            {"role": "partner"},
            [],
        ),
        (invites.on_role, InviteData(), Answer(None, "inwoner"), "role", {}, []),
        (
            invites.on_organisation,
            INVITE,
            Answer("organisation0"),
            "gemeente",
            {"organisation": "hecht-ggd"},
            [],
        ),
        (
            invites.on_organisation,
            INVITE,
            Answer("no_organisation"),
            "gemeente",
            {"organisation": None},
            [],
        ),
        (invites.on_gemeente, INVITE, Answer("no_gemeente"), "days", {"gemeente": None}, []),
        (invites.on_gemeente, INVITE, Answer(None, "Leiden"), "days", {"gemeente": "leiden"}, []),
        (invites.on_days, INVITE, Answer("days:30"), "uses", {"days": 30}, []),
        (invites.on_days, INVITE, Answer(None, "90"), "uses", {"days": 90}, []),
        (invites.on_days, INVITE, Answer(None, "400"), "days", {}, []),
        (invites.on_days, INVITE, Answer(None, " 2 "), "uses", {"days": 2}, []),
        (invites.on_days, INVITE, Answer(None, "twee"), "uses", {"days": 2}, []),
        (invites.on_days, INVITE, Answer(None, "2 weken"), "days", {}, []),
        (invites.on_uses, INVITE, Answer(None, "three"), "confirm", {"uses": 3}, []),
        (invites.on_uses, INVITE, Answer("uses:25"), "confirm", {"uses": 25}, []),
        (invites.on_uses, INVITE, Answer(None, "0"), "uses", {}, []),
        (invites.on_confirm, INVITE, Answer(None, "misschien"), "confirm", {}, []),
        (invites.on_confirm, INVITE, Answer("make"), None, {}, ["create_invite"]),
        (
            roles.on_who,
            RoleData(True, "partner", ((5, "A"), (6, "B"))),
            Answer("person1"),
            "confirm",
            {"target": 6},
            [],
        ),
        (roles.on_who, RoleData(True, "partner", ((5, "A"),)), Answer("person3"), "who", {}, []),
        (roles.on_who, RoleData(False, "partner", ((5, "A"),)), Answer("person0"), None, {}, []),
    ],
)
async def test_where_each_answer_leads(
    step: Any,
    data: Any,
    answer: Answer,
    to: str | None,
    changed: dict[str, Any],
    effects: list[str],
) -> None:
    go = await step(FakeContext(), data, answer)
    assert go.to == to
    new = go.data if go.data is not None else data
    for name, value in changed.items():
        assert getattr(new, name) == value, name
    unchanged = {k: v for k, v in data.to_data().items() if k not in changed}
    assert {k: v for k, v in new.to_data().items() if k in unchanged} == unchanged
    assert _effects(go) == effects


async def test_a_made_invite_shows_the_token_once_with_its_link() -> None:
    go = await invites.on_confirm(FakeContext(), INVITE, Answer("make"))
    (made,) = go.say
    assert made.share_link is not None
    token = made.share_link.start_payload.removeprefix(LINK_PREFIX)
    assert read_token(token) == token


async def test_every_step_of_the_verbinders_flows_refuses_anyone_else() -> None:
    class Audit:
        def __init__(self) -> None:
            self.recorded: list[tuple[str, str]] = []

        async def record(self, now: object, action: str, actor: object, detail: str) -> None:
            self.recorded.append((action, detail))

    audit = Audit()
    ctx = FakeContext(is_admin=False)
    ctx.db = SimpleNamespace(audit=audit)  # type: ignore[attr-defined]
    ctx.user = None  # type: ignore[attr-defined]
    ctx.clock = SimpleNamespace(now=lambda: None)  # type: ignore[attr-defined]
    for flow in (invites.FLOW, roles.FLOW):
        for name in ("role", "confirm") if flow is invites.FLOW else ("who", "confirm"):
            step = flow.step_named(name)
            assert step.on is not None
            go = await step.on(ctx, step_data(flow), Answer("make"))  # type: ignore[arg-type]
            assert go.to is None and go.say[0].text == "errors.forbidden"
    assert [a for a, _ in audit.recorded] == ["admin.refused"] * 4


def step_data(flow: Any) -> Any:
    return INVITE if flow is invites.FLOW else RoleData(True, "partner", ((1, "A"),), 1)


def test_the_flows_declare_one_meaning_per_code() -> None:
    for flow in (profile.FLOW, invites.FLOW, redeem.FLOW, roles.FLOW):
        legend = flow.legend()
        assert all(len(code) <= 16 for code in legend), flow.name
    assert len([c for c in profile.FLOW.legend() if c.startswith("t")]) == len(TOPICS)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", ["1 dag", "2 dagen", "1 persoon", "2 mensen", "Te gebruiken door: 1 persoon"]),
        ("en", ["1 day", "2 days", "1 person", "2 people", "Can be used by: 1 person"]),
    ],
)
def test_invite_counts_read_right_for_one_and_for_more(lang: str, expected: list[str]) -> None:
    texts = Texts.load(content_dir())
    ctx = SimpleNamespace(t=lambda key, **params: texts.get(lang, key, **params))
    check = texts.get(lang, "uitnodiging.check", what="x", days="", uses=uses_text(ctx, 1))
    said = [days_text(ctx, 1), days_text(ctx, 2), uses_text(ctx, 1), uses_text(ctx, 2), check]
    assert said[:4] == expected[:4]
    assert expected[4] in said[4]
