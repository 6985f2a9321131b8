"""`AnswerAwareFallback`: Rasa's FallbackClassifier, minus ambiguity that changes nothing.

The stock classifier falls back when the top two intents are within `ambiguity_threshold`.
Some intents lead to the same handling, so hesitating between them is not a reason to say
"I didn't understand": a FAQ and a FAQ follow-up are both answered by action_answer_faq
("y cuánto tarda?" scored followup 0.52 / faq 0.48 and got "could you rephrase?"), and an
order number with or without "where is" starts the same lookup ("dónde está el pedido
10001": order_status 0.44 / inform 0.42). `same_handling` lists such groups; the confidence
threshold applies as before.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT_NAME_KEY, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

SAME_HANDLING = [["faq", "followup"], ["order_status", "inform"]]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerAwareFallback(FallbackClassifier):
    """Falls back on low confidence, or on ambiguity between intents handled differently."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Stock defaults plus the groups of intents handled the same way."""
        return {**FallbackClassifier.get_default_config(), "same_handling": SAME_HANDLING}

    def _nlu_prediction_ambiguous(self, message: Message) -> tuple[bool, float | None]:
        ambiguous, difference = super()._nlu_prediction_ambiguous(message)
        ranking = message.data.get(INTENT_RANKING_KEY, [])
        if ambiguous and len(ranking) >= 2:
            top = {ranking[0].get(INTENT_NAME_KEY), ranking[1].get(INTENT_NAME_KEY)}
            if any(top <= set(group) for group in self.component_config["same_handling"]):
                return False, difference
        return ambiguous, difference
