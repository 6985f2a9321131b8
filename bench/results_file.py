"""Where a benchmark run's raw numbers go: bench/results/<name>-<run>.json (not committed).

The report in docs/ is what people read; the JSON beside it keeps every figure of the run,
for comparing runs later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def save(name: str, result: dict[str, Any]) -> Path:
    """Writes `result` (which has its `run` time) and returns the file's path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{result['run']}.json"
    path.write_text(json.dumps(result, indent=2))
    return path
