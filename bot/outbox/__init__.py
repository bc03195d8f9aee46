"""Durable outgoing queue and its rate-limited sender."""
