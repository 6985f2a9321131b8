"""The satisfaction survey on real channels, with the trained bot and the desk.

One stack for the module (Rasa with the trained model, the Telegram and Twilio adapters and
the handoff plugin, the action server, the desk), the providers faked on 127.0.0.1: python-
telegram-bot sends to a fake Bot API, the twilio library to a fake Twilio. Each test is one
customer who asks for a person; Sofía claims the case in the desk and resolves it back to
the bot, and the Rasa server's hand-back asks the survey:

- Telegram gets an inline keyboard and the tap lands on the case (and in the desk);
- WhatsApp through Twilio gets a numbered list; "4" and then a comment land on the case;
- a score of 1 and then a comment opens a new case for a person, and the customer is told when;
- a customer who ignores it and asks "donde esta mi pedido" gets the bot's answer;
- a hand-back applied again (a retry after a crash, another replica) never asks again;
- a WhatsApp window closed for 25 h skips it, with the reason on the case;
- an English case is asked in English.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.support.fake_provider import FakeProvider
from tests.support.polling import eventually
from tests.support.servers import HiloProcesses
from tests.support.telegram_bot_api import (
    BOT_USER,
    HEADERS,
    TOKEN,
    WEBHOOK,
    BotApi,
    TelegramCustomer,
    fields,
)
from tests.support.telegram_bot_api import CREDENTIALS as TELEGRAM_CREDENTIALS
from tests.support.telegram_bot_api import env as telegram_env
from tests.support.twilio_whatsapp import CREDENTIALS as TWILIO_CREDENTIALS
from tests.support.twilio_whatsapp import TwilioWhatsApp

pytestmark = pytest.mark.model

ASK_FOR_A_PERSON = "quiero hablar con una persona"
SURVEY_ES = "¿Cómo te atendió nuestro equipo?"


class Stack:
    """The processes, the fake providers and Sofía's desk session."""

    def __init__(self, hilo: HiloProcesses, bot_api: BotApi, whatsapp: TwilioWhatsApp) -> None:
        self.hilo = hilo
        self.bot_api = bot_api
        self.whatsapp = whatsapp
        self.desk = hilo.desk_login("sofia")

    def case_of(self, conversation: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            cases = self.desk.get("/api/cases").json()["cases"]
            return next((c for c in cases if c["conversation_id"] == conversation), None)

        return eventually(found, f"a case for {conversation}")

    def resolve(self, case_id: int) -> None:
        """Sofía claims the case and gives it back to the bot; the hand-back is applied."""
        assert self.desk.post(f"/api/cases/{case_id}/claim").status_code == 200
        resolved = self.desk.post(f"/api/cases/{case_id}/resolve", json={"return_to_bot": True})
        assert resolved.status_code == 200, resolved.text
        eventually(lambda: self.view(case_id)["case"]["status"] == "bot", "the hand-back")

    def view(self, case_id: int) -> dict[str, Any]:
        return self.desk.get(f"/api/cases/{case_id}").json()

    def telegram_said(self, chat: int, prefix: str, count: int = 1) -> list[dict[str, Any]]:
        """The messages to `chat` whose text starts with `prefix`, once there are `count`."""

        def said() -> list[dict[str, Any]] | None:
            calls = self.bot_api.fake.calls("POST", rf"/bot{TOKEN}/sendMessage")
            mine = [f for f in map(fields, calls) if f["chat_id"] == str(chat)]
            found = [f for f in mine if f["text"].startswith(prefix)]
            return found if len(found) >= count else None

        return eventually(said, f"{prefix!r} to chat {chat}")

    def whatsapp_after(self, phone: str, prefix: str, more: int = 0) -> list[str]:
        """The texts to `phone` from the first that starts with `prefix`, plus `more` after it."""

        def said() -> list[str] | None:
            texts = self.whatsapp.replies_to(phone, 1)
            first = next((i for i, t in enumerate(texts) if t.startswith(prefix)), None)
            if first is None or len(texts) < first + 1 + more:
                return None
            return texts[first:]

        return eventually(said, f"{prefix!r} and {more} more to {phone}")

    def engine(self) -> sa.engine.Engine:
        return sa.create_engine(self.hilo.commerce_url, future=True)


@pytest.fixture(scope="module")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    telegram = FakeProvider()
    whatsapp = TwilioWhatsApp()
    hilo = HiloProcesses(
        model=model_path,
        workdir=tmp_path_factory.mktemp("csat"),
        credentials=TWILIO_CREDENTIALS + TELEGRAM_CREDENTIALS + "handoff.plugin.HandoffPlugin:\n",
        env={**whatsapp.env(), **telegram_env(telegram)},
    )
    try:
        hilo.start_actions()
        hilo.start_rasa()
        hilo.start_desk()
        hilo.desk_user("sofia", "supervisor", "Sofía")  # not available: cases wait for her
        yield Stack(hilo, BotApi(telegram), whatsapp)
    finally:
        hilo.stop()
        whatsapp.close()
        telegram.close()


def tap(base_url: str, chat: int, update_id: int, data: str, title: str) -> None:
    """The customer taps an inline button (a `callback_query` update, as Telegram posts it)."""
    person = {"id": chat, "is_bot": False, "first_name": "Ana"}
    update = {
        "update_id": update_id,
        "callback_query": {
            "id": f"q-{update_id}",
            "from": person,
            "message": {
                "message_id": 900,
                "from": BOT_USER,
                "chat": {"id": chat, "first_name": "Ana", "type": "private"},
                "date": int(time.time()),
                "text": "survey",
                "reply_markup": {"inline_keyboard": [[{"text": title, "callback_data": data}]]},
            },
            "chat_instance": "42",
            "data": data,
        },
    }
    reply = httpx.post(
        base_url + WEBHOOK,
        content=json.dumps(update),
        headers={"Content-Type": "application/json", **HEADERS},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text


def survey_keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = json.loads(message["reply_markup"])["inline_keyboard"]
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def test_telegram_gets_buttons_and_the_tap_lands_on_the_case(stack: Stack) -> None:
    chat = 7_810_001
    ana = TelegramCustomer(chat, "Ana")
    ana.say(stack.hilo.url, ASK_FOR_A_PERSON)
    case = stack.case_of(f"telegram:{chat}")
    stack.resolve(case["id"])
    (survey,) = stack.telegram_said(chat, SURVEY_ES)
    keyboard = survey_keyboard(survey)
    assert [payload for _, payload in keyboard] == [f"csat:{case['id']}:{n}" for n in range(1, 6)]
    title, payload = keyboard[4]
    assert title == "⭐⭐⭐⭐⭐ Excelente"
    tap(stack.hilo.url, chat, chat * 1000 + 500, payload, title)
    stack.telegram_said(chat, "¡Gracias! 🙌")
    view = stack.view(case["id"])
    assert view["csat"]["score"] == 5
    assert [e["detail"] for e in view["audit"] if e["action"] == "csat_answered"] == [{"score": 5}]
    assert [e["detail"] for e in view["audit"] if e["action"] == "csat_asked"] == [
        {"channel": "telegram", "buttons": True}
    ]
    # The tap is in the conversation the desk shows, though the bot never saw it.
    assert any(m["direction"] == "in" and m["text"] == title for m in view["history"])


def test_twilio_whatsapp_gets_numbers_and_takes_a_4_then_a_comment(stack: Stack) -> None:
    phone = "+5215510000001"
    stack.whatsapp.send(stack.hilo.url, phone, ASK_FOR_A_PERSON)
    case = stack.case_of(f"twilio:whatsapp:{phone}")
    stack.resolve(case["id"])
    (survey,) = stack.whatsapp_after(phone, SURVEY_ES)
    assert "1. ⭐ Muy mal" in survey
    assert "4. ⭐⭐⭐⭐ Bien" in survey
    stack.whatsapp.send(stack.hilo.url, phone, "4")
    assert stack.whatsapp_after(phone, SURVEY_ES, 1)[1].startswith("¡Gracias! 🙌")
    comment = "la señorita que me atendió fue muy amable y paciente conmigo"
    stack.whatsapp.send(stack.hilo.url, phone, comment)
    assert stack.whatsapp_after(phone, SURVEY_ES, 2)[2].startswith("¡Gracias por contarnos!")
    view = stack.view(case["id"])
    assert (view["csat"]["score"], view["csat"]["comment"]) == (4, comment)
    actions = [e["action"] for e in view["audit"] if e["action"].startswith("csat_")]
    assert actions == ["csat_asked", "csat_answered", "csat_commented"]
    assert [e["detail"] for e in view["audit"] if e["action"] == "csat_asked"] == [
        {"channel": "twilio", "buttons": False}
    ]


def test_a_score_of_1_and_its_comment_go_to_a_person(stack: Stack) -> None:
    phone = "+5215510000009"
    conversation = f"twilio:whatsapp:{phone}"
    stack.whatsapp.send(stack.hilo.url, phone, ASK_FOR_A_PERSON)
    first = stack.case_of(conversation)
    stack.resolve(first["id"])
    stack.whatsapp_after(phone, SURVEY_ES)
    stack.whatsapp.send(stack.hilo.url, phone, "1")
    assert stack.whatsapp_after(phone, SURVEY_ES, 1)[1].startswith("Gracias, y perdón")
    comment = "la persona que me atendio fue muy grosera y no me ayudo en nada"
    stack.whatsapp.send(stack.hilo.url, phone, comment)
    told = stack.whatsapp_after(phone, SURVEY_ES, 2)[2]
    assert told.startswith("Gracias por contarnos, y perdón 🙏. Le pasé tu comentario")

    def follow_up() -> dict[str, Any] | None:
        cases = stack.desk.get("/api/cases").json()["cases"]
        mine = [c for c in cases if c["conversation_id"] == conversation]
        return next((c for c in mine if c["id"] != first["id"]), None)

    second = eventually(follow_up, "a new case for the comment")
    assert (second["status"], second["reason"]) == ("queued", "complaint")
    view = stack.view(second["id"])
    assert comment in [m.get("text") for m in view["history"]]  # the agent reads it
    assert [c["id"] for c in view["earlier_cases"]] == [first["id"]]
    csat = stack.view(first["id"])["csat"]
    assert (csat["score"], csat["comment"]) == (1, comment)


def test_a_customer_who_ignores_the_survey_gets_the_bots_answer(stack: Stack) -> None:
    phone = "+5215510000002"
    stack.whatsapp.send(stack.hilo.url, phone, ASK_FOR_A_PERSON)
    case = stack.case_of(f"twilio:whatsapp:{phone}")
    stack.resolve(case["id"])
    stack.whatsapp_after(phone, SURVEY_ES)
    stack.whatsapp.send(stack.hilo.url, phone, "donde esta mi pedido")
    answer = stack.whatsapp_after(phone, SURVEY_ES, 1)[1]
    assert "pedido" in answer.lower()
    assert "gracias" not in answer.lower()
    view = stack.view(case["id"])
    assert view["csat"]["score"] is None
    assert view["csat"]["ignored"] == ["score"]
    # What follows is the bot's conversation: a "2" now is not a score.
    stack.whatsapp.send(stack.hilo.url, phone, "2")
    stack.whatsapp_after(phone, SURVEY_ES, 2)
    assert stack.view(case["id"])["csat"]["score"] is None


def test_a_hand_back_applied_again_never_asks_again(stack: Stack) -> None:
    chat = 7_810_002
    ana = TelegramCustomer(chat, "Ana")
    ana.say(stack.hilo.url, ASK_FOR_A_PERSON)
    case = stack.case_of(f"telegram:{chat}")
    stack.resolve(case["id"])
    stack.telegram_said(chat, SURVEY_ES)
    # A second resolve is refused; a hand-back found pending again (a crash before it was
    # finished, another replica) is applied again by the Rasa server's sweep.
    again = stack.desk.post(f"/api/cases/{case['id']}/resolve", json={"return_to_bot": True})
    assert again.status_code == 409
    engine = stack.engine()
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE handoff_cases SET status = 'resolved' WHERE id = :id"),
            {"id": case["id"]},
        )
        connection.execute(
            sa.text(
                "UPDATE handoff_ownership SET owner = 'people', pending = 'to_bot',"
                " applied_at = NULL WHERE case_id = :id"
            ),
            {"id": case["id"]},
        )
    engine.dispose()
    eventually(lambda: stack.view(case["id"])["case"]["status"] == "bot", "the second hand-back")
    time.sleep(1.0)
    assert len(stack.telegram_said(chat, SURVEY_ES)) == 1
    asked = [e for e in stack.view(case["id"])["audit"] if e["action"] == "csat_asked"]
    assert len(asked) == 1


def test_a_closed_whatsapp_window_skips_the_survey_with_the_reason(stack: Stack) -> None:
    phone = "+5215510000003"
    conversation = f"twilio:whatsapp:{phone}"
    stack.whatsapp.send(stack.hilo.url, phone, ASK_FOR_A_PERSON)
    stack.whatsapp.replies_to(phone, 1)  # the promise (the customer's last message's turn)
    case = stack.case_of(conversation)
    channels = sa.create_engine(f"sqlite:///{stack.hilo.channels_db}", future=True)
    with channels.begin() as connection:  # the customer last wrote 25 hours ago
        connection.execute(
            sa.text(
                "UPDATE channel_conversations SET last_inbound_at = :at"
                " WHERE conversation_id = :conversation"
            ),
            {"at": time.time() - 25 * 3600, "conversation": conversation},
        )
    channels.dispose()
    stack.resolve(case["id"])
    view = eventually(
        lambda: (v := stack.view(case["id"]))["csat"]["skipped"] and v, "the skipped survey"
    )
    assert view["csat"]["skipped"].startswith("window closed: customer last wrote 25 h ago")
    assert view["csat"]["asked_at"] is None
    skipped = [e["detail"] for e in view["audit"] if e["action"] == "csat_skipped"]
    assert skipped == [{"why": view["csat"]["skipped"]}]
    time.sleep(1.0)
    assert not [t for t in stack.whatsapp.replies_to(phone, 1) if t.startswith(SURVEY_ES)]


def test_an_english_case_is_asked_in_english(stack: Stack) -> None:
    chat = 7_810_003
    ana = TelegramCustomer(chat, "Ann")
    ana.say(stack.hilo.url, "I want to talk to a real person please")
    case = stack.case_of(f"telegram:{chat}")
    assert case["language"] == "en"
    stack.resolve(case["id"])
    (survey,) = stack.telegram_said(chat, "How did our team do?")
    assert survey_keyboard(survey)[3][0] == "⭐⭐⭐⭐ Good"
    ana.say(stack.hilo.url, "3")
    stack.telegram_said(chat, "Thank you! 🙌")
    assert stack.view(case["id"])["csat"]["score"] == 3
