"""``python -m bot`` runs the ``alliantiebot`` command."""

from __future__ import annotations

from bot.cli import main

raise SystemExit(main())
