"""Test helpers: databases, fakes, and a conversation driver."""
