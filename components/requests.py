"""`RequestSplitter`: several requests in one message ("¿a qué hora abren y dónde está mi pedido?").

The intent classifier gives a message one intent, so one of two requests was dropped. This
component splits a message where a new request starts (a sentence end, or "y"/"and"/
"también" followed by a question or request word), classifies each part, and puts the parts
in the parse result as `requests`: `[{"text", "intent", "confidence"}, …]` (FAQs as
`faq/<key>`), in the order the customer wrote them. When the whole message was taken for a
FAQ or small talk but one part asks for an order flow or a person, that part's intent becomes
the message's intent, so the flow starts; the other parts are answered by the actions
(actions/requests.py answers FAQ parts first and says what comes after for other flows).

Each part is classified by a logistic regression trained here on the same examples as the
intent classifier, over their MiniLM sentence embeddings (components/minilm.py, already
computed by SentenceEncoder). It runs only on messages with more than one part, so single
requests cost nothing.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from components.minilm import shared

PARSE_KEY = "requests"
MODEL_FILE = "request_splitter.npz"
# Where a new request starts: after ".", "?" or "!", or at "y/and/también…" followed by a
# word that opens a question or a request.
_STARTERS = (
    r"donde|cuando|cuanto|cuanta|cuantos|como|que|a que|me|mi|quiero|quisiera|necesito"
    r"|pueden|puedes|podrian|podes|tienen|tienes|tiene|hay|aceptan|manejan|hacen|cual|el|la"
    r"|los|las|enviarian|envian|hacen|sale|cuesta|where|when|what|how|which|is|are|do|does"
    r"|can|could|would|will|i|my|please|pls|also|whats|wheres|si|if|whether|saber|preguntar"
    r"|cancelar|devolver|cambiar|pedir|comprar|ver|checar|revisar|cancel|return|change|buy"
    r"|check|get"
)
_QUESTION_STARTERS = (
    r"cuanto|cuanta|cuando|donde|como|que|a que|qué|cuánto|cuándo|dónde|cómo|what|how|when"
    r"|where|do|does|can|is|are"
)
_SPLIT = re.compile(
    r"(?<=[?!.])\s+(?=\S)"
    rf"|\s*,\s*(?=(?:{_QUESTION_STARTERS})\b[^,]*\?)"
    rf"|\s*[,;]?\s+(?:(?:y|e|and)(?:\s+(?:tambien|también|ademas|además|also))?|also|tambien"
    rf"|también|ademas|además|plus|aparte)\s+(?=(?:{_STARTERS})\b)",
    re.IGNORECASE,
)
MIN_WORDS = 2
MAX_PARTS = 3
# Parts that are not requests of their own ("hola", "gracias", "ok").
NOT_REQUESTS = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "inform", "out_of_scope", "nlu_fallback"}
)
# Intents that start a flow or go to a person: one of them wins over a FAQ or small talk.
FLOWS = frozenset(
    {"order_status", "place_order", "cancel_order", "change_order", "return_request"}
    | {"invoice_request", "payment_issue", "human_handoff", "complaint", "account_help"}
)
MIN_CONFIDENCE = 0.4
WHOLE_MESSAGE_FAQ_CONFIDENCE = 0.75
QUESTION = re.compile(
    r"\?|^\s*(a )?(que|q|qué|como|cómo|cuando|cuándo|cuanto|cuánto|donde|dónde|what|how|when"
    r"|where|do|does|is|are|can)\b",
    re.IGNORECASE,
)


def split_requests(text: str) -> list[str]:
    """The parts of a message where new requests start (one part if there is one request)."""
    parts: list[str] = []
    for piece in _SPLIT.split(text or ""):
        piece = piece.strip(" ,;")
        if not piece:
            continue
        if parts and len(piece.split()) < MIN_WORDS:
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    if len(parts) > 1 and len(parts[0].split()) < MIN_WORDS:
        parts[1] = f"{parts[0]} {parts[1]}"
        parts = parts[1:]
    if len(parts) > MAX_PARTS:
        parts = [*parts[: MAX_PARTS - 1], " ".join(parts[MAX_PARTS - 1 :])]
    return parts


def embedding_of(message: Message) -> np.ndarray:
    """The sentence embedding SentenceEncoder added to a training example (computed if not)."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is not None and sentence.features.shape[-1] == shared().dimension:
        return np.asarray(sentence.features, dtype=np.float32).reshape(1, -1)
    return shared().embed([str(message.get(TEXT))])


def whole_message_faq(message: Message) -> tuple[str, float] | None:
    """The FAQ the intent classifier matched the whole message to, when it is sure of it."""
    selectors = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
    for name in selectors.get(RESPONSE_SELECTOR_RETRIEVAL_INTENTS) or ():
        response = (selectors.get(name) or {}).get(RESPONSE_SELECTOR_PREDICTION_KEY) or {}
        key, confidence = response.get(INTENT_RESPONSE_KEY), float(response.get("confidence", 0))
        if key and confidence >= WHOLE_MESSAGE_FAQ_CONFIDENCE:
            return str(key), confidence
    return None


def label_of(message: Message) -> str | None:
    """The training label: the intent, or `faq/<key>` for FAQ examples."""
    return message.get(INTENT_RESPONSE_KEY) or message.get(INTENT)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RequestSplitter(GraphComponent):
    """Finds the requests in a message with several (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Regularization of the part classifier."""
        return {"C": 10.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.config = config
        self._storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestSplitter:
        """An untrained splitter."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the part classifier on the intent examples' embeddings."""
        examples = [
            m for m in training_data.intent_examples if m.get(TEXT) and label_of(m) is not None
        ]
        embeddings = np.vstack([embedding_of(m) for m in examples])
        regression = LogisticRegression(C=float(self.config["C"]), max_iter=1000)
        regression.fit(embeddings, [label_of(m) for m in examples])
        self.model = {
            "coef": regression.coef_.astype(np.float32),
            "intercept": regression.intercept_.astype(np.float32),
            "classes": np.asarray(regression.classes_).astype(str),
        }
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / MODEL_FILE, **self.model)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RequestSplitter:
        """The stored classifier."""
        with (
            model_storage.read_from(resource) as directory,
            np.load(directory / MODEL_FILE, allow_pickle=False) as stored,
        ):
            model = {name: stored[name] for name in ("coef", "intercept", "classes")}
        return cls(config, model_storage, resource, model)

    def classify(self, parts: list[str]) -> list[tuple[str, float]]:
        """The label and probability of each part."""
        if self.model is None:
            raise RuntimeError("RequestSplitter is not trained")
        model = self.model
        scores = shared().embed(parts) @ model["coef"].T
        scores += model["intercept"]
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        return [
            (str(model["classes"][index]), float(probabilities[row, index]))
            for row, index in enumerate(best)
        ]

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds `requests` to messages with several; the first flow written is the intent."""
        if self.model is None:
            return messages
        for message in messages:
            parts = split_requests(str(message.get(TEXT) or ""))
            if len(parts) < 2:
                continue
            faq = whole_message_faq(message)
            labelled = []
            for part, (label, confidence) in zip(parts, self.classify(parts), strict=True):
                if label not in NOT_REQUESTS and confidence >= MIN_CONFIDENCE:
                    labelled.append({"text": part, "intent": label, "confidence": confidence})
                elif faq is not None and QUESTION.search(part):
                    # The part classifier is unsure (short Spanish questions: "a q hora
                    # abren"); the FAQ the whole message was matched to is that question.
                    labelled.append({"text": part, "intent": faq[0], "confidence": faq[1]})
            if len({request["intent"] for request in labelled}) < 2:
                continue
            message.set(PARSE_KEY, labelled, add_to_output=True)
            intent = (message.get(INTENT) or {}).get("name")
            flow = next((r for r in labelled if str(r["intent"]) in FLOWS), None)
            requested = {str(r["intent"]) for r in labelled}
            # The first flow written goes first ("where's 10001, and cancel 10005": the
            # status, then the cancellation); a whole-message flow no part asks for stays.
            if flow is not None and (intent not in FLOWS or intent in requested):
                message.set(
                    INTENT,
                    {"name": flow["intent"], "confidence": flow["confidence"]},
                    add_to_output=True,
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are single requests: nothing to add."""
        return training_data
