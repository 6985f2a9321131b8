"""Twilio adapter, pure parts: signatures (spec §1.2 vectors), parsing, rendering, errors."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest
from twilio.base.exceptions import TwilioRestException

from connectors.errors import MediaError, PayloadError, SendError
from connectors.messages import Button, DeliveryStatus, Kind, Location, MediaRef, OutboundPart
from connectors.settings import Secret, TwilioSettings
from connectors.twilio import (
    EMPTY_TWIML,
    FormParams,
    TwilioInput,
    TwilioSender,
    is_status_callback,
    parse_form,
    parse_message,
    parse_status,
    send_error,
    signature_valid,
    signed_url,
)
from connectors.windows import Window, WindowRules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "twilio"
NOW = 1_700_000_000.0

OFFICIAL_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
OFFICIAL_PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Caller": ["+14158675309"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
}


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.txt").read_bytes()


def form(name: str) -> FormParams:
    return parse_form(fixture(name))


def settings(**overrides: str) -> TwilioSettings:
    values = {
        "account_sid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "auth_token": Secret("test_auth_token_12345"),
        "whatsapp_from": "whatsapp:+14155238886",
        "sms_from": "+15005550006",
        "api_base_url": "https://api.twilio.com",
        "template_content_sid": "HXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "public_url": "https://hilo.example.com",
    }
    values.update(overrides)
    return TwilioSettings(**values)  # type: ignore[arg-type]


def sender(**overrides: str) -> TwilioSender:
    return TwilioSender(settings(**overrides), max_bytes=1024)


# --- signatures (spec §1.2) -------------------------------------------------------------


def test_the_official_vector() -> None:
    assert signature_valid("12345", OFFICIAL_URI, OFFICIAL_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_the_official_vector_signed_with_explicit_ports_is_accepted_too() -> None:
    assert signature_valid("12345", OFFICIAL_URI, OFFICIAL_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=")
    http_uri = OFFICIAL_URI.replace("https://", "http://")
    assert signature_valid("12345", http_uri, OFFICIAL_PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4=")


def test_the_official_vector_with_repeated_keys() -> None:
    params = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234"]}
    assert signature_valid("12345", OFFICIAL_URI, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    assert not signature_valid(
        "12345", OFFICIAL_URI, {**params, "Digits": ["1234"]}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )


@pytest.mark.parametrize(
    ("token", "uri", "params", "signature"),
    [
        (
            "12345",
            OFFICIAL_URI,
            {**OFFICIAL_PARAMS, "Digits": ["9999"]},
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ),
        ("12345", OFFICIAL_URI, {**OFFICIAL_PARAMS, "New": ["x"]}, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (
            "12345",
            "https://evil.com/myapp.php?foo=1&bar=2",
            OFFICIAL_PARAMS,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ),
        ("54321", OFFICIAL_URI, OFFICIAL_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("12345", OFFICIAL_URI, OFFICIAL_PARAMS, ""),
    ],
    ids=["changed-value", "extra-param", "other-host", "other-token", "empty-signature"],
)
def test_anything_changed_fails(
    token: str, uri: str, params: dict[str, list[str]], signature: str
) -> None:
    assert not signature_valid(token, uri, params, signature)


def test_the_whatsapp_fixture_vector_over_the_raw_body() -> None:
    url = "https://bot.example.com/webhooks/twilio_whatsapp/webhook"
    assert signature_valid(
        "test_auth_token_12345", url, form("text"), "UN9LxTsCXv+zi1xD3+sEfJ56Qi8="
    )
    assert not signature_valid(
        "test_auth_token_12345",
        url.replace("twilio_whatsapp", "twilio"),
        form("text"),
        "UN9LxTsCXv+zi1xD3+sEfJ56Qi8=",
    )


def test_empty_values_are_kept_because_twilio_signs_them() -> None:
    from twilio.request_validator import RequestValidator

    url = "https://hilo.example.com/webhooks/twilio/webhook"
    signed_params = {key: values[0] for key, values in form("location").items()}
    assert signed_params["Body"] == ""
    signature = RequestValidator("tok").compute_signature(url, signed_params)
    assert signature_valid("tok", url, parse_form(fixture("location")), signature)
    # What Sanic's request.form gives (blank values dropped) would not verify:
    dropped = parse_qs(fixture("location").decode())
    assert "Body" not in dropped
    assert not signature_valid("tok", url, dropped, signature)


def test_the_signed_url_is_the_public_url_with_path_and_query() -> None:
    path = "/webhooks/twilio/webhook"
    assert signed_url("https://hilo.example.com/", path) == f"https://hilo.example.com{path}"
    assert signed_url("https://h.example", path, "a=1&b=2") == f"https://h.example{path}?a=1&b=2"


def test_a_body_that_is_not_utf8_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        parse_form(b"Body=\xff\xfe")


# --- parsing ----------------------------------------------------------------------------


def test_a_whatsapp_text() -> None:
    (message,) = parse_message(form("text"), NOW).messages
    assert message.channel == "twilio"
    assert message.conversation_id == "twilio:whatsapp:+15551234567"
    assert message.provider_id == "SM1234567890abcdef1234567890abcdef"
    assert message.kind is Kind.TEXT
    assert message.text == "Hello there"
    assert message.sent_at == NOW
    assert message.phone == "+15551234567"
    assert message.display_name == "Alice"
    assert message.extra == {"medium": "whatsapp", "message_type": "text"}


def test_an_sms() -> None:
    (message,) = parse_message(form("sms"), NOW).messages
    assert message.conversation_id == "twilio:sms:+15551234567"
    assert message.phone == "+15551234567"
    assert message.text == "Hola, ¿mi pedido?"
    assert message.display_name is None
    assert message.extra == {"medium": "sms"}


def test_an_image_with_caption() -> None:
    (message,) = parse_message(form("image"), NOW).messages
    assert message.kind is Kind.MEDIA
    assert message.text == "My receipt"
    assert message.media == (
        MediaRef(
            provider_ref=(
                "https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
                "/Messages/MM21151abfaadc1fb79b782f8460862a52/Media/ME5f0afa2336bd0f73ca553fb5a2e3150b"
            ),
            content_type="image/jpeg",
        ),
    )
    assert message.nlu_text() == "My receipt"


def test_a_document_without_caption_is_media_for_the_bot() -> None:
    (message,) = parse_message(form("document"), NOW).messages
    assert message.kind is Kind.MEDIA
    assert message.media[0].content_type == "application/pdf"
    assert message.nlu_text() == "/send_media"


def test_a_location() -> None:
    (message,) = parse_message(form("location"), NOW).messages
    assert message.kind is Kind.LOCATION
    assert message.conversation_id == "twilio:whatsapp:+15555550101"
    assert message.location == Location(latitude=25.018766403198, longitude=-77.395950317383)
    assert message.display_name == "Test User"


def test_a_location_with_label_and_address() -> None:
    fields = form("location")
    fields.update({"Label": ["Tienda Centro"], "Address": ["Av. Juárez 10, CDMX"]})
    (message,) = parse_message(fields, NOW).messages
    assert message.location == Location(
        latitude=25.018766403198,
        longitude=-77.395950317383,
        name="Tienda Centro",
        address="Av. Juárez 10, CDMX",
    )
    assert message.nlu_text() == "Av. Juárez 10, CDMX"


def test_a_button_tap_quoting_our_message() -> None:
    (message,) = parse_message(form("button"), NOW).messages
    assert message.kind is Kind.BUTTON
    assert message.payload == "/affirm"
    assert message.text == "Sí, seguir"
    assert message.reply_to == "SMf0e1d2c3b4a5968778695a4b3c2d1e0f"
    assert message.nlu_text() == "/affirm"


def test_unknown_fields_are_ignored_and_empty_messages_go_to_ignored() -> None:
    fields = form("text")
    fields.update({"Body": [""], "MessageType": ["reaction"], "SomethingNew": ["1"]})
    batch = parse_message(fields, NOW)
    assert batch.messages == []
    assert batch.ignored == ["message:reaction"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"MessageSid": None}, "MessageSid"),
        ({"From": None}, "From"),
        ({"From": ["messenger:12345"]}, "From"),
        ({"NumMedia": ["two"]}, "NumMedia"),
        ({"Latitude": ["north"], "Longitude": ["1"]}, "Latitude"),
    ],
)
def test_malformed_messages(change: dict[str, list[str] | None], error: str) -> None:
    fields = form("text")
    for key, value in change.items():
        if value is None:
            fields.pop(key)
        else:
            fields[key] = value
    with pytest.raises(PayloadError, match=error):
        parse_message(fields, NOW)


@pytest.mark.parametrize(
    ("name", "sid", "status"),
    [
        ("status_sent", "SM97654ba462114de7a8d9c064e343f9c5", DeliveryStatus.SENT),
        ("status_read", "SMd5cfa9e002d043c18defc777668b08c1", DeliveryStatus.READ),
    ],
)
def test_status_callbacks(name: str, sid: str, status: DeliveryStatus) -> None:
    (update,) = parse_status(form(name)).statuses
    assert (update.channel, update.provider_id, update.status) == ("twilio", sid, status)
    assert update.error_code is None


def test_an_undelivered_callback_carries_the_error_code() -> None:
    fields = form("status_undelivered")
    (update,) = parse_status(fields).statuses
    assert update.status is DeliveryStatus.FAILED
    assert update.error_code == "63016"
    assert update.error_message is None
    fields["ChannelStatusMessage"] = ["Message failed to send because more than 24 hours"]
    (update,) = parse_status(fields).statuses
    assert update.error_message == "Message failed to send because more than 24 hours"


@pytest.mark.parametrize("status", ["queued", "accepted", "sending", "scheduled", "new-thing"])
def test_statuses_that_say_nothing_new_are_ignored(status: str) -> None:
    fields = form("status_sent")
    fields["MessageStatus"] = [status]
    batch = parse_status(fields)
    assert batch.statuses == []
    assert batch.ignored == [f"status:{status if status.isalpha() else 'other'}"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("status_sent", True), ("status_undelivered", True), ("text", False), ("sms", False)],
)
def test_status_callbacks_are_told_from_messages(name: str, expected: bool) -> None:
    # A status callback configured to the message webhook is still applied as a status.
    assert is_status_callback(form(name)) is expected


def test_a_status_without_sid_is_malformed() -> None:
    with pytest.raises(PayloadError):
        parse_status(FormParams({"MessageStatus": ["sent"]}))


# --- rendering --------------------------------------------------------------------------

WA = "twilio:whatsapp:+15551234567"
SMS = "twilio:sms:+15551234567"
CALLBACK = "https://hilo.example.com/webhooks/twilio/status"


def test_a_whatsapp_text_part() -> None:
    assert sender().requests(WA, OutboundPart(text="Hola")) == [
        {
            "to": "whatsapp:+15551234567",
            "from_": "whatsapp:+14155238886",
            "status_callback": CALLBACK,
            "body": "Hola",
        }
    ]


@pytest.mark.parametrize("number", ["whatsapp:+14155238886", "+14155238886"])
def test_the_whatsapp_number_is_accepted_with_or_without_prefix(number: str) -> None:
    (request,) = sender(whatsapp_from=number).requests(WA, OutboundPart(text="Hola"))
    assert request["from_"] == "whatsapp:+14155238886"


def test_an_sms_part_comes_from_the_sms_number() -> None:
    (request,) = sender().requests(SMS, OutboundPart(text="Hola"))
    assert (request["to"], request["from_"]) == ("+15551234567", "+15005550006")


def test_a_missing_sender_number_is_a_clear_error() -> None:
    with pytest.raises(SendError, match="TWILIO_SMS_FROM"):
        sender(sms_from="").requests(SMS, OutboundPart(text="Hola"))
    with pytest.raises(SendError, match="TWILIO_WHATSAPP_FROM"):
        sender(whatsapp_from="").requests(WA, OutboundPart(text="Hola"))


def test_image_and_document_parts_carry_media_urls() -> None:
    (image,) = sender().requests(WA, OutboundPart(image_url="https://cdn.example/a.png"))
    assert image["media_url"] == ["https://cdn.example/a.png"]
    assert "body" not in image
    (document,) = sender().requests(
        WA, OutboundPart(document_url="https://cdn.example/f.pdf", filename="factura.pdf")
    )
    assert document["media_url"] == ["https://cdn.example/f.pdf"]
    assert document["body"] == "factura.pdf"


def test_the_template_part_is_the_content_sid_and_no_body() -> None:
    (request,) = sender().requests(WA, OutboundPart(template=True))
    assert request == {
        "to": "whatsapp:+15551234567",
        "from_": "whatsapp:+14155238886",
        "status_callback": CALLBACK,
        "content_sid": "HXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    }
    with pytest.raises(SendError, match="no_template"):
        sender(template_content_sid="").requests(WA, OutboundPart(template=True))


def test_buttons_are_a_numbered_list() -> None:
    part = OutboundPart(text="¿Seguimos?", buttons=(Button("Sí", "/affirm"), Button("No", "/deny")))
    (request,) = sender().requests(WA, part)
    assert request["body"] == "¿Seguimos?\n\n1. Sí\n2. No"
    assert sender().numbered_buttons(part)
    assert not sender().numbered_buttons(OutboundPart(text="x"))


def test_a_text_at_the_limit_with_buttons_leaves_room_for_the_numbered_choices() -> None:
    from connectors.core import _buttons_text_limit
    from connectors.render import split_part

    twilio = sender()
    part = OutboundPart(text="palabra " * 200, buttons=(Button("Sí", "/affirm"),))
    pieces = split_part(part, twilio.text_limit, _buttons_text_limit(twilio, part))
    bodies = [request["body"] for piece in pieces for request in twilio.requests(WA, piece)]
    assert len(bodies) == 2
    assert all(len(body) <= 1600 for body in bodies)
    assert bodies[-1].endswith("\n\n1. Sí")


def test_conversations_of_other_channels_are_refused() -> None:
    with pytest.raises(SendError, match="bad_recipient"):
        sender().requests("whatsapp:+15551234567", OutboundPart(text="x"))


def test_windows_and_templates() -> None:
    assert sender().window_rules(WA) == WindowRules(Window.WHATSAPP, template_configured=True)
    # SMS has no window, so the Content API template (a WhatsApp one) never applies to it.
    assert sender().window_rules(SMS) == WindowRules(Window.NONE, template_configured=False)
    assert not sender(template_content_sid="").window_rules(WA).template_configured


@pytest.mark.parametrize(
    ("status", "code", "expected", "retryable"),
    [
        (400, 63016, "63016", False),
        (400, 21211, "21211", False),
        (429, 20429, "20429", True),
        (429, None, "429", True),
        (400, 63018, "63018", True),
        (503, None, "503", True),
        (500, 20500, "20500", True),
    ],
)
def test_twilio_errors(status: int, code: int | None, expected: str, retryable: bool) -> None:
    error = send_error(TwilioRestException(status, "/Messages.json", "refused", code, "POST"))
    assert (error.code, error.message, error.retryable) == (expected, "refused", retryable)


# --- media ------------------------------------------------------------------------------

MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


def test_media_urls_follow_the_api_base_url() -> None:
    assert sender().media_url(MEDIA) == MEDIA
    fake = sender(api_base_url="http://127.0.0.1:9999")
    assert (
        fake.media_url(MEDIA)
        == "http://127.0.0.1:9999/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    )
    assert fake.media_url("https://cdn.example/x") == "https://cdn.example/x"


async def test_credentials_only_go_to_twilio_hosts() -> None:
    with pytest.raises(MediaError, match="download"):
        await sender().fetch_media(MediaRef(provider_ref="https://evil.example/steal"))
    with pytest.raises(MediaError, match="download"):
        await sender().fetch_media(MediaRef(provider_ref="http://api.twilio.com/x"))


# --- the channel ------------------------------------------------------------------------


def test_settings_come_from_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret-token")
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886")
    monkeypatch.delenv("TWILIO_SMS_FROM", raising=False)
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("TWILIO_TEMPLATE_CONTENT_SID", "HX1")
    monkeypatch.setenv("HILO_PUBLIC_URL", "https://hilo.example.com/")
    channel = TwilioInput.from_credentials(None)
    assert channel.configured
    assert channel.settings.account_sid == "AC123"
    assert channel.settings.api_base_url == "http://127.0.0.1:1"
    assert channel.settings.public_url == "https://hilo.example.com"
    assert "secret-token" not in repr(channel.settings)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.delenv("TWILIO_WHATSAPP_FROM")
    channel = TwilioInput.from_credentials(None)
    assert not channel.configured
    assert channel.missing == ["TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM or TWILIO_SMS_FROM"]


def test_the_acknowledgement_is_empty_twiml() -> None:
    from connectors.adapter import Batch

    reply = TwilioInput(settings()).acknowledge(Batch())
    assert reply.status == 200
    assert reply.content_type == "text/xml"
    assert reply.body == EMPTY_TWIML.encode()
    assert reply.body == b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
