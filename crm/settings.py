"""The CRM feed's configuration, read once from the environment (docs/webhooks.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A variable has a value the feed cannot use (the message names it)."""


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}")
    return value


@dataclass(frozen=True)
class WebhookSettings:
    """Where events go and how hard the worker tries (every time in seconds)."""

    url: str | None
    secret: str = field(default="", repr=False)  # never in a log or a traceback
    desk_url: str = "http://localhost:8080"
    quiet_seconds: float = 30 * 60
    max_age_seconds: float = 24 * 3600
    retry_base_seconds: float = 10.0
    retry_cap_seconds: float = 600.0
    timeout_seconds: float = 10.0
    poll_seconds: float = 2.0
    keep_seconds: float = 30 * 86400
    lease_seconds: float = 60.0
    batch: int = 20

    @property
    def enabled(self) -> bool:
        """Whether there is a CRM to send to."""
        return bool(self.url)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        """From `env` (default `os.environ`); `SettingsError` on a bad value.

        A URL without a secret is refused: the CRM could not tell Hilo's events from
        anybody's.
        """
        env = os.environ if env is None else env
        url = env.get("HILO_WEBHOOK_URL", "").strip() or None
        secret = env.get("HILO_WEBHOOK_SECRET", "")
        if url and not secret:
            raise SettingsError("HILO_WEBHOOK_URL is set but HILO_WEBHOOK_SECRET is not")
        if url and not url.startswith(("http://", "https://")):
            raise SettingsError("HILO_WEBHOOK_URL must be an http:// or https:// URL")
        port = env.get("HILO_DESK_PORT", "8080").strip() or "8080"
        desk_url = env.get("HILO_DESK_URL", "").strip() or f"http://localhost:{port}"
        return cls(
            url=url,
            secret=secret,
            desk_url=desk_url.rstrip("/"),
            quiet_seconds=60 * _number(env, "HILO_SUMMARY_QUIET_MINUTES", 30, minimum=1),
            max_age_seconds=3600 * _number(env, "HILO_WEBHOOK_MAX_AGE_HOURS", 24, minimum=1),
            retry_cap_seconds=_number(env, "HILO_WEBHOOK_MAX_INTERVAL_SECONDS", 600, minimum=1),
            timeout_seconds=_number(env, "HILO_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1),
            keep_seconds=86400 * _number(env, "HILO_WEBHOOK_KEEP_DAYS", 30, minimum=1),
        )
