"""Refuse to start with a data key that does not fit the database.

Without this, a lost key file silently replaced by a new one, or a second
worker with a key of its own, would write health data that the others cannot
read. The first start stores a small value encrypted with the key; every later
start must be able to decrypt it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import Cipher, DecryptionError
from bot.settings import ConfigError
from bot.storage.models import BotMeta
from bot.storage.repositories import upsert

CHECK_KEY = "data_key_check"
CHECK_VALUE = {"purpose": "alliantiebot data key check"}


async def verify_data_key(sessions: async_sessionmaker[AsyncSession], cipher: Cipher) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            upsert(session)(BotMeta)
            .values(key=CHECK_KEY, value=cipher.encrypt(CHECK_VALUE))
            .on_conflict_do_nothing(index_elements=["key"])
        )
        stored = (
            await session.execute(select(BotMeta).where(BotMeta.key == CHECK_KEY))
        ).scalar_one()
        try:
            cipher.decrypt(stored.value)
        except DecryptionError:
            raise ConfigError(
                "DATA_KEY: does not fit this database (its data was encrypted with another "
                "key); restore the original key or key file"
            ) from None
        stored.value = cipher.rotate(stored.value)  # keep it readable by the newest key
