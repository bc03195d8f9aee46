"""Feature handlers, platform-blind, and the one registry that wires them up."""

from __future__ import annotations

from bot.core.router import Command, Router
from handlers import ask, checkin, fallback, forget, language, mydata, start, stop
from handlers.menu import Capability

# What /start offers, in order. Each feature issue adds its own entry.
CAPABILITIES: tuple[Capability, ...] = (
    Capability("ask", "menu.ask", "menu:vraag"),
    Capability("spinnenweb", "menu.spinnenweb", "menu:spinnenweb"),
    Capability("help", "menu.help", "menu:help"),
    Capability("language", "menu.language", "menu:taal"),
)


def build_router() -> Router:
    """Every command, button action and conversation flow the bot knows."""
    router = Router(
        text=ask.question,
        unknown_command=fallback.unknown_command,
        unsupported=fallback.unsupported,
        stale_action=fallback.stale_action,
        forbidden=fallback.forbidden,
    )
    router.command(Command("start", start.start, "help.start"))
    router.command(Command("help", start.help_, "help.help", aliases=("hulp",)))
    router.command(Command("vraag", ask.intro, "help.vraag", aliases=("ask", "vragen")))
    router.command(Command("taal", language.ask, "help.taal", aliases=("language", "lang")))
    router.command(Command("spinnenweb", checkin.begin, "help.spinnenweb", aliases=("checkin",)))
    router.command(Command("mijnweb", mydata.my_web, "help.mijnweb", aliases=("myweb",)))
    router.command(
        Command("mijngegevens", mydata.my_data, "help.mijngegevens", aliases=("mydata",))
    )
    router.command(Command("vergeetmij", forget.begin, "help.vergeetmij", aliases=("forgetme",)))
    router.command(Command("stop", stop.stop, "help.stop"))
    router.command(
        Command("herlaad", ask.reload, "help.herlaad", aliases=("reload",), admin_only=True)
    )
    router.action("menu", start.menu)
    router.action("taal", language.chosen)
    router.action(ask.ACTION, ask.topic)
    router.action(checkin.ACTION, checkin.pressed)
    router.action(mydata.WEB_ACTION, mydata.compare_pressed)
    router.flow("taal", language.typed)
    router.flow(checkin.FLOW, checkin.typed)
    forget.FLOW.register(router)
    return router
