"""Every schema migrates through one Alembic environment body, online and offline."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from tests.conftest import ROOT

SCHEMAS = {
    "channels": (ROOT / "connectors" / "migrations", "CREATE TABLE channel_inbound"),
    "handoff": (ROOT / "handoff" / "migrations", "CREATE TABLE handoff_cases"),
    "commerce": (ROOT / "actions" / "commerce" / "migrations", "CREATE TABLE"),
}


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
def test_offline_mode_prints_the_schema_as_sql(schema: str, tmp_path: Path) -> None:
    """`alembic upgrade --sql`: what a DBA reviews before a deployment, without connecting."""
    directory, expected = SCHEMAS[schema]
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", "postgresql://nobody@127.0.0.1:1/none")
    printed = io.StringIO()
    with redirect_stdout(printed):
        command.upgrade(config, "head", sql=True)
    assert expected in printed.getvalue()
    assert "alembic_version" in printed.getvalue()  # the schema's own version table
