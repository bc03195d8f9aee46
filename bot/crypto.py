"""Encryption at rest for health data and conversation state.

Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package) with
key rotation through MultiFernet: ``DATA_KEY`` may list several keys, the
first encrypts and all decrypt. Without ``DATA_KEY`` the embedded default
creates a key file with owner-only permissions, so a local run works with no
setup and still never stores health data in plain text. With
``ENVIRONMENT=production`` a missing ``DATA_KEY`` stops the start instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.paths import private_dir
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)


class DecryptionError(Exception):
    """Stored data could not be decrypted with any configured key."""


def key_fingerprint(key: str) -> str:
    """A short, stable name for a key that reveals nothing about it.

    16 hex digits of a domain-separated SHA-256 of the key's 32 bytes: enough to
    tell keys apart in ``bot_meta`` and in an error line; the key itself is never
    stored or printed.
    """
    raw = base64.urlsafe_b64decode(key.strip().encode("ascii"))
    return hashlib.sha256(b"alliantiebot data key\0" + raw).hexdigest()[:16]


class Cipher:
    """Encrypts and decrypts small JSON documents."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._newest = Fernet(keys[0].encode("ascii"))
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])
        self.fingerprints: tuple[str, ...] = tuple(key_fingerprint(k) for k in keys)

    @property
    def newest_fingerprint(self) -> str:
        """The fingerprint of the key that encrypts (the first in ``DATA_KEY``)."""
        return self.fingerprints[0]

    def encrypt(self, value: Any) -> bytes:
        raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self._fernet.encrypt(raw)

    def decrypt(self, token: bytes) -> Any:
        try:
            return json.loads(self._fernet.decrypt(token).decode("utf-8"))
        except InvalidToken as exc:
            raise DecryptionError("data cannot be decrypted with the configured DATA_KEY") from exc

    def is_current(self, token: bytes) -> bool:
        """True if the newest key alone can read ``token`` (nothing to rotate)."""
        try:
            self._newest.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the first (newest) key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise DecryptionError("data cannot be decrypted with the configured DATA_KEY") from exc


def _key_from_file(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    private_dir(path.parent)  # 0700 when the bot makes it (./data), as in the image
    key = Fernet.generate_key().decode("ascii")
    # O_EXCL: two workers starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    log.warning("no DATA_KEY set: created a key file at %s; back it up", path)
    return key


def cipher_from_settings(settings: Settings) -> Cipher:
    if settings.data_key is not None:
        keys = [k.strip() for k in settings.data_key.get_secret_value().split(",") if k.strip()]
        return Cipher(keys)
    if settings.environment == "production":
        raise ConfigError(
            "DATA_KEY: required when ENVIRONMENT=production (a key file on a server is too "
            "easily lost or copied); create one with: python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())'"
        )
    return Cipher([_key_from_file(settings.data_key_file)])
