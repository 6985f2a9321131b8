"""Order status, whole turns: the model, the rules, the action server and the demo store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


async def say(agent, sender: str, text: str) -> str:
    """One customer message; returns the bot's reply texts joined."""
    messages = await agent.handle_text(text, sender_id=sender)
    return "\n".join(m.get("text", "") for m in messages)


async def test_status_after_email_verification_in_spanish(agent, sender: str) -> None:
    asked = await say(agent, sender, "hola, donde esta mi pedido 10001?")
    assert "10001" in asked
    assert "correo" in asked
    assert "Estafeta" not in asked
    answer = await say(agent, sender, "ana@example.com")
    assert "va en camino" in answer
    assert "Estafeta" in answer
    assert "EST123456789MX" in answer
    assert "2 × Camiseta básica" in answer
    assert "{" not in answer


async def test_status_in_english_with_the_last_four_digits(agent, sender: str) -> None:
    asked = await say(agent, sender, "hi, where's my order 10002?")
    assert "email" in asked
    answer = await say(agent, sender, "last 4 are 0123")
    assert "was delivered on" in answer
    assert "{" not in answer


async def test_asks_for_the_number_when_missing(agent, sender: str) -> None:
    asked = await say(agent, sender, "kiero saber d mi pedido")
    assert "número" in asked
    asked = await say(agent, sender, "es el 10003")
    assert "10003" in asked
    answer = await say(agent, sender, "lucia@example.com")
    assert "pagado" in answer


async def test_nothing_leaks_for_someone_elses_or_a_missing_order(agent, sender: str) -> None:
    await say(agent, sender, "estado del pedido 10002")
    wrong_owner = await say(agent, sender, "ana@example.com")
    other = sender + "-b"
    await say(agent, other, "estado del pedido 19999")
    missing = await say(agent, other, "ana@example.com")
    # The same words; only the number the customer typed is echoed back.
    assert wrong_owner.replace("10002", "N") == missing.replace("19999", "N")
    assert "John" not in wrong_owner
    assert "entreg" not in wrong_owner


async def test_three_wrong_answers_stop_the_lookup_and_offer_a_person(agent, sender: str) -> None:
    await say(agent, sender, "donde esta el pedido 10001")
    await say(agent, sender, "0000")
    await say(agent, sender, "1111")
    stopped = await say(agent, sender, "2222")
    assert "no puedo mostrarte" in stopped
    assert "Estafeta" not in stopped
    handed = await say(agent, sender, "si")
    assert handed.startswith("Te comunico con una persona")
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("handoff_reason") == "failed_verification"


async def test_a_question_mid_lookup_is_answered_and_the_lookup_resumes(agent, sender: str) -> None:
    await say(agent, sender, "mi pedido 10001 no llega")
    faq = await say(agent, sender, "cuanto cuesta el envio express?")
    assert "$" in faq
    assert "correo" in faq  # asked again for the proof
    answer = await say(agent, sender, "ana@example.com")
    assert "EST123456789MX" in answer


async def say_through(agent, channel: str, sender: str, text: str) -> str:
    """One message as the named channel's connector would deliver it."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    output = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, output, sender, input_channel=channel))
    return "\n".join(m.get("text", "") for m in output.messages)


async def test_whatsapp_customer_sees_own_orders_without_verification(agent) -> None:
    sender = "whatsapp:+5215512345678"
    asked = await say_through(agent, "whatsapp", sender, "donde esta mi pedido")
    assert "10001" in asked or "pedidos" in asked
    answer = await say_through(agent, "whatsapp", sender, "el 10001")
    assert "EST123456789MX" in answer


async def test_a_forged_whatsapp_sender_on_the_rest_channel_must_verify(agent) -> None:
    sender = "whatsapp:+5215512345678"
    asked = await say_through(agent, "rest", sender, "donde esta el pedido 10001")
    assert "correo" in asked
    assert "EST123456789MX" not in asked
