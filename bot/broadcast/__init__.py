"""Announcements from verbinders: audience, preview, schedule, delivery, report."""
