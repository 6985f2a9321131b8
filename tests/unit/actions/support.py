"""Trackers built the way the Rasa server sends them to the action server, and helpers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.orders.proof import Proof, seal


def tracker(
    slots: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    text: str = "x",
    sender: str = "rest-123",
    channel: str = "rest",
    requested: str | None = None,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    form: str = "order_status_form",
) -> Tracker:
    """A tracker in the middle of order_status_form, as the action server receives it.

    `candidates` are the slot values Rasa extracted from this message: the server sends them
    as the trailing slot events, which is how the form validator knows what to validate.
    """
    all_slots = {
        "language": "es",
        "order_id": None,
        "order_verification": None,
        "verified_contact": None,
        "verification_failures": 0.0,
        "order_lookup_blocked": None,
        "requested_slot": requested,
        **(slots or {}),
        **(candidates or {}),
    }
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    return Tracker(
        sender_id=sender,
        slots=all_slots,
        latest_message=message,
        events=[
            {"event": "user", "text": text, "parse_data": message, "input_channel": channel},
            *({"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()),
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": form},
        latest_action_name="action_listen",
    )


def proven(
    kind: str,
    contact: str,
    sender: str = "rest-123",
    channel: str = "rest",
    method: str | None = None,
) -> str:
    """A sealed proof of `contact`, as the lookup leaves it after a verification there.

    Strong enough for every flow unless `method` says otherwise: a typed email, or a
    one-time code for a phone ("digits" is the 4 digits, enough only to read).
    """
    how = method or ("email" if kind == "email" else "code")
    return seal(Proof(kind, contact, how), tracker(sender=sender, channel=channel))


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def validate(
    validator: Any, t: Tracker, domain: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Runs the validator; the returned slots include `requested_slot`, the form's next ask.

    When the validator's required slots are the domain's, the SDK leaves the choice to Rasa,
    which asks for the first empty one; that is filled in here the same way.
    """
    dispatcher = CollectingDispatcher()
    events = await validator.run(dispatcher, t, domain)
    slots = slot_events(events)
    if "requested_slot" not in slots:
        now = {**t.slots, **slots}
        required = domain["forms"][t.active_loop["name"]]["required_slots"]
        slots["requested_slot"] = next((s for s in required if now.get(s) is None), None)
    return slots, responses(dispatcher)
