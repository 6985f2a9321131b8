import json
import re
import uuid
from pathlib import Path

import jsonschema
import pytest

from crm import events

DESK = "https://desk.example"
CASE = {
    "id": 7,
    "conversation_id": "whatsapp:+5215512345678",
    "channel": "whatsapp",
    "profile_id": 3,
    "customer_name": "Ana",
    "status": "assigned",
    "reason": "complaint",
    "priority": "high",
    "language": "es",
    "team": None,
    "assignee": {"id": 2, "username": "beto", "display_name": "Beto"},
    "created_at": 1_800_000_000.0,
    "assigned_at": 1_800_000_060.5,
    "first_reply_at": None,
    "resolved_at": None,
    "sla_due_at": 1_800_003_600.0,
    "collected": '{"order_id": "10001"}',
    "summary": "Pedido 10001 llegó roto",
    "outcome": "reembolso",
    "corrections": "{}",
    "csat_comment": "rápido",
    "csat_at": 1_800_009_000.0,
}


def body(event: str, data: dict) -> dict:
    return json.loads(events.envelope(str(uuid.uuid4()), event, 1_800_000_000.25, data))


def valid(event: str, data: dict) -> dict:
    document = body(event, data)
    jsonschema.Draft202012Validator(events.schema(event)).validate(document)
    return document


def test_the_envelope_carries_the_delivery_id_type_and_time() -> None:
    raw = events.envelope("0b6c5c2e-6a9b-4c54-9c1d-3a1b2c3d4e5f", "case.opened", 1.5, {"a": 1})
    assert json.loads(raw) == {
        "id": "0b6c5c2e-6a9b-4c54-9c1d-3a1b2c3d4e5f",
        "type": "case.opened",
        "occurred_at": "1970-01-01T00:00:01.500Z",
        "data": {"a": 1},
    }
    assert b" " not in raw  # compact: the bytes signed are the bytes sent


def test_an_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event"):
        events.envelope("x", "case.deleted", 0, {})


def test_case_events_carry_the_case_with_its_link_and_collected_data() -> None:
    opened = valid("case.opened", events.case_opened(CASE, DESK))["data"]["case"]
    assert opened["url"] == "https://desk.example/#case=7"
    assert opened["status"] == "queued"  # at the event's time, not the row's
    assert opened["collected"] == {"order_id": "10001"}
    assert opened["summary"] == "Pedido 10001 llegó roto"
    assigned = valid(
        "case.assigned", events.case_assigned(CASE, DESK, CASE["assignee"], "agent:2")
    )["data"]
    assert assigned["by"] == "agent:2"
    assert assigned["case"]["assignee"]["username"] == "beto"
    reopened = valid("case.reopened", events.case_reopened(CASE, DESK))["data"]["case"]
    assert (reopened["id"], reopened["status"]) == (7, "queued")
    resolved = valid("case.resolved", events.case_resolved(CASE, DESK, "resolved"))["data"]
    assert resolved["resolution"] == "resolved"
    assert resolved["outcome"] == "reembolso"
    assert resolved["corrections"] == {}


def test_csat_carries_the_score_and_comment() -> None:
    data = valid("csat.received", events.csat_received(CASE, DESK, 5))["data"]
    assert (data["score"], data["comment"], data["case_id"]) == (5, "rápido", 7)
    assert data["answered_at"] == "2027-01-15T10:30:00.000Z"


def test_a_score_outside_1_to_5_does_not_validate() -> None:
    with pytest.raises(jsonschema.ValidationError):
        valid("csat.received", events.csat_received(CASE, DESK, 9))


def test_contact_lists_every_identity_in_a_stable_order() -> None:
    identities = [
        {"channel": "telegram", "conversation_id": "telegram:1111", "display_name": "Ana",
         "first_seen_at": 1_800_000_100.0, "last_inbound_at": None},
        {"channel": "whatsapp", "conversation_id": "whatsapp:+5215512345678",
         "display_name": "Ana G", "first_seen_at": 1_800_000_000.0,
         "last_inbound_at": 1_800_000_000.0},
    ]  # fmt: skip
    data = valid("contact.updated", events.contact_updated(3, "+5215512345678", "Ana", identities))[
        "data"
    ]
    assert [item["channel"] for item in data["identities"]] == ["telegram", "whatsapp"]
    assert data["identities"][0]["last_inbound_at"] is None


def test_the_summary_quotes_the_last_five_messages_and_links_the_transcript() -> None:
    lines = [
        {"at": 1_800_000_000.0 + i, "from": "customer" if i % 2 else "bot", "text": f"m{i}"}
        for i in range(8)
    ]
    data = valid(
        "conversation.summary",
        events.conversation_summary(
            conversation_id="telegram:1111",
            channel="telegram",
            profile_id=None,
            started_at=1_800_000_000.0,
            last_message_at=1_800_000_007.0,
            quiet_seconds=1800,
            counts={"customer": 4, "bot": 4},
            last_messages=lines,
            cases=[{"id": 9, "status": "resolved", "reason": "complaint"}],
            desk_url=DESK,
        ),
    )["data"]
    assert [line["text"] for line in data["last_messages"]] == ["m3", "m4", "m5", "m6", "m7"]
    assert data["messages"] == {"customer": 4, "bot": 4, "agent": 0, "system": 0}
    assert data["transcript_url"] == "https://desk.example/#case=9"
    assert data["quiet_minutes"] == 30


def test_a_summary_without_cases_has_no_transcript_link() -> None:
    data = events.conversation_summary(
        conversation_id="telegram:1111",
        channel="telegram",
        profile_id=1,
        started_at=0,
        last_message_at=0,
        quiet_seconds=60,
        counts={},
        last_messages=[{"at": 0, "from": "customer", "text": "x" * 5000}],
        cases=[],
        desk_url=DESK,
    )
    assert data["transcript_url"] is None
    assert len(data["last_messages"][0]["text"]) == events.TEXT_LIMIT
    valid("conversation.summary", data)


def test_every_event_has_a_schema_and_the_schemas_are_valid() -> None:
    for event in events.EVENTS:
        jsonschema.Draft202012Validator.check_schema(events.schema(event))
    assert set(events.schemas()["$defs"]) >= set(events.EVENTS)


def test_the_examples_in_the_docs_are_valid_events() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "webhooks.md").read_text()
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    assert {example["type"] for example in examples} >= {
        "case.resolved",
        "contact.updated",
        "conversation.summary",
        "csat.received",
    }
    for example in examples:
        jsonschema.Draft202012Validator(events.schema(example["type"])).validate(example)
