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
        self.media: dict[str, tuple[str, bytes]] = {}  # media sid: content type, bytes
        self.api.route(
            "GET",
            rf"/2010-04-01/Accounts/{ACCOUNT}/Messages/\w+/Media/(?P<sid>\w+)",
            self._media,
        )

    def _media(self, request: Recorded) -> tuple:
        sid = request.path.rsplit("/", 1)[-1]
        if sid not in self.media:
            return 404, {"code": 20404, "message": "not found"}
        content_type, data = self.media[sid]
        return 200, data, {"Content-Type": content_type}

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
        self._post(
            rasa_url,
            {
                **self._sender(phone, profile_name, message_sid or "SM" + uuid.uuid4().hex),
                "Body": text,
                "NumMedia": "0",
                "MessageType": "text",
            },
        )

    @staticmethod
    def _sender(phone: str, profile_name: str, message_sid: str) -> dict[str, str]:
        return {
            "MessageSid": message_sid,
            "AccountSid": ACCOUNT,
            "From": f"whatsapp:{phone}",
            "To": BUSINESS,
            "ProfileName": profile_name,
            "WaId": phone.lstrip("+"),
        }

    @staticmethod
    def _post(rasa_url: str, params: dict[str, str]) -> None:
        """Signs `params` as Twilio does and posts them; the webhook must take them (200)."""
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
        assert reply.status_code == 200, reply.text

    def send_media(
        self,
        rasa_url: str,
        phone: str,
        data: bytes,
        content_type: str,
        caption: str = "",
        profile_name: str = "Ana",
    ) -> None:
        """The customer sends a file (a photo, a PDF) with an optional caption."""
        message_sid = "MM" + uuid.uuid4().hex
        media_sid = "ME" + uuid.uuid4().hex
        self.media[media_sid] = (content_type, data)
        url = (
            f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{message_sid}"
            f"/Media/{media_sid}"
        )
        self._post(
            rasa_url,
            {
                **self._sender(phone, profile_name, message_sid),
                "Body": caption,
                "NumMedia": "1",
                "MediaUrl0": url,
                "MediaContentType0": content_type,
                "MessageType": "image" if content_type.startswith("image/") else "document",
            },
        )

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
