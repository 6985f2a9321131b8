"""Rasa 3.6's built-in Twilio channel, unchanged, except that it sends to the fake Twilio API.

The benchmark compares Hilo's Twilio connector with this one. Stock `TwilioOutput` is a twilio
`Client` pointed at api.twilio.com, which this machine cannot reach; only its API base URL is
changed (`BENCH_TWILIO_API_BASE_URL`), so its webhook still awaits the whole turn inline and
sends with the synchronous client, as in production.
"""

from __future__ import annotations

import os
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.twilio import TwilioInput, TwilioOutput


class _FakeApiTwilioOutput(TwilioOutput):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.api.base_url = os.environ["BENCH_TWILIO_API_BASE_URL"]


class StockTwilioInput(TwilioInput):
    """Mounted as `twilio` at /webhooks/twilio/webhook, like the built-in."""

    def get_output_channel(self) -> OutputChannel:
        return _FakeApiTwilioOutput(self.account_sid, self.auth_token, self.twilio_number)
