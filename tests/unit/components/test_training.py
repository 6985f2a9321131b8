"""`make train` trains only when an input of the model changed."""

from __future__ import annotations

from pathlib import Path

from components.training import fingerprint, training_inputs


def _project(tmp_path: Path) -> Path:
    for name, text in {
        "domain.yml": "version: '3.1'\n",
        "config.yml": "recipe: default.v1\npipeline:\n- name: components.language.X\n",
        "stock.yml": "recipe: default.v1\npipeline:\n- name: DIETClassifier\n",
        "requirements.lock": "rasa==3.6.21\n",
        "data/nlu/chitchat.yml": "nlu: []\n",
        "data/rules/faq.yml": "rules: []\n",
        "components/language.py": "X = 1\n",
        "actions/handoff.py": "Y = 1\n",
        "store/facts.yml": "store_name: Lumen\n",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_inputs_are_data_domain_config_components_and_lock(tmp_path: Path) -> None:
    root = _project(tmp_path)
    names = {str(p.relative_to(root)) for p in training_inputs(root)}
    assert names == {
        "domain.yml",
        "config.yml",
        "requirements.lock",
        "data/nlu/chitchat.yml",
        "data/rules/faq.yml",
        "components/language.py",
    }


def test_fingerprint_changes_with_data_but_not_with_actions_or_facts(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = fingerprint(training_inputs(root), root)
    (root / "actions/handoff.py").write_text("Y = 2\n")
    (root / "store/facts.yml").write_text("store_name: Otra\n")
    assert fingerprint(training_inputs(root), root) == before
    (root / "data/nlu/chitchat.yml").write_text("nlu: [1]\n")
    assert fingerprint(training_inputs(root), root) != before


def test_fingerprint_sees_renames(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = fingerprint(training_inputs(root), root)
    (root / "data/rules/faq.yml").rename(root / "data/rules/faq2.yml")
    assert fingerprint(training_inputs(root), root) != before


def test_a_configuration_without_hilo_components_ignores_their_code(tmp_path: Path) -> None:
    root = _project(tmp_path)
    stock = root / "stock.yml"
    names = {str(p.relative_to(root)) for p in training_inputs(root, stock)}
    assert "components/language.py" not in names
    before = fingerprint(training_inputs(root, stock), root)
    (root / "components/language.py").write_text("X = 2\n")
    assert fingerprint(training_inputs(root, stock), root) == before
    (root / "domain.yml").write_text("version: '3.1'\nintents: [greet]\n")
    assert fingerprint(training_inputs(root, stock), root) != before
