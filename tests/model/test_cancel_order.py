"""Cancelling, whole turns: the model, the rules, the action server and the demo store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


async def say(agent, sender: str, text: str) -> str:
    """One customer message; returns the bot's reply texts joined."""
    messages = await agent.handle_text(text, sender_id=sender)
    return "\n".join(m.get("text", "") for m in messages)


async def test_cancel_after_verification_and_confirmation(agent, sender: str, mail_server) -> None:
    """The phone's digits, then the one-time code mailed to the order's email, then a yes."""
    asked = await say(agent, sender, "quiero cancelar mi pedido 10006")
    assert "10006" in asked
    code_asked = await say(agent, sender, "los ultimos 4 son 0000")
    assert "código de 6 dígitos" in code_asked
    assert "Confirmas" not in code_asked
    code = mail_server.latest_code()
    confirm = await say(agent, sender, f"el codigo es {code}")
    assert "Confirmas" in confirm
    done = await say(agent, sender, "si")
    assert "pedido 10006 quedó cancelado" in done
    assert "reembolso" in done


async def test_a_shipped_order_cannot_be_cancelled_in_english(agent, sender: str) -> None:
    await say(agent, sender, "cancel my order 10010 please")
    answer = await say(agent, sender, "my email is emily.johnson@example.com")
    assert "can't be cancelled" in answer
    assert "return" in answer
