"""Alembic environment for the commerce schema.

Run through `actions.commerce.database` (migrate/downgrade), which passes an open connection
in `config.attributes["connection"]`; the Alembic CLI also works if given this directory as
`script_location` and `sqlalchemy.url`. Offline mode (`--sql`) prints the SQL instead
(hilo/alembic_env.py).
"""

from __future__ import annotations

from actions.commerce.database import VERSION_TABLE
from actions.commerce.models import metadata
from hilo.alembic_env import run

run(metadata, VERSION_TABLE)
