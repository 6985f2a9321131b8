"""Finding the customer's order and proving it is theirs: the base of every order flow.

Every order flow (status, cancel, return, invoice...) is a form whose first two slots are

- `order_id`: from the message's `order_id` entity, or picked from the buttons listing the
  customer's orders when the channel (or an earlier verification) already tells who they are;
- `order_verification`: the order's email or the last 4 digits of its phone, asked only when
  the customer has not proven a contact of that order yet.

Nothing about an order is said before ownership is proven, and an unknown order number gets
exactly the same answers as somebody else's (no leak, not even of its existence). Three
failed verifications stop every order flow and offer a person (`verification_failures`
persists, so restarting a form does not buy more guesses); more than LOOKUP_LIMIT_PER_MINUTE
lookups a minute from one sender are throttled, counted in the store so every action server
shares the count. Wrong proofs are also counted in the store per order, from every sender,
and per source: an order with ORDER_FAILURE_LIMIT of them in a day takes no more typed proofs
(not even a right one, which would confirm a guess), so a caller who starts a new
conversation for every guess gets nowhere. What was proven is kept sealed and bound to the
channel identity that proved it (actions/orders/proof.py).

To add a flow, subclass `OrderLookupValidation`::

    class ValidateCancelOrderForm(OrderLookupValidation):
        def name(self) -> str:
            return "validate_cancel_order_form"

        def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
            return ["cancel_confirmed"] if order.can_cancel else []

and declare the form in domain.yml with `order_id` and `order_verification` first (add the
form to the `conditions` of the `order_verification` slot mapping), then the flow's own
slots. The form ends early (no slots left) when the lookup is blocked; the flow's submit
action starts with `order_to_act_on()`, which tells the customer when there is none.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce import codes
from actions.commerce.backend import (
    LOOKUP_LIMIT_PER_MINUTE,
    OrderContacts,
    OrderNotFound,
    OrderStatus,
    OrderView,
    normalize_order_number,
)
from actions.commerce.codes import CODE_TTL, CodeCheck
from actions.commerce.verification import contact_matches, normalize_email, normalize_phone
from actions.mailer import MailError, mail_available, send_mail
from actions.orders.common import (
    entity_value,
    language,
    owns,
    slot_text,
    store,
    strongly_owns,
    verified_contacts,
)
from actions.orders.flow import FlowValidation, dropped, flow_end, latest
from actions.orders.proof import Proof, seal
from actions.replies import fold, is_small_talk

MAX_VERIFICATION_FAILURES = 3
LOOKUP_SLOTS = ("order_id", "order_verification", "order_code")
# The questions whose answer may complete the proof: right after it, a flow reads what the
# opening request already said (see OrderLookupValidation.run).
PROOF_QUESTIONS = ("order_verification", "order_code")
BLOCKED_SLOT = "order_lookup_blocked"
FAILURES_SLOT = "verification_failures"
# Whether the customer proved owning the order in `order_id` (the desk shows it).
VERIFIED_SLOT = "order_verified"

# Intents whose messages are never a proof typed for the lookup.
NOT_A_PROOF = frozenset(
    {"faq", "deny", "human_handoff", "complaint", "greet", "goodbye", "thank", "bot_challenge"}
    | {"out_of_scope", "cancel_order", "place_order", "change_order", "return_request"}
    | {"invoice_request", "payment_issue"}
)
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[a-z]{2,}", re.IGNORECASE)
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# The phone's last digits named as such, in a message that was not asked for them: "mi cel
# termina en 5678", "my phone ends in 0004", "ultimos 4 digitos: 0123". Only so named: any
# other four digits in an opening request (a year, a size, a quantity) are not a proof.
_DIGITS_NAMED = re.compile(
    r"(termina(?:n)?\s+(?:en|con)|terminacion|ultimos?\s+(?:4\s+|cuatro\s+)?(?:digitos|numeros)"
    r"|ends?\s+(?:in|with)|ending\s+(?:in|with)|last\s+(?:4\s+|four\s+)?(?:digits|numbers))"
    r"\D{0,12}?(?<!\d)(?P<digits>\d{4})(?!\d)",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,18}\d")
# Checked in place of an order that does not exist (see contacts_of): valid contacts, so the
# comparisons run as they do for a real order; a match with them is discarded.
# Whether a flow's step, on this order, needs more than typed phone digits: cancelling,
# changing the address, returning and getting the invoice do (a one-time code is asked for,
# ActionAskOrderCode).
NeedsStrongProof = Callable[[OrderView, Tracker], bool]
# Six digits, maybe in two groups of three ("048 213"), standing alone.
_CODE = re.compile(r"(?<![\d-])\d{3}[ -]?\d{3}(?![\d-])")
_NO_ORDER = OrderContacts(phone="+525512340000", email="nobody@orders.hilo.invalid")


def failures(tracker: Tracker) -> int:
    """Failed verifications so far in this conversation."""
    value = tracker.get_slot(FAILURES_SLOT)
    return int(value) if isinstance(value, (int, float)) else 0


def email_given(tracker: Tracker) -> str | None:
    """The latest email the customer wrote in this session, if any (newest message first)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        email = _EMAIL.search(str(event.get("text") or ""))
        if email and normalize_email(email.group(0)):
            return email.group(0)
    return None


def digits_named(text: str) -> str | None:
    """The phone's last 4 digits when the message names them as such, else None."""
    found = _DIGITS_NAMED.search(fold(text))
    return found.group("digits") if found else None


def proof_source(tracker: Tracker) -> str:
    """Who typed a proof, for counting failures: a pseudonym of the channel identity."""
    return codes.proof_source(tracker.get_latest_input_channel(), tracker.sender_id)


def find_order(order_id: str | None) -> OrderView | None:
    """The order with that number, or None (also for malformed numbers)."""
    number = normalize_order_number(order_id) if order_id else None
    if number is None:
        return None
    try:
        return store().get_order(number)
    except OrderNotFound:
        return None


def order_number_for(tracker: Tracker, intent: str | None) -> str | None:
    """The order number written in the part of the message that asks for `intent`.

    "Where's my order 10001, and I want to cancel 10005": the cancellation is about 10005
    (components/requests.py split the message); None when there is no such part.
    """
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    numbers = [e for e in message.get("entities") or [] if e.get("entity") == "order_id"]
    for part in message.get("requests") or []:
        if not isinstance(part, dict) or part.get("intent") != intent:
            continue
        start = text.find(str(part.get("text") or ""))
        if start < 0:
            continue
        end = start + len(str(part.get("text")))
        inside = [e for e in numbers if start <= int(e.get("start", -1)) < end]
        if inside:
            return str(inside[0].get("value"))
    if len(numbers) > 1 and intent in _FLOW_WORDS:
        # Not split, but two orders: "dónde va el 10001 y también cancelar el 10005". The
        # number right after the words of this flow is the one it is about.
        folded = text.lower()
        said = [m.end() for m in re.finditer(_FLOW_WORDS[intent], folded)]
        after = [e for e in numbers if said and int(e.get("start", -1)) >= said[-1]]
        if after:
            return str(min(after, key=lambda e: int(e.get("start", 0))).get("value"))
    return None


# The words that name each flow, to find which order number a flow is about.
_FLOW_WORDS = {
    "cancel_order": r"cancel",
    "return_request": r"devol|devuel|regres|return",
    "change_order": r"cambi|change|modific",
    "invoice_request": r"factura|invoice|recibo|receipt|comprobante",
    "order_status": r"donde|dónde|where|estado|status|rastre|track|va el|llega",
}


def proof_in(text: str) -> dict[str, str]:
    """The ownership proof a customer typed: an email, a whole phone, or 4 digits."""
    email = _EMAIL.search(text)
    if email and normalize_email(email.group(0)):
        return {"email": email.group(0)}
    phone = _PHONE.search(text)
    if phone and normalize_phone(phone.group(0)):
        return {"phone": phone.group(0)}
    last4 = _LAST4.findall(text)
    if len(last4) == 1:
        return {"last4": last4[0]}
    return {}


def contacts_of(number: str | None) -> tuple[OrderContacts, bool]:
    """Whom the order belongs to, and whether it exists.

    For an unknown number the contacts are a stand-in that the caller checks exactly as it
    would a real order's, then discards: an unknown order and somebody else's are refused
    after the same query and the same comparisons, so neither the answer nor its timing
    tells a stranger which order numbers exist.
    """
    found = store().order_contacts(number) if number else None
    return (_NO_ORDER, False) if found is None else (found, True)


def verified_order(tracker: Tracker) -> OrderView | None:
    """The conversation's order when the customer has proven owning it, else None."""
    number = slot_text(tracker, "order_id")
    contacts, exists = contacts_of(number)
    if owns(contacts, verified_contacts(tracker)) and exists:
        return find_order(number)
    return None


def order_to_act_on(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    sensitive: NeedsStrongProof | None = None,
) -> tuple[OrderView | None, list[EventType]]:
    """For a flow's submit action: the verified order, or None and the events that end it.

    A `sensitive` step (cancel, change of address, return, invoice) needs the order strongly
    proven (common.strongly_owns), whatever path led to the submit.

    Dropped ("olvídalo"): said, nothing done. Throttled: the validator already said so, and
    the block is lifted for next time. Three failed verifications (or no proof at all): the
    customer is told and offered a person (utter_verification_blocked); the rules take the
    yes or no from there.
    """
    if dropped(tracker):
        dispatcher.utter_message(response="utter_order_lookup_stopped")
        return None, flow_end()
    if tracker.get_slot(BLOCKED_SLOT) == "throttled":
        return None, [SlotSet(BLOCKED_SLOT, None), *flow_end()]
    order = None if failures(tracker) >= MAX_VERIFICATION_FAILURES else verified_order(tracker)
    if order is not None and sensitive and sensitive(order, tracker):
        order = order if strongly_owns(order, tracker) else None
    if order is None:
        dispatcher.utter_message(response="utter_verification_blocked")
        return None, [SlotSet(BLOCKED_SLOT, "verification_failed"), *flow_end()]
    return order, flow_end()


class OrderLookupValidation(FlowValidation, abc.ABC):
    """Validates the lookup slots of an order form; subclasses add the flow's own slots.

    See the module docstring for how to use it. The SDK only registers concrete classes
    with a `name()`, so this base is never an action of its own.
    """

    @abc.abstractmethod
    def name(self) -> str:
        """validate_<form name>."""

    def slots_after_lookup(self, order: OrderView, tracker: Tracker) -> list[str]:
        """The flow's own slots, asked once the customer has proven owning `order`."""
        return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The lookup; once it succeeds, the flow's slots are read at once.

        The flow's own slots are required only after ownership is proven, so what the
        customer already said about them ("change the colour of the dress to white") is
        read in the same turn the proof arrives, not after one more question.
        """
        order = verified_order(tracker)
        # In a sensitive step, proven only by the digits is not proven yet: the code is.
        was_verified = order is not None and (
            not self.sensitive(order, tracker) or strongly_owns(order, tracker)
        )
        answered = tracker.get_slot("requested_slot")
        events = await super().run(dispatcher, tracker, domain)
        proven = any(e.get("name") == VERIFIED_SLOT and e.get("value") is True for e in events)
        if was_verified or not proven or tracker.get_slot(BLOCKED_SLOT):
            return events
        tracker.add_slots([e for e in events if e.get("event") == "slot"])
        # This message answered the lookup's question, not the flow's first one.
        tracker.slots["requested_slot"] = answered
        extracted = [
            event
            for event in await self.get_extraction_events(dispatcher, tracker, domain)
            if event.get("name") not in LOOKUP_SLOTS
        ]
        tracker.add_slots(extracted)
        late: list[EventType] = []
        for event in extracted:  # only what this second reading found
            validate = getattr(self, f"validate_{event['name']}", None)
            result = (
                await validate(event["value"], dispatcher, tracker, domain)
                if validate
                else {event["name"]: event["value"]}
            )
            tracker.slots.update(result)
            late += [SlotSet(name, value) for name, value in result.items()]
        following = await self.next_requested_slot(dispatcher, tracker, domain)
        # One question only: Rasa asks the first `requested_slot` it finds in the events, so
        # the first pass's must go (else the next answer would answer a question not asked).
        first = [e for e in events if e.get("name") != "requested_slot"]
        return [*first, *late, *([following] if following else [])]

    def slots_read_early(self) -> list[str]:
        """Flow slots to read from the first messages already (asked only after the lookup).

        The SDK only extracts required slots, so a flow slot the customer may state up front
        ("cambiar la dirección del pedido 10003") is listed after the lookup slots until
        ownership is proven.
        """
        return []

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The message's order number, when it can name the order.

        That is the opening request ("cancela el 10003") or the answer to "which order?";
        a 5-digit number answering another question (a postal code) is not an order.
        """
        if tracker.get_slot("requested_slot") not in (None, "order_id"):
            return {}
        number = order_number_for(tracker, self.own_intent) or entity_value(tracker, "order_id")
        return {"order_id": number} if number else {}

    async def extract_order_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "the order's email or phone digits?", or an email already given.

        A customer who wrote their email before the order number ("my email is ana@…,
        any news on 10001?", or in an earlier message) is not asked for it again.
        """
        if tracker.get_slot("order_verification") is not None:
            return {}
        text, intent = latest(tracker)
        if tracker.get_slot("requested_slot") == "order_verification":
            if proof_in(text):
                # Whatever the intent: "ay perdón, ese no es. el celu termina en 1234".
                return {"order_verification": text}
            if intent in NOT_A_PROOF or is_small_talk(text, intent):
                return {}
            return {"order_verification": text}
        if not (tracker.get_slot("order_id") or entity_value(tracker, "order_id")):
            return {}  # nothing to check it against yet
        email = email_given(tracker)
        if email:
            return {"order_verification": email}
        # "mi pedido 10001 ya salio? mi cel termina en 5678": the proof came with the request.
        digits = digits_named(text)
        return {"order_verification": digits} if digits else {}

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing more when blocked; no verification when ownership is already proven."""
        if (
            tracker.get_slot(BLOCKED_SLOT)
            or failures(tracker) >= MAX_VERIFICATION_FAILURES
            or dropped(tracker)
        ):
            return []
        order = verified_order(tracker)
        if order is None:
            return ["order_id", "order_verification", *self.slots_read_early()]
        if self.sensitive(order, tracker) and not strongly_owns(order, tracker):
            return ["order_id", "order_code", *self.slots_read_early()]
        return ["order_id", *self.slots_after_lookup(order, tracker)]

    def _throttled(self, tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
        """Counts one lookup; True (and tells the customer) when over the limit."""
        if store().record_lookup_attempt(tracker.sender_id) > LOOKUP_LIMIT_PER_MINUTE:
            dispatcher.utter_message(response="utter_lookup_throttled")
            return True
        return False

    async def validate_order_id(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accepts anything shaped like an order number; a new number needs a new proof."""
        if self._throttled(tracker, dispatcher):
            return {"order_id": None, BLOCKED_SLOT: "throttled"}
        number = normalize_order_number(str(slot_value)) if slot_value is not None else None
        if number is None:
            dispatcher.utter_message(response="utter_order_id_invalid")
            return {"order_id": None, VERIFIED_SLOT: False}
        contacts, exists = contacts_of(number)
        owned = owns(contacts, verified_contacts(tracker)) and exists
        return {"order_id": number, "order_verification": None, VERIFIED_SLOT: owned}

    def sensitive(self, order: OrderView, tracker: Tracker) -> bool:
        """Whether this step, on this order, needs more than the phone's digits.

        Cancel, change of address, return and invoice flows say yes when the step can
        actually happen (a shipped order cannot be cancelled: saying so reveals no more
        than its status, which the digits already show).
        """
        return False

    async def validate_order_verification(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Checks the proof against the order; the same reply whether or not it exists.

        In a flow that cannot be undone, typed phone digits are not the end of it: the form
        then asks for a one-time code (`order_code`).
        """
        proof = proof_in(str(slot_value or ""))
        if not proof:
            dispatcher.utter_message(response="utter_verification_help")
            return {"order_verification": None}
        if self._throttled(tracker, dispatcher):
            return {"order_verification": None, BLOCKED_SLOT: "throttled"}
        number = slot_text(tracker, "order_id") or ""
        if not number:
            return {"order_verification": None}  # asked again once there is an order number
        source = proof_source(tracker)
        if store().verification_failures(number, source).locked:
            # Checked before the proof itself: a locked order tells nobody whether it was right.
            dispatcher.utter_message(response="utter_verification_locked")
            return {"order_verification": None, BLOCKED_SLOT: "verification_failed"}
        contacts, exists = contacts_of(number)
        if contact_matches(contacts, **proof) and exists:
            if "email" in proof:
                return self._proven(
                    Proof("email", str(normalize_email(contacts.email)), "email"), tracker
                )
            method = "phone" if "phone" in proof else "digits"
            return self._proven(
                Proof("phone", str(normalize_phone(contacts.phone)), method), tracker
            )
        return self._wrong(dispatcher, tracker, number, source, "utter_verification_failed")

    async def extract_order_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "type the code I sent": six digits, or the order's email instead."""
        if tracker.get_slot("requested_slot") != "order_code":
            return {}
        text, _ = latest(tracker)
        return {"order_code": text} if code_in(text) or proof_in(text) else {}

    async def validate_order_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Checks a one-time code; a typed email is checked as the lookup checks it.

        The slot itself never keeps a value: what the code proved goes into the sealed
        `verified_contact`, and the form stops asking because the order is now strongly owned.
        """
        text = str(slot_value or "")
        if proof_in(text):
            result = await self.validate_order_verification(text, dispatcher, tracker, domain)
            return {**result, "order_code": None}
        code = code_in(text)
        number = slot_text(tracker, "order_id") or ""
        if code is None or not number:
            return {"order_code": None}
        if self._throttled(tracker, dispatcher):
            return {"order_code": None, BLOCKED_SLOT: "throttled"}
        source = proof_source(tracker)
        if store().verification_failures(number, source).locked:
            dispatcher.utter_message(response="utter_verification_locked")
            return {"order_code": None, BLOCKED_SLOT: "verification_failed"}
        contacts, _ = contacts_of(number)
        checked = store().check_code(number, source, code)
        if checked is CodeCheck.OK and contacts.email:
            return {
                **self._proven(Proof("email", contacts.email, "code"), tracker),
                "order_code": None,
            }
        if checked is CodeCheck.NONE:
            # Expired or used up: the question that follows sends a new one.
            dispatcher.utter_message(response="utter_code_expired")
            return {"order_code": None}
        wrong = self._wrong(dispatcher, tracker, number, source, "utter_code_wrong")
        return {**wrong, "order_code": None}

    @staticmethod
    def _proven(proof: Proof, tracker: Tracker) -> dict[str, Any]:
        return {
            "order_verification": "ok",
            "verified_contact": seal(proof, tracker),
            VERIFIED_SLOT: True,
            FAILURES_SLOT: 0.0,
        }

    @staticmethod
    def _wrong(
        dispatcher: CollectingDispatcher, tracker: Tracker, number: str, source: str, reply: str
    ) -> dict[str, Any]:
        """A wrong proof or code: counted for the order, the source and the conversation."""
        failed = failures(tracker) + 1
        if store().record_verification_failure(number, source).locked:
            dispatcher.utter_message(response="utter_verification_locked")
            return {
                "order_verification": None,
                FAILURES_SLOT: float(failed),
                BLOCKED_SLOT: "verification_failed",
            }
        if failed < MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(
                response=reply, attempts_left=MAX_VERIFICATION_FAILURES - failed
            )
            return {"order_verification": None, FAILURES_SLOT: float(failed)}
        return {
            "order_verification": None,
            FAILURES_SLOT: float(failed),
            BLOCKED_SLOT: "verification_failed",
        }


class ActionAskOrderCode(Action):
    """Before a sensitive step, sends a one-time code to the order's email and asks for it.

    A customer who proved the order with its phone digits (or by its whole number typed) and
    now wants to cancel, change, return or get the invoice gets a code at the order's email,
    once per CODE_TTL (asked again, they are reminded where it went, not sent another). With
    no email on the order or no way to send mail, they are asked for the order's email, and
    told they can write from the order's phone or ask for a person.
    """

    def name(self) -> str:
        """Rasa asks for `order_code` with this action (action_ask_<slot>)."""
        return "action_ask_order_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Sends the code (or reminds where it went) and asks for it."""
        number = slot_text(tracker, "order_id") or ""
        contacts, _ = contacts_of(number)
        if not contacts.email or not mail_available():
            dispatcher.utter_message(response="utter_code_unavailable", order_id=number)
            return []
        masked = mask_email(contacts.email)
        code = store().issue_code(number, proof_source(tracker))
        if code is None:
            dispatcher.utter_message(response="utter_code_reminder", email=masked)
            return []
        lang = language(tracker)
        try:
            send_mail(contacts.email, *code_email(code, number, lang))
        except MailError:
            dispatcher.utter_message(response="utter_code_unavailable", order_id=number)
            return []
        dispatcher.utter_message(response="utter_code_sent", email=masked, order_id=number)
        return []


def code_in(text: str) -> str | None:
    """The one-time code in a message ("mi codigo es 048 213" too), if there is exactly one."""
    found = _CODE.findall(text)
    digits = {re.sub(r"\D", "", match) for match in found}
    return digits.pop() if len(digits) == 1 else None


def mask_email(email: str) -> str:
    """Where a code went, without the address: "a***@g***.com"."""
    local, _, domain = email.partition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{name[:1]}***.{tld}"


def code_email(code: str, number: str, lang: str) -> tuple[str, str]:
    """The subject and text of a code's email, in the customer's language."""
    minutes = int(CODE_TTL.total_seconds() // 60)
    if lang == "en":
        return (
            f"Your code for order {number}: {code}",
            f"Your code is {code}. Write it in the chat to go on with order {number}.\n"
            f"It expires in {minutes} minutes and works once. If you did not ask for it, "
            "ignore this email: nobody can change your order without it.",
        )
    return (
        f"Tu código para el pedido {number}: {code}",
        f"Tu código es {code}. Escríbelo en el chat para seguir con el pedido {number}.\n"
        f"Vence en {minutes} minutos y sirve una sola vez. Si no lo pediste, ignora este "
        "correo: nadie puede cambiar tu pedido sin él.",
    )


class ActionAskOrderId(Action):
    """Asks for the order number; a customer we already know picks from their orders."""

    def name(self) -> str:
        """Rasa asks for `order_id` with this action (action_ask_<slot>)."""
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Buttons with the customer's recent orders when their contact is proven."""
        contacts = verified_contacts(tracker)
        orders = (
            store().orders_for_contact(phone=contacts.get("phone"), email=contacts.get("email"))
            if contacts
            else []
        )
        if not orders:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        lang = language(tracker)
        buttons = [
            {
                "title": f"{order.number} · {STATUS_WORDS[lang][order.status]}",
                "payload": f'/order_status{{"order_id":"{order.number}"}}',
            }
            for order in orders[:10]
        ]
        dispatcher.utter_message(response="utter_choose_order", buttons=buttons)
        return []


STATUS_WORDS = {
    "es": {
        OrderStatus.PENDING_PAYMENT: "pendiente de pago",
        OrderStatus.PAID: "pagado",
        OrderStatus.PREPARING: "en preparación",
        OrderStatus.SHIPPED: "en camino",
        OrderStatus.DELIVERED: "entregado",
        OrderStatus.CANCELLED: "cancelado",
        OrderStatus.RETURNED: "devuelto",
    },
    "en": {
        OrderStatus.PENDING_PAYMENT: "awaiting payment",
        OrderStatus.PAID: "paid",
        OrderStatus.PREPARING: "being prepared",
        OrderStatus.SHIPPED: "on its way",
        OrderStatus.DELIVERED: "delivered",
        OrderStatus.CANCELLED: "cancelled",
        OrderStatus.RETURNED: "returned",
    },
}
