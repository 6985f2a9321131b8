"""WhatsApp Cloud API: fixtures (spec §2.2) parsed, signature vectors (§2.3), parts rendered
into the Graph API's bodies (§2.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors import meta
from connectors.errors import PayloadError, SendError, SignatureError
from connectors.messages import (
    Button,
    DeliveryStatus,
    InboundMessage,
    Kind,
    Location,
    MediaRef,
    OutboundPart,
    StatusUpdate,
)
from connectors.settings import WhatsAppSettings
from connectors.whatsapp import WhatsAppSender, parse_payload, recipient, render
from connectors.windows import Window, WindowRules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "payloads" / "whatsapp"
TO = "16505551234"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(name: str):
    return parse_payload(json.loads(raw(name)))


def only_message(name: str) -> InboundMessage:
    batch = parsed(name)
    assert batch.statuses == []
    (message,) = batch.messages
    return message


def settings(**changes: str) -> WhatsAppSettings:
    values = {
        "verify_token": "verify-me",
        "app_secret": "test_app_secret",
        "access_token": "EAAG-test-token",
        "phone_number_id": "106540352242922",
        "api_base_url": "https://graph.facebook.com",
        "api_version": "v21.0",
        "template_name": "hilo_reengagement",
        "template_language": "es_MX",
        **changes,
    }
    return WhatsAppSettings(**values)  # type: ignore[arg-type]


# --- signatures (§2.3 test vectors) -----------------------------------------------------------


def test_the_text_fixture_is_the_spec_body_byte_for_byte() -> None:
    assert len(raw("text.json")) == 499


def test_the_spec_vector_for_the_text_fixture_is_accepted() -> None:
    header = "sha256=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d42"
    meta.verify_signature("test_app_secret", raw("text.json"), header)


ESCAPED = rb'{"text":"\u00e4\u00f6\u00e5"}'  # literal backslashes, as Meta signs it
UTF8 = '{"text":"äöå"}'.encode()
ESCAPED_DIGEST = "02331cadf5416e9e5dc4ecf73b5c9b7aa6577a90b90fbb6bad6e9a35d8a8f6a9"
UTF8_DIGEST = "1156bb8871b0fb6c41be587675ee25663758799081f9aa28d1ecccad94158e9d"


def test_the_escaping_vectors_are_checked_over_the_exact_bytes() -> None:
    assert json.loads(ESCAPED) == json.loads(UTF8)  # same JSON, different bytes
    meta.verify_signature("test_app_secret", ESCAPED, f"sha256={ESCAPED_DIGEST}")
    meta.verify_signature("test_app_secret", UTF8, f"sha256={UTF8_DIGEST}")
    with pytest.raises(SignatureError):
        meta.verify_signature("test_app_secret", UTF8, f"sha256={ESCAPED_DIGEST}")
    with pytest.raises(SignatureError):
        meta.verify_signature("test_app_secret", ESCAPED, f"sha256={UTF8_DIGEST}")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d42",
        "sha256=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d43",
    ],
)
def test_missing_or_wrong_signatures_are_rejected(header: str | None) -> None:
    with pytest.raises(SignatureError):
        meta.verify_signature("test_app_secret", raw("text.json"), header)


def test_the_signature_uses_the_app_secret_not_another_secret() -> None:
    header = "sha256=ded1d1d9621cffa39832ccf2b330fa476b4dc8ec2a5d102e1e554312b3f21d42"
    with pytest.raises(SignatureError):
        meta.verify_signature("verify-me", raw("text.json"), header)


# --- parsing --------------------------------------------------------------------------------


def test_a_text_message() -> None:
    assert only_message("text.json") == InboundMessage(
        channel="whatsapp",
        conversation_id="whatsapp:+16505551234",
        provider_id=WAMID,
        kind=Kind.TEXT,
        sent_at=1749416383.0,
        text="Does it come in another color?",
        display_name="Sheena Nelson",
        phone="+16505551234",
    )


def test_escaped_unicode_text_and_name_are_decoded() -> None:
    message = only_message("text_escaped.json")
    assert message.text == "¿Tienen envío a Querétaro? 📦"
    assert message.display_name == "José Pérez"
    assert message.conversation_id == "whatsapp:+5215512345678"


def test_an_image_with_caption_becomes_media_with_the_media_id() -> None:
    message = only_message("image.json")
    assert message.kind is Kind.MEDIA
    assert message.text == "Taj Mahal"
    assert message.media == (MediaRef(provider_ref="1003383421387256", content_type="image/jpeg"),)
    assert message.sent_at == 1744344496.0


def test_a_document_keeps_its_filename_and_caption() -> None:
    message = only_message("document.json")
    assert message.kind is Kind.MEDIA
    assert message.text == "Invoice attached"
    assert message.media == (
        MediaRef(
            provider_ref="1234567890123456", content_type="application/pdf", filename="receipt.pdf"
        ),
    )


def test_sticker_audio_and_video_are_media() -> None:
    batch = parsed("sticker_audio_video.json")
    assert [(m.media[0].provider_ref, m.media[0].content_type, m.text) for m in batch.messages] == [
        ("2000000000000001", "image/webp", ""),
        ("2000000000000002", "audio/ogg; codecs=opus", ""),
        ("2000000000000003", "video/mp4", "Así llegó la caja"),
    ]
    assert {m.kind for m in batch.messages} == {Kind.MEDIA}
    assert batch.messages[0].nlu_text() == "/send_media"


def test_a_location() -> None:
    message = only_message("location.json")
    assert message.kind is Kind.LOCATION
    assert message.location == Location(
        latitude=37.44221496582,
        longitude=-122.16165924072,
        name="Philz Coffee",
        address="101 Forest Ave, Palo Alto, CA 94301",
    )
    assert message.nlu_text() == "101 Forest Ave, Palo Alto, CA 94301"


def test_a_reply_button_tap_carries_its_id_as_payload_and_quotes_the_offer() -> None:
    message = only_message("button_reply.json")
    assert message.kind is Kind.BUTTON
    assert message.payload == "cancel-button"
    assert message.text == "Cancel"
    assert message.reply_to == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGMzEyNzhENTZDMzNGODlDRDgA"
    assert message.nlu_text() == "cancel-button"


def test_a_list_reply_carries_the_row_id() -> None:
    message = only_message("list_reply.json")
    assert (message.kind, message.payload, message.text) == (
        Kind.BUTTON,
        "order_status",
        "Estado de mi pedido",
    )


def test_a_template_quick_reply_carries_the_button_payload() -> None:
    message = only_message("template_button.json")
    assert (message.kind, message.payload, message.text) == (
        Kind.BUTTON,
        "Unsubscribe",
        "Unsubscribe",
    )
    assert message.reply_to is not None


def test_a_shared_contact_card_is_not_the_customers_phone() -> None:
    message = only_message("contacts.json")
    assert message.kind is Kind.CONTACT
    assert message.phone == "+16505551234"  # the sender's own number, not the card's
    assert message.extra["contacts"][0]["name"]["formatted_name"] == "Ana López"
    assert message.nlu_text() == "/send_media"


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("reaction.json", ["message:reaction"]),
        ("unsupported.json", ["message:unsupported"]),
        ("unknown_field.json", ["field:message_template_status_update"]),
    ],
)
def test_reactions_unsupported_types_and_other_fields_are_ignored_by_name(
    name: str, ignored: list[str]
) -> None:
    batch = parsed(name)
    assert batch.messages == []
    assert batch.statuses == []
    assert batch.ignored == ignored


def test_a_contact_without_wa_id_still_names_the_sender() -> None:
    message = only_message("no_wa_id.json")
    assert message.display_name == "Luz"
    assert message.conversation_id == "whatsapp:+5215587654321"


def test_missing_contacts_and_missing_sender_are_tolerated() -> None:
    data = json.loads(raw("text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    value["messages"].append(
        {"id": "wamid.NOFROM", "timestamp": "1749416384", "type": "text", "text": {"body": "hi"}}
    )
    batch = parse_payload(data)
    (message,) = batch.messages
    assert message.display_name is None
    assert message.phone == "+16505551234"
    assert batch.ignored == ["message:no_sender"]


def test_every_entry_and_change_of_a_batch_is_read_in_order() -> None:
    batch = parsed("batch.json")
    assert [m.provider_id for m in batch.messages] == [
        "wamid.BATCH111101",
        "wamid.BATCH111102",
        "wamid.BATCH222201",
        "wamid.BATCH222202",
        "wamid.BATCH222203",
        "wamid.BATCH111103",
    ]
    names = {m.conversation_id: m.display_name for m in batch.messages}
    assert names == {"whatsapp:+5215511111111": "Cliente A", "whatsapp:+5215522222222": "Cliente B"}


def test_statuses() -> None:
    delivered = parsed("status_delivered.json")
    read = parsed("status_read.json")
    failed = parsed("status_failed.json")
    sent_id = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"
    assert delivered.statuses == [StatusUpdate("whatsapp", sent_id, DeliveryStatus.DELIVERED)]
    assert read.statuses == [StatusUpdate("whatsapp", sent_id, DeliveryStatus.READ)]
    (failure,) = failed.statuses
    assert failure.status is DeliveryStatus.FAILED
    assert failure.error_code == "131047"
    assert failure.error_message is not None
    assert failure.error_message.startswith("Re-engagement message - Message failed to send")
    assert delivered.messages == read.messages == failed.messages == []


def test_an_unknown_status_value_is_ignored() -> None:
    data = json.loads(raw("status_read.json"))
    data["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "deleted"
    batch = parse_payload(data)
    assert batch.statuses == []
    assert batch.ignored == ["status:deleted"]


def test_another_object_is_ignored_not_refused() -> None:
    assert parse_payload({"object": "page", "entry": []}).ignored == ["object:page"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"entry": []},
        {"object": "whatsapp_business_account", "entry": {"id": "x"}},
        {"object": "whatsapp_business_account", "entry": [{"changes": "x"}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]},
    ],
)
def test_wrong_shapes_are_payload_errors(body: object) -> None:
    with pytest.raises(PayloadError):
        parse_payload(body)


@pytest.mark.parametrize(
    ("key", "value"),
    [("timestamp", "yesterday"), ("id", None), ("text", "hola"), ("timestamp", None)],
)
def test_wrong_message_fields_are_payload_errors(key: str, value: object) -> None:
    data = json.loads(raw("text.json"))
    data["entry"][0]["changes"][0]["value"]["messages"][0][key] = value
    with pytest.raises(PayloadError):
        parse_payload(data)


# --- rendering --------------------------------------------------------------------------------


def test_a_text() -> None:
    assert render(TO, OutboundPart(text="Hello"), settings()) == (
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": TO,
            "type": "text",
            "text": {"preview_url": False, "body": "Hello"},
        }
    )


def test_the_recipient_is_the_wa_id_without_plus() -> None:
    assert recipient("whatsapp:+16505551234") == "16505551234"


def test_reply_buttons_as_the_graph_api_expects() -> None:
    part = OutboundPart(
        text="Change or cancel?",
        buttons=(
            Button("Change", "change-button"),
            Button("Cancel", "cancel-button"),
        ),
    )
    body = render(TO, part, settings())
    assert json.dumps(body, separators=(",", ":")) == (
        '{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",'
        '"type":"interactive","interactive":{"type":"button","body":{"text":"Change or cancel?"},'
        '"action":{"buttons":[{"type":"reply","reply":{"id":"change-button","title":"Change"}},'
        '{"type":"reply","reply":{"id":"cancel-button","title":"Cancel"}}]}}}'
    )


def test_long_button_titles_are_cut_and_long_or_repeated_payloads_become_keys() -> None:
    part = OutboundPart(
        text="¿Qué hacemos?",
        buttons=(
            Button("Quiero hablar con una persona", "/human"),
            Button("Otra", "x" * 257),
            Button("Repetida", "/human"),
        ),
    )
    body = render(TO, part, settings())
    replies = [b["reply"] for b in body["interactive"]["action"]["buttons"]]
    assert replies == [
        {"id": "/human", "title": "Quiero hablar con u…"},
        {"id": "#2", "title": "Otra"},
        {"id": "#3", "title": "Repetida"},
    ]
    assert all(len(r["title"]) <= 20 for r in replies)


def test_four_to_ten_buttons_become_a_list() -> None:
    buttons = tuple(Button(f"Opción {n}", f'/choose{{"n":{n}}}') for n in range(1, 5))
    buttons += (Button("Una opción con un título bastante largo", "y" * 201),)
    body = render(TO, OutboundPart(text="Elegí una", buttons=buttons), settings())
    assert body["type"] == "interactive"
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Elegí una"}
    assert interactive["action"]["button"] == "Opciones"
    (section,) = interactive["action"]["sections"]
    assert section["rows"][:2] == [
        {"id": '/choose{"n":1}', "title": "Opción 1"},
        {"id": '/choose{"n":2}', "title": "Opción 2"},
    ]
    assert section["rows"][4] == {
        "id": "#5",
        "title": "Una opción con un títul…",
        "description": "Una opción con un título bastante largo",
    }
    assert all(len(row["title"]) <= 24 for row in section["rows"])


def test_more_than_ten_buttons_become_a_numbered_text() -> None:
    buttons = tuple(Button(f"Talla {n}", f"/size{n}") for n in range(1, 12))
    part = OutboundPart(text="¿Qué talla?", buttons=buttons)
    sender = WhatsAppSender(settings(), max_bytes=100)
    body = render(TO, part, settings())
    assert body["type"] == "text"
    assert body["text"]["body"].startswith("¿Qué talla?\n\n1. Talla 1\n2. Talla 2")
    assert body["text"]["body"].endswith("11. Talla 11")
    assert sender.numbered_buttons(part) is True
    assert sender.numbered_buttons(OutboundPart(text="x", buttons=buttons[:10])) is False
    assert sender.numbered_buttons(OutboundPart(text="x", buttons=buttons[:3])) is False


def test_an_image_and_a_document_by_link() -> None:
    image = render(TO, OutboundPart(image_url="https://hilo.example/a.jpg"), settings())
    assert image["type"] == "image"
    assert image["image"] == {"link": "https://hilo.example/a.jpg"}
    part = OutboundPart(document_url="https://hilo.example/f/x.pdf", filename="factura.pdf")
    document = render(TO, part, settings())
    assert document["type"] == "document"
    assert document["document"] == {
        "link": "https://hilo.example/f/x.pdf",
        "filename": "factura.pdf",
    }
    unnamed = render(TO, OutboundPart(document_url="https://h.example/f/r%201.pdf"), settings())
    assert unnamed["document"]["filename"] == "r 1.pdf"


def test_the_template_part_sends_the_configured_template() -> None:
    body = render(TO, OutboundPart(template=True), settings())
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "template",
        "template": {"name": "hilo_reengagement", "language": {"code": "es_MX"}},
    }
    with pytest.raises(SendError):
        render(TO, OutboundPart(template=True), settings(template_name=""))


def test_the_window_and_template_answers_come_from_the_senders_own_settings() -> None:
    rules = WhatsAppSender(settings(), max_bytes=1).window_rules("whatsapp:+1")
    assert rules == WindowRules(Window.WHATSAPP, template_configured=True)
    no_template = WhatsAppSender(settings(template_name=""), max_bytes=1)
    assert no_template.window_rules("whatsapp:+1").template_configured is False


def test_settings_are_read_from_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "WHATSAPP_VERIFY_TOKEN": "v",
        "WHATSAPP_APP_SECRET": "s",
        "WHATSAPP_ACCESS_TOKEN": "EAAG-secret-token",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9/",
        "WHATSAPP_TEMPLATE_NAME": "reengage",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WHATSAPP_API_VERSION", raising=False)
    monkeypatch.delenv("WHATSAPP_TEMPLATE_LANGUAGE", raising=False)
    loaded = WhatsAppSettings.from_env()
    assert loaded.configured
    assert (loaded.api_base_url, loaded.api_version, loaded.template_language) == (
        "http://127.0.0.1:9",
        "v21.0",
        "es_MX",
    )
    assert "EAAG-secret-token" not in repr(loaded)
    monkeypatch.delenv("WHATSAPP_ACCESS_TOKEN")
    assert WhatsAppSettings.from_env().missing() == ["WHATSAPP_ACCESS_TOKEN"]
