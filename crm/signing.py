"""X-Hilo-Signature: `sha256=` and the hex HMAC-SHA256 of the raw body under the secret.

The CRM recomputes it over the bytes it received, before parsing them, and compares in
constant time (`verify`, which is also what a Python receiver can use).
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header's value for `body`."""
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Whether `header` is `body`'s signature under `secret`."""
    if not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())
