"""The summary an agent reads first: intents, collected data, last words, files."""

from __future__ import annotations

from handoff.summary import summarize

EVENTS = [
    {"event": "action", "name": "action_listen"},
    {
        "event": "user",
        "text": "hola, mi pedido 10001 llegó roto",
        "timestamp": 100.0,
        "parse_data": {"intent": {"name": "complaint"}},
        "metadata": {"display_name": "Ana", "profile_id": 3},
    },
    {"event": "bot", "text": "Lo siento mucho"},
    {
        "event": "user",
        "text": "",
        "timestamp": 110.0,
        "parse_data": {"intent": {"name": "send_media"}},
        "metadata": {
            "media": [
                {"url": "https://h/f/a.jpg", "content_type": "image/jpeg", "filename": "caja.jpg"},
                {"url": None, "refused": "too_large"},
            ]
        },
    },
    {
        "event": "user",
        "text": "/affirm",
        "timestamp": 120.0,
        "parse_data": {"intent": {"name": "affirm"}},
    },
    {
        "event": "user",
        "text": "quiero hablar con alguien",
        "timestamp": 130.0,
        "parse_data": {"intent": {"name": "human_handoff"}},
    },
    {
        "event": "user",
        "text": "?",
        "timestamp": 135.0,
        "parse_data": {"intent": {"name": "human_handoff"}},
    },
]
SLOTS = {
    "order_id": "10001",
    "language": "es",
    "requested_slot": None,
    "verification_failures": 2.0,
    "handoff_active": True,
    "delivery_city": "",
    "return_reason": "llegó roto",
}


def test_the_summary_keeps_what_a_person_needs_and_drops_bookkeeping() -> None:
    summary = summarize(EVENTS, SLOTS)
    assert summary.intents == ("complaint", "send_media", "affirm", "human_handoff")
    assert summary.collected == {
        "order_id": "10001",
        "language": "es",
        "return_reason": "llegó roto",
    }
    # Payloads (button taps) are not words; the last three messages with words are kept.
    assert summary.last_messages == (
        "hola, mi pedido 10001 llegó roto",
        "quiero hablar con alguien",
        "?",
    )
    assert [m.url for m in summary.media] == ["https://h/f/a.jpg"]  # refused files are not there
    assert summary.media[0].filename == "caja.jpg"
    assert (summary.customer_name, summary.profile_id) == ("Ana", 3)
    assert summary.last_customer_at == 135.0


def test_the_summary_reads_in_the_desks_language() -> None:
    summary = summarize(EVENTS, SLOTS)
    spanish, english = summary.text("es"), summary.text("en")
    assert spanish.startswith("Intenciones: complaint → send_media → affirm → human_handoff")
    assert "Datos: order_id: 10001" in spanish
    assert "«quiero hablar con alguien»" in spanish
    assert "1 archivo(s)" in spanish
    assert english.startswith("Intents: ")
    assert "Collected: order_id: 10001" in english


def test_an_empty_conversation_has_an_empty_summary() -> None:
    summary = summarize([], {})
    assert summary.text("es") == ""
    assert summary.last_customer_at is None
