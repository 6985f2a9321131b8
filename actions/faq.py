"""Answer a FAQ with the conversation in mind: a short follow-up refers to the topic just answered.

The ResponseSelector picks a FAQ from the message alone. "y más o menos cuánto sale?" after
an answer about international shipping names no topic, and "and where exactly is it?" after
the stores' hours reads like a question about contact channels. So every FAQ answer goes
through `action_answer_faq` (instead of `utter_faq`): when the message is a follow-up of a
FAQ answered in the previous turn (it starts like one, "y…", "and…", "what about…", or is
the `followup` intent), the previous topic and what the follow-up asks about (the cost,
how long, where, which days) choose the answer. Otherwise the ResponseSelector's pick stands.
The chosen key is kept in `last_faq` for the next follow-up.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import fold
from actions.requests import requests_in

LAST_FAQ_SLOT = "last_faq"
ACTION_NAME = "action_answer_faq"
# What a follow-up asks about, in both languages (folded text).
ASPECTS = {
    "place": r"\b(donde|en donde|direcci\w*|ubicaci\w*|ubicad\w*|queda\w*|where|address"
    r"|location)\b",
    "hours": r"\b(horario\w*|abren|abre|cierran|cierra|domingo\w*|sabado\w*|festivo\w*|feriado\w*"
    r"|lunes|open|opens|close|closes|sunday\w*|saturday\w*|weekend\w*|holiday\w*|hours)\b",
    "time": r"\b(cuanto (tarda|tiempo|demora)|en cuanto (me|te|se|lo|la|llega)|tarda\w*|demora\w*"
    r"|cuando llega\w*|cuantos dias|cuando (me|nos) (lo |la |los |las )?\w+"
    r"|how long|how many days|when will|when does|when do i|takes?)\b",
    "cost": r"\b(cuanto|cuesta\w*|sale|vale|precio\w*|costo\w*|cobran|how much|price\w*|cost\w*"
    r"|fee\w*|charge\w*|roughly|aprox\w*)\b",
}
# (previous topic, aspect) -> the answer; anything not listed keeps the previous topic.
FOLLOW_UPS = {
    ("delivery_options", "cost"): "delivery_costs",
    ("delivery_times", "cost"): "delivery_costs",
    ("delivery_options", "time"): "delivery_times",
    ("delivery_costs", "time"): "delivery_times",
    ("return_policy", "time"): "refund_times",
    ("refund_times", "cost"): "return_policy",
    ("store_pickup", "hours"): "store_locations",
    ("store_pickup", "place"): "store_locations",
    ("business_hours", "place"): "store_locations",
    ("contact_channels", "place"): "store_locations",
    ("contact_channels", "hours"): "business_hours",
    ("store_locations", "hours"): "store_locations",
    ("gift_cards", "place"): "store_locations",
    ("promotions", "cost"): "promotions",
}
# Topics whose answer already covers an aspect ("and how much?" after international shipping).
COVERS = {
    "cost": {"international_shipping", "delivery_costs", "delivery_options", "gift_cards"}
    | {"promotions", "store_pickup"},
    "time": {"international_shipping", "delivery_times", "delivery_options", "refund_times"}
    | {"store_pickup"},
    "place": {"store_locations", "store_pickup"},
    "hours": {"store_locations", "business_hours", "contact_channels"},
}
# Any previous topic: a question about where the stores are is about the stores.
ANY_TOPIC = {"place": "store_locations"}
# Flow answers a follow-up may refer to ("and who delivered it?" after the order's status).
FLOW_FOLLOW_UPS = frozenset({"action_order_status"})
# The FAQ topics a flow's last answer raises, for a follow-up right after it.
FLOW_TOPICS = {
    "action_cancel_order": ("refund_times",),
    "action_create_return": ("return_policy", "refund_times"),  # the last is the likeliest
    "action_place_order": ("delivery_times", "payment_methods"),
    "action_change_order": ("delivery_times",),
}
# Topics about the same thing: a follow-up naming another of them ("y el express?" after the
# delivery times) is answered with the one it names.
FAMILIES = (
    frozenset({"delivery_options", "delivery_costs", "delivery_times", "store_pickup"}),
    frozenset({"return_policy", "refund_times", "warranty"}),
    frozenset({"store_locations", "business_hours", "contact_channels"}),
)
_OPENER = re.compile(
    r"^((vale|ok|okay|va|ah|oh|bueno|ya|listo|perfecto|genial|great|cool|nice|sale)\W+)?"
    r"(y|e|and|also|plus|what about|how about|and what about|and the|o sea|osea|entonces"
    r"|tambien|ademas|pero|but|so)\b"
)
FOLLOW_UP_WORDS = 6
CONFIDENT = 0.85
# Intents whose FAQ pick is a guess: the message was not read as a FAQ.
NOT_A_TOPIC = frozenset({"followup", "nlu_fallback"})


def aspect_of(text: str) -> str | None:
    """What the follow-up asks about: "place", "hours", "time", "cost", or None."""
    folded = fold(text)
    for aspect, pattern in ASPECTS.items():
        if re.search(pattern, folded):
            return aspect
    return None


def is_follow_up(text: str, intent: str | None) -> bool:
    """A follow-up shape: the `followup` intent, an opener ("y…", "and…"), or very short."""
    folded = fold(text)
    return (
        intent == "followup"
        or bool(_OPENER.match(folded))
        or len(folded.replace("?", " ").split()) <= 3
    )


def previous_action(tracker: Tracker) -> str | None:
    """The bot's last action before this message (what the customer is answering)."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True
        elif kind == "action" and seen_user and event.get("name") not in ("action_listen", None):
            return str(event.get("name"))
    return None


def previous_faqs(tracker: Tracker) -> list[str]:
    """The FAQ topics answered in the turn just before this message (several, or none).

    A flow that just ended counts as its topics: "y la plata cuándo me vuelve?" after a
    cancellation asks about refunds.
    """
    action = previous_action(tracker)
    if action in FLOW_TOPICS:
        return list(FLOW_TOPICS[str(action)])
    if action != ACTION_NAME:
        return []
    value = tracker.get_slot(LAST_FAQ_SLOT)
    return [topic for topic in str(value or "").split(",") if topic]


def selector_pick(tracker: Tracker) -> tuple[str | None, float]:
    """The ResponseSelector's FAQ key (without "faq/") and its confidence."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    picked = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    key = picked.get("intent_response_key") or picked.get("full_retrieval_intent_name")
    if not key or not str(key).startswith("faq/"):
        return None, 0.0
    return str(key).split("/", 1)[1], float(picked.get("confidence") or 0.0)


def choose_answer(
    text: str,
    intent: str | None,
    picked: str | None,
    confidence: float,
    previous: str | list[str] | None,
) -> str | None:
    """The FAQ key to answer with (see the module docstring), or None when there is none."""
    topics = [previous] if isinstance(previous, str) else list(previous or [])
    if not topics or not is_follow_up(text, intent):
        # A follow-up with nothing before it is answered only if the selector is sure.
        return picked if intent not in NOT_A_TOPIC or confidence >= CONFIDENT else None
    aspect = aspect_of(text)
    names_its_topic = intent not in NOT_A_TOPIC and picked is not None and confidence >= CONFIDENT
    mapped = [FOLLOW_UPS[(t, aspect)] for t in topics if aspect and (t, aspect) in FOLLOW_UPS]
    if aspect == "place" and picked not in COVERS["place"]:
        return ANY_TOPIC["place"]  # "and where exactly is it?": the stores
    if names_its_topic and picked not in topics and not (mapped and _related(picked, topics)):
        # "y si pago en OXXO, cuánto tiempo tengo?" names its own topic; "¿y a qué hora
        # abrís los domingos?" after the stores is still about the stores.
        return picked
    if aspect is None and picked is not None and picked not in topics and _related(picked, topics):
        return picked  # "y el express?" after the delivery times: the delivery options
    if aspect is not None:
        covering = [t for t in topics if t in COVERS[aspect]]
        return (mapped or covering or [topics[-1]])[0]
    return topics[-1]


def _related(picked: str | None, topics: list[str]) -> bool:
    """Whether the picked topic is of the same family as one just answered."""
    return any(picked in family and topic in family for family in FAMILIES for topic in topics)


class ActionAnswerFaq(Action):
    """Answers a FAQ, or a follow-up of the FAQ just answered."""

    def name(self) -> str:
        """Used by the rules wherever a FAQ is answered (data/rules/faq.yml, orders.yml)."""
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Utters the chosen FAQ answer and remembers its topic."""
        message: dict[str, Any] = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        several = [
            str(r["intent"]) for r in requests_in(tracker) if str(r["intent"]).startswith("faq/")
        ]
        if intent == "faq" and len(set(several)) > 1:
            # "do you ship to Canada and do you take PayPal?": each, in the order asked.
            topics = list(dict.fromkeys(name.split("/", 1)[1] for name in several))
            for topic in topics:
                dispatcher.utter_message(response=f"utter_faq/{topic}")
            return [SlotSet(LAST_FAQ_SLOT, ",".join(topics))]
        picked, confidence = selector_pick(tracker)
        text = str(message.get("text") or "")
        previous = previous_faqs(tracker)
        if (
            not previous
            and previous_action(tracker) in FLOW_FOLLOW_UPS
            and is_follow_up(text, intent)
            and intent != "faq"  # "y cuánto cuesta mandar algo a Madrid?" is a FAQ of its own
        ):
            # "and who delivered it?" right after the order's status: the status again.
            return [SlotSet(LAST_FAQ_SLOT, None), FollowupAction(str(previous_action(tracker)))]
        key = choose_answer(text, intent, picked, confidence, previous)
        if key is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return [SlotSet(LAST_FAQ_SLOT, None)]
        dispatcher.utter_message(response=f"utter_faq/{key}")
        return [SlotSet(LAST_FAQ_SLOT, key)]
