"""What importing some of Hilo loads: the desk and the action server must start without Rasa."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

# Libraries the desk's environment lacks (docs/security.md): Rasa and what comes with it, the
# web server Rasa runs on, and the providers' SDKs.
HEAVY = ("rasa", "sanic", "twilio", "telegram", "tensorflow")


def heavy_modules_loaded(*modules: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has loaded after importing `modules`."""
    code = (
        f"import json, sys, {', '.join(modules)}\n"
        f"print(json.dumps(sorted(name for name in {HEAVY!r} if name in sys.modules)))"
    )
    loaded = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return list(json.loads(loaded.stdout))
