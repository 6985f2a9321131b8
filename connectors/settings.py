"""Channel settings, read once from the environment (`.env.example` lists every variable).

credentials.yml only names the channel classes: Rasa refuses to start when a `${VAR}` there
is unset, and a laptop has no provider credentials. A channel whose required variables are
missing is still mounted but answers 503 and says which variables to set, so `make run` works
with none of them. Secrets are `Secret`s: their repr never shows the value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


class Secret(str):
    """A string whose repr is masked (settings objects end up in tracebacks and logs)."""

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _secret(name: str) -> Secret:
    return Secret(_env(name))


def _base(name: str, default: str) -> str:
    return (_env(name) or default).rstrip("/")


def _int(name: str, default: int) -> int:
    raw = _env(name)
    try:
        return int(raw) if raw else default
    except ValueError as error:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from error


def public_url() -> str:
    """How providers and customers reach Hilo (`HILO_PUBLIC_URL`; default the local server)."""
    return _base("HILO_PUBLIC_URL", f"http://localhost:{_env('HILO_RASA_PORT', '5005')}")


@dataclass(frozen=True)
class ChannelSettings:
    """Base: which required fields are empty (by their variable), whether a template is set."""

    @classmethod
    def from_env(cls) -> ChannelSettings:
        """The channel's settings from its environment variables (each channel reads its own)."""
        raise NotImplementedError

    @property
    def template_configured(self) -> bool:
        """Whether a re-engagement template is set (only WhatsApp's window ends in one)."""
        return False

    def missing(self) -> list[str]:
        """Environment variables that must be set before the channel works."""
        required = getattr(self, "REQUIRED", {})
        return [env for attr, env in required.items() if not getattr(self, attr)]

    @property
    def configured(self) -> bool:
        """All required variables are set."""
        return not self.missing()

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"{type(self).__name__}({shown})"


@dataclass(frozen=True, repr=False)
class WhatsAppSettings(ChannelSettings):
    """WhatsApp Cloud API (Meta)."""

    verify_token: Secret
    app_secret: Secret
    access_token: Secret
    phone_number_id: str
    api_base_url: str
    api_version: str
    template_name: str
    template_language: str

    REQUIRED = {  # noqa: RUF012 (a class constant, not a field)
        "verify_token": "WHATSAPP_VERIFY_TOKEN",
        "app_secret": "WHATSAPP_APP_SECRET",
        "access_token": "WHATSAPP_ACCESS_TOKEN",
        "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    }

    @classmethod
    def from_env(cls) -> WhatsAppSettings:
        """Reads WHATSAPP_* (see .env.example)."""
        return cls(
            verify_token=_secret("WHATSAPP_VERIFY_TOKEN"),
            app_secret=_secret("WHATSAPP_APP_SECRET"),
            access_token=_secret("WHATSAPP_ACCESS_TOKEN"),
            phone_number_id=_env("WHATSAPP_PHONE_NUMBER_ID"),
            api_base_url=_base("WHATSAPP_API_BASE_URL", "https://graph.facebook.com"),
            api_version=_env("WHATSAPP_API_VERSION", "v21.0"),
            template_name=_env("WHATSAPP_TEMPLATE_NAME"),
            template_language=_env("WHATSAPP_TEMPLATE_LANGUAGE", "es_MX"),
        )

    @property
    def template_configured(self) -> bool:
        """A re-engagement template is named (`WHATSAPP_TEMPLATE_NAME`)."""
        return bool(self.template_name)


@dataclass(frozen=True, repr=False)
class TwilioSettings(ChannelSettings):
    """WhatsApp and SMS through Twilio."""

    account_sid: str
    auth_token: Secret
    whatsapp_from: str
    sms_from: str
    api_base_url: str
    template_content_sid: str
    public_url: str
    # Where Twilio's MediaUrls redirect (its CDN); set only to put a fake CDN in front.
    media_base_url: str = ""

    REQUIRED = {  # noqa: RUF012
        "account_sid": "TWILIO_ACCOUNT_SID",
        "auth_token": "TWILIO_AUTH_TOKEN",
    }

    def missing(self) -> list[str]:
        """Also needs at least one sender number."""
        missing = super().missing()
        if not (self.whatsapp_from or self.sms_from):
            missing.append("TWILIO_WHATSAPP_FROM or TWILIO_SMS_FROM")
        return missing

    @classmethod
    def from_env(cls) -> TwilioSettings:
        """Reads TWILIO_* and HILO_PUBLIC_URL (see .env.example)."""
        return cls(
            account_sid=_env("TWILIO_ACCOUNT_SID"),
            auth_token=_secret("TWILIO_AUTH_TOKEN"),
            whatsapp_from=_env("TWILIO_WHATSAPP_FROM"),
            sms_from=_env("TWILIO_SMS_FROM"),
            api_base_url=_base("TWILIO_API_BASE_URL", "https://api.twilio.com"),
            template_content_sid=_env("TWILIO_TEMPLATE_CONTENT_SID"),
            public_url=public_url(),
            media_base_url=_env("TWILIO_MEDIA_BASE_URL"),
        )

    @property
    def template_configured(self) -> bool:
        """A Content API template (`TWILIO_TEMPLATE_CONTENT_SID`) for WhatsApp conversations."""
        return bool(self.template_content_sid)


@dataclass(frozen=True, repr=False)
class MessengerSettings(ChannelSettings):
    """Messenger (and Instagram messaging, same Graph API)."""

    verify_token: Secret
    app_secret: Secret
    page_access_token: Secret
    api_base_url: str
    api_version: str

    REQUIRED = {  # noqa: RUF012
        "verify_token": "MESSENGER_VERIFY_TOKEN",
        "app_secret": "MESSENGER_APP_SECRET",
        "page_access_token": "MESSENGER_PAGE_ACCESS_TOKEN",
    }

    @classmethod
    def from_env(cls) -> MessengerSettings:
        """Reads MESSENGER_* (see .env.example)."""
        return cls(
            verify_token=_secret("MESSENGER_VERIFY_TOKEN"),
            app_secret=_secret("MESSENGER_APP_SECRET"),
            page_access_token=_secret("MESSENGER_PAGE_ACCESS_TOKEN"),
            api_base_url=_base("MESSENGER_API_BASE_URL", "https://graph.facebook.com"),
            api_version=_env("MESSENGER_API_VERSION", "v21.0"),
        )


@dataclass(frozen=True, repr=False)
class TelegramSettings(ChannelSettings):
    """A Telegram bot in webhook mode."""

    bot_token: Secret
    secret_token: Secret
    api_base_url: str

    REQUIRED = {  # noqa: RUF012
        "bot_token": "TELEGRAM_BOT_TOKEN",
        "secret_token": "TELEGRAM_SECRET_TOKEN",
    }

    @classmethod
    def from_env(cls) -> TelegramSettings:
        """Reads TELEGRAM_* (see .env.example)."""
        return cls(
            bot_token=_secret("TELEGRAM_BOT_TOKEN"),
            secret_token=_secret("TELEGRAM_SECRET_TOKEN"),
            api_base_url=_base("TELEGRAM_API_BASE_URL", "https://api.telegram.org"),
        )


@dataclass(frozen=True)
class MediaLimits:
    """What customers may send: size and types (anything else gets a polite refusal)."""

    max_bytes: int

    @classmethod
    def from_env(cls) -> MediaLimits:
        """`HILO_MEDIA_MAX_BYTES`, default 16 MB (WhatsApp's own limit for most media)."""
        return cls(max_bytes=_int("HILO_MEDIA_MAX_BYTES", 16 * 1024 * 1024))
