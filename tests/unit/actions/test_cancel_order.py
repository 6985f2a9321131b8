"""Cancelling an order: confirmation only while possible, the store changes, honest replies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.commerce.backend import OrderStatus
from actions.orders import common
from actions.orders.cancel import ActionCancelOrder, ValidateCancelOrderForm
from actions.orders.lookup import ActionAskOrderCode
from actions.orders.proof import Proof, unseal
from tests.support.smtp import MailServer
from tests.unit.actions.support import proven, slot_events, tracker
from tests.unit.actions.support import validate as run_validator

pytestmark = pytest.mark.usefixtures("demo_store")

FORM = "cancel_order_form"


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return await run_validator(ValidateCancelOrderForm(), t, domain)


async def cancel(slots: dict[str, Any], domain: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionCancelOrder().run(dispatcher, tracker(slots, form=FORM), domain)
    return dispatcher.messages, slot_events(events)


async def test_a_paid_order_asks_for_confirmation_after_verification(domain_dict) -> None:
    proof = tracker({"order_id": "10003"}, {"order_verification": "lucia@example.com"}, form=FORM)
    slots, _ = await validate(proof, domain_dict)
    assert slots["order_verification"] == "ok"
    assert slots["requested_slot"] == "cancel_confirmed"


async def test_a_shipped_order_skips_the_confirmation(domain_dict) -> None:
    proof = tracker({"order_id": "10001"}, {"order_verification": "ana@example.com"}, form=FORM)
    slots, _ = await validate(proof, domain_dict)
    assert slots["requested_slot"] is None


async def test_yes_cancels_a_paid_order_and_promises_the_refund(domain_dict) -> None:
    slots = {"order_id": "10003", "verified_contact": proven("email", "lucia@example.com")}
    messages, events = await cancel({**slots, "cancel_confirmed": True}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_done_refund"
    assert messages[0]["total"].endswith("MXN")
    assert common.store().get_order("10003").status is OrderStatus.CANCELLED
    assert events["cancel_confirmed"] is None


async def test_an_unpaid_order_is_cancelled_without_refund(domain_dict) -> None:
    slots = {"order_id": "10005", "verified_contact": proven("email", "ana@example.com")}
    messages, _ = await cancel({**slots, "cancel_confirmed": True}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_done"


async def test_no_keeps_the_order(domain_dict) -> None:
    slots = {"order_id": "10003", "verified_contact": proven("email", "lucia@example.com")}
    messages, _ = await cancel({**slots, "cancel_confirmed": False}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_kept"
    assert common.store().get_order("10003").status is OrderStatus.PAID


@pytest.mark.parametrize(("lang", "word"), [("es", "en camino"), ("en", "on its way")])
async def test_a_shipped_order_is_explained_with_return_or_person(
    domain_dict, lang: str, word: str
) -> None:
    slots = {
        "order_id": "10001",
        "verified_contact": proven("email", "ana@example.com"),
        "language": lang,
    }
    messages, _ = await cancel({**slots, "cancel_confirmed": True}, domain_dict)
    assert messages[0]["response"] == "utter_cancel_not_possible"
    assert messages[0]["status"] == word
    assert common.store().get_order("10001").status is OrderStatus.SHIPPED


async def test_an_already_cancelled_order_says_so(domain_dict) -> None:
    slots = {"order_id": "10007", "verified_contact": proven("phone", "+525520000001")}
    messages, _ = await cancel(slots, domain_dict)
    assert [m["response"] for m in messages] == ["utter_cancel_already"]


async def test_nothing_is_cancelled_without_proof(domain_dict) -> None:
    messages, events = await cancel({"order_id": "10003", "cancel_confirmed": True}, domain_dict)
    assert [m["response"] for m in messages] == ["utter_verification_blocked"]
    assert events["order_lookup_blocked"] == "verification_failed"
    assert common.store().get_order("10003").status is OrderStatus.PAID


# --- more than 4 digits: a one-time code before a step that cannot be undone ----------------


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    server = MailServer()
    monkeypatch.setenv("HILO_SMTP_URL", server.url)
    yield server
    server.close()


def weakly_proven() -> str:
    """Order 10003 proven with its phone's last 4 digits (enough to read it, not to cancel)."""
    return proven("phone", "+5491155551234", method="digits")


async def ask_for_proof(slots: dict[str, Any], domain: dict[str, Any]) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    t = tracker(slots, form=FORM, requested="order_code")
    await ActionAskOrderCode().run(dispatcher, t, domain)
    return dispatcher.messages


async def test_the_phone_digits_get_a_code_mailed_and_the_code_goes_on(
    domain_dict, mail: MailServer
) -> None:
    digits = tracker({"order_id": "10003"}, {"order_verification": "termina en 1234"}, form=FORM)
    slots, said = await validate(digits, domain_dict)
    assert said == []
    assert slots["order_verification"] == "ok"  # right, but not enough to cancel:
    assert slots["requested_slot"] == "order_code"  # a code is asked for
    weak = unseal(slots["verified_contact"], digits)
    assert weak is not None
    assert weak.method == "digits"

    asked = await ask_for_proof({"order_id": "10003", "verified_contact": weakly_proven()}, {})
    assert [m["response"] for m in asked] == ["utter_code_sent"]
    assert asked[0]["email"] == "l***@e***.com"
    (sent,) = mail.to("lucia@example.com")
    assert "10003" in sent["Subject"]
    code = mail.latest_code("lucia@example.com")

    typed = tracker(
        {"order_id": "10003", "verified_contact": weakly_proven()},
        {"order_code": f"el codigo es {code[:3]} {code[3:]}"},
        form=FORM,
        requested="order_code",
    )
    slots, said = await validate(typed, domain_dict)
    assert said == []
    assert slots["order_code"] is None  # never kept: the proof is
    assert slots["requested_slot"] == "cancel_confirmed"
    assert unseal(slots["verified_contact"], typed) == Proof("email", "lucia@example.com", "code")


async def test_asking_again_reminds_instead_of_sending_another_code(
    domain_dict, mail: MailServer
) -> None:
    slots = {"order_id": "10003", "verified_contact": weakly_proven()}
    await ask_for_proof(slots, domain_dict)
    again = await ask_for_proof(slots, domain_dict)
    assert [m["response"] for m in again] == ["utter_code_reminder"]
    assert len(mail.to("lucia@example.com")) == 1


async def test_a_wrong_code_counts_as_a_wrong_proof(domain_dict, mail: MailServer) -> None:
    await ask_for_proof({"order_id": "10003", "verified_contact": weakly_proven()}, domain_dict)
    code = mail.latest_code("lucia@example.com")
    wrong = tracker(
        {"order_id": "10003", "verified_contact": weakly_proven()},
        {"order_code": f"{(int(code) + 1) % 10**6:06d}"},
        form=FORM,
        requested="order_code",
    )
    slots, said = await validate(wrong, domain_dict)
    assert said == ["utter_code_wrong"]
    assert slots["verification_failures"] == 1.0
    assert slots["requested_slot"] == "order_code"


async def test_nothing_is_cancelled_on_the_phone_digits_alone(domain_dict) -> None:
    messages, _ = await cancel(
        {"order_id": "10003", "verified_contact": weakly_proven(), "cancel_confirmed": True},
        domain_dict,
    )
    assert [m["response"] for m in messages] == ["utter_verification_blocked"]
    assert common.store().get_order("10003").status is OrderStatus.PAID


async def test_the_order_email_typed_is_enough_unless_codes_are_required(
    domain_dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def email() -> Tracker:
        return tracker(
            {"order_id": "10003"}, {"order_verification": "lucia@example.com"}, form=FORM
        )

    slots, _ = await validate(email(), domain_dict)
    assert slots["requested_slot"] == "cancel_confirmed"
    monkeypatch.setenv("HILO_SENSITIVE_PROOF", "code")
    slots, _ = await validate(email(), domain_dict)
    assert slots["order_verification"] == "ok"
    assert slots["requested_slot"] == "order_code"


async def test_with_no_way_to_mail_a_code_the_customer_is_told_what_else_works(
    domain_dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HILO_ENV", "production")
    monkeypatch.setenv("HILO_SECRET_KEY", "test-hilo-secret-key")
    monkeypatch.delenv("HILO_SMTP_URL", raising=False)
    asked = await ask_for_proof(
        {"order_id": "10003", "verified_contact": weakly_proven()}, domain_dict
    )
    assert [m["response"] for m in asked] == ["utter_code_unavailable"]
