"""The NumPy MiniLM gives the reference implementation's sentence embeddings.

tests/fixtures/minilm_reference.json was computed with sentence-transformers on PyTorch from
the same package's weights (all-MiniLM-L6-v2, `SentenceTransformer(<package>/model)
.encode(sentences)`, rounded to 6 decimals), for Spanish, English, emoji, accents and an
empty message.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from components.minilm import shared

REFERENCE = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "minilm_reference.json").read_text()
)


def test_embeddings_match_the_reference_implementation() -> None:
    ours = shared().embed(REFERENCE["sentences"])
    expected = np.array(REFERENCE["embeddings"])
    assert ours.shape == expected.shape == (len(REFERENCE["sentences"]), 384)
    # The fixture is rounded to 6 decimals; float32 arithmetic differs below that.
    assert np.abs(ours - expected).max() < 5e-6


@pytest.mark.parametrize("sentence", REFERENCE["sentences"])
def test_one_at_a_time_equals_in_a_batch(sentence: str) -> None:
    alone = shared().embed([sentence])[0]
    batched = shared().embed(REFERENCE["sentences"])[REFERENCE["sentences"].index(sentence)]
    assert np.abs(alone - batched).max() < 1e-5  # padding must not leak into the mean


def test_embeddings_are_unit_length_and_meaningful() -> None:
    refund, money_back, weather = shared().embed(
        ["I want a refund", "can I get my money back", "what's the weather tomorrow"]
    )
    assert np.linalg.norm(refund) == pytest.approx(1.0, abs=1e-5)
    assert float(refund @ money_back) > float(refund @ weather) + 0.2
