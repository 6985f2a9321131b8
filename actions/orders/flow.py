"""What every order form does with the customer's reply, whatever it asked.

Each order flow (status, cancel, change, return, invoice, payment, buying) is a Rasa form
whose validator derives from `FlowValidation`, so these rules hold in all of them:

- **Dropping.** "olvídalo", "dejalo así, luego veo", "forget it, maybe later": the form ends,
  nothing is done, and the flow's submit action says so (`flow_dropped`, read by
  `dropped()`). At a confirmation a "no" is an answer, not a drop.
- **Confirmations.** The form's irreversible step (cancel, change of address, return, placing
  an order) waits for a clear yes, read by actions/replies.py. A no is passed on as `False`;
  a hold ("espera", "let me think") or a question changes nothing, the bot says so (and
  answers the question when the FAQ knows it), and the form keeps waiting for the answer.
- **Answers that fill nothing.** Small talk ("ah ok thanks", "👍") is acknowledged and never
  taken as a value; an aside ("perdón, me llaman") or a pause ("déjame pensarlo") gets a
  "no rush"; anything else the form cannot use gets "I didn't get that"; either way
  the form asks its question again instead of letting unrelated rules take the message
  (a postal code answered to "how many?" must not become an order lookup). Requests the
  rules handle mid-form (a FAQ, a person, a complaint, another flow) still go to the rules.
"""

from __future__ import annotations

import abc
import re
from typing import Any, ClassVar

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import (
    Reply,
    asks_for_person,
    is_aside,
    is_drop,
    is_small_talk,
    read_confirmation,
)
from actions.replies import fold as fold_text

REQUESTED = "requested_slot"
DROPPED_SLOT = "flow_dropped"
HELD_SLOT = "confirmation_held"
# Intents the rules handle in the middle of a form (data/rules/orders.yml, handoff.yml) or
# that start another flow: the form lets them through.
DIGRESSIONS = frozenset(
    {"faq", "human_handoff", "complaint", "deny", "account_help", "bot_challenge"}
    | {"order_status", "place_order", "cancel_order", "change_order", "return_request"}
    | {"invoice_request", "payment_issue"}
)
# Below this, the FAQ the ResponseSelector picked for a question is not trusted.
FAQ_CONFIDENCE = 0.5


def latest(tracker: Tracker) -> tuple[str, str | None]:
    """The latest message's text and intent."""
    message = tracker.latest_message or {}
    return str(message.get("text") or ""), (message.get("intent") or {}).get("name")


def faq_answer(tracker: Tracker) -> str | None:
    """The FAQ response for the latest message, when the ResponseSelector is confident."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    picked = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    key = picked.get("intent_response_key") or picked.get("full_retrieval_intent_name")
    confidence = float(picked.get("confidence") or 0.0)
    if key and confidence >= FAQ_CONFIDENCE:
        return f"utter_{key}"
    return None


def dropped(tracker: Tracker) -> bool:
    """Whether the customer dropped the flow that just ended (the submit action asks)."""
    return bool(tracker.get_slot(DROPPED_SLOT))


def flow_end() -> list[EventType]:
    """Slot events every submit action returns: the flow's one-turn markers cleared."""
    return [SlotSet(DROPPED_SLOT, None), SlotSet(HELD_SLOT, None)]


class FlowValidation(FormValidationAction, abc.ABC):
    """The shared reply handling of every order form (see the module docstring).

    Subclasses name their confirmation slot in `confirmation`, the response that says
    nothing happened yet in `hold_response`, and the intent that started the flow in
    `own_intent` (in the middle of its own flow it is not a digression).
    """

    confirmation: ClassVar[str | None] = None
    hold_response: ClassVar[str] = "utter_hold_generic"
    own_intent: ClassVar[str | None] = None

    @abc.abstractmethod
    def name(self) -> str:
        """validate_<form name> (the SDK registers concrete validators only)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Drop, confirmation, then the slots; nothing filled keeps the form asking."""
        text, intent = latest(tracker)
        requested = tracker.get_slot(REQUESTED)
        if tracker.get_slot(DROPPED_SLOT):
            return [SlotSet(REQUESTED, None)]
        if requested and requested != self.confirmation and is_drop(text, intent):
            return [SlotSet(DROPPED_SLOT, True), SlotSet(REQUESTED, None)]
        if requested and requested == self.confirmation:
            answered = await self.confirm(dispatcher, tracker, domain)
            if answered is not None:
                return await self.then_ask(answered, dispatcher, tracker, domain)
        said = len(dispatcher.messages)
        events = await super().run(dispatcher, tracker, domain)
        replied = len(dispatcher.messages) > said  # e.g. "no encontré ese producto"
        if (
            requested
            and not _fills_anything(events)
            and self._answer_expected(intent)
            and not replied
        ):
            response = "utter_form_unclear"
            if is_small_talk(text, intent):
                response = "utter_form_small_talk"
            elif is_aside(text, intent):
                response = "utter_form_aside"
            elif read_confirmation(text, intent) is Reply.HOLD:
                response = "utter_form_hold"  # "déjame pensarlo": what was said is kept
            dispatcher.utter_message(response=response)
        if requested and not _fills_anything(events) and self._answer_expected(intent):
            events.append(SlotSet(requested, None))  # keep the form on its question
        return events

    async def then_ask(
        self,
        events: list[EventType],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """`events` plus the next question, from this form's `required_slots`.

        Without it Rasa would ask the first empty slot of the domain's static list (a pickup
        store for an order that is shipped).
        """
        if any(e.get("event") == "slot" and e.get("name") == REQUESTED for e in events):
            return events
        tracker.slots.update(
            {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}
        )
        following = await self.next_requested_slot(dispatcher, tracker, domain)
        return [*events, following] if following else events

    def _answer_expected(self, intent: str | None) -> bool:
        """Whether the message was meant for the form (not a request the rules take)."""
        return intent == self.own_intent or intent not in DIGRESSIONS

    async def confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType] | None:
        """The reply to the confirmation question; None lets the rules take it (a FAQ)."""
        text, intent = latest(tracker)
        slot = str(self.confirmation)
        reply = read_confirmation(text, intent)
        if reply is Reply.YES:
            return [SlotSet(slot, True), SlotSet(REQUESTED, None)]
        if reply is Reply.NO:
            return await self.declined(dispatcher, tracker, domain)
        if reply is Reply.QUESTION and intent == "faq":
            return None  # the rules answer it, then the form asks again
        if (
            reply not in (Reply.YES, Reply.NO)
            and intent in ("human_handoff", "complaint")
            and asks_for_person(text)
        ):
            return None  # "can I talk to someone first?": the rules hand over, nothing done
        if reply is Reply.QUESTION:
            answer = faq_answer(tracker)
            if answer:
                dispatcher.utter_message(response=answer)
        if reply is Reply.UNCLEAR:
            dispatcher.utter_message(response="utter_confirm_yes_or_no")
            return [SlotSet(slot, None)]
        dispatcher.utter_message(response=self.hold_response)
        return [SlotSet(slot, None), SlotSet(HELD_SLOT, True)]

    async def declined(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A no to the confirmation: passed on as False; the submit action keeps things."""
        return [SlotSet(str(self.confirmation), False), SlotSet(REQUESTED, None)]


# The actions that end an order flow.
FLOW_ENDS = frozenset(
    {"action_order_status", "action_send_invoice", "action_cancel_order", "action_change_order"}
    | {"action_create_return", "action_place_order"}
)
_CONTINUES = re.compile(
    r"^(y|e|and|also|tambien|también|ademas|además|plus)\b|\b(tambien|también|also|too|as well)\b"
)


def opening_text(tracker: Tracker, form: str | None = None) -> str:
    """The customer's message that started `form` (default: the active one)."""
    form = form or (tracker.active_loop or {}).get("name")
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == form:
            started = True
        elif event.get("event") == "user" and started:
            return str(event.get("text") or "")
    return latest(tracker)[0]


def continues_flow(tracker: Tracker, form: str) -> str | None:
    """The flow `form`'s first message continues ("y también la del 10004" after a receipt).

    That message must read as a continuation; the last flow that ended before `form`
    started is returned (the name of its final action).
    """
    if not _CONTINUES.search(fold_text(opening_text(tracker, form))):
        return None
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == form:
            started = True
        elif started and event.get("event") == "action" and event.get("name") in FLOW_ENDS:
            return str(event["name"])
    return None


def _fills_anything(events: list[EventType]) -> bool:
    """Whether the validation set any slot but `requested_slot` (even to None)."""
    return any(e.get("event") == "slot" and e.get("name") != REQUESTED for e in events)


class ConfirmationAsk(Action, abc.ABC):
    """`action_ask_<confirmation>`: the question, unless the customer just said "wait".

    After a hold the bot has already said that nothing happened and that it waits for the
    answer; asking the same question again right away would read as pressure.
    """

    @property
    @abc.abstractmethod
    def slot(self) -> str:
        """The confirmation slot (a class attribute in subclasses)."""

    def name(self) -> str:
        """Rasa asks for the confirmation slot with this action."""
        return f"action_ask_{self.slot}"

    def details(self, tracker: Tracker) -> dict[str, Any]:
        """Values the question's response needs beyond the slots."""
        return {}

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The question, or nothing right after a hold."""
        if tracker.get_slot(HELD_SLOT):
            return [SlotSet(HELD_SLOT, None)]
        dispatcher.utter_message(response=f"utter_ask_{self.slot}", **self.details(tracker))
        return []
