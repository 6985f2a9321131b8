"""Intent classifier: TF-IDF weighting and a logistic regression over the pipeline's features.

Chosen by measurement (docs/nlu.md): on messages nobody on the team wrote it classified
intents better than DIET with or without transformer layers and than Rasa's
`LogisticRegressionClassifier` on raw counts, trains in seconds instead of minutes, and loads
without TensorFlow. It is Rasa's `LogisticRegressionClassifier` with two changes:

* counts are re-weighted with sublinear TF-IDF before the regression, so the thousands of
  character n-grams every message shares ("de", "la", "or") stop drowning the rare ones
  that tell intents apart; dense features (spaCy's vectors, when the pipeline has them) are
  scaled to unit length instead, so neither block dominates the other;
* the regularization strength `C` is configurable (default 30, tuned on held-out data),
  and classes are not re-weighted.

Training, prediction and ranking are the parent's: the classifier is a scikit-learn
`Pipeline`. Loading differs: the parent silently replaces a model it cannot load with an
untrained one (which then fails on the first message); this one trusts exactly the types
the pipeline stores (TF-IDF keeps its weights in a sparse matrix) and otherwise raises.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer

# Beyond skops' default trust (scikit-learn estimators, numpy): the TF-IDF weights.
TRUSTED_TYPES = frozenset({"scipy.sparse._csr.csr_matrix"})


class ModelLoadError(RuntimeError):
    """The stored classifier contains types this component does not expect."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression over sublinear TF-IDF of the sparse and dense sentence features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults tuned on held-out data (docs/nlu.md)."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 30.0, "max_iter": 3000}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = self._pipeline(sparse_width=None)

    def _pipeline(self, sparse_width: int | None) -> Pipeline:
        """TF-IDF on the first `sparse_width` columns, unit length for the rest, regression."""
        weighting = ColumnTransformer(
            [("sparse", TfidfTransformer(sublinear_tf=True), slice(0, sparse_width))],
            remainder=Normalizer(),
        )
        regression = LogisticRegression(
            C=float(self.config["C"]),
            solver=self.config["solver"],
            max_iter=int(self.config["max_iter"]),
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )
        return Pipeline([("weighting", weighting), ("regression", regression)])

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the pipeline; the width of the sparse block comes from the first example."""
        example = next(
            (e for e in training_data.intent_examples if e.get("intent") and e.get("text")), None
        )
        if example is not None:
            sparse = example.get_sparse_features(TEXT)[1]
            self.clf = self._pipeline(sparse.features.shape[1] if sparse else 0)
        return super().train(training_data)

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """Features as the parent builds them, padded for messages without tokens.

        A message with no tokens (empty text) gets no features from some featurizers, so its
        row is narrower than the model's input. Such a row is all zeros anyway; it is padded
        to the trained width, and NoContentGuard turns the message into `nlu_fallback`.
        """
        width = getattr(self.clf, "n_features_in_", None)
        features_of = super()._create_X
        rows = [features_of([message]) for message in messages]
        if width is not None:
            rows = [
                hstack([row, csr_matrix((1, width - row.shape[1]))])
                if row.shape[1] < width
                else row
                for row in rows
            ]
        return vstack(rows).tocsr()

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Loads the trained pipeline; refuses unexpected types instead of starting untrained."""
        import skops.io as sio

        with model_storage.read_from(resource) as model_dir:
            path = model_dir / f"{resource.name}.skops"
            unexpected = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
            if unexpected:
                raise ModelLoadError(f"{path} holds unexpected types: {sorted(unexpected)}")
            classifier = sio.load(path, trusted=sorted(TRUSTED_TYPES))
        component = cls(config, execution_context.node_name, model_storage, resource)
        component.clf = classifier
        return component
