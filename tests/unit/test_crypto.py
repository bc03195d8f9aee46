"""Encryption at rest of health data and conversation state."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import Cipher, DecryptionError, cipher_from_settings
from bot.settings import Settings


def test_round_trip_and_no_plain_text() -> None:
    cipher = Cipher([Fernet.generate_key().decode()])
    token = cipher.encrypt({"mentaal": 7, "wens": "meer wandelen"})
    assert b"wandelen" not in token
    assert cipher.decrypt(token) == {"mentaal": 7, "wens": "meer wandelen"}


def test_rotation_reads_old_data_and_wrong_key_fails() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Cipher([old]).encrypt({"a": 1})
    rotated = Cipher([new, old])
    assert rotated.decrypt(token) == {"a": 1}
    assert Cipher([new]).decrypt(rotated.rotate(token)) == {"a": 1}
    with pytest.raises(DecryptionError):
        Cipher([new]).decrypt(token)


def test_without_data_key_a_private_key_file_is_created_once(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "data.key"
    settings = Settings(_env_file=None, data_key=None, data_key_file=key_file)  # type: ignore[call-arg]
    token = cipher_from_settings(settings).encrypt([1, 2])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert cipher_from_settings(settings).decrypt(token) == [1, 2]  # same key next start
