"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.twilio_whatsapp import TwilioWhatsApp


@pytest.fixture
def whatsapp() -> Iterator[TwilioWhatsApp]:
    """A customer on WhatsApp through Twilio, with Twilio's API faked on 127.0.0.1."""
    customer = TwilioWhatsApp()
    yield customer
    customer.close()
