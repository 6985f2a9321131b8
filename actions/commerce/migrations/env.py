"""Alembic environment for the commerce schema.

Run through `actions.commerce.database` (migrate/downgrade), which passes an open connection
in `config.attributes["connection"]`; the Alembic CLI also works if given this directory as
`script_location` and `sqlalchemy.url`. Offline mode (`--sql`) prints the SQL instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from actions.commerce.database import VERSION_TABLE
from actions.commerce.models import metadata

config = context.config
target_metadata = metadata


def run_migrations_offline() -> None:
    """Emits the migration SQL for `sqlalchemy.url`'s dialect without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrates on the caller's connection, or on a new one to `sqlalchemy.url`."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    try:
        with engine.begin() as new_connection:
            _migrate(new_connection)
    finally:
        engine.dispose()


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode recreates the table when needed.
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
