"""A second request from the same message, done once the first flow ends.

"¿Cómo va el pedido 10003 y me mandan la factura?" runs one flow at a time (the invoice, say);
actions/requests.py remembers the other in `pending_request` and tells the customer it comes
next. When the first flow ends with a verified order, read-only requests about that order (its
status, its receipt) are answered right away, without asking anything again; other requests
(a cancellation, a return) were announced, and the customer starts them when ready.

The flows register what they can do for a pending request (`register`), so this module does
not import them.
"""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.commerce.backend import OrderView

PENDING_SLOT = "pending_request"
Answer = Callable[[CollectingDispatcher, Tracker, OrderView], None]
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
    answer = _ANSWERS.get(str(pending))
    if order is not None and answer is not None and pending != done:
        answer(dispatcher, tracker, order)
    return [SlotSet(PENDING_SLOT, None)]
