"""While people own a conversation the bot's messages are held back; agents' go out."""

from __future__ import annotations

import asyncio
import time
import uuid

from connectors.core import ChannelHub
from connectors.messages import DeliveryStatus
from connectors.sandbox import SandboxInput
from tests.support.channel_app import ChannelApp, EchoBot


def test_bot_messages_are_held_and_agent_messages_sent(hub: ChannelHub) -> None:
    owned = set()
    hub.with_people = owned.__contains__
    channel = SandboxInput(hub=hub)
    served = ChannelApp([channel], EchoBot())
    try:
        chat = uuid.uuid4().hex[:12]
        conversation = f"sandbox:{chat}"
        owned.add(conversation)
        served.post(
            "/webhooks/sandbox/webhook",
            json={"conversation": chat, "message_id": "1", "text": "hola"},
        )
        served.bot.wait_for(1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not hub.outbox.conversation(conversation):
            time.sleep(0.02)
        (held,) = hub.outbox.conversation(conversation)
        assert (held.status, held.error_code) == (DeliveryStatus.FAILED, "held")
        output = channel.get_output_channel()
        assert output is not None
        asyncio.run(
            output.send_response(
                conversation, {"text": "Hola, soy Anna", "source": "agent", "agent_name": "Anna"}
            )
        )
        agent_message = hub.outbox.conversation(conversation)[-1]
        assert agent_message.status is DeliveryStatus.SENT
        assert (agent_message.source, agent_message.author) == ("agent", "Anna")
    finally:
        served.close()


def test_a_silent_turn_is_escalated_and_a_failing_one_too(hub: ChannelHub) -> None:
    escalated: list[tuple[str, str]] = []

    async def escalate(message, output, why: str) -> bool:
        escalated.append((message.provider_id, why))
        await output.say(message.conversation_id, "Te comunico con una persona")
        return True

    hub.escalate = escalate
    hub.dispatcher.retry_delay = 0.05
    silent = EchoBot(reply=lambda _m: [])
    served = ChannelApp([SandboxInput(hub=hub)], silent)
    try:
        chat = uuid.uuid4().hex[:12]
        served.post(
            "/webhooks/sandbox/webhook",
            json={"conversation": chat, "message_id": "quiet", "text": "hola"},
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not escalated:
            time.sleep(0.02)
        silent.fail_times = 3
        served.post(
            "/webhooks/sandbox/webhook",
            json={"conversation": chat, "message_id": "boom", "text": "hola"},
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(escalated) < 2:
            time.sleep(0.02)
        assert escalated == [(f"{chat}:quiet", "silent_turn"), (f"{chat}:boom", "turn_failed")]
        texts = [r.text for r in hub.outbox.conversation(f"sandbox:{chat}")]
        assert texts == ["Te comunico con una persona", "Te comunico con una persona"]
    finally:
        served.close()
