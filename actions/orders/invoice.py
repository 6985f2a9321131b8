"""Invoices: after the lookup, the purchase receipt of a paid order as a PDF document.

`invoice_form` is the lookup form alone (actions/orders/lookup.py). `action_send_invoice`
generates the receipt (actions/commerce/invoices.py), stores it in the media store under an
unguessable name, and sends it as a document (the message's `custom.document`, which
channels that carry documents deliver as a file) with the link in the text for channels
that cannot. Orders not paid yet, or cancelled, get no receipt and an explanation.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import OrderStatus, OrderView
from actions.commerce.invoices import STORE_NAME, invoice_pdf
from actions.orders.common import language, strongly_owns
from actions.orders.lookup import (
    OrderLookupValidation,
    order_to_act_on,
)
from actions.orders.pending import after_flow, register
from connectors.media_store import LocalMediaStore, signed_url

NO_RECEIPT = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED})


class ValidateInvoiceForm(OrderLookupValidation):
    """Validates `invoice_form`: the lookup slots only."""

    own_intent = "invoice_request"

    def name(self) -> str:
        """Rasa finds the validator of `invoice_form` by this name."""
        return "validate_invoice_form"

    def sensitive(self, order: OrderView, tracker: Tracker) -> bool:
        """More than the phone's digits, when there is a receipt to hand out."""
        return has_receipt(order, tracker)


class ActionSendInvoice(Action):
    """Ends the invoice flow: the receipt as a document and a link, or why there is none."""

    def name(self) -> str:
        """Runs when `invoice_form` completes (data/rules/orders.yml)."""
        return "action_send_invoice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Generates and sends the receipt of a verified, paid order."""
        reset: list[EventType] = [SlotSet("order_verification", None)]
        order, stop = order_to_act_on(dispatcher, tracker, sensitive=has_receipt)
        reset += stop  # the flow's one-turn markers, cleared however it ends
        if order is None:
            return [*reset]
        sent = send_invoice(dispatcher, tracker, order)
        return [*reset, *sent, *after_flow(dispatcher, tracker, order, done="invoice_request")]


def has_receipt(order: OrderView, tracker: Tracker) -> bool:
    """Whether the order has a receipt to hand out (then it needs a strong proof)."""
    return order.status not in NO_RECEIPT


def send_invoice(
    dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderView
) -> list[EventType]:
    """The receipt as a PDF document and a link, or why a receipt cannot be issued yet.

    Asked for after another flow proven only by the phone's digits (a pending request, "y
    la factura del 10004"), the invoice flow starts instead, and asks for a one-time code.
    """
    if not has_receipt(order, tracker):
        dispatcher.utter_message(response="utter_invoice_not_available", order_id=order.number)
        return []
    if not strongly_owns(order, tracker):
        return [SlotSet("order_id", order.number), FollowupAction("invoice_form")]
    stored = LocalMediaStore().put(invoice_pdf(order, language(tracker)), "pdf")
    link = signed_url(stored.name)  # the only way the file opens, until the link expires
    dispatcher.utter_message(
        response="utter_invoice_ready",
        order_id=order.number,
        invoice_url=link,
        json_message={
            "document": {
                "url": link,
                "filename": f"{STORE_NAME}-{order.number}.pdf",
                "mime_type": stored.content_type,
            }
        },
    )
    return []


register("invoice_request", send_invoice)
