"""Sealed ownership proofs: opaque, bound to the channel identity that gave them, expiring.

The review found a `verified_contact` proven on WhatsApp still counting on any input channel
(the REST webhook included) and in later sessions; these tests reproduce that and pin it down.
"""

from __future__ import annotations

import time

import pytest

from actions.orders.proof import Proof, seal, unseal
from tests.unit.actions.support import tracker

ANA = Proof("phone", "+525512345678")
WHATSAPP = {"sender": "whatsapp:+5215512345678", "channel": "whatsapp"}


def test_a_proof_opens_where_it_was_given() -> None:
    given = tracker(**WHATSAPP)
    assert unseal(seal(ANA, given), tracker(**WHATSAPP)) == ANA


def test_the_slot_shows_no_contact() -> None:
    value = seal(Proof("email", "ana@example.com"), tracker(**WHATSAPP))
    # Whole words only: three random base64 letters may well spell "ana".
    assert "example" not in value
    assert "@" not in value
    phone = seal(Proof("phone", "5512345678"), tracker(**WHATSAPP))
    assert "5512345678" not in phone


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"sender": "whatsapp:+5215512345678", "channel": "rest"},  # same id, REST channel
        {"sender": "whatsapp:+5215512345678", "channel": "sandbox"},
        {"sender": "whatsapp:+5215599999999", "channel": "whatsapp"},  # another conversation
        {"sender": "telegram:42", "channel": "telegram"},
    ],
)
def test_a_proof_never_crosses_channels_or_conversations(elsewhere: dict[str, str]) -> None:
    value = seal(ANA, tracker(**WHATSAPP))
    assert unseal(value, tracker(**elsewhere)) is None


def test_a_proof_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILO_PROOF_TTL_HOURS", "24")
    now = time.time()
    value = seal(ANA, tracker(**WHATSAPP), now=now)
    assert unseal(value, tracker(**WHATSAPP), now=now + 23.9 * 3600) == ANA
    assert unseal(value, tracker(**WHATSAPP), now=now + 24.1 * 3600) is None


@pytest.mark.parametrize(
    "forged",
    ["phone:+525512345678", "email:ana@example.com", "p1.", "p1.AAAA", None, 42, {"k": "phone"}],
)
def test_forged_or_old_style_values_prove_nothing(forged: object) -> None:
    assert unseal(forged, tracker(**WHATSAPP)) is None


def test_a_tampered_proof_proves_nothing() -> None:
    value = seal(ANA, tracker(**WHATSAPP))
    flipped = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    assert unseal(flipped, tracker(**WHATSAPP)) is None


def test_another_key_opens_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    value = seal(ANA, tracker(**WHATSAPP))
    monkeypatch.setenv("HILO_SECRET_KEY", "a different deployment")
    assert unseal(value, tracker(**WHATSAPP)) is None
