"""The places and organisations a person can choose in their profile and a verbinder
in an invite: the 13 gemeenten of ``content/regio.yaml`` and the partner
organisations of ``content/organisations.yaml``.

Both are stored and written in audiences as ids: a gemeente's id is its name in lower
case with hyphens for spaces (``alphen-aan-den-rijn``, ``leiden``), an organisation's
id is given in its file. :data:`OUTSIDE` is "woon niet in de regio",
:data:`OTHER` "another organisation", :data:`NO_ORGANISATION` "no organisation" (chosen;
None is "not chosen yet"). Read once per content folder (the files are
small); a change needs a restart.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from bot.paths import content_dir
from bot.yamltext import load_yaml

OUTSIDE = "buiten-de-regio"  # lives outside the 13 gemeenten
OTHER = "anders"  # works at an organisation not on the list
NO_ORGANISATION = "geen"  # chose "no organisation" (None: not chosen yet)
MAX_ORGANISATIONS = 40  # buttons a step can offer (its action codes are declared)
MAX_GEMEENTEN = 20


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Directory:
    gemeenten: tuple[Entry, ...]
    organisations: tuple[Entry, ...]

    def gemeente(self, code: str | None) -> Entry | None:
        return next((g for g in self.gemeenten if g.id == code), None)

    def organisation(self, code: str | None) -> Entry | None:
        return next((o for o in self.organisations if o.id == code), None)


def place_id(name: str) -> str:
    """``Alphen aan den Rijn`` → ``alphen-aan-den-rijn``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def read(content: Path) -> Directory:
    """The two lists from a content folder; raises ``ValueError`` when one is broken."""
    regio = load_yaml((content / "regio.yaml").read_text(encoding="utf-8")) or {}
    orgs = load_yaml((content / "organisations.yaml").read_text(encoding="utf-8")) or {}
    gemeenten = tuple(Entry(place_id(name), str(name)) for name in regio.get("gemeenten", {}))
    organisations = tuple(
        Entry(str(o["id"]), str(o["name"])) for o in orgs.get("organisations", [])
    )
    ids = [e.id for e in (*gemeenten, *organisations)] + [OUTSIDE, OTHER, NO_ORGANISATION]
    if len(set(ids)) != len(ids) or not all(re.fullmatch(r"[a-z0-9-]{1,40}", i) for i in ids):
        raise ValueError("gemeenten and organisations need distinct ids of a-z, 0-9 and -")
    if len(gemeenten) > MAX_GEMEENTEN or len(organisations) > MAX_ORGANISATIONS:
        raise ValueError("more gemeenten or organisations than the profile can offer")
    return Directory(gemeenten, organisations)


@functools.cache
def directory(override: Path | None = None) -> Directory:
    """The lists of the content folder in use (``CONTENT_DIR`` or the default)."""
    return read(content_dir(override))


def has_profile(gemeente: str | None, organisation: str | None, topics_off: str) -> bool:
    """Has the person anything in their profile (a gemeente, an organisation, or a
    topic turned off), from /profiel or an invite?"""
    return bool(gemeente or organisation or topics_off)
