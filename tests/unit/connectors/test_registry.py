"""Each channel's window rules, asked by name as the desk asks them, and the registry's reach."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from rasa.core.channels.rest import RestInput
from rasa.shared.utils.common import class_from_module_path
from rasa.shared.utils.io import read_config_file

from connectors.adapter import ChannelSender
from connectors.registry import CHANNELS, UnknownChannel, rules_of, window_rules
from connectors.settings import TwilioSettings, WhatsAppSettings
from connectors.twilio import TwilioSender
from connectors.webhook import HiloInput
from connectors.whatsapp import WhatsAppSender
from connectors.windows import DAY, HOUR, Window, WindowRules

NOW = 1_800_000_000.0
WA = "twilio:whatsapp:+5215512345678"
SMS = "twilio:sms:+5215512345678"


@pytest.fixture(autouse=True)
def no_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The desk reads templates from its environment: none unless a test sets one."""
    monkeypatch.delenv("WHATSAPP_TEMPLATE_NAME", raising=False)
    monkeypatch.delenv("TWILIO_TEMPLATE_CONTENT_SID", raising=False)


@pytest.mark.parametrize(
    ("channel", "conversation", "window"),
    [
        ("whatsapp", "whatsapp:+5215512345678", Window.WHATSAPP),
        ("twilio", WA, Window.WHATSAPP),
        ("twilio", SMS, Window.NONE),
        ("messenger", "messenger:123", Window.MESSENGER),
        ("messenger", "instagram:123", Window.MESSENGER),
        ("telegram", "telegram:1", Window.NONE),
        ("sandbox", "sandbox:abc", Window.NONE),
        ("rest", "a-rest-sender", Window.NONE),
    ],
)
def test_each_conversation_gets_its_channels_window(
    channel: str, conversation: str, window: Window
) -> None:
    assert window_rules(channel, conversation) == WindowRules(window, template_configured=False)


def test_whatsapp_cloud_sends_its_template_after_24_hours_once_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation = "whatsapp:+5215512345678"
    without = window_rules("whatsapp", conversation)
    assert not without.decide(NOW - 25 * HOUR, NOW, from_agent=True).send
    monkeypatch.setenv("WHATSAPP_TEMPLATE_NAME", "hilo_reengagement")
    rules = window_rules("whatsapp", conversation)
    assert rules.template_configured
    assert rules.decide(NOW - 23 * HOUR, NOW, from_agent=True).template is False
    assert rules.decide(NOW - 25 * HOUR, NOW, from_agent=True).template is True
    assert rules.closes_at(NOW, from_agent=True) == NOW + DAY  # agents get no longer


def test_twilio_templates_only_whatsapp_conversations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_TEMPLATE_CONTENT_SID", "HX0123456789abcdef0123456789abcdef")
    assert window_rules("twilio", WA) == WindowRules(Window.WHATSAPP, template_configured=True)
    sms = window_rules("twilio", SMS)
    assert sms == WindowRules(Window.NONE, template_configured=False)
    assert sms.decide(NOW - 30 * DAY, NOW, from_agent=False).send
    assert sms.is_open(None, NOW, from_agent=True)
    assert sms.closes_at(NOW, from_agent=True) is None


def test_messenger_lets_people_write_for_7_days_and_the_bot_for_24_hours() -> None:
    rules = window_rules("messenger", "messenger:123")
    assert not rules.template_configured
    late = NOW - 30 * HOUR
    agent, bot = rules.decide(late, NOW, from_agent=True), rules.decide(late, NOW, from_agent=False)
    assert agent.send
    assert agent.tag_human_agent
    assert not bot.send
    assert not rules.decide(NOW - 8 * DAY, NOW, from_agent=True).send
    assert rules.closes_at(NOW, from_agent=True) == NOW + 7 * DAY
    assert rules.closes_at(NOW, from_agent=False) == NOW + DAY


def test_telegram_never_closes() -> None:
    rules = window_rules("telegram", "telegram:1")
    assert rules.decide(NOW - 365 * DAY, NOW, from_agent=False).send
    assert rules.is_open(NOW - 365 * DAY, NOW, from_agent=True)
    assert rules.closes_at(NOW, from_agent=True) is None


@pytest.mark.parametrize("channel", ["", "WhatsApp", "instagram", "cmdline", "whatsapp "])
def test_an_unknown_channel_is_refused_by_name(channel: str) -> None:
    with pytest.raises(UnknownChannel) as refused:
        window_rules(channel, f"{channel}:1")
    assert isinstance(refused.value, LookupError)
    assert refused.value.channel == channel
    message = str(refused.value)
    assert repr(channel) in message
    assert "messenger, rest, sandbox, telegram, twilio, whatsapp" in message


def test_the_desk_and_the_hub_get_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """By name with the environment's settings, or from the sender with the same settings."""
    monkeypatch.setenv("WHATSAPP_TEMPLATE_NAME", "hilo_reengagement")
    monkeypatch.setenv("TWILIO_TEMPLATE_CONTENT_SID", "HX0123456789abcdef0123456789abcdef")
    whatsapp = WhatsAppSender(WhatsAppSettings.from_env(), max_bytes=1)
    twilio = TwilioSender(TwilioSettings.from_env(), max_bytes=1)
    for sender, conversation in ((whatsapp, "whatsapp:+1"), (twilio, WA), (twilio, SMS)):
        assert sender.window_rules(conversation) == window_rules(sender.channel, conversation)


def mounted_channels(root: Path) -> dict[str, type]:
    """credentials.yml's input channels that carry customers' conversations, by name."""
    found: dict[str, type] = {}
    for path in read_config_file(str(root / "credentials.yml")):
        input_class = class_from_module_path(path)
        if issubclass(input_class, (HiloInput, RestInput)):
            found[input_class.name()] = input_class
    return found


def test_every_mounted_channel_is_registered(root: Path) -> None:
    """Otherwise a handoff on it would fail: the desk could not tell its window."""
    mounted = mounted_channels(root)
    assert set(mounted) == set(CHANNELS)


def test_every_adapter_is_built_on_its_channels_rules(root: Path) -> None:
    """One statement of the rules: the sender the hub asks inherits what the desk asks."""
    for name, input_class in mounted_channels(root).items():
        if not issubclass(input_class, HiloInput):
            continue  # Rasa's REST channel has no sender of Hilo's
        module = importlib.import_module(input_class.__module__)
        senders = [
            value
            for value in vars(module).values()
            if getattr(value, "__module__", None) == module.__name__  # not aliases like dict[…]
            and isinstance(value, type)
            and issubclass(value, ChannelSender)
        ]
        assert len(senders) == 1, (name, senders)
        (sender,) = senders
        assert issubclass(sender, rules_of(name)), (name, sender)
        assert sender.channel == name
