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
`Pipeline`. Persistence differs. The parent stores the pipeline with skops, whose import
alone took 9.5 s of every server start (it scans every loaded module), and silently replaces
a model it cannot load with an untrained one. This one stores the fitted numbers (IDF
weights, coefficients, intercepts, class names) in a NumPy archive read without pickle, and
predicts with `FittedLinearModel`, the same arithmetic in a few lines of NumPy (tested equal
to the pipeline's).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    RESPONSE_IDENTIFIER_DELIMITER,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, normalize

MODEL_FILE = "linear_intent.npz"


class ModelLoadError(RuntimeError):
    """The stored classifier is missing or not what this component wrote."""


class FittedLinearModel:
    """A fitted TF-IDF + logistic regression pipeline as plain arrays, for prediction only.

    Reproduces `Pipeline(ColumnTransformer([TfidfTransformer(sublinear_tf=True) on the
    first `sparse_width` columns], remainder=Normalizer()), LogisticRegression)`.predict_proba.
    """

    def __init__(
        self,
        sparse_width: int,
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: np.ndarray,
    ) -> None:
        """The fitted numbers (see `from_pipeline`)."""
        self.sparse_width = sparse_width
        self.idf = idf
        self.coef = coef
        self.intercept = intercept
        self.classes_ = classes
        self.n_features_in_ = coef.shape[1]
        # Contiguous (features, classes) halves: `sparse @ coef.T` on the transposed view
        # made SciPy copy all of it on every message (most of this component's parse time).
        weights = np.ascontiguousarray(coef.T)
        self._sparse_weights = weights[:sparse_width]
        self._dense_weights = weights[sparse_width:]

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> FittedLinearModel:
        """Takes the numbers out of a fitted pipeline built by `LinearIntentClassifier`."""
        weighting = pipeline.named_steps["weighting"]
        regression = pipeline.named_steps["regression"]
        tfidf = weighting.named_transformers_["sparse"]
        return cls(
            sparse_width=int(tfidf.idf_.shape[0]),
            idf=np.asarray(tfidf.idf_, dtype=np.float64),
            coef=np.asarray(regression.coef_, dtype=np.float64),
            intercept=np.asarray(regression.intercept_, dtype=np.float64),
            classes=np.asarray(regression.classes_).astype(str),
        )

    def predict_proba(self, matrix: Any) -> np.ndarray:
        """Class probabilities, one row per message (columns in `classes_` order)."""
        matrix = csr_matrix(matrix, dtype=np.float64)
        sparse = matrix[:, : self.sparse_width].copy()
        sparse.data = np.log(sparse.data) + 1.0  # sublinear term frequency
        sparse.data *= self.idf[sparse.indices]  # CSR: the column of every stored value
        scores = np.asarray(normalize(sparse) @ self._sparse_weights) + self.intercept
        if matrix.shape[1] > self.sparse_width:
            dense = normalize(matrix[:, self.sparse_width :])
            scores += np.asarray(dense @ self._dense_weights)
        if scores.shape[1] == 1:  # two classes: one score for the second
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression over sublinear TF-IDF of the sparse and dense sentence features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults tuned on held-out data (docs/nlu.md)."""
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 30.0,
            "max_iter": 3000,
            # Same optimum as lbfgs, reached in a third of the time on Hilo's data.
            "solver": "newton-cg",
        }

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
        with warnings.catch_warnings():
            # A small `max_iter` is a measured choice (config.yml), not a failure to converge.
            warnings.simplefilter("ignore", ConvergenceWarning)
            return super().train(training_data)

    def _create_training_matrix(self, training_data: TrainingData) -> tuple[csr_matrix, list[str]]:
        """Examples and labels; a retrieval intent's examples are labelled with their key.

        "faq/return_policy" and "faq/refund_times" are separate classes, so the same
        regression that finds the intent also picks the FAQ answer (see `process`).
        """
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = [str(e.get(INTENT_RESPONSE_KEY) or e.get(INTENT)) for e in examples]
        return self._create_X(examples), labels

    def process(self, messages: list[Message]) -> list[Message]:
        """The intent, its ranking and, for a retrieval intent, the chosen answer.

        A retrieval intent's probability is the sum over its keys; the answer is its most
        likely key, with its probability within that intent as confidence, written where
        Rasa's ResponseSelector writes its prediction (`response_selector.<intent>`).
        """
        if not messages:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        labels = [str(label) for label in self.clf.classes_]
        for message, row in zip(messages, probabilities, strict=True):
            by_intent: dict[str, float] = {}
            keys: dict[str, list[tuple[str, float]]] = {}
            for label, probability in zip(labels, row, strict=True):
                intent, _, key = label.partition(RESPONSE_IDENTIFIER_DELIMITER)
                by_intent[intent] = by_intent.get(intent, 0.0) + float(probability)
                if key:
                    keys.setdefault(intent, []).append((label, float(probability)))
            ranking: list[dict[str, Any]] = [
                {"name": name, "confidence": confidence}
                for name, confidence in sorted(by_intent.items(), key=lambda item: -item[1])
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            length = int(self.config[RANKING_LENGTH])
            message.set(
                INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True
            )
            selectors: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: sorted(keys)}
            for intent, options in keys.items():
                total = by_intent[intent] or 1.0
                ranked = sorted(options, key=lambda option: -option[1])
                best, best_probability = ranked[0]
                selectors[intent] = {
                    RESPONSE_SELECTOR_PREDICTION_KEY: {
                        RESPONSE_SELECTOR_RESPONSES_KEY: [],
                        PREDICTED_CONFIDENCE_KEY: best_probability / total,
                        INTENT_RESPONSE_KEY: best,
                        RESPONSE_SELECTOR_UTTER_ACTION_KEY: f"utter_{best}",
                    },
                    RESPONSE_SELECTOR_RANKING_KEY: [
                        {INTENT_RESPONSE_KEY: label, PREDICTED_CONFIDENCE_KEY: p / total}
                        for label, p in ranked[:10]
                    ],
                }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selectors, add_to_output=True)
        return messages

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """Sentence features of all messages: the sparse blocks, then the dense ones.

        Stacked block by block (one block per featurizer) rather than message by message as
        the parent does, which took most of this component's training time. A message with
        no tokens (empty text) lacks some featurizers' blocks; those are filled with zeros,
        and NoContentGuard later turns the message into `nlu_fallback` anyway.
        """
        sparse: dict[str, list[Any]] = {}
        dense: dict[str, list[Any]] = {}
        for index, message in enumerate(messages):
            for feature in message.features:
                if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
                    continue
                blocks = sparse if feature.is_sparse() else dense
                blocks.setdefault(feature.origin, [None] * len(messages))[index] = feature.features
        # Sorted by featurizer name: the same column order in training and prediction,
        # whatever the first message of a batch carries.
        columns = [
            _stack_block(blocks[origin]) for blocks in (sparse, dense) for origin in sorted(blocks)
        ]
        matrix = hstack(columns).tocsr() if columns else csr_matrix((len(messages), 0))
        width = getattr(self.clf, "n_features_in_", None)
        if width is not None and matrix.shape[1] < width:
            matrix = hstack([matrix, csr_matrix((len(messages), width - matrix.shape[1]))]).tocsr()
        return matrix

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data as it is.

        The parent predicts an intent for every training example here, which no later
        component reads (they train on the annotated intents); skipping it saves seconds.
        """
        return training_data

    def persist(self) -> None:
        """Stores the fitted numbers as a NumPy archive (no pickle, no skops)."""
        model = (
            self.clf
            if isinstance(self.clf, FittedLinearModel)
            else FittedLinearModel.from_pipeline(self.clf)
        )
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(
                model_dir / MODEL_FILE,
                sparse_width=np.asarray(model.sparse_width),
                idf=model.idf,
                coef=model.coef,
                intercept=model.intercept,
                classes=model.classes_,
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Loads the fitted numbers; a missing or foreign file raises.

        The parent would start untrained instead, and fail on the first message.
        """
        with model_storage.read_from(resource) as model_dir:
            path = model_dir / MODEL_FILE
            try:
                with np.load(path, allow_pickle=False) as stored:
                    model = FittedLinearModel(
                        sparse_width=int(stored["sparse_width"]),
                        idf=stored["idf"],
                        coef=stored["coef"],
                        intercept=stored["intercept"],
                        classes=stored["classes"],
                    )
            except (OSError, KeyError, ValueError) as error:
                raise ModelLoadError(f"cannot load the intent classifier from {path}") from error
        component = cls(config, execution_context.node_name, model_storage, resource)
        component.clf = model
        return component


def _stack_block(rows: list[Any]) -> csr_matrix:
    """One featurizer's 1-row blocks stacked into a matrix; missing rows are zeros."""
    width = next(row.shape[-1] for row in rows if row is not None)
    zero = csr_matrix((1, width))
    return vstack([zero if row is None else csr_matrix(row) for row in rows])
