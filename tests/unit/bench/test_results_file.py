"""A benchmark's raw numbers are kept under the run's time, one file per run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import results_file


def test_each_run_gets_its_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results_file, "RESULTS", tmp_path / "results")
    first = results_file.save("facts", {"run": "2026-12-07T15-00-00Z", "p50": 1.4})
    second = results_file.save("facts", {"run": "2026-12-07T16-00-00Z", "p50": 1.3})
    assert first.name == "facts-2026-12-07T15-00-00Z.json" != second.name
    assert json.loads(first.read_text()) == {"run": "2026-12-07T15-00-00Z", "p50": 1.4}
