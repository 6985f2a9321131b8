"""One-time codes: six digits sent to an order's email before a step that cannot be undone.

The last 4 digits of a phone are 10,000 possibilities and the whole number is known to
anyone who has it in their contacts, so they prove enough to read an order's status but not
to cancel it, change it, return it or get its invoice (actions/orders/lookup.py). For those,
a customer who did not write from the order's own phone proves owning it with a code sent to
the order's email (or by typing that email).

A code is stored only as an HMAC under Hilo's key, bound to the order and to who asked for it
(a keyed pseudonym of the channel identity): a code asked for in one conversation opens
nothing in another. It holds CODE_TTL, takes CODE_ATTEMPTS tries and works once; every wrong
try also counts as a wrong proof for the order (its per-order and per-source limits).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from enum import Enum

from hilo.keys import signing_key
from hilo.pseudonyms import pseudonym

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5


class CodeCheck(str, Enum):
    """What a typed code turned out to be."""

    OK = "ok"
    WRONG = "wrong"
    NONE = "none"  # no live code for this order and source: expired, used up, never sent


def proof_source(input_channel: str | None, sender_id: str) -> str:
    """Who typed a proof or asked for a code: a keyed pseudonym of the channel identity.

    Wrong proofs (verification_failures) and codes (one_time_codes) are stored under it; an
    erasure (actions/commerce/personal_data.py) computes it again to find a person's rows.
    """
    return pseudonym(f"{input_channel or ''}:{sender_id}", 32)


def new_code() -> str:
    """Six random digits (a CSPRNG, leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(code: str, order_number: str, source: str) -> str:
    """What is stored for a code: an HMAC binding it to the order and the source."""
    key = hashlib.sha256(b"hilo one-time codes\0" + signing_key()).digest()
    message = f"{order_number}\0{source}\0{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
