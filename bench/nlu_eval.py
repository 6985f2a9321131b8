"""Train an NLU pipeline on part of data/nlu and measure it on the rest.

Used by `make crossval` (k-fold cross-validation of the candidate pipelines in
bench/pipelines/) and for quick hold-out comparisons while tuning. Scores what the bot acts
on: the *effective* label is the intent, or `faq/<key>` when the ResponseSelector answers, so
a right intent with the wrong FAQ answer counts as wrong; `nlu_fallback` counts as wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ENTITY_TYPES = ("order_id", "email", "phone", "product", "quantity", "person", "city", "address")


@dataclass
class FoldResult:
    """Scores of one pipeline on one test split."""

    train_seconds: float
    load_seconds: float
    parse_ms_p50: float
    n_test: int
    accuracy: float
    macro_f1: float
    fallback_rate: float
    accuracy_by_language: dict[str, float]
    entity_f1: dict[str, float]
    entity_micro_f1: float
    errors: list[dict[str, Any]] = field(default_factory=list)


def label_of(example: Any) -> str:
    """The effective label of a training example (intent or intent/response-key)."""
    return example.get("intent_response_key") or example.get("intent")


def predicted_label(parse: dict[str, Any]) -> str:
    """The effective label of a parse result."""
    intent = (parse.get("intent") or {}).get("name") or "None"
    selector = parse.get("response_selector", {}).get(intent)
    if selector:
        key = selector.get("response", {}).get("intent_response_key")
        if key:
            return str(key)
    return str(intent)


def entity_set(entities: list[dict[str, Any]]) -> set[tuple[int, int, str]]:
    """Entities as (start, end, type), so duplicates from two extractors count once."""
    return {(e["start"], e["end"], e["entity"]) for e in entities if e["entity"] in ENTITY_TYPES}


def stratified_folds(labels: list[str], folds: int, seed: int = 7) -> list[np.ndarray]:
    """Index arrays of test examples for each fold, stratified by label."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(labels)), labels)]


def evaluate_fold(config: Path, train_data: Any, test_examples: list[Any]) -> FoldResult:
    """Trains on train_data with config, then parses and scores test_examples."""
    import rasa.model_training
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    with tempfile.TemporaryDirectory() as tmp:
        # An empty training cache per fold: train times are cold, and no fold reuses a
        # component another fold (or another pipeline) trained.
        os.environ["RASA_CACHE_DIRECTORY"] = str(Path(tmp) / "cache")
        data_file = Path(tmp) / "train.yml"
        RasaYAMLWriter().dump(data_file, train_data)
        started = time.perf_counter()
        model = rasa.model_training.train_nlu(
            str(config), str(data_file), tmp, domain=str(ROOT / "domain.yml")
        )
        train_seconds = time.perf_counter() - started
        return score_model(Path(model), test_examples, train_seconds)


def score_model(
    model: Path, test_examples: list[Any], train_seconds: float | None = None
) -> FoldResult:
    """Loads a trained model and scores it on test_examples."""
    from rasa.core.agent import Agent
    from sklearn.metrics import f1_score

    from components.language import detect_language

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_seconds = time.perf_counter() - started

    gold, predicted, parse_ms, errors = [], [], [], []
    by_language: dict[str, list[bool]] = defaultdict(list)
    entity_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    loop = asyncio.new_event_loop()
    for example in test_examples:
        text = example.get("text")
        started = time.perf_counter()
        parse = loop.run_until_complete(agent.parse_message(text))
        parse_ms.append((time.perf_counter() - started) * 1000)
        want, got = label_of(example), predicted_label(parse)
        gold.append(want)
        predicted.append(got)
        by_language[detect_language(text) or "unknown"].append(want == got)
        if want != got:
            errors.append({"text": text, "expected": want, "predicted": got})
        expected_entities = entity_set(example.get("entities") or [])
        found_entities = entity_set(parse.get("entities") or [])
        for _, _, kind in expected_entities & found_entities:
            entity_counts[kind][0] += 1
        for _, _, kind in found_entities - expected_entities:
            entity_counts[kind][1] += 1
        for _, _, kind in expected_entities - found_entities:
            entity_counts[kind][2] += 1
    loop.close()

    def f1(tp: int, fp: int, fn: int) -> float:
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    totals = [sum(counts[i] for counts in entity_counts.values()) for i in range(3)]
    return FoldResult(
        train_seconds=train_seconds if train_seconds is not None else float("nan"),
        load_seconds=load_seconds,
        parse_ms_p50=statistics.median(parse_ms),
        n_test=len(gold),
        accuracy=float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])),
        macro_f1=float(f1_score(gold, predicted, average="macro", labels=sorted(set(gold)))),
        fallback_rate=float(np.mean([p == "nlu_fallback" for p in predicted])),
        accuracy_by_language={k: float(np.mean(v)) for k, v in sorted(by_language.items())},
        entity_f1={kind: f1(*entity_counts[kind]) for kind in ENTITY_TYPES},
        entity_micro_f1=f1(*totals),
        errors=errors,
    )


def run(
    config: Path, folds: int, holdout: bool, data: Path, blind: Path | None = None
) -> list[FoldResult]:
    """Cross-validates config on data; with holdout, trains and tests one fold only; with
    blind, trains on all of data and tests on the blind set instead. A trained model
    (`.tar.gz`) given as config is only scored on the blind set."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.ERROR)
    nlu = load_data(str(data))
    examples = nlu.nlu_examples
    labels = [label_of(example) for example in examples]
    if blind is not None:
        blind_examples = load_data(str(blind)).nlu_examples
        if config.name.endswith(".tar.gz"):
            result = score_model(config, blind_examples)
        else:
            result = evaluate_fold(config, nlu, blind_examples)
        print(
            json.dumps({"config": str(config), "fold": "blind", **asdict(result), "errors": None})
        )
        return [result]
    results = []
    for index, test_index in enumerate(stratified_folds(labels, folds)):
        test_set = set(test_index.tolist())
        train = TrainingData(
            [e for i, e in enumerate(examples) if i not in test_set],
            entity_synonyms=nlu.entity_synonyms,
            regex_features=nlu.regex_features,
            lookup_tables=nlu.lookup_tables,
            responses=nlu.responses,
        )
        result = evaluate_fold(config, train, [examples[i] for i in sorted(test_set)])
        print(
            json.dumps({"config": str(config), "fold": index, **asdict(result), "errors": None}),
            flush=True,
        )
        results.append(result)
        if holdout:
            break
    return results
