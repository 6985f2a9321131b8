"""A person's erasure and access requests through the desk's API: admins only, with a reason
and an explicit confirmation, audited (SQLite and PostgreSQL, over real HTTP)."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from connectors.media_store import signed_url
from connectors.messages import OutboundPart
from connectors.outbox import Outbox
from privacy import audit
from tests.integration.handoff.conftest import DeskWorld

CONVERSATION = "twilio:whatsapp:+5215512345678"
SAID = "necesito ayuda con mi pedido 10001"
BODY = {"conversation": CONVERSATION, "reason": "Solicitud ARCO 17", "confirm": True}


def parked(world: DeskWorld) -> tuple[int, str]:
    """Ana's case, a message to her with her invoice, and the invoice file; (case, file)."""
    case_id = world.park(CONVERSATION)
    invoice = world.media.put(b"%PDF-1.4 factura de Ana", "pdf")
    outbox = Outbox(world.channels.engine)
    record = outbox.begin(
        channel="twilio",
        conversation_id=CONVERSATION,
        part=OutboundPart(document_url=signed_url(invoice.name), filename="factura.pdf"),
        source="bot",
    )
    assert record is not None
    return case_id, invoice.name


def test_an_admin_exports_then_erases_a_person(world: DeskWorld) -> None:
    case_id, invoice = parked(world)
    other = world.park("telegram:5555", text="otra persona, otro pedido")
    admin = world.login("admin")

    exported = admin.post("/api/privacy/export", json={**BODY, "internal_notes": True})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/zip"
    assert exported.headers["cache-control"] == "no-store"
    assert "attachment" in exported.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(exported.content)) as zipped:
        assert SAID in zipped.read("messages.json").decode()
        assert "otra persona" not in zipped.read("messages.json").decode()
        assert zipped.read(f"media/{invoice}") == b"%PDF-1.4 factura de Ana"
        (case,) = json.loads(zipped.read("cases.json"))
        assert case["collected"] == {"order_id": "10001"}

    erased = admin.post("/api/privacy/erase", json=BODY)
    assert erased.status_code == 200, erased.text
    answer = erased.json()["erased"]
    assert answer["counts"]["channels"]["inbound"] == 1
    assert answer["counts"]["media"] == {"files": 1}
    assert set(answer["counts"]) == {"channels", "handoff", "media", "mail"}  # no store, tracker
    assert "5512345678" not in erased.text
    assert "Ana" not in erased.text

    case = world.store.get(case_id)
    assert case.conversation_id.startswith("erased:")
    assert (case.customer_name, case.collected, case.status.value) == (None, {}, "closed")
    assert world.channels.history(CONVERSATION) == []
    assert world.media.path(invoice) is None
    assert world.store.get(other).customer_name == "Ana"  # the other conversation's "Ana"
    assert world.channels.history("telegram:5555") != []
    detail = admin.get(f"/api/cases/{case_id}").json()
    assert detail["history"] == []
    assert detail["notes"] == []

    again = admin.post("/api/privacy/erase", json=BODY)
    assert again.status_code == 200
    assert again.json()["erased"]["total"] == 0
    entries = audit.entries(world.store.engine)
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("erase", "desk:admin"),
        ("erase", "desk:admin"),
        ("export", "desk:admin"),
    ]
    assert entries[0]["counts"] == again.json()["erased"]["counts"]


@pytest.mark.parametrize("who", ["ana", "sara"])
def test_agents_and_supervisors_are_refused_and_nothing_changes(world: DeskWorld, who: str) -> None:
    case_id, invoice = parked(world)
    client = world.login(who)
    for path in ("/api/privacy/erase", "/api/privacy/export"):
        answer = client.post(path, json=BODY)
        assert answer.status_code == 403, answer.text
        assert answer.json() == {"error": "this needs the admin role"}
    assert world.store.get(case_id).conversation_id == CONVERSATION
    assert world.media.path(invoice) is not None
    assert world.channels.history(CONVERSATION) != []
    assert audit.entries(world.store.engine) == []


def test_a_request_needs_a_person_a_reason_and_an_explicit_yes(world: DeskWorld) -> None:
    case_id, _ = parked(world)
    admin = world.login("admin")
    for body, error in (
        ({**BODY, "confirm": False}, "'confirm' must be true"),
        ({**BODY, "confirm": "true"}, "'confirm' must be true"),
        ({k: v for k, v in BODY.items() if k != "confirm"}, "'confirm' must be true"),
        ({**BODY, "reason": "  "}, "'reason' must be a non-empty text"),
        ({"reason": "x", "confirm": True}, "phone, an email or a conversation"),
        ({**BODY, "phone": "hola"}, "a phone must be a phone number"),
        ({**BODY, "email": ["a@b.co", 7]}, "'email' must be a text or a list"),
        ({**BODY, "conversation": ["x"] * 21}, "'conversation' must be a text or a list"),
    ):
        for path in ("/api/privacy/erase", "/api/privacy/export"):
            answer = admin.post(path, json=body)
            assert answer.status_code == 400, (path, body, answer.text)
            assert error in answer.json()["error"]
    assert world.store.get(case_id).conversation_id == CONVERSATION
    assert audit.entries(world.store.engine) == []


def test_the_page_must_send_its_csrf_token(world: DeskWorld) -> None:
    parked(world)
    page = world.server.client()
    login = page.post("/api/auth/login", json={"username": "admin", "password": "password-123"})
    assert login.status_code == 200
    refused = page.post("/api/privacy/erase", json=BODY)  # the cookie alone
    assert refused.status_code == 403
    headers = {"X-CSRF-Token": login.json()["csrf_token"]}
    assert page.post("/api/privacy/erase", json=BODY, headers=headers).status_code == 200


def test_the_openapi_document_lists_the_privacy_routes(world: DeskWorld) -> None:
    spec = httpx.get(f"{world.server.url}/api/openapi.json").json()
    for path in ("/api/privacy/erase", "/api/privacy/export"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["required"] == ["reason", "confirm"]
