"""`make nlu-report`: the model before the last training against the newest, label by label.

The designer's loop (handoff/nlu_candidates.py, docs/designer-loop.md) ends here: after
`hilo nlu candidates --export data/nlu/reviewed.yml` and `make train`, this shows what the
reviewed examples changed. `make train` keeps the model it replaces as
`models/hilo-previous.tar.gz` (components/training.py); that is the current model, and
`models/hilo.tar.gz` the newest.

Both are scored on the project's held-out sets (`bench/data/blind_eval.yml` and
`fresh_eval.yml`, never trained on; docs/nlu.md) by the label the bot acts on (an intent, or
`faq/<key>`), and on the English dev set in `../shared/eval/en_dev.csv` by its coarse
categories (read at evaluation time only, through its own scorer's mapping; never trained
on). For each label: how many messages, how many each model got right, and how many fell
back; then accuracy and macro-F1 per set. Writes bench/results/nlu-report-<time>.json.

    python -m bench.nlu_report [--current MODEL] [--newest MODEL]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import csv
import json
import logging
import os
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from handoff.nlu_candidates import label_of

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
SETS = (ROOT / "bench" / "data" / "blind_eval.yml", ROOT / "bench" / "data" / "fresh_eval.yml")
DEV_SET = ROOT.parent / "shared" / "eval" / "en_dev.csv"
RESULTS = ROOT / "bench" / "results"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
Example = tuple[str, str, frozenset[str]]  # text, label, other accepted labels


def project_examples(path: Path) -> list[Example]:
    """A Rasa NLU file's examples with their labels, entity annotations removed."""
    found = []
    for item in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
        for line in str(item.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ")
            if text:
                found.append((_ANNOTATION.sub(r"\1", text), str(item["intent"]), frozenset()))
    return found


def dev_coarse() -> dict[str, str]:
    """The English dev set's own label mapping (`COARSE` in ../shared/eval/score_intents.py).

    Read from its source, not imported: the scorer runs its evaluation when imported.
    """
    tree = ast.parse(DEV_SET.with_name("score_intents.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "COARSE" for target in node.targets
        ):
            return dict(ast.literal_eval(node.value))
    raise LookupError("COARSE is not in the dev set's scorer")


def dev_examples() -> list[Example]:
    with DEV_SET.open(encoding="utf-8") as rows:
        return [
            (row["text"], row["label"], frozenset({row["alt_label"]} - {""}))
            for row in csv.DictReader(rows)
            if row["mapping"] != "exclude"
        ]


async def predictions(model: Path, texts: list[str]) -> list[str]:
    """The label the bot acts on for each text."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [label_of(await agent.parse_message(text)) or "nlu_fallback" for text in texts]


def score(examples: list[Example], predicted: list[str]) -> dict[str, Any]:
    """Per label: n, right, fell back; accuracy and macro-F1 over the set."""
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    wrong_as: Counter[str] = Counter()
    for (_, gold, alternatives), guess in zip(examples, predicted, strict=True):
        counts = labels[gold]
        counts["n"] += 1
        if guess == gold or guess in alternatives:
            counts["right"] += 1
        else:
            wrong_as[guess] += 1
        if guess in ("nlu_fallback", "out_of_scope"):
            counts["fell_back"] += 1
    f1 = {}
    for gold, counts in labels.items():
        precision = counts["right"] / max(1, counts["right"] + wrong_as[gold])
        recall = counts["right"] / counts["n"]
        f1[gold] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    right = sum(counts["right"] for counts in labels.values())
    return {
        "n": len(examples),
        "accuracy": round(right / max(1, len(examples)), 4),
        "macro_f1": round(sum(f1.values()) / max(1, len(f1)), 4),
        "labels": {gold: dict(counts) for gold, counts in sorted(labels.items())},
    }


def evaluate(model: Path, sets: dict[str, list[Example]], coarse: dict[str, str]) -> dict[str, Any]:
    texts = [text for examples in sets.values() for text, _, _ in examples]
    guesses = iter(asyncio.run(predictions(model, texts)))
    scored = {}
    for name, examples in sets.items():
        predicted = [next(guesses) for _ in examples]
        if name == "en_dev":
            predicted = [coarse.get(label, label) for label in predicted]
        scored[name] = score(examples, predicted)
    return scored


def table(name: str, current: dict[str, Any], newest: dict[str, Any]) -> str:
    lines = [
        f"\n{name}: accuracy {current['accuracy']} -> {newest['accuracy']}, "
        f"macro-F1 {current['macro_f1']} -> {newest['macro_f1']} (n={current['n']})",
        f"{'label':32} {'n':>5} {'right before':>13} {'right now':>10} {'change':>7} "
        f"{'fell back':>10}",
    ]
    for label, before in current["labels"].items():
        after = newest["labels"].get(label, {})
        change = after.get("right", 0) - before.get("right", 0)
        if change or os.environ.get("HILO_NLU_REPORT_ALL"):
            lines.append(
                f"{label:32} {before['n']:>5} {before.get('right', 0):>13} "
                f"{after.get('right', 0):>10} {change:>+7} "
                f"{before.get('fell_back', 0):>4} -> {after.get('fell_back', 0):<4}"
            )
    if len(lines) == 2:
        lines.append("(no label changed)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--current", type=Path, default=MODELS / "hilo-previous.tar.gz")
    parser.add_argument("--newest", type=Path, default=MODELS / "hilo.tar.gz")
    args = parser.parse_args(argv)
    for model in (args.current, args.newest):
        if not model.is_file():
            parser.error(f"{model} does not exist: `make train` keeps the model it replaces")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.disable(logging.WARNING)
    sets = {path.stem: project_examples(path) for path in SETS}
    coarse: dict[str, str] = {}
    if DEV_SET.is_file():
        sets["en_dev"] = dev_examples()
        coarse = dev_coarse()
    current = evaluate(args.current, sets, coarse)
    newest = evaluate(args.newest, sets, coarse)
    for name in sets:
        print(table(name, current[name], newest[name]))
    RESULTS.mkdir(exist_ok=True)
    run = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    result = {
        "run": run,
        "current": str(args.current),
        "newest": str(args.newest),
        "scores": {"current": current, "newest": newest},
    }
    (RESULTS / f"nlu-report-{run}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
