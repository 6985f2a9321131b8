"""Returns and refunds: inside the window a return is opened; damaged items go to a person.

`return_form` is the lookup form (actions/orders/lookup.py) plus `return_reason` (the
customer's words), asked only when the order can be returned (delivered, within
RETURN_WINDOW), and `return_photo` when the reason says the item arrived damaged: a person
decides those with the photo in front of them. `action_create_return` then opens the return
and says its number, or explains why not (not delivered yet, window closed with its date, a
return already open). For damaged items it sets `return_outcome` to "damaged" and the rules
hand the conversation to a person (reason `damaged_item`).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import (
    CommerceError,
    InvalidOrderState,
    OrderStatus,
    OrderView,
    ReturnAlreadyRequested,
    ReturnWindowClosed,
    normalize_text,
)
from actions.orders.common import language, slot_text, store
from actions.orders.lookup import (
    OrderLookupValidation,
    order_to_act_on,
)
from actions.orders.status import local_date

REASON_SLOT = "return_reason"
PHOTO_SLOT = "return_photo"
OUTCOME_SLOT = "return_outcome"

# Word stems that mean the item arrived damaged or defective, in both languages, without
# accents (the text is folded before matching).
_DAMAGE = re.compile(
    r"\b(danad|rot[oa]s?\b|rompi|defect|fall[ao]s?\b|manch|descosid|agujer|hoyo|rasgad"
    r"|(vino|llego) (mal|roto|rota)|damag|broken|torn\b|stain|ripped|holes?\b)"
)


def is_damage(reason: str | None) -> bool:
    """Whether the customer's reason says the item arrived damaged or defective."""
    return bool(reason) and bool(_DAMAGE.search(normalize_text(str(reason))))


def returnable(order: OrderView, now: datetime | None = None) -> bool:
    """Delivered and still inside the return window."""
    deadline = order.return_deadline
    moment = now or datetime.now(timezone.utc)
    return order.status is OrderStatus.DELIVERED and deadline is not None and moment <= deadline


class ValidateReturnForm(OrderLookupValidation):
    """Validates `return_form`: the lookup, then the reason and, if damaged, a photo."""

    def name(self) -> str:
        """Rasa finds the validator of `return_form` by this name."""
        return "validate_return_form"

    def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
        """Reason only for returnable orders; a photo only for damaged items."""
        if not returnable(order):
            return []
        if is_damage(slot_text(tracker, REASON_SLOT)):
            return [REASON_SLOT, PHOTO_SLOT]
        return [REASON_SLOT]


class ActionCreateReturn(Action):
    """Ends the return flow: open the return, hand a damaged item to a person, or explain."""

    def name(self) -> str:
        """Runs when `return_form` completes (data/rules/orders.yml)."""
        return "action_create_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Creates the return in the store; the reason and photo stay in slots for the desk."""
        reset: list[EventType] = [SlotSet("order_verification", None)]
        order, stop = order_to_act_on(dispatcher, tracker)
        if order is None:
            return [*reset, *stop, SlotSet(OUTCOME_SLOT, None)]
        reason = slot_text(tracker, REASON_SLOT)
        if order.status is not OrderStatus.DELIVERED:
            dispatcher.utter_message(response="utter_return_not_delivered", order_id=order.number)
            return [*reset, SlotSet(OUTCOME_SLOT, "refused")]
        if not returnable(order) or not reason:
            return [*reset, *self._window_closed(dispatcher, order, language(tracker))]
        try:
            created = store().create_return(order.number, reason)
        except ReturnAlreadyRequested as error:
            dispatcher.utter_message(
                response="utter_return_exists",
                order_id=order.number,
                return_number=error.existing.number,
            )
            return [*reset, SlotSet(OUTCOME_SLOT, "refused")]
        except ReturnWindowClosed:
            return [*reset, *self._window_closed(dispatcher, order, language(tracker))]
        except (InvalidOrderState, CommerceError):
            dispatcher.utter_message(response="utter_order_action_failed")
            return [*reset, SlotSet(OUTCOME_SLOT, "refused")]
        if is_damage(reason):
            # The rules hand over to a person next; action_handoff keeps this reason.
            dispatcher.utter_message(response="utter_return_damaged", return_number=created.number)
            return [
                *reset,
                SlotSet(OUTCOME_SLOT, "damaged"),
                SlotSet("handoff_reason", "damaged_item"),
            ]
        dispatcher.utter_message(
            response="utter_return_created", order_id=order.number, return_number=created.number
        )
        return [*reset, SlotSet(OUTCOME_SLOT, "created")]

    @staticmethod
    def _window_closed(
        dispatcher: CollectingDispatcher, order: OrderView, lang: str
    ) -> list[EventType]:
        """Past the window: say until when it was open."""
        dispatcher.utter_message(
            response="utter_return_window_closed",
            order_id=order.number,
            deadline=local_date(order.return_deadline, lang),
        )
        return [SlotSet(OUTCOME_SLOT, "refused")]
