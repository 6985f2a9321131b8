"""`make conversations`: runs every conversation script on a fresh stack and prints the report.

python -m tests.conversations [--only REGEX] [--transcripts] [--scripts DIR] [--events]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from tests.conversations.runner import Report, Stack, run
from tests.conversations.script import SCRIPTS, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the conversation scripts.")
    parser.add_argument("--only", help="run the conversations whose id matches this regex")
    parser.add_argument("--transcripts", action="store_true", help="print failed transcripts")
    parser.add_argument("--scripts", type=Path, default=SCRIPTS)
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--events", action="store_true", help="print the tracker events of failed conversations"
    )
    arguments = parser.parse_args(argv)
    from components.training import train

    conversations = load(arguments.scripts)
    if arguments.only:
        conversations = [c for c in conversations if re.search(arguments.only, c.id)]
    model = train()
    with tempfile.TemporaryDirectory(prefix="hilo-conversations-") as workdir:
        stack = Stack.start(model, Path(workdir))
        try:
            results = []
            for conversation in conversations:
                result = run(stack, conversation)
                print(f"{'ok  ' if result.passed else 'FAIL'} {conversation.id}", flush=True)
                if arguments.events and not result.passed:
                    print("\n".join(stack.event_log(result.sender)), flush=True)
                results.append(result)
        finally:
            stack.stop()
    report = Report(results).text(transcripts=arguments.transcripts)
    print(report)
    if arguments.out:
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
