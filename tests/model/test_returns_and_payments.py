"""Returns and payment problems, whole turns: model, rules, action server, demo store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


async def say(agent, sender: str, text: str) -> str:
    """One customer message; returns the bot's reply texts joined."""
    messages = await agent.handle_text(text, sender_id=sender)
    return "\n".join(m.get("text", "") for m in messages)


async def test_return_inside_the_window_gets_a_number(agent, sender: str, mail_server) -> None:
    await say(agent, sender, "quiero devolver el pedido 10009")
    code_asked = await say(agent, sender, "mi telefono termina en 0003")
    assert "código de 6 dígitos" in code_asked
    reason_asked = await say(agent, sender, f"ya me llego: {mail_server.latest_code()}")
    assert "Por qué" in reason_asked
    asked = await say(agent, sender, "no me gusto el color")
    assert "no me gusto el color" in asked  # the reason it will be opened for
    assert "R-" not in asked  # nothing opened before a yes
    done = await say(agent, sender, "si, abrela")
    assert "R-" in done
    assert "reembolso" in done


async def send_photo(agent, sender: str, caption: str = "") -> str:
    """A photo as the channels core passes it to Rasa: the stored file in the metadata."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    output = CollectingOutputChannel()
    metadata = {"media": [{"url": "https://hilo.example/media/x.jpg", "kind": "image"}]}
    await agent.handle_message(
        UserMessage(caption or "/send_media", output, sender, metadata=metadata)
    )
    return "\n".join(m.get("text", "") for m in output.messages)


async def test_damaged_item_asks_a_photo_then_a_person(agent, sender: str) -> None:
    await say(agent, sender, "i want to return order 10002, it arrived damaged")
    photo_asked = await say(agent, sender, "john@example.com")
    assert "photo" in photo_asked
    handed = await send_photo(agent, sender)
    assert "R-" not in handed  # a person decides damaged items, with the photo
    assert "person" in handed
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("handoff_reason") == "damaged_item"
    assert tracker.get_slot("return_reason") == "it arrived damaged"


async def test_return_outside_the_window_is_explained(agent, sender: str) -> None:
    await say(agent, sender, "quiero devolver el pedido 10004")
    answer = await say(agent, sender, "ana@example.com")
    assert "terminó" in answer


async def test_payment_problem_intake_then_a_person(agent, sender: str) -> None:
    asked = await say(
        agent, sender, "me cobraron dos veces el mismo pedido, tengo 2 cargos en la tarjeta"
    )
    assert "número" in asked
    handed = await say(agent, sender, "es el 10005")
    assert handed.startswith("Te comunico con una persona")
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("handoff_reason") == "payment_problem"
    assert tracker.get_slot("order_id") == "10005"
    assert "dos veces" in tracker.get_slot("payment_problem")
