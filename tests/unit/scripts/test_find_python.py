"""`make setup` finds Python 3.10 itself, or says clearly what to do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "find-python.sh"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )


def test_finds_a_python_310() -> None:
    result = _run(dict(os.environ))
    assert result.returncode == 0, result.stderr
    found = result.stdout.strip()
    version = subprocess.run(  # noqa: S603
        [found, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "(3, 10)"


def test_rejects_a_given_interpreter_that_is_not_310() -> None:
    result = _run({**os.environ, "PYTHON": "/bin/true"})
    assert result.returncode == 1
    assert "PYTHON=/bin/true is not a working Python 3.10" in result.stderr


def test_explains_what_to_do_when_there_is_none(tmp_path: Path) -> None:
    result = _run({"PATH": "/nonexistent", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)})
    if result.returncode == 0:  # the machine has a system-wide python3.10 in /usr
        assert result.stdout.startswith("/usr")
        return
    assert result.returncode == 1
    assert "Hilo needs Python 3.10 and none was found" in result.stderr
    assert "make setup PYTHON=" in result.stderr
