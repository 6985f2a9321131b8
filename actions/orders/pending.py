"""A second request from the same message, done once the first flow ends.

"¿Cómo va el pedido 10003 y me mandan la factura?" runs one flow at a time (the invoice, say);
actions/requests.py remembers the other in `pending_request` and tells the customer it comes
next. When the first flow ends with a verified order, read-only requests about that order (its
status, its receipt) are answered right away, without asking anything again; a change to it
(a cancellation, a return, an address change) starts right away, and asks its own
confirmation. A request that named another order ("where's 10001, and cancel 10005") is
about that one, if the customer has proven owning it too.

The flows register what they can do for a pending request (`register`), so this module does
not import them.
"""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.commerce.backend import CommerceError, OrderView
from actions.orders.common import owns, store, verified_contacts

PENDING_SLOT = "pending_request"
# Pending requests that are flows of their own, started once the current one ends.
FLOW_FORMS = {
    "cancel_order": "cancel_order_form",
    "change_order": "change_order_form",
    "return_request": "return_form",
}
# Says what the request asks for; may return events (a flow that must ask something first).
Answer = Callable[[CollectingDispatcher, Tracker, OrderView], "list[EventType] | None"]
_ANSWERS: dict[str, Answer] = {}


def register(intent: str, answer: Answer) -> None:
    """`answer` fulfils a pending request of this intent for an order already verified."""
    _ANSWERS[intent] = answer


def after_flow(
    dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderView | None, done: str
) -> list[EventType]:
    """Answers the pending request about `order`, if it is one that needs nothing more.

    `done` is the intent of the flow that just ended (a pending request for the same thing
    was already served by it).
    """
    pending = tracker.get_slot(PENDING_SLOT)
    if not pending:
        return []
    intent, _, number = str(pending).partition(":")
    answer = _ANSWERS.get(intent)
    if number and order is not None and number != order.number:
        order = _owned(tracker, number)  # "where's 10001, and cancel 10005": about 10005
    if order is None or intent == done:
        return [SlotSet(PENDING_SLOT, None)]
    if answer is not None:
        return [SlotSet(PENDING_SLOT, None), *(answer(dispatcher, tracker, order) or [])]
    if intent in FLOW_FORMS:
        # A change to the order (cancel, return, change) starts now, on the order already
        # proven: its form asks its own confirmation.
        return [
            SlotSet(PENDING_SLOT, None),
            SlotSet("order_id", order.number),
            FollowupAction(FLOW_FORMS[intent]),
        ]
    return [SlotSet(PENDING_SLOT, None)]


def pending_value(intent: str, order_number: str | None) -> str:
    """The slot's value: the intent, and the order number the request named, if any."""
    return f"{intent}:{order_number}" if order_number else intent


def pending_intent(tracker: Tracker) -> str | None:
    """The intent of the request waiting for the current flow to end, if any."""
    pending = tracker.get_slot(PENDING_SLOT)
    return str(pending).partition(":")[0] if pending else None


def _owned(tracker: Tracker, number: str) -> OrderView | None:
    """Order `number`, if the contacts proven in this conversation own it."""
    try:
        order = store().get_order(number)
    except CommerceError:
        return None
    return order if owns(order, verified_contacts(tracker)) else None
