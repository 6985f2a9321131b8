"""SentenceEncoder adds the MiniLM embedding as the message's dense sentence feature."""

from __future__ import annotations

import numpy as np
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.minilm import shared
from components.sentence_encoder import SentenceEncoder


def test_each_message_gets_its_embedding_and_empty_ones_none() -> None:
    encoder = SentenceEncoder("encoder", SentenceEncoder.get_default_config())
    messages = [Message({TEXT: "quiero devolver mis tenis"}), Message({TEXT: ""}), Message()]
    encoder.process(messages)
    sequence, sentence = messages[0].get_dense_features(TEXT)
    assert sequence is None
    assert sentence is not None
    np.testing.assert_allclose(
        sentence.features[0], shared().embed(["quiero devolver mis tenis"])[0], atol=1e-6
    )
    assert messages[1].get_dense_features(TEXT) == (None, None)
    assert messages[2].get_dense_features(TEXT) == (None, None)
