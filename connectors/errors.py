"""What can go wrong between a provider and the bot.

ConnectorError
├── NotConfigured      the channel's credentials are missing (webhook: 503)
├── SignatureError     the request is not from the provider (webhook: 403)
├── PayloadError       the body is not what the provider sends (webhook: 400)
├── SendError          the provider refused or could not take a message
│                      (`code`, `retryable`, `retry_after`); recorded on the message
└── MediaError         a customer's file could not be fetched or is not accepted
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error."""


class NotConfigured(ConnectorError):
    """A channel is declared but its credentials are not set."""


class SignatureError(ConnectorError):
    """A webhook failed its authenticity check."""


class PayloadError(ConnectorError):
    """A webhook body could not be parsed."""


class SendError(ConnectorError):
    """A provider did not accept a message.

    `code` is the provider's error code (or a category such as "network"); `retryable` says
    whether trying again may work (rate limits, 5xx, timeouts); `retry_after` is the wait the
    provider asked for, in seconds.
    """

    def __init__(
        self, code: str, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


class MediaError(ConnectorError):
    """A customer's file was not stored; `reason` is "too_large", "type" or "download"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
