"""Hilo's channels by name, and the window rules each channel's adapter is built on.

A channel's rules class says which window a conversation lives under (Twilio: WhatsApp's for
`twilio:whatsapp:` ids, none for SMS) and which settings the channel reads; the settings say
whether a re-engagement template is set. Each adapter's sender inherits its channel's class
(`class WhatsAppSender(WhatsAppRules, ChannelSender)`), so the rules are stated once and asked
two ways:

- the hub asks the sender it sends with (`ChannelSender.window_rules`), with the adapter's
  own settings;
- the desk and the action server, which run no channel, ask `window_rules(channel,
  conversation_id)`, with the settings in their own environment.

The classes live here rather than in the channel modules because those import Rasa, Sanic and
the providers' libraries, which the desk and the action server must not load (the desk runs
without Rasa: docs/security.md). A new channel is its adapter module plus its rules class in
`CHANNELS`; tests/unit/connectors/test_registry.py checks that every channel credentials.yml
mounts is here and that its adapter is built on its rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from connectors.settings import (
    ChannelSettings,
    MessengerSettings,
    TelegramSettings,
    TwilioSettings,
    WhatsAppSettings,
)
from connectors.windows import Window, WindowRules


class ChannelRules:
    """What a channel states about its messaging window; by default, that it has none."""

    channel: ClassVar[str]
    # Where a process that runs no channel (the desk) reads the template setting from.
    settings_class: ClassVar[type[ChannelSettings] | None] = None

    @classmethod
    def window_for(cls, conversation_id: str) -> Window:
        """The window this conversation lives under."""
        return Window.NONE

    @classmethod
    def rules_for(cls, conversation_id: str, settings: ChannelSettings | None) -> WindowRules:
        """The conversation's rules under `settings`.

        A template counts only where the window ends in one: Twilio's SMS conversations share
        the WhatsApp template's setting but can never send it.
        """
        window = cls.window_for(conversation_id)
        template = window.ends_in_template and settings is not None and settings.template_configured
        return WindowRules(window, template_configured=template)


class WhatsAppRules(ChannelRules):
    """WhatsApp Cloud API: 24 h after the customer's last message, then only a template."""

    channel = "whatsapp"
    settings_class = WhatsAppSettings

    @classmethod
    def window_for(cls, conversation_id: str) -> Window:
        """Every conversation is a WhatsApp one."""
        return Window.WHATSAPP


class TwilioRules(ChannelRules):
    """Twilio: WhatsApp's window for `twilio:whatsapp:` conversations; SMS has none."""

    channel = "twilio"
    settings_class = TwilioSettings

    @classmethod
    def window_for(cls, conversation_id: str) -> Window:
        """WhatsApp's 24 h window, or none for SMS, by the conversation id."""
        if conversation_id.startswith("twilio:whatsapp:"):
            return Window.WHATSAPP
        return Window.NONE


class MessengerRules(ChannelRules):
    """Messenger and Instagram: 24 h, then only people's replies, tagged, up to 7 days."""

    channel = "messenger"
    settings_class = MessengerSettings

    @classmethod
    def window_for(cls, conversation_id: str) -> Window:
        """Messenger's window, Instagram conversations included."""
        return Window.MESSENGER


class TelegramRules(ChannelRules):
    """Telegram: a bot may write to a chat that started it at any time."""

    channel = "telegram"
    settings_class = TelegramSettings


class SandboxRules(ChannelRules):
    """The sandbox page: a local chat with no provider, so no window."""

    channel = "sandbox"


class RestRules(ChannelRules):
    """Rasa's REST channel (connectors/local.py): the answer is the HTTP response, no window.

    It has no Hilo adapter, but conversations on it are handed to people (tests, `make
    shell`, and actions/handoff.py's fallback when a tracker names no channel).
    """

    channel = "rest"


CHANNELS: Mapping[str, type[ChannelRules]] = {
    rules.channel: rules
    for rules in (
        WhatsAppRules,
        TwilioRules,
        MessengerRules,
        TelegramRules,
        SandboxRules,
        RestRules,
    )
}


class UnknownChannel(LookupError):
    """A channel name no registered adapter answers to."""

    def __init__(self, channel: str) -> None:
        """Names the channels there are, so a typo or a channel without rules is plain."""
        super().__init__(
            f"no channel named {channel!r}: Hilo's channels are "
            f"{', '.join(sorted(CHANNELS))} (connectors/registry.py)"
        )
        self.channel = channel


def rules_of(channel: str) -> type[ChannelRules]:
    """The rules class of the channel named `channel`; `UnknownChannel` if there is none."""
    try:
        return CHANNELS[channel]
    except KeyError:
        raise UnknownChannel(channel) from None


def window_rules(channel: str, conversation_id: str) -> WindowRules:
    """A conversation's window rules, with the channel's settings from this process's environment.

    For processes that run no channel (the desk, the action server); the hub asks its sender.
    """
    rules = rules_of(channel)
    settings = None if rules.settings_class is None else rules.settings_class.from_env()
    return rules.rules_for(conversation_id, settings)
