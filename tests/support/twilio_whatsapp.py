"""A customer on WhatsApp through Twilio, with Twilio's API faked on 127.0.0.1.

Webhooks are signed as Twilio signs them; the replies go out through the twilio library to
the fake API, where a test reads them.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from tests.support.fake_provider import FakeProvider, Recorded

ACCOUNT = "AC" + "c" * 32
TOKEN = "token-for-tests"
PUBLIC = "https://hilo.test.example"
BUSINESS = "whatsapp:+14155238886"
CREDENTIALS = "connectors.twilio.TwilioInput:\n"


class TwilioWhatsApp:
    """The fake Twilio API and the customer's side of the webhook."""

    def __init__(self) -> None:
        self.api = FakeProvider()
        self.api.route("POST", rf"/2010-04-01/Accounts/{ACCOUNT}/Messages\.json", self._create)

    @staticmethod
    def _create(request: Recorded) -> tuple:
        form = request.form()
        sid = "SM" + uuid.uuid4().hex
        return 201, {"sid": sid, "status": "queued", "to": form["To"][0], "body": form["Body"][0]}

    def env(self) -> dict[str, str]:
        """What the Rasa server needs to talk to the fake API."""
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_WHATSAPP_FROM": BUSINESS,
            "TWILIO_API_BASE_URL": self.api.url,
            "HILO_PUBLIC_URL": PUBLIC,
        }

    def send(
        self,
        rasa_url: str,
        phone: str,
        text: str,
        profile_name: str = "Ana",
        message_sid: str | None = None,
    ) -> None:
        """The customer writes `text` from `phone`; the webhook must take it (200).

        The same `message_sid` again is Twilio delivering the same message again.
        """
        params = {
            "MessageSid": message_sid or "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT,
            "From": f"whatsapp:{phone}",
            "To": BUSINESS,
            "Body": text,
            "NumMedia": "0",
            "ProfileName": profile_name,
            "WaId": phone.lstrip("+"),
            "MessageType": "text",
        }
        path = "/webhooks/twilio/webhook"
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
        reply = httpx.post(
            rasa_url + path,
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
            timeout=10,
        )
        assert reply.status_code == 200

    def replies_to(self, phone: str, count: int, timeout: float = 30) -> list[str]:
        """The first `count` (or more) texts sent to `phone`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = [
                r.form()["Body"][0]
                for r in self.api.calls("POST", r".*/Messages\.json")
                if r.form()["To"][0] == f"whatsapp:{phone}"
            ]
            if len(bodies) >= count:
                return bodies
            time.sleep(0.1)
        raise AssertionError(f"expected {count} replies")

    def close(self) -> None:
        self.api.close()
