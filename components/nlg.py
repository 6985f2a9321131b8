"""Hilo's response generator: domain responses, in the conversation's language, with store facts.

Rasa's templated generator already picks the response variation whose `condition` matches the
`language` slot. This subclass adds the store facts from `store/facts.yml` as fill values, in
that same language, so "Envío estándar: {shipping_standard_price}" is written once in
domain.yml and the price lives in one file an operator edits. Values passed explicitly by a
custom action, and slot values, take precedence over facts of the same name.

Enabled in endpoints.yml:

    nlg:
      type: components.nlg.HiloNLG
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from components import action_results
from components.language import DEFAULT_LANGUAGE
from store.facts import StoreFacts, load_facts

# The server that uses this generator also calls the action server on every message.
action_results.install()

LANGUAGE_SLOT = "language"


class HiloNLG(TemplatedNaturalLanguageGenerator):
    """Templated responses plus store facts, chosen by the `language` slot."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        facts: StoreFacts | None = None,
    ) -> None:
        super().__init__(domain.responses if domain else {})
        self.facts = facts or load_facts()

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Generates the response with facts in the conversation's language.

        A `language` passed by the action wins over the slot: the action that sets the
        slot (action_validate_slot_mappings) answers in the same call, and Rasa renders an
        action's responses before it applies the action's events.
        """
        filled_slots = tracker.current_slot_values()
        if kwargs.get(LANGUAGE_SLOT) in ("es", "en"):
            filled_slots = {**filled_slots, LANGUAGE_SLOT: kwargs[LANGUAGE_SLOT]}
        language = filled_slots.get(LANGUAGE_SLOT) or DEFAULT_LANGUAGE
        fill_values = {**self.facts.for_language(language), **filled_slots, **kwargs}
        return self.generate_from_slots(utter_action, filled_slots, output_channel, **fill_values)
