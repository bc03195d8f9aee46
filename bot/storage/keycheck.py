"""Refuse to start with a data key that does not fit the database.

Without this, a lost key file silently replaced by a new one, or a second
worker with a key of its own, would write health data that the others cannot
read. The first start stores a small value encrypted with the key; every later
start must be able to decrypt it.

The check value alone cannot see a key that was dropped too early: after
``DATA_KEY=new,old`` it is re-encrypted with the new key, yet older rows still
need the old one. So ``bot_meta`` also keeps the *fingerprints* (never the
keys) of every key that data may still be encrypted with. Each start adds its
newest key; a completed ``alliantiebot keys rotate`` reduces the set to the
newest key; a start whose ``DATA_KEY`` lacks a recorded key is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import Cipher, DecryptionError
from bot.settings import ConfigError
from bot.storage.dialect import upsert
from bot.storage.models import BotMeta

CHECK_KEY = "data_key_check"
CHECK_VALUE = {"purpose": "alliantiebot data key check"}
KEYS_IN_USE = "data_keys_in_use"  # key fingerprints (JSON), not secret


@dataclass
class KeyRecord:
    """Which keys data may still be encrypted with, by fingerprint.

    ``keys`` maps each fingerprint to the start (``seq``) at which it last was the
    newest key, so ``keys rotate`` can tell a key a worker started with during
    the rotation (it may have written rows the rotation had already passed).
    """

    seq: int
    keys: dict[str, int]

    def encode(self) -> bytes:
        return json.dumps({"seq": self.seq, "keys": self.keys}, sort_keys=True).encode("ascii")

    @classmethod
    def decode(cls, value: bytes) -> KeyRecord:
        data = json.loads(value.decode("ascii"))
        return cls(int(data["seq"]), {str(k): int(v) for k, v in data["keys"].items()})


async def keys_in_use(session: AsyncSession, *, lock: bool = False) -> KeyRecord | None:
    """The record of keys data may still be encrypted with (None: not recorded yet)."""
    stmt = select(BotMeta).where(BotMeta.key == KEYS_IN_USE)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    return None if row is None else KeyRecord.decode(row.value)


async def record_keys_in_use(session: AsyncSession, record: KeyRecord) -> None:
    stmt = upsert(session)(BotMeta).values(key=KEYS_IN_USE, value=record.encode())
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
    )


def missing_key_error(missing: set[str]) -> ConfigError:
    return ConfigError(
        "DATA_KEY: data may still be encrypted with a key that is no longer listed "
        f"(fingerprint {', '.join(sorted(missing))}); put that key back after the new one "
        "and run `alliantiebot keys rotate` with both keys first"
    )


async def verify_data_key(sessions: async_sessionmaker[AsyncSession], cipher: Cipher) -> None:
    async with sessions() as session, session.begin():
        created = (
            await session.execute(
                upsert(session)(BotMeta)
                .values(key=CHECK_KEY, value=cipher.encrypt(CHECK_VALUE))
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(BotMeta.key)
            )
        ).first() is not None
        stored = (
            await session.execute(select(BotMeta).where(BotMeta.key == CHECK_KEY).with_for_update())
        ).scalar_one()
        record = await keys_in_use(session, lock=True)
        try:
            cipher.decrypt(stored.value)
        except DecryptionError:
            if record is not None and set(record.keys) & set(cipher.fingerprints):
                # This database knows the key: another one it still needs was dropped.
                raise missing_key_error(set(record.keys) - set(cipher.fingerprints)) from None
            raise ConfigError(
                "DATA_KEY: does not fit this database (its data was encrypted with another "
                "key); restore the original key or key file"
            ) from None
        stored.value = cipher.rotate(stored.value)  # keep it readable by the newest key

        if record is None:
            # A new database: only the newest key will encrypt. A database from before
            # this record: any listed key may have been used, so all of them count.
            used = [cipher.newest_fingerprint] if created else list(cipher.fingerprints)
            record = KeyRecord(0, dict.fromkeys(used, 0))
        missing = set(record.keys) - set(cipher.fingerprints)
        if missing:
            raise missing_key_error(missing)
        record.seq += 1
        record.keys[cipher.newest_fingerprint] = record.seq
        await record_keys_in_use(session, record)
