"""A handed-off conversation stays with people across a session expiry.

Stock Rasa starts a new session an hour after the customer's last message and that resets
the tracker, un-pausing it (rasa-3.6-notes.md §2.3). Here the conversation's events are
moved two hours into the past, as if the customer wrote again the next day.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.model


def age_events(agent, sender: str, seconds: float) -> None:
    """Moves every stored event of the conversation `seconds` into the past."""
    engine = agent.tracker_store._tracker_store.engine  # inside Rasa's fail-safe wrapper
    with engine.begin() as connection:
        rows = connection.execute(
            sa.text("SELECT id, timestamp, data FROM events WHERE sender_id = :s"), {"s": sender}
        ).all()
        for row in rows:
            data = json.loads(row.data)
            data["timestamp"] = data["timestamp"] - seconds
            connection.execute(
                sa.text("UPDATE events SET timestamp = :t, data = :d WHERE id = :i"),
                {"t": row.timestamp - seconds, "d": json.dumps(data), "i": row.id},
            )


async def test_a_new_session_keeps_the_conversation_paused(agent, sender: str) -> None:
    handed = await agent.handle_text("quiero hablar con un humano", sender_id=sender)
    assert "Te comunico con una persona" in handed[0]["text"]
    age_events(agent, sender, 2 * 3600)
    assert await agent.handle_text("hola? sigo esperando", sender_id=sender) == []
    tracker = await agent.tracker_store.retrieve(sender)
    assert any(e.type_name == "session_started" for e in tracker.events)
    assert tracker.is_paused()
    assert tracker.get_slot("handoff_reason") == "customer_asked"
