"""Fixtures of the order action tests: a real seeded store and the domain as a dict."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.commerce.database import make_engine, migrate
from actions.commerce.seed import seed
from actions.orders import common


@pytest.fixture
def demo_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh seeded store per test (lookup counts must not leak between tests)."""
    url = f"sqlite:///{tmp_path / 'commerce.db'}"
    migrate(url)
    engine = make_engine(url)
    seed(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    common.store.cache_clear()
    yield
    common.store.cache_clear()


@pytest.fixture
def domain_dict(domain) -> dict[str, Any]:
    return domain.as_dict()
