"""Fixtures for the channel tests."""

from __future__ import annotations

import pytest

from bot.channels import telegram, telegram_send


@pytest.fixture(autouse=True)
def short_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Telegram channel's backoff after a network error or 5xx, 50 times shorter.

    The tests check what is retried, how often and in what order; the waits keep
    their shape (doubling, with jitter) but not their length. A 429's
    ``retry_after`` comes from the fake Bot API and is not changed.
    """
    monkeypatch.setattr(
        telegram_send, "NETWORK_RETRY_SECONDS", telegram_send.NETWORK_RETRY_SECONDS / 50
    )
    monkeypatch.setattr(telegram, "START_RETRY_SECONDS", telegram.START_RETRY_SECONDS / 50)
