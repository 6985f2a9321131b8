"""The whole handoff in real browsers: a customer on the sandbox, an agent in the desk.

The real Hilo runs (trained model, action server, Rasa server with the sandbox channel and
the handoff plugin, the desk). A customer checks an order, sends a photo and asks for a
person; the case appears in the agent's desk without a reload; the agent claims it, sees the
history, the photo and the order data, replies; the customer receives the reply; the agent
hands the conversation back and the bot answers the customer's next message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.case import Status
from handoff.database import make_engine
from handoff.store import CaseStore
from tests.support.desk_browser import TIMEOUT
from tests.support.servers import HiloProcesses

pytestmark = pytest.mark.model

CREDENTIALS = (
    "connectors.sandbox.SandboxInput:\n"
    "handoff.plugin.HandoffPlugin:\n"
    "connectors.media.MediaInput:\n"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(model=model_path, workdir=tmp_path, credentials=CREDENTIALS)
    processes.start_actions()
    processes.start_rasa()
    processes.start_desk()
    processes.desk_user("anna", "agent", "Anna")  # the case waits in the queue for her
    yield processes
    processes.stop()


def say(customer, text: str) -> None:
    customer.fill("#text", text)
    customer.press("#text", "Enter")


def bot_said(customer, pattern: str) -> None:
    customer.locator(".msg.bot", has_text=re.compile(pattern)).last.wait_for(timeout=TIMEOUT)


def test_a_customer_is_handed_to_an_agent_and_back_to_the_bot(browser, hilo) -> None:
    customer = browser.new_context().new_page()
    agent = browser.new_context().new_page()
    agent.goto(hilo.desk_url)
    agent.get_by_test_id("login-username").fill("anna")
    agent.get_by_test_id("login-password").fill("password-123")
    agent.get_by_test_id("login-submit").click()
    agent.get_by_test_id("take-next").wait_for(timeout=TIMEOUT)
    agent.get_by_test_id("live-indicator").wait_for(timeout=TIMEOUT)

    customer.goto(f"{hilo.url}/webhooks/sandbox/")
    say(customer, "donde esta mi pedido 10001")
    bot_said(customer, "correo")
    say(customer, "ana@example.com")
    bot_said(customer, "Estafeta")
    customer.set_input_files(
        "#file", files=[{"name": "caja.png", "mimeType": "image/png", "buffer": PNG}]
    )
    customer.locator(".msg.me img").last.wait_for(timeout=TIMEOUT)
    say(customer, "quiero hablar con una persona")
    bot_said(customer, "Te comunico con una persona")

    # The case appears in the desk without reloading.
    item = agent.get_by_test_id("queue-item").first
    item.wait_for(timeout=TIMEOUT)
    item.click()
    agent.get_by_test_id("claim").click()
    thread = agent.get_by_test_id("thread")
    thread.get_by_text("donde esta mi pedido 10001").wait_for(timeout=TIMEOUT)
    image = agent.get_by_test_id("message-image").first
    image.wait_for(timeout=TIMEOUT)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")  # served to the agent
    order = agent.locator('[data-testid="collected-field"][data-slot="order_id"]')
    assert order.input_value(timeout=TIMEOUT) == "10001"

    # What the customer writes while waiting shows up live, as text, never as markup; the
    # bot says nothing.
    bot_messages = customer.locator(".msg.bot").count()
    say(customer, '<img src=x onerror="window.__pwned=1"> sigo aquí')
    thread.get_by_text('<img src=x onerror="window.__pwned=1"> sigo aquí').wait_for(timeout=TIMEOUT)
    assert agent.evaluate("() => window.__pwned") is None
    assert customer.locator(".msg.bot").count() == bot_messages

    agent.get_by_test_id("reply-text").fill("Hola, soy Anna. Ya vi la foto de la caja.")
    agent.get_by_test_id("reply-send").click()
    customer.locator(".msg.agent", has_text="Ya vi la foto").wait_for(timeout=TIMEOUT)

    agent.on("dialog", lambda dialog: dialog.accept())
    agent.get_by_test_id("resolve-to-bot").click()
    agent.get_by_test_id("toast").wait_for(timeout=TIMEOUT)

    # Back with the bot (the desk's feed resumes it in Rasa): the next message gets its answer.
    store = CaseStore(make_engine(f"sqlite:///{hilo.workdir / 'commerce.db'}"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not store.find(statuses=(Status.BOT,)):
        time.sleep(0.2)
    assert store.find(statuses=(Status.BOT,))
    say(customer, "cuanto cuesta el envio?")
    bot_said(customer, r"\$99|envío estándar")
