"""One entity per span: merge what the regex and the statistical extractors both found.

Rasa runs every entity extractor independently and reports all their findings, so an order
number found by both the RegexEntityExtractor and the learned extractor appears twice, and a
phone number can appear as "55 1234 5678" from one and "1234 5678" from the other. Custom
actions would have to pick; slots would flip between values. `EntityMerger` (placed after
the extractors) keeps one entity per overlapping group of the same type: the regex match
when there is one (its shape is exact), otherwise the longest span.

It also joins an address the CRF split at its commas and periods ("Av. Juárez 1200, Centro"
came out as "Av", "Juárez 1200" and "Centro"): adjacent `address` entities with only
punctuation and spaces between them are one address.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

REGEX_EXTRACTOR = "RegexEntityExtractor"
# Entity types whose values contain punctuation the tokenizer drops.
JOINABLE = frozenset({"address"})
_GLUE = set(" \t,.;:#-/°º")


def _rank(entity: dict[str, Any]) -> tuple[int, int]:
    """Higher is better: regex matches first, then longer spans."""
    return (entity.get("extractor") == REGEX_EXTRACTOR, entity["end"] - entity["start"])


def merge_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keeps the best entity of each group of same-type entities whose spans overlap."""
    kept: list[dict[str, Any]] = []
    for entity in sorted(entities, key=_rank, reverse=True):
        overlaps = any(
            other["entity"] == entity["entity"]
            and other["start"] < entity["end"]
            and entity["start"] < other["end"]
            for other in kept
        )
        if not overlaps:
            kept.append(entity)
    return sorted(kept, key=lambda e: (e["start"], e["end"]))


def join_adjacent(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Joins same-type JOINABLE entities separated only by punctuation and spaces."""
    joined: list[dict[str, Any]] = []
    for entity in entities:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and entity["entity"] in JOINABLE
            and previous["entity"] == entity["entity"]
            and previous["end"] <= entity["start"]
            and set(text[previous["end"] : entity["start"]]) <= _GLUE
        ):
            merged = {**previous, "end": entity["end"]}
            merged["value"] = text[merged["start"] : merged["end"]]
            joined[-1] = merged
        else:
            joined.append(entity)
    return joined


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class EntityMerger(GraphComponent):
    """Removes duplicate and overlapping entities of the same type."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityMerger:
        """Creates the component (no configuration)."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Merges each message's entities."""
        for message in messages:
            entities = message.get(ENTITIES)
            if entities:
                merged = join_adjacent(merge_entities(entities), message.get(TEXT) or "")
                message.set(ENTITIES, merged, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training annotations are already unique."""
        return training_data
