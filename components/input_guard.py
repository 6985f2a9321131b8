"""Keep messages the models were not built for away from them.

Two graph components, placed first and last in the NLU pipeline (see config.yml):

* `TextTruncator` cuts the text the models see to `max_chars` characters (at a word boundary).
  DIET's transformer is quadratic in tokens: a pasted 11,000-character message took over a
  second to parse in stock Rasa, and the first few hundred characters carry the intent anyway.
  The tracker keeps the full text; only the NLU input is cut.
* `NoContentGuard` overrides the prediction with `nlu_fallback` when a message has nothing the
  models can read: empty or blank text, only symbols and emoji that never occur in the
  training data, or only words that never occur in it ("asdkjh qwe": keyboard mashing got a
  confident `out_of_scope` or `inform`, and never reached "I didn't understand"). Stock Rasa
  classifies an empty message with high confidence as whatever
  intent the bias favours ("affirm" at 0.94 in the init bot), so the FallbackClassifier alone
  cannot catch it. Emoji the training data does use ("👍" for affirm) go through untouched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FALLBACK_INTENT = "nlu_fallback"


def truncate_text(text: str, max_chars: int) -> str:
    """Cuts text to at most max_chars characters, at the last space when there is one."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars // 2 else cut


def symbols_of(text: str) -> set[str]:
    """Characters that are neither letters, digits nor whitespace (emoji, punctuation)."""
    return {
        ch
        for ch in text
        if not ch.isspace() and unicodedata.category(ch)[0] not in ("L", "N", "M", "C")
    }


def words_of(text: str) -> list[str]:
    """Lowercase words of two or more letters, without accents ("Envío" -> "envio")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [word for word in re.findall(r"[^\W\d_]{2,}", plain)]


def has_words(text: str) -> bool:
    """True when the text contains at least one letter or digit."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextTruncator(GraphComponent):
    """Cuts over-long message text before tokenization."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults: 600 characters is several WhatsApp screens."""
        return {"max_chars": 600}

    def __init__(self, config: dict[str, Any]) -> None:
        self._max_chars = int(config["max_chars"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextTruncator:
        """Creates the component from its configuration."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Truncates the text of each message."""
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and len(text) > self._max_chars:
                message.set(TEXT, truncate_text(text, self._max_chars))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are short; they are left as they are."""
        return training_data

    @staticmethod
    def required_packages() -> list[str]:
        """No extra packages."""
        return []


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NoContentGuard(GraphComponent):
    """Turns messages without readable content into `nlu_fallback`.

    Trained: it remembers which symbols (emoji, punctuation) occur in the training examples,
    so a "👍" the data teaches as `affirm` stays `affirm`, while "🦄🦄" becomes a fallback.
    Place it after the intent classifiers and before the FallbackClassifier.
    """

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        known_symbols: set[str] | None = None,
        known_words: set[str] | None = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._known_symbols = known_symbols or set()
        self._known_words = known_words or set()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NoContentGuard:
        """Creates an untrained guard."""
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Collects the symbols used by training examples that have no words."""
        known: set[str] = set()
        words: set[str] = set()
        for example in training_data.intent_examples:
            text = example.get(TEXT) or ""
            if not has_words(text):
                known |= symbols_of(text)
            words |= set(words_of(text))
        self._known_symbols = known
        self._known_words = words
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "known_symbols.txt").write_text("".join(sorted(known)), encoding="utf-8")
            (directory / "known_words.txt").write_text("\n".join(sorted(words)), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NoContentGuard:
        """Loads the symbols collected at training time."""
        with model_storage.read_from(resource) as directory:
            known = set((directory / "known_symbols.txt").read_text(encoding="utf-8"))
            words = set((directory / "known_words.txt").read_text(encoding="utf-8").split())
        return cls(model_storage, resource, known, words)

    def is_readable(self, text: str | None) -> bool:
        """True when the models have something to go on."""
        if not text or not text.strip():
            return False
        if not has_words(text):
            return bool(symbols_of(text) & self._known_symbols)
        if any(ch.isdigit() for ch in text) or "@" in text:
            return True  # numbers and emails are data the forms read
        return not self._known_words or any(w in self._known_words for w in words_of(text))

    def process(self, messages: list[Message]) -> list[Message]:
        """Replaces the intent of unreadable messages with a certain `nlu_fallback`."""
        for message in messages:
            if self.is_readable(message.get(TEXT)):
                continue
            fallback = {"name": FALLBACK_INTENT, "confidence": 1.0}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to training data."""
        return training_data
