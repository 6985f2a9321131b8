"""Alembic environment for the handoff schema (run through `handoff.database`)."""

from __future__ import annotations

from handoff.database import VERSION_TABLE
from handoff.models import metadata
from hilo.alembic_env import run

run(metadata, VERSION_TABLE)
