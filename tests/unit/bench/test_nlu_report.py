"""`make nlu-report`'s counting: per label, what each model got right and what fell back."""

from __future__ import annotations

from pathlib import Path

from bench.nlu_report import dev_coarse, project_examples, score


def test_examples_lose_their_entity_annotations(tmp_path: Path) -> None:
    data = tmp_path / "eval.yml"
    data.write_text(
        "nlu:\n- intent: order_status\n  examples: |\n"
        "    - donde esta el [10001](order_id)\n    - y mi pedido?\n"
    )
    assert project_examples(data) == [
        ("donde esta el 10001", "order_status", frozenset()),
        ("y mi pedido?", "order_status", frozenset()),
    ]


def test_counts_per_label_accuracy_and_macro_f1() -> None:
    examples = [
        ("a", "greet", frozenset()),
        ("b", "greet", frozenset()),
        ("c", "order_status", frozenset({"faq/delivery_times"})),
        ("d", "order_status", frozenset()),
    ]
    scored = score(examples, ["greet", "nlu_fallback", "faq/delivery_times", "greet"])
    assert scored["labels"] == {
        "greet": {"n": 2, "right": 1, "fell_back": 1},
        "order_status": {"n": 2, "right": 1},
    }
    assert scored["accuracy"] == 0.5
    # greet: precision 1/2 (d was taken for it), recall 1/2; order_status: 1/1, 1/2.
    assert scored["macro_f1"] == round((0.5 + 2 / 3) / 2, 4)


def test_the_dev_sets_mapping_is_read_without_running_its_scorer() -> None:
    coarse = dev_coarse()
    assert coarse["nlu_fallback"] == "out_of_scope"
