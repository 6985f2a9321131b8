"""`SentenceEncoder`: a dense sentence feature from all-MiniLM-L6-v2 for the intent classifier.

The sparse features (word and character n-grams) know only the phrasings in `data/`; the
encoder was pretrained on a billion sentence pairs and places "I'd like my money back" near
"refund please" without either being in the training data. docs/nlu.md has the measurement
that chose it and what it costs (a forward pass of a 6-layer network per message, in NumPy:
components/minilm.py).

Only a sentence-level feature is added (one 384-vector per message, L2-normalized): the
intent classifier reads sentence features, and nothing in Hilo's pipeline needs per-token
vectors from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.minilm import shared


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoder(DenseFeaturizer, GraphComponent):
    """Adds the MiniLM sentence embedding of each message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Featurizer defaults (its alias names the features' origin)."""
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoder:
        """Creates the component; the encoder's weights load once per process on first use."""
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate beyond the featurizer defaults."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Embeds every training example with text, in batches."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds the sentence feature to each message that has text."""
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text:
            return messages
        embeddings = shared().embed([str(message.get(TEXT)) for message in with_text])
        for message, embedding in zip(with_text, embeddings, strict=True):
            self.add_features_to_message(
                sequence=None,
                sentence=np.asarray(embedding[None, :]),
                attribute=TEXT,
                message=message,
            )
        return messages
