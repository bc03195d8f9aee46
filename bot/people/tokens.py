"""Invite tokens: 160 random bits as 40 lower-case hex characters, so that they
survive ``/start`` (which lower-cases its payload) and fit a Telegram deep link
(``inv_<token>``: 44 of the 64 characters allowed). Only the SHA-256 of a token is
stored; the token itself is shown once, to the verbinder who made it."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 20  # 160 bits: well above the 128 the issue asks for
LINK_PREFIX = "inv_"  # /start inv_<token>
_TOKEN = re.compile(r"(?<![0-9a-f])([0-9a-f]{40})(?![0-9a-f])")


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def read_token(text: str) -> str | None:
    """The token in what a person typed or pasted: the bare code, ``inv_<code>``, or
    the whole link; None when there is none."""
    found = _TOKEN.search(text.strip().lower())
    return found.group(1) if found else None
