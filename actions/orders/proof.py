"""Proof that a customer owns a contact: sealed, bound to where it was given, and expiring.

When a customer proves owning an order (its email, or the phone's last digits), the bot keeps
what was proven in the `verified_contact` slot so that later flows do not ask again. That slot
travels with the tracker, so it must not be worth anything anywhere else:

- it is sealed (AES-GCM under Hilo's key, hilo/keys.py): the slot shows no email or phone
  (the tracker API, the desk and logs see an opaque token), and a forged one does not open;
- it is bound to the channel identity that gave it (the input channel Rasa recorded for the
  message, and the conversation id): opened from another channel or conversation, it fails;
- it expires, `HILO_PROOF_TTL_HOURS` after it was given (24 by default).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from rasa_sdk import Tracker

from hilo.keys import signing_key

PREFIX = "p1."
DEFAULT_TTL_HOURS = 24.0


# How a contact was proven. Typed digits or a typed phone number prove what anyone with the
# number in their contacts knows: enough to read an order, not to change it (STRONG_METHODS).
METHODS = ("email", "phone", "digits", "code")
STRONG_METHODS = frozenset({"email", "code"})


@dataclass(frozen=True)
class Proof:
    """A proven contact: kind "email" or "phone", its normalized value, and how (METHODS)."""

    kind: str
    contact: str
    method: str = ""

    def __post_init__(self) -> None:
        if self.method not in METHODS:  # unset or unknown: the weakest way of its kind
            object.__setattr__(self, "method", "email" if self.kind == "email" else "digits")

    @property
    def strong(self) -> bool:
        """Whether it is enough for steps that cannot be undone (see actions/orders/lookup.py).

        `HILO_SENSITIVE_PROOF=code` makes a typed email not enough either: then only the
        channel's own phone or a one-time code are.
        """
        if os.environ.get("HILO_SENSITIVE_PROOF", "email").strip().lower() == "code":
            return self.method == "code"
        return self.method in STRONG_METHODS


def ttl_seconds() -> float:
    """How long a proof holds (`HILO_PROOF_TTL_HOURS`, default 24)."""
    return float(os.environ.get("HILO_PROOF_TTL_HOURS", DEFAULT_TTL_HOURS)) * 3600


def _cipher() -> AESGCM:
    return AESGCM(hashlib.sha256(b"hilo ownership proof\0" + signing_key()).digest())


def _identity(tracker: Tracker) -> bytes:
    """Where the proof was given: the message's input channel and the conversation id."""
    channel = tracker.get_latest_input_channel() or ""
    return f"{channel}\0{tracker.sender_id}".encode()


def seal(proof: Proof, tracker: Tracker, now: float | None = None) -> str:
    """The slot value for `proof`, given on the tracker's channel and conversation."""
    expires = (time.time() if now is None else now) + ttl_seconds()
    body = json.dumps(
        {"k": proof.kind, "c": proof.contact, "m": proof.method, "exp": expires}
    ).encode()
    nonce = secrets.token_bytes(12)
    sealed = _cipher().encrypt(nonce, body, _identity(tracker))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(value: object, tracker: Tracker, now: float | None = None) -> Proof | None:
    """The proof in a slot value, if it was sealed here for this channel identity and holds."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    payload = value[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        body = json.loads(_cipher().decrypt(raw[:12], raw[12:], _identity(tracker)))
    except (InvalidTag, ValueError, TypeError):
        return None
    if not isinstance(body, dict) or body.get("k") not in ("email", "phone"):
        return None
    if float(body.get("exp", 0)) <= (time.time() if now is None else now):
        return None
    return Proof(kind=str(body["k"]), contact=str(body["c"]), method=str(body.get("m") or ""))
