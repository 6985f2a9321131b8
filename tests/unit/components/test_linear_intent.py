"""LinearIntentClassifier's stored model predicts exactly what the fitted pipeline does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix, hstack

from components.linear_intent import FittedLinearModel, LinearIntentClassifier


def fitted(n_classes: int, dense: bool, tmp_path: Path):
    """A real LinearIntentClassifier pipeline fitted on random count features."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    rng = np.random.default_rng(7)
    counts = csr_matrix(rng.poisson(0.3, size=(120, 40)).astype(float))
    matrix = hstack([counts, csr_matrix(rng.normal(size=(120, 5)))]).tocsr() if dense else counts
    labels = np.array([f"intent_{i % n_classes}" for i in range(120)])
    component = LinearIntentClassifier(
        LinearIntentClassifier.get_default_config(),
        "classifier",
        LocalModelStorage(tmp_path),
        Resource("classifier"),
    )
    pipeline = component._pipeline(sparse_width=40)
    pipeline.fit(matrix, labels)
    return pipeline, matrix


@pytest.mark.parametrize(("n_classes", "dense"), [(5, False), (5, True), (2, False)])
def test_the_arrays_predict_like_the_pipeline(tmp_path: Path, n_classes: int, dense: bool) -> None:
    pipeline, matrix = fitted(n_classes, dense, tmp_path)
    model = FittedLinearModel.from_pipeline(pipeline)
    np.testing.assert_allclose(
        model.predict_proba(matrix), pipeline.predict_proba(matrix), atol=1e-9
    )
    assert list(model.classes_) == list(pipeline.classes_)


def test_the_component_persists_and_loads_without_pickle(tmp_path: Path) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    pipeline, matrix = fitted(4, False, tmp_path)
    storage, resource = LocalModelStorage(tmp_path), Resource("classifier")
    config = LinearIntentClassifier.get_default_config()
    component = LinearIntentClassifier(config, "classifier", storage, resource)
    component.clf = pipeline
    component.persist()
    context = ExecutionContext(GraphSchema({}), node_name="classifier")
    loaded = LinearIntentClassifier.load(config, storage, resource, context)
    assert isinstance(loaded.clf, FittedLinearModel)
    np.testing.assert_allclose(
        loaded.clf.predict_proba(matrix), pipeline.predict_proba(matrix), atol=1e-9
    )


def test_a_missing_model_file_raises(tmp_path: Path) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.linear_intent import ModelLoadError

    storage, resource = LocalModelStorage(tmp_path), Resource("classifier")
    with storage.write_to(resource):
        pass
    context = ExecutionContext(GraphSchema({}), node_name="classifier")
    with pytest.raises(ModelLoadError):
        LinearIntentClassifier.load(
            LinearIntentClassifier.get_default_config(), storage, resource, context
        )
