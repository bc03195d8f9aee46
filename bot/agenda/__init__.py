"""The agenda: leerateliers, gangmaker meetings, the bestuurders meeting and others.

:mod:`bot.agenda.model` holds what an event is, :mod:`bot.agenda.ical` reads and
writes iCalendar, :mod:`bot.agenda.files` reads the YAML and .ics files the CLI
imports and checks them, :mod:`bot.agenda.cli` is ``alliantiebot events``. The rows
are the repository's (:mod:`bot.storage.repositories.agenda`).
"""
