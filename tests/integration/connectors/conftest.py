"""Fixtures for connector tests: a hub on a fresh database (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.core import ChannelHub
from connectors.media_store import LocalMediaStore
from connectors.settings import MediaLimits
from connectors.storage import make_engine
from tests.support.fake_provider import FakeProvider


@pytest.fixture
def channels_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'channels.db'}"


@pytest.fixture
def hub(channels_db: str, tmp_path: Path) -> ChannelHub:
    """A hub on its own SQLite file and media directory."""
    return ChannelHub(
        make_engine(channels_db),
        media_store=LocalMediaStore(tmp_path / "media"),
        media_limits=MediaLimits(max_bytes=1024 * 1024),
    )


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()
