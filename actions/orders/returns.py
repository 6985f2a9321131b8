"""Returns and refunds: inside the window a return is opened; damaged items go to a person.

`return_form` is the lookup form (actions/orders/lookup.py) plus, only when the order can be
returned (delivered, within RETURN_WINDOW):

- `return_reason`, the customer's words; a reason already in the first message ("quiero
  devolver el 10002, me quedaron chicos") is not asked again;
- for a damaged item, `return_photo`: a person decides those with the photo in front of
  them, so nothing is opened by the bot (`return_outcome` "damaged", then the rules hand the
  conversation over with reason `damaged_item`); a photo sent with a caption that says what
  broke answers both questions;
- otherwise `return_confirmed`: the return opens only on a clear yes (actions/orders/flow.py).

`action_create_return` then opens the return and says its number, keeps things as they were
(a no), or explains why not (not delivered yet, window closed with its date, a return
already open).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

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
from actions.orders.common import language, media_in, slot_text, store
from actions.orders.flow import ConfirmationAsk, latest
from actions.orders.lookup import (
    OrderLookupValidation,
    order_to_act_on,
    verified_order,
)
from actions.orders.pending import after_flow
from actions.orders.status import local_date
from actions.replies import Reply, is_aside, is_question, is_small_talk, read_confirmation

REASON_SLOT = "return_reason"
PHOTO_SLOT = "return_photo"
CONFIRM_SLOT = "return_confirmed"
OUTCOME_SLOT = "return_outcome"
# The reason recorded when the customer answered "why?" with a photo and no words.
PHOTO_REASON = "foto del producto (sin descripción)"

# Word stems that mean the item arrived damaged or defective, in both languages, without
# accents (the text is folded before matching).
# Intents whose messages are not a reason to return ("where's my order?" at "why?").
NOT_A_REASON = frozenset(
    {"human_handoff", "send_media", "cancel_order", "place_order", "order_status"}
)
_DAMAGE = re.compile(
    r"\b(danad|rot[oa]s?\b|rompi|defect|fall[ao]s?\b|manch|descosid|agujer|hoyo|rasgad"
    r"|despegad|se (despego|desprendio|deshizo|rompio|descosio|rasgo|decoloro|destino)"
    r"|rayad|golpead|sucio|sucia|no funciona|(vino|llego|llegaron|vinieron) (mal|rot|danad)"
    r"|damag|broken|torn\b|tears?\b|stain|ripped|rip\b|holes?\b|scratch|dented|peel"
    r"|came apart|fell apart|came off|rasgu|roto\b|rota\b"
    # the damage still happening: "the sole is coming off", "se esta despegando la suela"
    r"|coming (off|apart|loose|undone)|falling off|unglued|unstitched"
    r"|(romp|descos|desprend|deshac)iendo|(despeg|rasg|decolor)ando"
    r"|falling apart|faded|defective|faulty|doesn ?t work|dirty|cracked)"
)


# Why people send things back, in their words: a first message with one of these already
# says the reason ("they're too small", "no me gustó el color", "llegó otro modelo").
_REASON = re.compile(
    r"\b(chic[oa]s?|pequen|grande|apretad|holgad|no me (qued|sirv|gust|convenc|ajust)"
    r"|talla|numero equivocad|equivocad|otro (modelo|color|producto)|no es (lo|el|la) que"
    r"|diferente|no coincide|calidad|cambie de opinion|ya no (lo|la|los|las) (quiero|necesito)"
    r"|too (small|big|large|tight|loose)|doesn ?t fit|don ?t fit|didn ?t fit|wrong (size|colou?r"
    r"|item|model|one)|not (what|as) (i|pictured|described|expected)|changed my mind|quality"
    r"|don ?t (like|need)|didn ?t like|no longer need|fits? (small|big|weird|bad)"
    r"|no era (lo|el|la) que|no (me )?(gusto|gustaron|sirvio|sirvieron|quedo|quedaron)"
    # a cause given: "porque…", "xq…", "because…" is the reason, whatever it says
    r"|porque|por que|xq|pq|porq|ya que|because|cuz|since|as it|as they)"
)


def reason_in(text: str) -> bool:
    """Whether a message already gives a reason to return (or says the item is damaged)."""
    folded = normalize_text(text)
    return bool(_REASON.search(folded) or _DAMAGE.search(folded))


def reason_clause(text: str) -> str:
    """The part of a request that gives the reason, for the record and the confirmation.

    "hola, quiero devolver las zapatillas del pedido 10002, me quedaron chicas" → "me
    quedaron chicas"; a message whose parts all or none say why is kept whole.
    """
    parts = [part.strip(" .!¡¿?") for part in re.split(r"[,;.!?\n]+", text)]
    saying_why = [part for part in parts if part and reason_in(part)]
    if not saying_why or len(saying_why) == len([part for part in parts if part]):
        return text.strip()
    return ", ".join(saying_why)


def is_damage(reason: str | None) -> bool:
    """Whether the customer's reason says the item arrived damaged or defective."""
    return reason == PHOTO_REASON or (
        bool(reason) and bool(_DAMAGE.search(normalize_text(str(reason))))
    )


def damaged(tracker: Tracker) -> bool:
    """A damaged item: its reason says so, or the customer sent a photo of it."""
    return bool(tracker.get_slot(PHOTO_SLOT)) or is_damage(slot_text(tracker, REASON_SLOT))


def returnable(order: OrderView, now: datetime | None = None) -> bool:
    """Delivered and still inside the return window."""
    deadline = order.return_deadline
    moment = now or datetime.now(timezone.utc)
    return order.status is OrderStatus.DELIVERED and deadline is not None and moment <= deadline


class ValidateReturnForm(OrderLookupValidation):
    """Validates `return_form`: the lookup, the reason, then a photo or a confirmation."""

    confirmation = CONFIRM_SLOT
    hold_response = "utter_hold_return"
    own_intent = "return_request"

    def name(self) -> str:
        """Rasa finds the validator of `return_form` by this name."""
        return "validate_return_form"

    def sensitive(self, order: OrderView, tracker: Tracker) -> bool:
        """More than the phone's digits, when the order can be returned."""
        return returnable(order)

    def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
        """Reason only for returnable orders; a photo for damaged items, else a yes."""
        if not returnable(order):
            return []
        if damaged(tracker):
            return [REASON_SLOT, PHOTO_SLOT]
        return [REASON_SLOT, CONFIRM_SLOT]

    def slots_read_early(self) -> list[str]:
        """The first message may already say why ("they're too small")."""
        return [REASON_SLOT]

    async def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "why?", or a first message that already says why."""
        if tracker.get_slot(REASON_SLOT):
            return {}
        text, intent = latest(tracker)
        if media_in(tracker) and tracker.get_slot("requested_slot") in (REASON_SLOT, None):
            # A photo sent as the reason: a damaged item, which a person decides with it.
            caption = "" if intent == "send_media" or is_small_talk(text, intent) else text
            return {REASON_SLOT: caption or PHOTO_REASON, PHOTO_SLOT: "received"}
        if tracker.get_slot("requested_slot") == REASON_SLOT:
            if intent in NOT_A_REASON or is_small_talk(text, intent):
                return {}
            if is_aside(text, intent) and not reason_in(text):
                return {}  # "haha sorry, my dog is barking": the question is asked again
            if read_confirmation(text, intent) is Reply.YES:
                return {}  # "ok, sí, hagámosla": agreement, not a reason
            if intent == "faq" and is_question(text):
                return {}  # a question at "why?": the rules answer it, then ask again
            return {REASON_SLOT: text}
        if reason_in(text) and intent != "send_media":
            return {REASON_SLOT: reason_clause(text)}
        return {}

    async def confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """At "shall I open it?": a new reason ("they're too small") replaces the one given.

        The confirmation is then asked again with it (or, when it says the item is damaged,
        the photo is asked for instead).
        """
        text, intent = latest(tracker)
        reply = read_confirmation(text, intent)
        if reply is Reply.UNCLEAR and reason_in(text) and intent not in NOT_A_REASON:
            reason = reason_clause(text)
            if reason != slot_text(tracker, REASON_SLOT):
                return await self.then_ask(
                    [SlotSet(REASON_SLOT, reason), SlotSet(CONFIRM_SLOT, None)],
                    dispatcher,
                    tracker,
                    domain,
                )
        return await super().confirm(dispatcher, tracker, domain)

    async def extract_return_photo(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A photo or file in the message (with or without a caption)."""
        if tracker.get_slot(PHOTO_SLOT) or not media_in(tracker):
            return {}
        return {PHOTO_SLOT: "received"}


class ActionAskReturnConfirmed(ConfirmationAsk):
    """Asks "shall I open the return (reason)?", unless the customer just said "wait"."""

    slot = CONFIRM_SLOT


class ActionCreateReturn(Action):
    """Ends the return flow: open the return, hand a damaged item to a person, or explain."""

    def name(self) -> str:
        """Runs when `return_form` completes (data/rules/orders.yml)."""
        return "action_create_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ends the flow, then the other request of the same message, if one waits."""
        events = await self._finish(dispatcher, tracker, domain)
        order = verified_order(tracker)
        return [*events, *after_flow(dispatcher, tracker, order, done="return_request")]

    async def _finish(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The outcome; the reason and photo are forgotten unless a person takes over next.

        A damaged item goes to a person, whose case is built from those slots; any other
        outcome clears them, so the next return request asks its own reason.
        """
        events = self._outcome(dispatcher, tracker)
        if any(e.get("name") == OUTCOME_SLOT and e.get("value") == "damaged" for e in events):
            return events
        return [*events, SlotSet(REASON_SLOT, None), SlotSet(PHOTO_SLOT, None)]

    def _outcome(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Creates the return in the store, keeps the order as it is, or explains why not."""
        reset: list[EventType] = [SlotSet("order_verification", None), SlotSet(CONFIRM_SLOT, None)]
        order, stop = order_to_act_on(
            dispatcher, tracker, sensitive=lambda order, _: returnable(order)
        )
        reset += stop  # the flow's one-turn markers, cleared however it ends
        if order is None:
            return [*reset, SlotSet(OUTCOME_SLOT, None)]
        reason = slot_text(tracker, REASON_SLOT)
        if order.status is not OrderStatus.DELIVERED:
            dispatcher.utter_message(response="utter_return_not_delivered", order_id=order.number)
            return [*reset, SlotSet(OUTCOME_SLOT, "refused")]
        if not returnable(order) or not reason:
            return [*reset, *self._window_closed(dispatcher, order, language(tracker))]
        if damaged(tracker):
            # A person decides with the photo; the rules hand over next (damaged_item).
            dispatcher.utter_message(response="utter_return_damaged")
            return [
                *reset,
                SlotSet(OUTCOME_SLOT, "damaged"),
                SlotSet("handoff_reason", "damaged_item"),
            ]
        if tracker.get_slot(CONFIRM_SLOT) is not True:
            dispatcher.utter_message(response="utter_return_kept", order_id=order.number)
            return [*reset, SlotSet(OUTCOME_SLOT, "refused")]
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
