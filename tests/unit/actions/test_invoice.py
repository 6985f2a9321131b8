"""Invoices: a verified, paid order gets its receipt as a stored PDF document and a link."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import common
from actions.orders.invoice import ActionSendInvoice, ValidateInvoiceForm, send_invoice
from connectors.media_store import LocalMediaStore, link_opens
from tests.unit.actions.support import proven, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")


@pytest.fixture(autouse=True)
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "media"
    monkeypatch.setenv("HILO_MEDIA_DIR", str(directory))
    monkeypatch.setenv("HILO_PUBLIC_URL", "https://hilo.example")
    return directory


async def send(slots: dict, domain_dict: dict) -> list[dict]:
    dispatcher = CollectingDispatcher()
    await ActionSendInvoice().run(dispatcher, tracker(slots, form="invoice_form"), domain_dict)
    return dispatcher.messages


async def test_a_paid_order_gets_its_receipt_as_a_document_and_a_link(domain_dict) -> None:
    slots = {"order_id": "10001", "verified_contact": proven("email", "ana@example.com")}
    [message] = await send(slots, domain_dict)
    assert message["response"] == "utter_invoice_ready"
    document = message["custom"]["document"]
    assert document["filename"] == "Lumen-10001.pdf"
    assert message["invoice_url"] == document["url"]
    assert document["url"].startswith("https://hilo.example/webhooks/media/files/")
    link = httpx.URL(document["url"])
    name = link.path.rsplit("/", 1)[1]
    assert link_opens(name, link.params["expires"], link.params["signature"])  # signed
    path = LocalMediaStore().path(name)
    assert path is not None
    assert path.read_bytes().startswith(b"%PDF")


async def test_an_unpaid_order_has_no_receipt(domain_dict, media_dir: Path) -> None:
    slots = {"order_id": "10005", "verified_contact": proven("email", "ana@example.com")}
    [message] = await send(slots, domain_dict)
    assert message["response"] == "utter_invoice_not_available"
    assert not media_dir.exists() or not any(media_dir.iterdir())


async def test_no_receipt_without_proof(domain_dict, media_dir: Path) -> None:
    [message] = await send({"order_id": "10001"}, domain_dict)
    assert message["response"] == "utter_verification_blocked"
    assert not media_dir.exists()


async def test_the_phone_digits_alone_get_no_receipt_but_the_code_question(domain_dict) -> None:
    """A receipt asked for after a status check proven by the digits starts the invoice flow,
    which asks for a one-time code (tests/unit/actions/test_cancel_order.py has the code)."""
    digits = proven("phone", "+525512345678", method="digits")
    t = tracker({"order_id": "10001", "verified_contact": digits}, form="invoice_form")
    dispatcher = CollectingDispatcher()
    events = send_invoice(dispatcher, t, common.store().get_order("10001"))
    assert dispatcher.messages == []
    assert {"event": "followup", "name": "invoice_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    slots, _ = await run_validator(
        ValidateInvoiceForm(),
        tracker({"order_id": "10001", "verified_contact": digits}, form="invoice_form"),
        domain_dict,
    )
    assert slots["requested_slot"] == "order_code"
