"""Secrets: from the environment, else generated in development; required in production."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from hilo.keys import MissingSecret, secret


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HILO_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("HILO_ENV", raising=False)
    monkeypatch.delenv("HILO_TEST_SECRET", raising=False)
    return tmp_path


def test_the_environment_wins(var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILO_TEST_SECRET", "  from-env ")
    assert secret("HILO_TEST_SECRET", "test") == "from-env"
    assert not (var / "test.secret").exists()


def test_development_generates_one_private_secret_and_keeps_it(var: Path) -> None:
    first = secret("HILO_TEST_SECRET", "test")
    assert len(first) >= 40
    assert secret("HILO_TEST_SECRET", "test") == first
    mode = stat.S_IMODE((var / "test.secret").stat().st_mode)
    assert mode == 0o600


def test_processes_racing_to_generate_agree(var: Path) -> None:
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(secret("HILO_TEST_SECRET", "race")))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert sorted(p.name for p in var.iterdir()) == ["race.secret"]  # no drafts left


def test_production_requires_the_variable(var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILO_ENV", "production")
    with pytest.raises(MissingSecret, match="HILO_TEST_SECRET"):
        secret("HILO_TEST_SECRET", "test")
    assert not (var / "test.secret").exists()
