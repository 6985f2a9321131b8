"""Wait until Hilo's servers answer, or fail early if one of them died.

python scripts/wait_ready.py URL [URL...] --pids PID [PID...] [--logs FILE...] [--timeout S]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path


def answers(url: str) -> bool:
    """True when the URL returns any HTTP 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
            return 200 <= response.status < 300
    except OSError:
        return False


def alive(pid: int) -> bool:
    """True while the process exists."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main() -> int:
    """Polls the URLs every 0.5 s until all answer."""
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--pids", nargs="*", type=int, default=[])
    parser.add_argument("--logs", nargs="*", default=[])
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    pending = list(args.urls)
    while pending:
        pending = [url for url in pending if not answers(url)]
        dead = [pid for pid in args.pids if not alive(pid)]
        if dead or time.monotonic() > deadline:
            reason = "a server exited" if dead else f"not ready after {args.timeout:.0f} s"
            print(f"error: {reason}; last log lines:", file=sys.stderr)
            for log in args.logs:
                lines = Path(log).read_text(errors="replace").splitlines()[-15:]
                print(f"--- {log}", *lines, sep="\n", file=sys.stderr)
            return 1
        if pending:
            time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
