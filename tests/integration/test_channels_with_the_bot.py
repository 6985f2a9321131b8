"""The real bot behind a real channel: WhatsApp through Twilio, the provider faked on 127.0.0.1.

The webhook is signed as Twilio signs it; the trained model and the action server answer;
the reply goes out with the twilio library to the fake API. A customer writing from the
phone of an order is trusted as its owner only because the message came through the phone
channel (actions/orders/common.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import HiloProcesses
from tests.support.twilio_whatsapp import CREDENTIALS, TwilioWhatsApp

pytestmark = pytest.mark.model


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path, whatsapp: TwilioWhatsApp) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(
        model=model_path, workdir=tmp_path, credentials=CREDENTIALS, env=whatsapp.env()
    )
    processes.start_actions()
    processes.start_rasa()
    yield processes
    processes.stop()


def test_the_owner_writing_from_the_orders_phone_gets_its_status_without_proving_it(
    hilo: HiloProcesses, whatsapp: TwilioWhatsApp
) -> None:
    whatsapp.send(hilo.url, "+5215512345678", "donde esta mi pedido 10001?")
    answer = "\n".join(whatsapp.replies_to("+5215512345678", 1))
    assert "Estafeta" in answer
    assert "EST123456789MX" in answer


def test_someone_else_must_prove_the_order_is_theirs(
    hilo: HiloProcesses, whatsapp: TwilioWhatsApp
) -> None:
    whatsapp.send(hilo.url, "+5215599998888", "donde esta mi pedido 10001?")
    (asked,) = whatsapp.replies_to("+5215599998888", 1)
    assert "correo" in asked
    assert "EST123456789MX" not in asked
