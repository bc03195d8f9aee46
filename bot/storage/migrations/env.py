"""Alembic environment: runs on a connection handed over by bot.storage.db."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.storage.db import sync_url
from bot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:  # the plain `alembic` command line, for writing new revisions
    engine = create_engine(sync_url(config.get_main_option("sqlalchemy.url") or ""))
    with engine.begin() as conn:
        _configure_and_run(conn)
