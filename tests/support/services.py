"""Redis and RabbitMQ for the tests of the replicas' paths (CI starts both, see .ci/run).

Like PostgreSQL (tests/support/databases.py): CI sets the URLs and a test fails there without
them; on a machine without the services the test is skipped and says what to set.
"""

from __future__ import annotations

import os

import pytest


def _require(variable: str, what: str) -> str:
    url = os.environ.get(variable, "").strip()
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"CI must set {variable} so the {what} path is tested")
        pytest.skip(f"{variable} is not set (CI sets it; see .ci/run)")
    return url


def require_redis() -> str:
    """HILO_TEST_REDIS_URL (redis://127.0.0.1:6379/<db>)."""
    return _require("HILO_TEST_REDIS_URL", "Redis")


def require_rabbitmq() -> str:
    """HILO_TEST_RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672)."""
    return _require("HILO_TEST_RABBITMQ_URL", "RabbitMQ")
