"""Validate action-server responses with a schema compiled once, not once per call.

Rasa 3.6 checks every action-server response with `jsonschema.validate(result, schema)`,
which first validates the schema itself against the JSON-Schema metaschema: on every custom
action call, i.e. at least once per customer message (the `language` slot's custom mapping).
Profiling in-process turns showed this taking most of a turn's time outside NLU. `install()`
replaces `RemoteAction._validate_action_result` with the same check against a validator
compiled once; invalid responses still raise the same `ValidationError` with Rasa's hint.
Installed when the server loads Hilo's response generator (components/nlg.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The validator for Rasa's action response schema, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action-server response, with the compiled validator."""
    try:
        _validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise


def install() -> None:
    """Makes every RemoteAction use the compiled validator (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result
