"""The body of every schema's Alembic env.py: Hilo has three schemas and one way to migrate.

The commerce store, the handoff and the channels each keep their migrations and their own
version table in one database (docs/deployment.md). Each `env.py` calls `run()` with its
metadata and version table:

- online, on the connection `hilo.database.Migrations` passes in
  `config.attributes["connection"]` (inside its transaction and advisory lock), or on a new
  one to `sqlalchemy.url` when the Alembic command line runs it;
- offline (`--sql`), printing the SQL for the URL's dialect.

Batch mode everywhere: SQLite cannot ALTER most things, so batch operations rebuild tables.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import MetaData, create_engine


def run(metadata: MetaData, version_table: str) -> None:
    """Runs the migrations of the schema `metadata` describes (called by an env.py)."""
    config = context.config
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": version_table,
        "render_as_batch": True,
    }
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: object) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    try:
        with engine.begin() as new_connection:
            migrate(new_connection)
    finally:
        engine.dispose()
