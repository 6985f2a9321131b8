"""One entity per span: merge what the regex and the statistical extractors both found.

Rasa runs every entity extractor independently and reports all their findings, so an order
number found by both the RegexEntityExtractor and the learned extractor appears twice, and a
phone number can appear as "55 1234 5678" from one and "1234 5678" from the other. Custom
actions would have to pick; slots would flip between values. `EntityMerger` (placed after
the extractors) keeps one entity per overlapping group of the same type: the regex match
when there is one (its shape is exact), otherwise the longest span.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

REGEX_EXTRACTOR = "RegexEntityExtractor"


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
                message.set(ENTITIES, merge_entities(entities), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training annotations are already unique."""
        return training_data
