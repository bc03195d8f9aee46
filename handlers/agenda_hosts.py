"""Hosts in turn (the gangmakers): asking the hosts of a saved meeting, and a decline.

When ``/agenda plan`` saves a series with hosts in turn, each host organisation gets
an offer (``agenda_host_offers``, status asked) and its people (users whose
``organisation`` is that one) a message through the outbox, in the same transaction,
with the button **Wij kunnen niet** (``ho:no:<offer id>``). A press by someone of that
organisation declines for it: the offer is marked declined, the next organisation in
line (:meth:`bot.agenda.rotation.Rotation.pick`: not hosting or asked for this
meeting already, not "niet in" its month) takes its place in the event's hosts
(``repos.agenda.save``: the sequence goes up and the reminder engine follows), is
asked the same way, and the verbinders are told. A press by someone else, a forged
or an old button, or one for a meeting that is over or cancelled changes nothing and
says why. Each press stands alone, so this is a button, not a declared flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bot.agenda.model import Event
from bot.agenda.plan import as_data
from bot.agenda.rotation import Rotation
from bot.agenda.series import SeriesRulesError, current_rules
from bot.agenda.words import when
from bot.core.context import Context
from bot.core.messages import Choice, Incoming, PressOutcome, Reply
from bot.outbox.queue import Outgoing
from bot.people.directory import directory
from bot.storage.models import User
from bot.storage.repositories.host_offers import ASKED, SWAPPED, HostOffer

ACTION = "ho"
NO = "no"
OUTBOX_KIND = "agenda"


def org_name(org: str) -> str:
    """An organisation's name from organisations.yaml (its id when it is not there)."""
    entry = directory().organisation(org)
    return entry.name if entry is not None else org


def names(orgs: Iterable[str], lang_and: str) -> str:
    """``Reos en DSV``: the names with the language's "and" before the last."""
    listed = [org_name(o) for o in orgs]
    if len(listed) <= 1:
        return "".join(listed)
    return f"{', '.join(listed[:-1])} {lang_and} {listed[-1]}"


def _text(ctx: Context, lang: str, key: str, **params: object) -> str:
    return ctx.texts.get(lang, key, **params)


def _lang(ctx: Context, user: User) -> str:
    return user.language or ctx.settings.default_language


async def ask_hosts(
    ctx: Context, event: Event, organisations: Iterable[str], swapped: Iterable[str] = ()
) -> int:
    """Ask ``organisations`` to host ``event`` (those asked for it before are not asked
    again) and tell their people; how many offers were made. ``swapped``: those the
    verbinder swapped out, kept as such (not asked, and not next in line)."""
    for org in swapped:
        await ctx.db.host_offers.ask(event.id, org, ctx.clock.now(), status=SWAPPED)
    made = 0
    for org in organisations:
        offer = await ctx.db.host_offers.ask(event.id, org, ctx.clock.now())
        if offer is not None:
            await _tell_asked(ctx, event, offer)
            made += 1
    return made


async def _tell_asked(ctx: Context, event: Event, offer: HostOffer) -> None:
    items = []
    for user in await ctx.db.host_offers.members(offer.organisation):
        lang = _lang(ctx, user)
        others = [h for h in event.hosts if h != offer.organisation]
        key = "agenda_hosts.asked_with" if others else "agenda_hosts.asked_alone"
        text = _text(
            ctx,
            lang,
            key,
            org=org_name(offer.organisation),
            title=event.title,
            when=when(ctx.texts, event, lang),
            others=names(others, _text(ctx, lang, "agenda_hosts.and")),
        )
        button = Choice(_text(ctx, lang, "agenda_hosts.no_button"), f"{ACTION}:{NO}:{offer.id}")
        items.append(_outgoing(f"agenda-host-asked:{offer.id}:{user.id}", user, text, button))
    await ctx.outbox.enqueue(items)


def _outgoing(key: str, user: User, text: str, *choices: Choice) -> Outgoing:
    return Outgoing(
        key=key,
        platform=user.platform,
        chat_id=user.private_chat_id or "",
        reply=Reply(text=text, choices=choices),
        user_id=user.id,
        kind=OUTBOX_KIND,
    )


def _refused(ctx: Context, key: str, **params: object) -> list[Reply]:
    return [Reply(text=ctx.t(key, **params), press_outcome=PressOutcome.STALE)]


async def pressed(msg: Incoming, ctx: Context) -> list[Reply]:
    """``ho:no:<offer id>``: the organisation cannot host; the next in line is asked."""
    parts = (msg.action or "").split(":")
    raw = parts[2] if len(parts) == 3 and parts[1] == NO else ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return _refused(ctx, "agenda_hosts.unknown")
    offer = await ctx.db.host_offers.get(int(raw))
    if offer is None:
        return _refused(ctx, "agenda_hosts.unknown")
    if (ctx.person.organisation or "") != offer.organisation:
        return _refused(ctx, "agenda_hosts.not_yours", org=org_name(offer.organisation))
    event = await ctx.db.agenda.by_id(offer.event_id)
    now = ctx.clock.now()
    if event is None or event.cancelled or event.starts_at <= now:
        return _refused(ctx, "agenda_hosts.over")
    if offer.status != ASKED or offer.organisation not in event.hosts:
        return _refused(ctx, "agenda_hosts.answered", title=event.title)
    if not await ctx.db.host_offers.decline(offer.id, ctx.person.id, now):
        return _refused(ctx, "agenda_hosts.answered", title=event.title)
    following, twice = await next_in_line(ctx, event, offer.organisation)
    hosts = tuple(
        following if h == offer.organisation else h
        for h in event.hosts
        if following or h != offer.organisation
    )
    saved, _ = await ctx.db.agenda.save(replace(as_data(event), hosts=hosts), now)
    if following:
        await ask_hosts(ctx, saved, (following,))
    await _tell_verbinders(ctx, saved, offer, following, twice)
    if following:
        return [Reply(text=ctx.t("agenda_hosts.declined", next=org_name(following)))]
    return [Reply(text=ctx.t("agenda_hosts.declined_nobody"))]


async def next_in_line(ctx: Context, event: Event, declined: str) -> tuple[str, bool]:
    """The organisation next in line for ``event`` after ``declined`` said no: not
    hosting or asked for it already, able to in its month, one that hosts no other
    meeting of that year first; "" when there is none (or the series has no hosts in
    turn). And whether it hosts another meeting of that year too."""
    try:
        rule = current_rules(ctx.settings.content_dir).rules.get(event.kind)
    except SeriesRulesError:
        return "", False
    if rule is None or rule.rotation is None:
        return "", False
    volunteers = rule.rotation.volunteers_from(tuple(e.id for e in directory().organisations))
    earlier = sorted(
        (
            e
            for e in await ctx.db.agenda.all()
            if e.kind == event.kind and not e.cancelled and e.starts_at < event.starts_at
        ),
        key=lambda e: e.starts_at,
    )
    history = [e.hosts for e in earlier if e.hosts]
    last_year = [e.hosts for e in earlier if e.start.year == event.start.year - 1]
    asked = {o.organisation for o in await ctx.db.host_offers.of_event(event.id)}
    staying = [h for h in event.hosts if h != declined]
    busy = {  # hosts of another meeting this year: asked only when nobody else can
        h
        for e in await ctx.db.agenda.all()
        if e.kind == event.kind
        and not e.cancelled
        and e.id != event.id
        and e.start.year == event.start.year
        for h in e.hosts
    }
    rotation = Rotation(volunteers, history, event.start.year, last_year)
    following = rotation.pick(
        event.start.month, leave_out=(*asked, declined), with_=staying, busy=busy
    )
    return following, following in busy


async def _tell_verbinders(
    ctx: Context, event: Event, offer: HostOffer, following: str, twice: bool = False
) -> None:
    items = []
    for user in await ctx.db.host_offers.verbinders():
        lang = _lang(ctx, user)
        key = "agenda_hosts.verbinders_next" if following else "agenda_hosts.verbinders_nobody"
        if following and twice:
            key = "agenda_hosts.verbinders_next_twice"
        text = _text(
            ctx,
            lang,
            key,
            org=org_name(offer.organisation),
            title=event.title,
            when=when(ctx.texts, event, lang),
            next=org_name(following) if following else "",
        )
        items.append(_outgoing(f"agenda-host-declined:{offer.id}:{user.id}", user, text))
    await ctx.outbox.enqueue(items)
