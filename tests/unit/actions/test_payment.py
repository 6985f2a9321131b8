"""Payment problems: intake of the order number and what happened, nothing asked twice."""

from __future__ import annotations

from typing import Any

import pytest

from actions.orders.payment import ValidatePaymentIssueForm
from tests.unit.actions.support import tracker
from tests.unit.actions.support import validate as run_validator

FORM = "payment_issue_form"


async def validate(t, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return await run_validator(ValidatePaymentIssueForm(), t, domain)


async def test_a_descriptive_first_message_is_the_description(domain_dict) -> None:
    text = "me cobraron dos veces el mismo pedido, tengo 2 cargos"
    slots, _ = await validate(tracker(text=text, intent="payment_issue", form=FORM), domain_dict)
    assert slots["payment_problem"] == text
    assert slots["requested_slot"] == "order_id"


async def test_a_vague_first_message_leads_to_the_question(domain_dict) -> None:
    first = tracker(text="problema con un pago", intent="payment_issue", form=FORM)
    slots, _ = await validate(first, domain_dict)
    assert "payment_problem" not in slots or slots["payment_problem"] is None
    assert slots["requested_slot"] == "order_id"


async def test_the_answer_to_what_happened_is_kept(domain_dict) -> None:
    answer = tracker(
        {"order_id": "10005"},
        text="pague en oxxo y sigue pendiente",
        requested="payment_problem",
        form=FORM,
    )
    slots, _ = await validate(answer, domain_dict)
    assert slots["payment_problem"] == "pague en oxxo y sigue pendiente"
    assert slots["requested_slot"] is None


@pytest.mark.parametrize("intent", ["deny", "faq", "human_handoff"])
async def test_other_answers_are_left_to_the_rules(domain_dict, intent: str) -> None:
    answer = tracker(
        {"order_id": "10005"}, text="no", intent=intent, requested="payment_problem", form=FORM
    )
    slots, _ = await validate(answer, domain_dict)
    assert "payment_problem" not in slots or slots["payment_problem"] is None


async def test_a_malformed_order_number_is_asked_again(domain_dict) -> None:
    slots, said = await validate(tracker(candidates={"order_id": "abc"}, form=FORM), domain_dict)
    assert slots["order_id"] is None
    assert said == ["utter_order_id_invalid"]
