"""The fixed words of the people model: roles and announcement topics.

They are codes, stored in ``users.roles`` / ``users.topics_off`` and written in
audience expressions (``role:gangmaker,topic:agenda``); what a person reads for
each is in ``content/messages`` (``roles.<code>``, ``topics.<code>``).
"""

from __future__ import annotations

INWONER, GANGMAKER, PARTNER, BESTUURDER, VERBINDER = (
    "inwoner",
    "gangmaker",
    "partner",
    "bestuurder",
    "verbinder",
)
# Everyone is an inwoner; the others are granted (an invite, /rollen, BOT_ADMINS).
ROLES = (INWONER, GANGMAKER, PARTNER, BESTUURDER, VERBINDER)
GRANTED_ROLES = ROLES[1:]

NIEUWS, AGENDA, LEERATELIERS, GANGMAKERS, SPINNENWEB_TIPS = (
    "nieuws",
    "agenda",
    "leerateliers",
    "gangmakers",
    "spinnenweb-tips",
)
# What a person can choose to hear about; by default every topic is on.
TOPICS = (NIEUWS, AGENDA, LEERATELIERS, GANGMAKERS, SPINNENWEB_TIPS)
DEFAULT_TOPIC = NIEUWS  # an announcement's topic when the verbinder names none


def join(codes: set[str] | frozenset[str], order: tuple[str, ...]) -> str:
    """Codes as stored: comma-separated, in the vocabulary's order."""
    return ",".join(code for code in order if code in codes)
