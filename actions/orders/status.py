"""Order status: the lookup form alone (actions/orders/lookup.py), then where the order is.

`order_status_form` has only the lookup slots; `action_order_status` answers once the form is
done, whatever way it ended: the status with items, carrier, tracking number and expected
date, or why it cannot be shown.
"""

from __future__ import annotations

from datetime import datetime

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import OrderView
from actions.commerce.locale import local
from actions.orders.common import language, say_date, say_items, store, verified_contacts
from actions.orders.flow import continues_flow
from actions.orders.invoice import send_invoice
from actions.orders.lookup import (
    OrderLookupValidation,
    order_to_act_on,
)
from actions.orders.pending import after_flow, register


def local_date(moment: datetime | None, lang: str) -> str:
    """A UTC moment as a date in the store's time zone, in words."""
    if moment is None:
        return ""
    return say_date(local(moment).date(), lang)


class ValidateOrderStatusForm(OrderLookupValidation):
    """Validates `order_status_form`: the lookup slots only."""

    own_intent = "order_status"

    def name(self) -> str:
        """Rasa finds the validator of `order_status_form` by this name."""
        return "validate_order_status_form"


class ActionOrderStatus(Action):
    """Ends the order status flow: the status, or why it cannot be shown."""

    def name(self) -> str:
        """Runs when `order_status_form` completes (data/rules/orders.yml)."""
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utters the order's status, or the stop message; resets the per-lookup slots."""
        reset: list[EventType] = [SlotSet("order_verification", None)]
        order, stop = order_to_act_on(dispatcher, tracker)
        reset += stop  # the flow's one-turn markers, cleared however it ends
        if order is None:
            return [*reset]
        if continues_flow(tracker, "order_status_form") == "action_send_invoice":
            # "y también la del 10004" right after a receipt: that order's receipt.
            reset += send_invoice(dispatcher, tracker, order)
        else:
            tell_status(dispatcher, tracker, order)
        return [*reset, *after_flow(dispatcher, tracker, order, done="order_status")]


def tell_status(dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderView) -> None:
    """The order's status, items, carrier and dates, and the customer's other orders."""
    contacts = verified_contacts(tracker)
    lang = language(tracker)
    dispatcher.utter_message(
        response=f"utter_order_{order.status.value}",
        order_id=order.number,
        items=say_items(order, lang),
        carrier=order.carrier or "",
        tracking_number=order.tracking_number or "",
        expected_date=say_date(order.expected_delivery, lang) if order.expected_delivery else "",
        delivered_date=local_date(order.delivered_at, lang),
    )
    others = [
        other.number
        for other in store().orders_for_contact(
            phone=contacts.get("phone"), email=contacts.get("email")
        )
        if other.number != order.number
    ]
    if others:
        dispatcher.utter_message(response="utter_other_orders", orders=", ".join(others[:5]))


register("order_status", tell_status)
