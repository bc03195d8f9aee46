"""Curated content, Dutch-aware retrieval, and the safety layer in front of it."""
