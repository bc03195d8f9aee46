"""A check-in's result as the person sees it, for the check-in and for /mijnweb:
the picture (drawn off the event loop into the person's own files), the scores in
words, the date. The work itself is in :mod:`bot.spinnenweb.result`."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.messages import Image
from bot.spinnenweb import result
from bot.spinnenweb.records import CheckinRecord


def local_date(ctx: Context, record: CheckinRecord) -> str:
    return result.local_date(record, ctx.settings.zone)


async def draw_web(
    ctx: Context, today: CheckinRecord, previous: CheckinRecord | None, name: str
) -> Image:
    """The spinnenweb picture, drawn off the event loop, with a text alternative."""
    draw = result.drawing(ctx.t, ctx.web, ctx.lang, ctx.settings.zone, today, previous)
    path = await ctx.files.picture(ctx.person.id, name, draw)
    return Image(path=path, alt=ctx.t("checkin.chart_alt"))


def summary_text(ctx: Context, record: CheckinRecord, previous: CheckinRecord | None) -> str:
    """The scores in words (see :func:`bot.spinnenweb.result.summary_text`)."""
    return result.summary_text(ctx.t, ctx.web, ctx.lang, ctx.settings.zone, record, previous)


def typed_word(ctx: Context, word: str, text: str) -> bool:
    """Does ``text`` say ``word`` ("ja", "stop", "terug" ...), in either language: the
    words of content/spinnenweb.yaml, which the check-in and /vergeetmij read."""
    return ctx.web.means(word, text)
