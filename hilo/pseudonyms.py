"""Keyed pseudonyms: stable stand-ins for ids that contain phone numbers.

Conversation ids are often phone numbers ("whatsapp:+5215512345678"). Logs and counters need
to tell customers apart without naming them. A plain SHA-256 of a phone number can be
reversed by hashing every number of a country, so these are HMAC-SHA256 under Hilo's key
(hilo/keys.py): without the key they cannot be recomputed.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from hilo.keys import signing_key


@lru_cache(maxsize=1)
def _key() -> bytes:
    return hashlib.sha256(b"hilo pseudonyms\0" + signing_key()).digest()


def pseudonym(value: str, length: int = 16) -> str:
    """A hex pseudonym of `value` (`length` hex digits, at most 64)."""
    return hmac.new(_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
