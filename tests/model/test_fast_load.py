"""The fast loader yields the same model as Rasa's stock loader, from the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

from components.fast_load import FastLoadMixin

pytestmark = pytest.mark.model

MESSAGES = [
    "cuanto cuesta el envio",
    "do you ship to spain",
    "tienen tienda en guadalajara",
    "what payment methods do you accept",
    "cual es su politica de devoluciones",
    "hay descuentos?",
    "how long does the refund take",
    "los tenis tienen garantia?",
]


def selector_ranking(parse: dict) -> list[tuple[str, float]]:
    """The ResponseSelector's ranking of FAQ answers for a parse result."""
    ranking = parse["response_selector"]["faq"]["ranking"]
    return [(r["intent_response_key"], r["confidence"]) for r in ranking]


async def test_fast_and_stock_loading_predict_the_same(
    agent, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = [selector_ranking(await agent.parse_message(m)) for m in MESSAGES]

    def stock_load(cls: type, *args: object, **kwargs: object) -> RasaModel:
        return RasaModel.load.__func__(cls, *args, **kwargs)  # type: ignore[attr-defined]

    monkeypatch.setattr(FastLoadMixin, "load", classmethod(stock_load))
    stock_agent = Agent.load(str(model_path))
    stock = [selector_ranking(await stock_agent.parse_message(m)) for m in MESSAGES]

    for fast_ranking, stock_ranking in zip(fast, stock, strict=True):
        assert [key for key, _ in fast_ranking] == [key for key, _ in stock_ranking]
        for (_, fast_confidence), (_, stock_confidence) in zip(
            fast_ranking, stock_ranking, strict=True
        ):
            assert fast_confidence == pytest.approx(stock_confidence, abs=1e-5)


ENTITY_MESSAGES = [
    "donde esta mi pedido 10001",
    "quiero 2 zapatillas urbanas talla 42",
    "envialo a Av. Insurgentes Sur 1234, Col. Del Valle, cdmx",
    "a nombre de Lucía Fernández, mi cel es 55 1234 5678",
    "my email is john@example.com and I live in Monterrey",
]


async def test_stored_crf_taggers_predict_like_retrained_ones(
    agent, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor

    from components.fast_crf import FastCRFEntityExtractor

    def entities(parse: dict) -> list[tuple]:
        return [(e["entity"], e["start"], e["end"], e["value"]) for e in parse["entities"]]

    fast = [entities(await agent.parse_message(m)) for m in ENTITY_MESSAGES]
    # Rasa's own loading: re-trains the CRF from the stored training set.
    monkeypatch.setattr(FastCRFEntityExtractor, "load", CRFEntityExtractor.load)
    retrained_agent = Agent.load(str(model_path))
    retrained = [entities(await retrained_agent.parse_message(m)) for m in ENTITY_MESSAGES]
    assert fast == retrained
    assert any(fast)
