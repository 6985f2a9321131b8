"""The compiled validator accepts and rejects action-server responses exactly like Rasa's."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from components import action_results

GOOD = [
    {"events": [{"event": "slot", "name": "language", "value": "es"}], "responses": []},
    {"events": [], "responses": [{"response": "utter_greet", "buttons": []}]},
    {},
]
BAD = [
    {"events": "not a list"},
    {"events": [{"event": 3}]},
    {"responses": {"text": "x"}},
]


@pytest.mark.parametrize("result", GOOD)
def test_valid_responses_pass(result: dict) -> None:
    validate(result, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert action_results.validate_action_result(RemoteAction("a", None), result) is True


@pytest.mark.parametrize("result", BAD)
def test_invalid_responses_raise_with_rasas_hint(result: dict) -> None:
    with pytest.raises(ValidationError):
        validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action_results.validate_action_result(RemoteAction("a", None), result)


def test_installed_by_hilos_response_generator() -> None:
    import components.nlg  # noqa: F401  (installs on import)

    assert RemoteAction._validate_action_result is action_results.validate_action_result
