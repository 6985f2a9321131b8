"""Messenger/Instagram: parsing real webhook payloads, the signature vector, Send API bodies."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from connectors import meta
from connectors.errors import PayloadError, SendError, SignatureError
from connectors.messages import Button, DeliveryStatus, Kind, OutboundPart, StatusUpdate
from connectors.messenger import (
    MessengerInput,
    MessengerSender,
    parse_body,
    recipient_of,
    render_message,
)
from connectors.settings import MessengerSettings, Secret
from connectors.windows import Window, WindowRules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "messenger"
SPEC_SIGNATURE = "sha256=fa5d37e8c55ec4064277714d343885f5739b403fc6a921a6fdf6ffd20474e7cd"
PSID = "6543210987654321"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def settings(**overrides: str) -> MessengerSettings:
    values = {
        "verify_token": Secret("verify-me"),
        "app_secret": Secret("test_app_secret"),
        "page_access_token": Secret("EAAG-page-token"),
        "api_base_url": "https://graph.example",
        "api_version": "v21.0",
    }
    values.update(overrides)
    return MessengerSettings(**values)  # type: ignore[arg-type]


# --- signature -----------------------------------------------------------------------------


def test_the_spec_signature_vector_matches_the_byte_exact_fixture() -> None:
    body = fixture("text.json")
    assert len(body) == 269  # the spec's block verbatim: no reformatting, no trailing newline
    meta.verify_signature("test_app_secret", body, SPEC_SIGNATURE)
    with pytest.raises(SignatureError):
        meta.verify_signature("another_secret", body, SPEC_SIGNATURE)
    with pytest.raises(SignatureError):
        meta.verify_signature("test_app_secret", body + b" ", SPEC_SIGNATURE)


@pytest.mark.parametrize(
    "header",
    [None, "", "fa5d37e8c55ec4064277714d343885f5739b403fc6a921a6fdf6ffd20474e7cd", "sha256=00"],
)
def test_the_input_rejects_missing_or_wrong_signatures(header: str | None) -> None:
    channel = MessengerInput(settings())
    headers = {} if header is None else {"x-hub-signature-256": header}
    request = SimpleNamespace(body=fixture("text.json"), headers=headers)
    with pytest.raises(SignatureError):
        channel.verify(request)  # type: ignore[arg-type]


def test_the_input_accepts_the_spec_signature() -> None:
    channel = MessengerInput(settings())
    request = SimpleNamespace(
        body=fixture("text.json"), headers={"x-hub-signature-256": SPEC_SIGNATURE}
    )
    channel.verify(request)  # type: ignore[arg-type]


# --- parsing -------------------------------------------------------------------------------


def test_a_text_message() -> None:
    batch = parse_body(fixture("text.json"))
    (message,) = batch.messages
    assert message.channel == "messenger"
    assert message.conversation_id == f"messenger:{PSID}"
    assert message.provider_id == "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    assert message.kind is Kind.TEXT
    assert message.text == "hello, world!"
    assert message.sent_at == 1700000000.0  # milliseconds → seconds
    assert message.extra == {"account_id": "107390181234567"}
    assert batch.statuses == []
    assert batch.ignored == []


def test_a_quick_reply_tap_is_a_button_with_its_payload_and_title() -> None:
    (message,) = parse_body(fixture("quick_reply.json")).messages
    assert message.kind is Kind.BUTTON
    assert message.payload == "COLOR_RED"
    assert message.text == "Red"
    assert message.nlu_text() == "COLOR_RED"
    assert message.provider_id == "mid.1457764197618:41d102a3e1ae206a38"
    assert message.sent_at == 1458692752.478


def test_a_postback_is_a_button() -> None:
    (message,) = parse_body(fixture("postback.json")).messages
    assert message.kind is Kind.BUTTON
    assert message.payload == "/human_handoff"
    assert message.text == "Hablar con alguien"
    assert message.provider_id == "m_PbXyZ0123456789AbCdEfGhIjKlMnOp"


def test_a_postback_without_mid_gets_a_stable_key() -> None:
    (first,) = parse_body(fixture("postback_without_mid.json")).messages
    (again,) = parse_body(fixture("postback_without_mid.json")).messages
    assert first.provider_id == again.provider_id
    assert first.provider_id.startswith("postback-")
    assert first.payload == "GET_STARTED"
    other = json.loads(fixture("postback_without_mid.json"))
    other["entry"][0]["messaging"][0]["timestamp"] += 1
    (later,) = parse_body(json.dumps(other).encode()).messages
    assert later.provider_id != first.provider_id


def test_an_image_attachment_is_media_with_the_cdn_url() -> None:
    (message,) = parse_body(fixture("image.json")).messages
    assert message.kind is Kind.MEDIA
    assert message.text == ""
    assert message.nlu_text() == "/send_media"
    (media,) = message.media
    assert media.provider_ref == "https://scontent.xx.fbcdn.net/v/t1.15752-9/12345_n.jpg"
    assert media.content_type == "image/jpeg"


def test_video_audio_and_file_attachments_get_types_and_the_file_its_name() -> None:
    (message,) = parse_body(fixture("attachments.json")).messages
    video, audio, document = message.media
    assert (video.content_type, video.filename) == ("video/mp4", None)
    assert audio.content_type == "audio/mp4"
    assert document.content_type == "application/pdf"
    assert document.filename == "factura.pdf"
    assert document.provider_ref.startswith("https://cdn.fbsbx.com/")


def test_a_location_with_coordinates_is_a_location() -> None:
    (message,) = parse_body(fixture("location.json")).messages
    assert message.kind is Kind.LOCATION
    assert message.location is not None
    assert (message.location.latitude, message.location.longitude) == (19.4326, -99.1332)
    assert message.location.name == "Sucursal Centro"


def test_a_fallback_alone_is_ignored_but_its_text_is_not() -> None:
    batch = parse_body(fixture("fallback.json"))
    (message,) = batch.messages
    assert message.provider_id == "m_FallbackText0123456789AbCdEfGhIj"
    assert message.kind is Kind.TEXT
    assert message.text == "mira https://example.com/x"
    assert batch.ignored == ["fallback", "fallback"]


def test_a_reply_names_the_quoted_message() -> None:
    (message,) = parse_body(fixture("reply_to.json")).messages
    assert message.reply_to == "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    assert message.text == "sí, ese"  # Meta's \u escapes decoded


def test_an_echo_is_ignored() -> None:
    batch = parse_body(fixture("echo.json"))
    assert batch.messages == []
    assert batch.ignored == ["echo"]


def test_a_delivery_becomes_a_delivered_status_per_mid() -> None:
    batch = parse_body(fixture("delivery.json"))
    assert batch.statuses == [
        StatusUpdate("messenger", "mid.1458668856218:ed81099e15d3f4f233", DeliveryStatus.DELIVERED)
    ]
    assert batch.messages == []


def test_a_delivery_without_mids_and_a_messenger_read_are_ignored() -> None:
    assert parse_body(fixture("delivery_watermark_only.json")).ignored == ["delivery"]
    batch = parse_body(fixture("read.json"))
    assert batch.ignored == ["read"]
    assert batch.statuses == []


def test_an_instagram_read_names_its_message() -> None:
    (status,) = parse_body(fixture("instagram_read.json")).statuses
    assert status.status is DeliveryStatus.READ
    assert status.provider_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx")


def test_instagram_messages_are_instagram_conversations() -> None:
    (message,) = parse_body(fixture("instagram_text.json")).messages
    assert message.channel == "messenger"
    assert message.conversation_id == "instagram:1234567890123456"
    assert message.text == "hola desde instagram"
    assert message.extra == {"account_id": "17841400008460056"}


def test_every_entry_and_every_event_of_a_batch_is_read_in_order() -> None:
    batch = parse_body(fixture("batch.json"))
    assert [(m.conversation_id, m.text) for m in batch.messages] == [
        ("messenger:1111111111111111", "uno"),
        ("messenger:2222222222222222", "one"),
        ("messenger:1111111111111111", "dos"),
        ("messenger:2222222222222222", "two"),
    ]


def test_reactions_optins_and_referrals_are_ignored_by_type() -> None:
    batch = parse_body(fixture("other_events.json"))
    assert batch.messages == []
    assert batch.ignored == ["reaction", "optin", "referral"]


def test_entries_without_messaging_are_ignored_by_what_they_carry() -> None:
    body = {
        "object": "page",
        "entry": [
            {"id": "1", "time": 1, "changes": [{"field": "feed", "value": {}}]},
            {"id": "1", "time": 1, "standby": [{"sender": {"id": "2"}}]},
        ],
    }
    assert parse_body(json.dumps(body).encode()).ignored == ["changes", "standby"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"entry": []}',
        b'{"object": "whatsapp_business_account", "entry": []}',
        b'{"object": "page", "entry": {}}',
        b'{"object": "page", "entry": ["x"]}',
        b'{"object": "page", "entry": [{"messaging": {}}]}',
        b'{"object": "page", "entry": [{"messaging": [1]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"timestamp": 1, "message": {"mid": "m",'
        b' "text": "x"}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
        b' "message": {"text": "no mid"}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"},'
        b' "message": {"mid": "m", "text": "no time"}}]}]}',
        b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
        b' "message": {"mid": "m", "attachments": {}}}]}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_payload_errors(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_body(body)


def test_an_empty_batch_is_fine() -> None:
    batch = parse_body(b'{"object":"page","entry":[]}')
    assert (batch.messages, batch.statuses, batch.ignored) == ([], [], [])


# --- sending -------------------------------------------------------------------------------


def test_a_text_reply_body() -> None:
    assert render_message(PSID, OutboundPart(text="hello, world")) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello, world"},
    }


def test_an_agent_reply_after_24_hours_is_tagged_human_agent() -> None:
    assert render_message(PSID, OutboundPart(text="Soy Anna", tag_human_agent=True)) == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Soy Anna"},
    }


def test_quick_replies_as_the_send_api_expects() -> None:
    part = OutboundPart(
        text="Pick a color:",
        buttons=(Button("Red", "COLOR_RED"), Button("Green", "COLOR_GREEN")),
    )
    assert render_message(PSID, part) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Pick a color:",
            "quick_replies": [
                {"content_type": "text", "title": "Red", "payload": "COLOR_RED"},
                {"content_type": "text", "title": "Green", "payload": "COLOR_GREEN"},
            ],
        },
    }
    assert not MessengerSender(settings()).numbered_buttons(part)


def test_long_titles_are_cut_to_20_and_long_payloads_become_keys() -> None:
    part = OutboundPart(
        text="¿Qué necesitás?",
        buttons=(
            Button("Quiero hablar con una persona", "/handoff"),
            Button("Otro", "/inform" + "x" * 1000),
            Button("Exacto", "y" * 1000),
        ),
    )
    replies = render_message(PSID, part)["message"]["quick_replies"]
    assert replies[0]["title"] == "Quiero hablar con u…"
    assert len(replies[0]["title"]) == 20
    assert replies[1]["payload"] == "#2"
    assert replies[2]["payload"] == "y" * 1000


def test_thirteen_buttons_are_quick_replies_and_fourteen_a_numbered_list() -> None:
    sender = MessengerSender(settings())
    thirteen = OutboundPart(
        text="Elegí:", buttons=tuple(Button(f"B{i}", f"/b{i}") for i in range(1, 14))
    )
    assert len(render_message(PSID, thirteen)["message"]["quick_replies"]) == 13
    assert not sender.numbered_buttons(thirteen)
    fourteen = OutboundPart(
        text="Elegí:", buttons=tuple(Button(f"B{i}", f"/b{i}") for i in range(1, 15))
    )
    message = render_message(PSID, fourteen)["message"]
    assert message == {"text": "Elegí:\n\n" + "\n".join(f"{i}. B{i}" for i in range(1, 15))}
    assert sender.numbered_buttons(fourteen)


def test_buttons_without_text_carry_the_numbered_choices_as_text() -> None:
    part = OutboundPart(buttons=(Button("Sí", "/affirm"), Button("No", "/deny")))
    message = render_message(PSID, part)["message"]
    assert message["text"] == "1. Sí\n2. No"
    assert [reply["payload"] for reply in message["quick_replies"]] == ["/affirm", "/deny"]
    assert MessengerSender(settings()).numbered_buttons(part)


def test_images_and_documents_are_reusable_attachments() -> None:
    image = render_message(PSID, OutboundPart(image_url="https://hilo.example/m/a.jpg"))
    assert image["message"] == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://hilo.example/m/a.jpg", "is_reusable": True},
        }
    }
    document = render_message(
        PSID, OutboundPart(document_url="https://hilo.example/m/f.pdf", filename="f.pdf")
    )
    assert document["message"]["attachment"]["type"] == "file"
    assert document["message"]["attachment"]["payload"]["url"] == "https://hilo.example/m/f.pdf"


def test_recipients_come_from_messenger_and_instagram_conversations_only() -> None:
    assert recipient_of(f"messenger:{PSID}") == PSID
    assert recipient_of("instagram:1234567890123456") == "1234567890123456"
    for other in ("whatsapp:+5215512345678", "messenger:", PSID):
        with pytest.raises(SendError) as error:
            recipient_of(other)
        assert error.value.code == "recipient"


def test_the_sender_declares_the_messenger_window_and_limit() -> None:
    sender = MessengerSender(settings())
    assert sender.window_rules(f"messenger:{PSID}") == WindowRules(Window.MESSENGER)
    assert sender.window_rules("instagram:1") == WindowRules(Window.MESSENGER)
    assert sender.text_limit == 2000
    assert not sender.window_rules(f"messenger:{PSID}").template_configured
    assert sender.url == "https://graph.example/v21.0/me/messages"


def test_a_template_part_is_refused() -> None:
    sender = MessengerSender(settings())
    with pytest.raises(SendError) as error:
        asyncio.run(sender.send(f"messenger:{PSID}", OutboundPart(template=True)))
    assert error.value.code == "template"
    assert not error.value.retryable


def test_an_unreachable_api_is_a_retryable_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nothing listens
    sender = MessengerSender(settings(api_base_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(SendError) as error:
        asyncio.run(sender.send(f"messenger:{PSID}", OutboundPart(text="hola")))
    assert error.value.code == "network"
    assert error.value.retryable


# --- settings ------------------------------------------------------------------------------


def test_settings_come_from_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MESSENGER_API_BASE_URL", "MESSENGER_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MESSENGER_VERIFY_TOKEN", "verify-value")
    monkeypatch.setenv("MESSENGER_APP_SECRET", "secret-value")
    monkeypatch.setenv("MESSENGER_PAGE_ACCESS_TOKEN", "token-value")
    channel = MessengerInput()
    assert channel.configured
    assert channel.settings.api_base_url == "https://graph.facebook.com"
    assert channel.settings.api_version == "v21.0"
    assert isinstance(channel.sender, MessengerSender)
    assert channel.sender.url == "https://graph.facebook.com/v21.0/me/messages"
    assert channel.settings.page_access_token == "token-value"
    assert "value" not in repr(channel.settings)
    monkeypatch.setenv("MESSENGER_PAGE_ACCESS_TOKEN", "")
    unconfigured = MessengerInput.from_credentials(None)
    assert not unconfigured.configured
    assert unconfigured.missing == ["MESSENGER_PAGE_ACCESS_TOKEN"]
    assert unconfigured.get_output_channel() is None
