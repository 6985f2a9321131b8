"""Alembic environment for the channels schema (run through `connectors.storage`)."""

from __future__ import annotations

from connectors.storage import VERSION_TABLE, metadata
from hilo.alembic_env import run

run(metadata, VERSION_TABLE)
