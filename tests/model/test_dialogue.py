"""Whole turns in process: NLU, policies, the action server, Hilo's NLG and tracker store."""

from __future__ import annotations

import pytest

from store.facts import load_facts

pytestmark = pytest.mark.model

FACTS = load_facts()


async def say(agent, sender: str, text: str) -> list[dict]:
    """One customer message; returns the bot's messages."""
    return await agent.handle_text(text, sender_id=sender)


def texts(messages: list[dict]) -> str:
    """All reply texts joined, for assertions."""
    return "\n".join(m.get("text", "") for m in messages)


async def test_spanish_greeting_names_the_store(agent, sender: str) -> None:
    reply = texts(await say(agent, sender, "hola buenas"))
    assert "Hola" in reply
    assert FACTS.for_language("es")["store_name"] in reply


async def test_english_greeting_is_answered_in_english(agent, sender: str) -> None:
    reply = texts(await say(agent, sender, "hi there"))
    assert reply.startswith("Hi!")


async def test_faq_answers_quote_the_store_facts_in_the_language_used(agent, sender: str) -> None:
    spanish = texts(await say(agent, sender, "cuanto cuesta el envio?"))
    assert FACTS.for_language("es")["shipping_standard_price"] in spanish
    assert "envío estándar" in spanish
    english = texts(await say(agent, sender, "and how long does delivery take?"))
    assert FACTS.for_language("en")["shipping_standard_days"] in english
    assert "{" not in spanish + english


async def test_language_follows_a_switch_and_ambiguous_messages_keep_it(agent, sender: str) -> None:
    assert texts(await say(agent, sender, "hola")).startswith("¡Hola!")
    # A one-word greeting is no switch; a sentence in the other language is.
    assert texts(await say(agent, sender, "hello")).startswith("¡Hola!")
    english = texts(await say(agent, sender, "how long does delivery take to Monterrey?"))
    assert "business days" in english
    # "👍" and a short thanks say nothing about the language: it stays English.
    await say(agent, sender, "👍")
    assert "You're welcome" in texts(await say(agent, sender, "thanks"))
    assert "You're welcome" in texts(await say(agent, sender, "muchas gracias"))
    # Asking for Spanish switches at once.
    await say(agent, sender, "can we continue in spanish please")
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("language") == "es"
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("language") == "es"


async def test_fallback_asks_to_rephrase_then_offers_a_person(agent, sender: str) -> None:
    first = await say(agent, sender, "🦄")
    assert "otras palabras" in texts(first)
    second = await say(agent, sender, "¿¿??")
    assert "persona" in texts(second)
    assert [b["payload"] for b in second[0]["buttons"]] == ["/affirm", "/deny"]
    third = await say(agent, sender, "/affirm")
    assert "Te comunico con una persona" in texts(third)
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("handoff_reason") == "repeated_fallback"


async def test_a_request_for_a_person_parks_the_conversation_and_records_the_reason(
    agent, sender: str
) -> None:
    reply = texts(await say(agent, sender, "quiero hablar con una persona"))
    assert reply.startswith("Te comunico con una persona")
    assert "Te responde " in reply
    assert " las " in reply  # the promise names a time: "hoy antes de las 17:00"
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.get_slot("handoff_reason") == "customer_asked"
    assert tracker.get_slot("handoff_active") is True
    assert tracker.is_paused()
    # While people own the thread, the bot says nothing, whatever the customer writes.
    assert await say(agent, sender, "hola? cuanto cuesta el envio?") == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a" * 10_000,
        "hola " * 2_000,
        "😀😀😀",
        "🦄",
        "/send_media",
        "<Multimedia omitido>",
        "<script>alert('hola')</script>",
        "'; DROP TABLE events; --",
        "hola, where is my order? necesito ayuda please",
        "{store_name} {0} %s",
    ],
)
async def test_bad_input_gets_a_sensible_reply(agent, sender: str, text: str) -> None:
    messages = await say(agent, sender, text)
    assert messages, "every message gets an answer"
    reply = texts(messages)
    assert reply.strip()
    assert "{" not in reply
    assert "}" not in reply
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker.latest_message.text == text.strip()
