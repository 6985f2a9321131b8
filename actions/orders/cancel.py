"""Cancel an order: allowed until it ships, after the customer confirms; after that, explain.

`cancel_order_form` is the lookup form (actions/orders/lookup.py) plus `cancel_confirmed`,
asked only when the order can still be cancelled. `action_cancel_order` then cancels (the
backend puts the stock back and says whether money must be refunded), keeps the order, or
explains that a shipped order is returned instead and offers a return or a person.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce.backend import CommerceError, InvalidOrderState, OrderStatus, OrderView
from actions.orders.common import language, say_money, store
from actions.orders.flow import ConfirmationAsk
from actions.orders.lookup import (
    STATUS_WORDS,
    OrderLookupValidation,
    order_to_act_on,
    verified_order,
)
from actions.orders.pending import after_flow

CONFIRM_SLOT = "cancel_confirmed"


class ValidateCancelOrderForm(OrderLookupValidation):
    """Validates `cancel_order_form`: the lookup, then a confirmation if it can be cancelled."""

    confirmation = CONFIRM_SLOT
    hold_response = "utter_hold_cancel"
    own_intent = "cancel_order"

    def name(self) -> str:
        """Rasa finds the validator of `cancel_order_form` by this name."""
        return "validate_cancel_order_form"

    def sensitive(self, order: OrderView, tracker: Tracker) -> bool:
        """More than the phone's digits, when the order can still be cancelled."""
        return cancellable(order, tracker)

    def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
        """Ask for confirmation only when cancelling is still possible."""
        return [CONFIRM_SLOT] if order.can_cancel else []


def cancellable(order: OrderView, tracker: Tracker) -> bool:
    """Whether the order can still be cancelled (then the step needs a strong proof)."""
    return order.can_cancel


class ActionAskCancelConfirmed(ConfirmationAsk):
    """Asks "do you confirm cancelling order N?", unless the customer just said "wait"."""

    slot = CONFIRM_SLOT


class ActionCancelOrder(Action):
    """Ends the cancel flow: cancel, keep, or explain why it cannot be cancelled."""

    def name(self) -> str:
        """Runs when `cancel_order_form` completes (data/rules/orders.yml)."""
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ends the flow, then the other request of the same message, if one waits."""
        events = await self._finish(dispatcher, tracker, domain)
        order = verified_order(tracker)
        return [*events, *after_flow(dispatcher, tracker, order, done="cancel_order")]

    async def _finish(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Cancels after a yes; the confirmation is cleared so the next request asks again."""
        reset: list[EventType] = [SlotSet("order_verification", None), SlotSet(CONFIRM_SLOT, None)]
        order, stop = order_to_act_on(dispatcher, tracker, sensitive=cancellable)
        reset += stop  # the flow's one-turn markers, cleared however it ends
        if order is None:
            return [*reset]
        lang = language(tracker)
        if not order.can_cancel:
            self._explain(dispatcher, order, lang)
            return reset
        if tracker.get_slot(CONFIRM_SLOT) is not True:
            dispatcher.utter_message(response="utter_cancel_kept", order_id=order.number)
            return reset
        try:
            result = store().cancel_order(order.number)
        except InvalidOrderState:
            # It shipped between the question and the answer.
            self._explain(dispatcher, store().get_order(order.number), lang)
            return reset
        except CommerceError:
            dispatcher.utter_message(response="utter_order_action_failed")
            return reset
        if result.refund_due:
            dispatcher.utter_message(
                response="utter_cancel_done_refund",
                order_id=order.number,
                total=say_money(order.total_cents),
            )
        else:
            dispatcher.utter_message(response="utter_cancel_done", order_id=order.number)
        return reset

    @staticmethod
    def _explain(dispatcher: CollectingDispatcher, order: OrderView, lang: str) -> None:
        """A shipped, delivered or already closed order cannot be cancelled: say what can."""
        if order.status is OrderStatus.CANCELLED:
            dispatcher.utter_message(response="utter_cancel_already", order_id=order.number)
            return
        dispatcher.utter_message(
            response="utter_cancel_not_possible",
            order_id=order.number,
            status=STATUS_WORDS[lang][order.status],
        )
