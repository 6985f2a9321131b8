"""The conversation suite (issue: conversations that hold up), run by `make test`.

Every script under scripts/ is played on one real stack through the sandbox channel. The bar
is the issue's: at least 95 % of the conversations pass, no question about data the customer
already gave, and no irreversible step (cancel, address change, return, order) without a
clear yes. Every failure is printed with its transcript and written to
results/conversations.txt, so a failing conversation is never hidden by the rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conversations.runner import ASKED_TWICE, IRREVERSIBLE, Report, Stack, run
from tests.conversations.script import FLOWS, LANGUAGES, load

pytestmark = pytest.mark.model
PASS_RATE = 0.95


def test_the_scripts_follow_the_format_and_cover_every_flow_in_both_languages() -> None:
    conversations = load()
    assert len(conversations) >= 100
    covered = {(c.lang, c.flow) for c in conversations}
    assert {(lang, flow) for lang in LANGUAGES for flow in FLOWS} <= covered


@pytest.fixture(scope="module")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack.start(model_path, tmp_path_factory.mktemp("conversations"))
    yield running
    running.stop()


def test_the_conversations_hold_up(stack: Stack, root: Path) -> None:
    report = Report([run(stack, conversation) for conversation in load()])
    text = report.text(transcripts=True)
    (root / "results").mkdir(exist_ok=True)
    (root / "results" / "conversations.txt").write_text(text + "\n")
    print(text)
    assert report.count(IRREVERSIBLE) == 0, text
    assert report.count(ASKED_TWICE) == 0, text
    assert report.pass_rate >= PASS_RATE, text
