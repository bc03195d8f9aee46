"""A check-in's result without the chat around it: the record, the summary in
words and the picture's drawing call. ``t`` is the content lookup of the person's
language (``Context.t``); nothing here needs a conversation or a database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path

from bot import charts
from bot.spinnenweb.model import Spinnenweb, arrow, fmt, ordered
from bot.spinnenweb.records import CheckinRecord

Translate = Callable[..., str]


def local_date(record: CheckinRecord, zone: tzinfo) -> str:
    return record.taken_at.astimezone(zone).strftime("%d-%m-%Y")


def build_record(
    web: Spinnenweb, mode: str, answers: Mapping[str, int], marks: Iterable[str], now: datetime
) -> CheckinRecord:
    """The finished check-in (not yet stored: ``id`` 0); marks in question order."""
    scored = {k: int(v) for k, v in answers.items()}
    order = {q.id: i for i, q in enumerate(web.questions(mode))}
    return CheckinRecord(
        id=0,
        taken_at=now,
        mode=mode,
        scores=web.scores(mode, scored),
        answers=scored,
        marked=sorted(marks, key=lambda q: order.get(q, 0)),
    )


def drawing(
    t: Translate,
    web: Spinnenweb,
    lang: str,
    zone: tzinfo,
    today: CheckinRecord,
    previous: CheckinRecord | None,
) -> Callable[[Path], object]:
    """The call that draws the spinnenweb picture into a file (run off the loop)."""
    legend = None
    if previous is not None:
        legend = (
            t("checkin.legend_today", date=local_date(today, zone)),
            t("checkin.legend_previous", date=local_date(previous, zone)),
        )
    return partial(
        charts.render_web,
        labels=[d.name[lang] for d in web.dimensions],
        today=ordered(today.scores, web.dimensions),
        title=t("checkin.chart_title", date=local_date(today, zone)),
        previous=ordered(previous.scores, web.dimensions) if previous else None,
        legend=legend,
    )


def summary_text(
    t: Translate,
    web: Spinnenweb,
    lang: str,
    zone: tzinfo,
    record: CheckinRecord,
    previous: CheckinRecord | None,
) -> str:
    """The scores in words, for screen readers and the console: six lines, the
    change since last time (↑ ↓ =), and the aspects marked to talk about."""
    lines = [t("checkin.summary_title", date=local_date(record, zone))]
    for dimension in web.dimensions:
        score = record.scores[dimension.id]
        before = previous.scores.get(dimension.id) if previous is not None else None
        if before is None:
            lines.append(
                t("checkin.summary_line", name=dimension.name[lang], score=fmt(score, lang))
            )
        else:
            lines.append(
                t(
                    "checkin.summary_line_change",
                    name=dimension.name[lang],
                    score=fmt(score, lang),
                    arrow=arrow(score, before),
                    before=fmt(before, lang),
                )
            )
    if previous is None:
        lines.append(t("checkin.summary_first"))
    else:
        lines.append(t("checkin.summary_since", date=local_date(previous, zone)))
    if record.marked:
        names = web.names(lang)
        lines.append(
            t("checkin.summary_marked", items=", ".join(names.get(m, m) for m in record.marked))
        )
    lines.append(t("checkin.not_a_test"))
    return "\n".join(lines)
