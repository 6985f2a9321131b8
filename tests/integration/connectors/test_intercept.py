"""The hub's `intercept` hook: a message the handoff keeps (a survey's answer) skips the bot.

The handoff's survey (handoff/csat.py) reads a customer's message before Rasa does; what it
keeps is stored and answered like any message but never reaches the bot, and a hook that
fails never costs the customer the bot's answer.
"""

from __future__ import annotations

import time
import uuid

from connectors.core import ChannelHub
from connectors.sandbox import SandboxInput
from tests.support.channel_app import ChannelApp, EchoBot


def outbound_texts(hub: ChannelHub, conversation: str, count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        texts = [r.body.get("text") for r in hub.outbox.conversation(conversation)]
        if len(texts) >= count:
            return texts
        time.sleep(0.02)
    raise AssertionError(f"expected {count} messages, got {texts}")


def test_a_kept_message_skips_the_bot_and_the_next_one_reaches_it(hub: ChannelHub) -> None:
    async def keep_digits(message, output) -> bool:
        if message.text.strip().isdigit():
            await output.say(message.conversation_id, f"score {message.text}")
            return True
        return False

    hub.intercept = keep_digits
    served = ChannelApp([SandboxInput(hub=hub)], EchoBot())
    try:
        chat = uuid.uuid4().hex[:12]
        conversation = f"sandbox:{chat}"
        for number, text in enumerate(["4", "hola"], start=1):
            served.post(
                "/webhooks/sandbox/webhook",
                json={"conversation": chat, "message_id": str(number), "text": text},
            )
        served.bot.wait_for(1)
        assert served.bot.texts() == ["hola"]
        assert outbound_texts(hub, conversation, 2) == ["score 4", "echo: hola"]
        records = hub.outbox.conversation(conversation)
        assert records[0].source == "system"
    finally:
        served.close()


def test_a_failing_hook_leaves_the_message_to_the_bot(hub: ChannelHub) -> None:
    async def broken(message, output) -> bool:
        raise ConnectionError("the handoff database is down")

    hub.intercept = broken
    served = ChannelApp([SandboxInput(hub=hub)], EchoBot())
    try:
        chat = uuid.uuid4().hex[:12]
        served.post(
            "/webhooks/sandbox/webhook",
            json={"conversation": chat, "message_id": "1", "text": "5"},
        )
        served.bot.wait_for(1)
        assert served.bot.texts() == ["5"]
        assert outbound_texts(hub, f"sandbox:{chat}", 1) == ["echo: 5"]
    finally:
        served.close()
