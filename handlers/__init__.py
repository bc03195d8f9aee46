"""Feature handlers, platform-blind, and the one registry that wires them up."""

from __future__ import annotations

from bot.core.router import Command, MenuItem, Router
from handlers import (
    agenda,
    agenda_answers,
    agenda_feed,
    agenda_hosts,
    agenda_manage,
    agenda_people,
    agenda_plan,
    agenda_vote,
    ask,
    broadcast,
    broadcast_manage,
    checkin,
    circles,
    fallback,
    forget,
    groups,
    invites,
    language,
    mydata,
    profile,
    redeem,
    roles,
    start,
    stop,
)


def build_router() -> Router:
    """Every command, button action and conversation flow the bot knows.

    A command's registration also says whether the main menu offers it
    (``menu=MenuItem(label key, place)``) and which ``/start <payload>`` deep
    links open it (``deep_links``): there is no other list of features.
    """
    router = Router(
        text=ask.question,
        unknown_command=fallback.unknown_command,
        unsupported=broadcast.with_attachments(fallback.unsupported),
        stale_action=fallback.stale_action,
        forbidden=fallback.forbidden,
    )
    router.command(Command("start", start.start, "help.start"))
    router.command(
        Command("help", start.help_, "help.help", aliases=("hulp",), menu=MenuItem("menu.help", 3))
    )
    router.command(
        Command(
            "vraag",
            ask.intro,
            "help.vraag",
            aliases=("ask", "vragen"),
            menu=MenuItem("menu.ask", 1),
        )
    )
    router.command(
        Command(
            "taal",
            language.ask,
            "help.taal",
            aliases=("language", "lang"),
            menu=MenuItem("menu.language", 4),
        )
    )
    router.command(
        Command(
            "spinnenweb",
            checkin.begin,
            "help.spinnenweb",
            aliases=("checkin",),
            menu=MenuItem("menu.spinnenweb", 2),
            deep_links=("checkin", "spinnenweb"),
        )
    )
    router.command(
        Command(
            "mijnweb", mydata.my_web, "help.mijnweb", aliases=("myweb",), deep_links=("mijnweb",)
        )
    )
    router.command(
        Command(
            "mijngegevens",
            mydata.my_data,
            "help.mijngegevens",
            aliases=("mydata",),
            deep_links=("mijngegevens",),
        )
    )
    router.command(
        Command(
            "vergeetmij",
            forget.begin,
            "help.vergeetmij",
            aliases=("forgetme",),
            deep_links=("vergeetmij",),
        )
    )
    router.command(
        Command(
            "agenda",
            agenda.agenda,
            "agenda.help",
            aliases=("events",),
            menu=MenuItem("agenda.menu", 5),
            deep_links=("agenda",),
        )
    )
    router.command(
        Command(
            "agendafeed",
            agenda_feed.agenda_feed,
            "agenda_feed.help",
            aliases=("agendalink",),
            deep_links=("agendafeed",),
        )
    )
    router.command(
        Command("herlaad", ask.reload, "help.herlaad", aliases=("reload",), admin_only=True)
    )
    router.command(
        Command(
            "bericht",
            broadcast.begin,
            "compose.help.bericht",
            aliases=("announce",),
            admin_only=True,
            deep_links=("bericht",),
        )
    )
    router.command(
        Command(
            "berichten",
            broadcast_manage.recent,
            "compose.help.berichten",
            aliases=("announcements",),
            admin_only=True,
        )
    )
    router.command(
        Command("kringen", circles.begin, "circles.help", aliases=("circles",), admin_only=True)
    )
    # People and roles (issue 14)
    router.command(
        Command(
            "profiel",
            profile.begin,
            "help.profiel",
            aliases=("profile",),
            deep_links=("profiel",),
        )
    )
    router.command(Command("code", redeem.redeem_code, "help.code"))
    router.command(
        Command(
            "uitnodiging",
            invites.begin,
            "help.uitnodiging",
            aliases=("invite",),
            admin_only=True,
            deep_links=("uitnodiging",),
        )
    )
    router.command(
        Command("rollen", roles.rollen, "help.rollen", aliases=("roles",), admin_only=True)
    )
    router.command(
        Command("koppel", groups.koppel, "help.koppel", aliases=("link",), admin_only=True)
    )
    router.command(
        Command(
            "ontkoppel", groups.ontkoppel, "help.ontkoppel", aliases=("unlink",), admin_only=True
        )
    )
    router.command(
        Command("groepen", groups.list_groups, "help.groepen", aliases=("groups",), admin_only=True)
    )
    # Last in /help: stopping everything.
    router.command(Command("stop", stop.stop, "help.stop"))
    router.action("menu", start.menu)
    router.action("taal", language.chosen)
    router.action(ask.ACTION, ask.topic)
    router.action(mydata.WEB_ACTION, mydata.compare_pressed)
    router.action(agenda.ACTION, agenda.pressed)
    router.action(agenda_people.ACTION, agenda_people.pressed)
    router.action(agenda_hosts.ACTION, agenda_hosts.pressed)
    language.FLOW.register(router, stamped_buttons=False)
    checkin.FLOW.register(router)
    forget.FLOW.register(router)
    profile.FLOW.register(router)
    invites.FLOW.register(router)
    redeem.FLOW.register(router)
    roles.FLOW.register(router)
    broadcast.FLOW.register(router)
    broadcast_manage.FLOW.register(router)
    agenda_plan.FLOW.register(router)
    agenda_manage.FLOW.register(router)
    circles.FLOW.register(router)
    router.action(agenda_answers.ACTION, agenda_answers.pressed)  # issue 16: prompts' buttons
    agenda_answers.INBRENG_FLOW.register(router)
    agenda_answers.MEENEMEN_FLOW.register(router)
    agenda_vote.FLOW.register(router)
    router.action(broadcast.UNSUBSCRIBE, broadcast.unsubscribe)
    router.action(broadcast_manage.ACTION, broadcast_manage.pressed)
    return router
