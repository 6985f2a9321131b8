"""The real bot behind a real channel: WhatsApp through Twilio, the provider faked on 127.0.0.1.

The webhook is signed as Twilio signs it; the trained model and the action server answer;
the reply goes out with the twilio library to the fake API. A customer writing from the
phone of an order is trusted as its owner only because the message came through the phone
channel (actions/orders/common.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.support.fake_provider import FakeProvider, Recorded
from tests.support.servers import HiloProcesses

pytestmark = pytest.mark.model

ACCOUNT = "AC" + "c" * 32
TOKEN = "token-for-tests"
PUBLIC = "https://hilo.test.example"


@pytest.fixture
def twilio_api() -> Iterator[FakeProvider]:
    fake = FakeProvider()

    def create(request: Recorded) -> tuple:
        form = request.form()
        sid = "SM" + uuid.uuid4().hex
        return 201, {"sid": sid, "status": "queued", "to": form["To"][0], "body": form["Body"][0]}

    fake.route("POST", rf"/2010-04-01/Accounts/{ACCOUNT}/Messages\.json", create)
    yield fake
    fake.close()


@pytest.fixture
def hilo(model_path: Path, tmp_path: Path, twilio_api: FakeProvider) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(
        model=model_path,
        workdir=tmp_path,
        credentials="connectors.twilio.TwilioInput:\n",
        env={
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_API_BASE_URL": twilio_api.url,
            "HILO_PUBLIC_URL": PUBLIC,
        },
    )
    processes.start_actions()
    processes.start_rasa()
    yield processes
    processes.stop()


def send(hilo: HiloProcesses, phone: str, text: str) -> None:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT,
        "From": f"whatsapp:{phone}",
        "To": "whatsapp:+14155238886",
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Ana",
        "WaId": phone.lstrip("+"),
        "MessageType": "text",
    }
    path = "/webhooks/twilio/webhook"
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    reply = httpx.post(
        hilo.url + path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        timeout=10,
    )
    assert reply.status_code == 200


def replies_to(api: FakeProvider, phone: str, count: int) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bodies = [
            r.form()["Body"][0]
            for r in api.calls("POST", r".*/Messages\.json")
            if r.form()["To"][0] == f"whatsapp:{phone}"
        ]
        if len(bodies) >= count:
            return bodies
        time.sleep(0.1)
    raise AssertionError(f"expected {count} replies to {phone}")


def test_the_owner_writing_from_the_orders_phone_gets_its_status_without_proving_it(
    hilo: HiloProcesses, twilio_api: FakeProvider
) -> None:
    send(hilo, "+5215512345678", "donde esta mi pedido 10001?")
    answer = "\n".join(replies_to(twilio_api, "+5215512345678", 1))
    assert "Estafeta" in answer
    assert "EST123456789MX" in answer


def test_someone_else_must_prove_the_order_is_theirs(
    hilo: HiloProcesses, twilio_api: FakeProvider
) -> None:
    send(hilo, "+5215599998888", "donde esta mi pedido 10001?")
    (asked,) = replies_to(twilio_api, "+5215599998888", 1)
    assert "correo" in asked
    assert "EST123456789MX" not in asked
