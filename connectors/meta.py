"""What WhatsApp Cloud API and Messenger share: Meta's webhook handshake, signature and Graph API.

- Handshake: `GET …/webhook?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the
  challenge when the token matches, 403 otherwise.
- Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`, checked over
  the bytes received (never a re-serialization) in constant time.
- Graph API: JSON over httpx, errors `{"error": {"code", "message", …}}` mapped to `SendError`
  (rate limits and server errors are retryable).

See `../shared/reference/channel-specs.md` §2.1, §2.3, §2.5, §3.4.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.errors import SendError, SignatureError

# Graph error codes that mean "slow down" (throughput, pair rate, app/page rate limits).
RATE_LIMIT_CODES = {"4", "17", "32", "613", "80007", "130429", "131056"}
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def verify_signature(app_secret: str, body: bytes, header: str | None) -> None:
    """Raises `SignatureError` unless `header` is the body's HMAC-SHA256 with the app secret."""
    if not header or not header.startswith("sha256="):
        raise SignatureError("missing X-Hub-Signature-256")
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower()):
        raise SignatureError("X-Hub-Signature-256 does not match")


def handshake(request: Request, verify_token: str) -> HTTPResponse:
    """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
    mode = request.args.get("hub.mode", "")
    token = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if mode == "subscribe" and verify_token and hmac.compare_digest(token, verify_token):
        return response.text(challenge)
    return response.json({"error": "verification failed"}, status=403)


def new_client() -> httpx.AsyncClient:
    """An httpx client for the Graph API (one per event loop, see `PerLoop`)."""
    return httpx.AsyncClient(timeout=TIMEOUT)


async def graph_post(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    *,
    token: str,
    token_in_query: bool = False,
) -> dict[str, Any]:
    """POSTs JSON to the Graph API; the reply's JSON, or `SendError` with Meta's code."""
    headers = {} if token_in_query else {"Authorization": f"Bearer {token}"}
    params = {"access_token": token} if token_in_query else None
    try:
        reply = await client.post(url, json=body, headers=headers, params=params)
    except httpx.HTTPError as error:
        raise SendError("network", type(error).__name__, retryable=True) from error
    return graph_result(reply)


def graph_result(reply: httpx.Response) -> dict[str, Any]:
    """The JSON of a Graph reply, or `SendError` carrying Meta's error code and message."""
    try:
        data = reply.json()
    except ValueError:
        data = {}
    if reply.status_code < 300 and isinstance(data, dict) and "error" not in data:
        return data
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or reply.status_code)
    message = str(error.get("message") or f"HTTP {reply.status_code}")
    details = (error.get("error_data") or {}).get("details") if error else None
    if details:
        message = f"{message} ({details})"
    if error.get("error_subcode"):
        # 10/2018278 is Messenger's "outside the window"; other code-10 errors are permissions.
        message = f"{message} [subcode {error['error_subcode']}]"
    retryable = code in RATE_LIMIT_CODES or reply.status_code == 429 or reply.status_code >= 500
    raise SendError(code, message, retryable=retryable, retry_after=_retry_after(reply))


def _retry_after(reply: httpx.Response) -> float | None:
    value = reply.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
