"""`make run-cluster` refuses a setup replicas cannot share, and says what to set.

Only the checks that run before anything starts; two replicas on PostgreSQL, Redis and
RabbitMQ are tested for real in tests/integration/connectors/test_replicas.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "run-cluster.sh"
PG = "postgresql://hilo@127.0.0.1:5432/hilo"
REDIS = "redis://127.0.0.1:6379/0"


def run(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    clean.pop("REDIS_URL", None)
    return subprocess.run(  # noqa: S603
        ["/bin/bash", str(SCRIPT)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "DATABASE_URL=postgresql://"),
        ({"DATABASE_URL": "sqlite:///var/commerce.db", "REDIS_URL": REDIS}, "SQLite is for one"),
        ({"DATABASE_URL": PG}, "REDIS_URL=redis://"),
        ({"DATABASE_URL": PG, "REDIS_URL": REDIS, "HILO_REPLICAS": "0"}, "1 or more"),
        ({"DATABASE_URL": PG, "REDIS_URL": REDIS, "HILO_INTAKES": "two"}, "whole number"),
        (
            {"DATABASE_URL": PG, "REDIS_URL": REDIS, "CHANNELS_DATABASE_URL": "sqlite:///c.db"},
            "every replica must see the same data",
        ),
    ],
)
def test_refuses_what_replicas_cannot_share(env: dict[str, str], says: str) -> None:
    result = run(**env)
    assert result.returncode == 1
    assert says in result.stderr
    assert "starting" not in result.stdout
