"""`make crossval`: k-fold cross-validation of the candidate NLU pipelines.

    python -m bench.crossval [--folds 3] [--holdout] [CONFIG ...]

Without arguments, compares config.yml (Hilo's pipeline) with the candidates in
bench/pipelines/ (stock.yml, the `rasa init` pipeline, only when named: its 100 DIET epochs
take about an hour per fold on 2 cores). Prints one JSON line per fold and a Markdown table
of means; the numbers and the choice they led to are written down in docs/nlu.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from bench.nlu_eval import ENTITY_TYPES, ROOT, FoldResult, run


def summarize(name: str, results: list[FoldResult]) -> str:
    """One Markdown table row: means over folds (± standard deviation for accuracy)."""

    def mean(values: list[float]) -> float:
        return statistics.fmean(values)

    accuracy = [r.accuracy for r in results]
    spread = f" ± {statistics.stdev(accuracy):.3f}" if len(accuracy) > 1 else ""
    languages = sorted({k for r in results for k in r.accuracy_by_language})
    by_language = " / ".join(
        f"{lang} {mean([r.accuracy_by_language.get(lang, 0.0) for r in results]):.3f}"
        for lang in languages
    )
    entities = " ".join(
        f"{kind} {mean([r.entity_f1[kind] for r in results]):.2f}" for kind in ENTITY_TYPES
    )
    return (
        f"| {name} | {mean(accuracy):.3f}{spread} | {mean([r.macro_f1 for r in results]):.3f} "
        f"| {by_language} | {mean([r.fallback_rate for r in results]):.3f} "
        f"| {mean([r.entity_micro_f1 for r in results]):.3f} ({entities}) "
        f"| {mean([r.train_seconds for r in results]):.0f} s "
        f"| {mean([r.load_seconds for r in results]):.1f} s "
        f"| {mean([r.parse_ms_p50 for r in results]):.1f} ms |"
    )


def main() -> None:
    """Runs every config and prints the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--holdout", action="store_true", help="train and test one fold only")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument(
        "--blind",
        type=Path,
        help="train on all data and test on this set instead (bench/data/blind_eval.yml)",
    )
    parser.add_argument("--errors", type=Path, help="write misclassified examples here (JSON)")
    args = parser.parse_args()
    configs = args.configs or [
        ROOT / "config.yml",
        *sorted(
            path for path in (ROOT / "bench/pipelines").glob("*.yml") if path.name != "stock.yml"
        ),
    ]
    rows, errors = [], {}
    for config in configs:
        results = run(config, args.folds, args.holdout, args.data, args.blind)
        rows.append(summarize(config.stem, results))
        errors[str(config)] = [e for r in results for e in r.errors]
    print(
        "\n| pipeline | accuracy | macro F1 | accuracy by detected language | fallback rate "
        "| entity micro F1 (per type) | train time | load time | parse p50 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.errors:
        args.errors.write_text(json.dumps(errors, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
