"""People: roles, profile, invites and linked groups (see ``docs/verbinders.md``)."""
