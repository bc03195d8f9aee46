"""One registration source: the main menu and the deep links come from the router.

A command's registration says whether the menu offers it and which
``/start <payload>`` words open it; /start, the ``menu:`` buttons and every
reply that shows the menu read that, and no handler keeps a list of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.core.context import Context
from bot.core.messages import Choice, Incoming, Kind, PressOutcome, Reply
from bot.core.router import Command, MenuItem, Router
from bot.core.texts import Texts
from bot.paths import content_dir
from handlers import build_router, start
from handlers.menu import menu_choices

ROOT = Path(__file__).resolve().parents[2]
TEXTS = {
    "menu.koffie": "Koffie",
    "menu.thee": "Thee",
    "menu.geheim": "Geheim",
    "errors.stale_button": "Deze knop werkt niet meer.",
}


def _handler(name: str) -> Any:
    async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
        return [Reply(text=f"{name} {msg.text}")]

    return handle


def _router() -> Router:
    router = Router(
        text=_handler("text"),
        unknown_command=_handler("unknown"),
        unsupported=_handler("unsupported"),
        stale_action=_handler("stale"),
        forbidden=_handler("forbidden"),
    )
    router.command(Command("start", start.start, "help.start"))
    # registered in one order, offered in the order the menu says
    router.command(Command("thee", _handler("thee"), "help.x", menu=MenuItem("menu.thee", 2)))
    router.command(
        Command(
            "koffie",
            _handler("koffie"),
            "help.x",
            aliases=("coffee",),
            menu=MenuItem("menu.koffie", 1),
            deep_links=("koffie", "bakkie"),
        )
    )
    router.command(Command("verborgen", _handler("verborgen"), "help.x", deep_links=("stil",)))
    router.command(
        Command(
            "geheim",
            _handler("geheim"),
            "help.x",
            admin_only=True,
            menu=MenuItem("menu.geheim", 3),
            deep_links=("geheim",),
        )
    )
    router.action("menu", start.menu)
    return router


class FakeUser:
    def __init__(self, roles: str = "") -> None:
        self.role_set = frozenset(r for r in roles.split(",") if r)


def _ctx(router: Router | None, roles: str = "") -> Context:
    services = SimpleNamespace(router=router, texts=Texts({"nl": TEXTS, "en": {}}))
    ctx = Context(services=services, language="nl")  # type: ignore[arg-type]
    ctx.user = FakeUser(roles)  # type: ignore[assignment]
    return ctx


def _press(action: str) -> Incoming:
    return Incoming(platform="console", user_id="u", chat_id="c", kind=Kind.ACTION, action=action)


def test_the_menu_is_the_commands_registered_for_it_in_menu_order() -> None:
    router = _router()
    assert [c.name for c in router.menu()] == ["koffie", "thee"]
    assert [c.name for c in router.menu(is_admin=True)] == ["koffie", "thee", "geheim"]
    assert menu_choices(_ctx(router)) == (
        Choice("Koffie", "menu:koffie"),
        Choice("Thee", "menu:thee"),
    )
    assert menu_choices(_ctx(router, roles="verbinder"))[-1] == Choice("Geheim", "menu:geheim")
    assert menu_choices(_ctx(None)) == ()  # no router, no menu


async def test_a_menu_button_opens_the_command_registered_for_it() -> None:
    router = _router()
    ctx = _ctx(router)
    assert (await router.dispatch(_press("menu:koffie"), ctx))[0].text.startswith("koffie")
    assert (await router.dispatch(_press("menu:thee"), ctx))[0].text.startswith("thee")
    # not in the menu (an alias, a command the menu does not offer, admin-only): stale
    for action in ("menu:coffee", "menu:verborgen", "menu:geheim", "menu:", "menu:weg"):
        (reply,) = await router.dispatch(_press(action), ctx)
        assert reply.press_outcome is PressOutcome.STALE, action
        assert reply.text == "Deze knop werkt niet meer."
        assert reply.choices == menu_choices(ctx)
    admin = _ctx(router, roles="verbinder")
    assert (await router.dispatch(_press("menu:geheim"), admin))[0].text.startswith("geheim")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start koffie", "koffie /koffie"),
        ("/start BAKKIE", "koffie /bakkie"),  # as if typed, in lower case
        ("/start stil", "verborgen /stil"),  # a deep link needs no place in the menu
    ],
)
async def test_a_deep_link_opens_the_command_that_registered_it(text: str, expected: str) -> None:
    router = _router()
    msg = Incoming.from_text("console", "u", "c", text)
    assert [r.text for r in await router.dispatch(msg, _ctx(router))] == [expected]
    assert router.deep_link("bakkie") is router.find("koffie")
    assert router.deep_link("onbekend") is None


async def test_an_admin_only_deep_link_opens_only_for_admins() -> None:
    router = _router()
    msg = Incoming.from_text("console", "u", "c", "/start geheim")
    assert [r.text for r in await router.dispatch(msg, _ctx(router, "verbinder"))] == [
        "geheim /geheim"
    ]


def test_registrations_refuse_clashes() -> None:
    router = _router()
    with pytest.raises(ValueError, match="deep link"):
        router.command(Command("x", _handler("x"), "help.x", deep_links=("bakkie",)))
    with pytest.raises(ValueError, match="deep link"):
        router.command(Command("y", _handler("y"), "help.x", deep_links=("Met Spatie",)))
    with pytest.raises(ValueError, match="menu place"):
        router.command(Command("z", _handler("z"), "help.x", menu=MenuItem("menu.thee", 2)))
    assert [c.name for c in router.commands][-1] == "geheim"  # nothing half-registered
    assert router.find("x") is None and router.find("z") is None


def test_the_bots_menu_and_deep_links() -> None:
    router = build_router()
    assert [(c.menu.label_key if c.menu else "", c.menu_action) for c in router.menu()] == [
        ("menu.ask", "menu:vraag"),
        ("menu.spinnenweb", "menu:spinnenweb"),
        ("menu.help", "menu:help"),
        ("menu.language", "menu:taal"),
        ("agenda.menu", "menu:agenda"),
    ]
    links = {p: router.deep_link(p) for p in ("checkin", "spinnenweb", "mijnweb")}
    links |= {p: router.deep_link(p) for p in ("mijngegevens", "vergeetmij")}
    assert {p: c.name if c else None for p, c in links.items()} == {
        "checkin": "spinnenweb",
        "spinnenweb": "spinnenweb",
        "mijnweb": "mijnweb",
        "mijngegevens": "mijngegevens",
        "vergeetmij": "vergeetmij",
    }
    texts = Texts.load(content_dir())
    keys = [k for c in router.commands for k in (c.help_key, c.menu.label_key if c.menu else "")]
    assert [k for k in keys if k and not texts.has(k)] == []


def _handler_functions(tree: ast.Module) -> set[str]:
    return {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}


def _side_registries(source: str, handlers: set[str]) -> list[str]:
    """Module-level names whose value maps names to handler functions: a dict, a
    ``dict(...)`` or a sequence of pairs kept beside the router. (A declared flow,
    ``Flow(steps=[Step(..., on=confirm)])``, is a declaration, not a registry.)"""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        is_dict = isinstance(value, ast.Dict) or (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "dict"
        )
        is_pairs = isinstance(value, ast.Tuple | ast.List) and any(
            isinstance(e, ast.Tuple) for e in value.elts
        )
        if not (is_dict or is_pairs):
            continue
        refs = {
            n.attr if isinstance(n, ast.Attribute) else n.id
            for n in ast.walk(value)
            if isinstance(n, ast.Attribute | ast.Name)
        }
        if refs & handlers:
            found.extend(ast.unparse(t) for t in targets)
    return found


def test_no_handler_module_keeps_its_own_registry_of_handlers() -> None:
    modules = {p: ast.parse(p.read_text()) for p in ROOT.joinpath("handlers").rglob("*.py")}
    assert len(modules) > 5
    handlers = set().union(*(_handler_functions(tree) for tree in modules.values()))
    assert {"begin", "my_web", "help_", "ask"} <= handlers
    offenders = {
        path.name: names
        for path in modules
        if path.name != "__init__.py" and (names := _side_registries(path.read_text(), handlers))
    }
    assert offenders == {}


def test_the_check_would_catch_a_side_registry() -> None:
    sample = (
        "from handlers import checkin, forget\n"
        "LINKS: dict[str, Handler] = {'checkin': checkin.begin, 'weg': forget.begin}\n"
        "PAIRS = (('checkin', begin),)\n"
        "MORE = dict(weg=begin)\n"
        "ACTION = 'ci'\n"
        "FLOW = Flow(steps=[Step('confirm', on=begin)])\n"
    )
    assert _side_registries(sample, {"begin"}) == ["LINKS", "PAIRS", "MORE"]


def test_stop_is_the_last_line_of_help_for_a_resident() -> None:
    from handlers import build_router

    listed = [c.name for c in build_router().commands if c.listed and not c.admin_only]
    assert listed[-1] == "stop"
    assert listed.index("agenda") < listed.index("agendafeed")
