"""Fuzzing every provider's payload parser: bad input is a `PayloadError` (400), never a crash.

A mutation fuzzer with a fixed seed (the same inputs on every run, so a failure
reproduces): each run takes the team's real payload fixtures and, `FUZZ_INPUTS` times per
parser, replaces values with others of every JSON type (null, booleans, huge numbers, empty
and odd strings, lists, objects) or deletes keys, one to four at a time. Twilio's forms get
the same treatment with odd strings. Every input must be parsed or refused with
`PayloadError`, which the webhook answers 400; any other exception would be a 500.

It found, and these tests keep fixed: Telegram updates whose objects PTB builds from fields
of the wrong type (`"chat": null`, a number as a name, `"date": null`), and a Messenger
delivery whose `mids` is not a list.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from connectors.errors import PayloadError
from connectors.messenger import parse_body
from connectors.telegram import batch_from_body
from connectors.twilio import is_status_callback, parse_form, parse_message, parse_status
from connectors.whatsapp import parse_payload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads"
FUZZ_INPUTS = 3000
SEED = 20261206
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**70, 1.5, "", "x", "+52 55 1234 5678", "\x00", "ñ" * 300,
    [], {}, [1], ["x"], {"a": 1}, {"id": None}, [None],
]  # fmt: skip
ODD_TEXT = [
    "", "-1", "0", "999999999999999999999", "%", "null", "x", "whatsapp:", "whatsapp:+",
    "+52", "image/jpeg", "http://", "1e9", "NaN", "\x00", "ñ" * 300,
]  # fmt: skip


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index path in a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


def mutations(fixtures: list[Any], count: int, seed: int) -> list[Any]:
    """`count` fixtures with one to four values replaced or keys removed."""
    chance = random.Random(seed)
    made = []
    for _ in range(count):
        document = copy.deepcopy(chance.choice(fixtures))
        for _ in range(chance.randint(1, 4)):
            where = paths(document)
            if not where:
                break
            path = chance.choice(where)
            parent = document
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict) and chance.random() < 0.4:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(chance.choice(ODD_VALUES))
        made.append(document)
    return made


def json_fixtures(channel: str) -> list[Any]:
    files = sorted((FIXTURES / channel).glob("*.json"))
    return [json.loads(path.read_text()) for path in files if "response" not in path.name]


def parsed_or_refused(parse: Callable[[Any], Any], document: Any) -> None:
    """Anything but a `PayloadError` escapes and fails the test."""
    with contextlib.suppress(PayloadError):
        parse(document)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "whatsapp": parse_payload,
    "messenger": lambda document: parse_body(json.dumps(document).encode()),
    "telegram": lambda document: batch_from_body(json.dumps(document).encode(), now=1e9),
}


@pytest.mark.parametrize("channel", sorted(PARSERS))
def test_mutated_payloads_are_parsed_or_refused(channel: str) -> None:
    inputs = mutations(json_fixtures(channel), FUZZ_INPUTS, SEED)
    assert len(inputs) >= 1000
    for document in inputs:
        parsed_or_refused(PARSERS[channel], document)


@pytest.mark.parametrize("channel", sorted(PARSERS))
@pytest.mark.parametrize(
    "document", [None, [], "x", 1, {}, {"object": None}, {"entry": "x"}, {"update_id": "1"}]
)
def test_documents_of_the_wrong_shape_are_refused(channel: str, document: Any) -> None:
    with pytest.raises(PayloadError):
        PARSERS[channel](document)


def test_mutated_twilio_forms_are_parsed_or_refused() -> None:
    files = sorted((FIXTURES / "twilio").glob("*.txt"))
    forms = [
        {key: values[0] for key, values in parse_qs(path.read_text().strip(), True).items()}
        for path in files
    ]
    keys = [*sorted({key for form in forms for key in form}), "Extra"]
    chance = random.Random(SEED)
    for _ in range(FUZZ_INPUTS):
        form = dict(chance.choice(forms))
        for _ in range(chance.randint(1, 4)):
            key = chance.choice(keys)
            if chance.random() < 0.3:
                form.pop(key, None)
            else:
                form[key] = chance.choice(ODD_TEXT)
        fields = parse_form(urlencode(form).encode())

        def parse(fields: Any = fields) -> Any:
            if is_status_callback(fields):
                return parse_status(fields)
            return parse_message(fields, 1e9)

        parsed_or_refused(lambda _: parse(), None)
