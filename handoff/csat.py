"""The customer's satisfaction after a case: asked once on the channel, answered on the case.

When the bot takes a conversation back from people (handoff/ownership.py `HandBack`, in the
Rasa server), `Survey.ask` asks the customer how satisfied they were, 1 to 5, in the case's
language: buttons where the channel has them (Telegram's inline keyboard, Messenger's quick
replies, a WhatsApp list), a numbered list elsewhere (Twilio, SMS), through the hub's normal
outbound path (recorded in the outbox, the window rules applied). It asks only while the
channel lets a business write without a template or a tag (WhatsApp's 24 h, Messenger's 24 h:
a survey is none of Messenger's allowed tags), and otherwise records why it did not.

The answer needs no trained intent: the handoff reads the customer's next message before Rasa
does (`Survey.read`, the channels core's `intercept` hook) and keeps it only when it clearly
is one:

- a tap on one of the survey's buttons (its payload names the case and the score), a typed
  digit 1–5 ("4", "4/5"), or stars ("⭐⭐⭐⭐", "4 estrellas"): recorded, thanked, and a comment
  invited;
- after a score, the next message is its comment unless NLU reads it as something for the bot
  (a question, an order, a request: `REQUESTS`) or as a few words of small talk ("gracias");
  the comment on a score of 1 or 2 goes to a person as a new case (`follow_up`);
- anything else goes to the bot as usual, and the survey counts as passed by (`csat_ignored`):
  a customer who asks "donde esta mi pedido" instead gets the bot's answer, and a later "2"
  (a quantity, say) is never taken for a score.

Every message stays in the conversation's history either way (the inbox, which the desk
reads); only Rasa does not see a kept answer. A message written before the question went out
(the customer typed as the agent resolved) is not an answer and does not pass the survey by.

Once per case: `CaseStore.csat_asked` is a conditional update (`WHERE csat_asked_at IS
NULL`), so a retried hand-back or two replicas ask at most once. It is marked before it is
sent, so a crash in between loses that survey rather than ever asking twice: at most once.
The answer is conditional too (`WHERE csat_score IS NULL`): a double tap counts once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from connectors.adapter import Output, sender_ref
from connectors.messages import Button, InboundMessage, Kind, OutboundPart
from handoff.case import Case
from handoff.store import CaseStore, NotFound, Satisfaction
from handoff.texts import csat_choices, csat_comment_thanks, csat_question, csat_thanks

if TYPE_CHECKING:
    from connectors.core import ChannelHub

logger = logging.getLogger(__name__)

# A score is taken this long after the question; a comment this long after the score.
ANSWER_SECONDS = 3 * 24 * 3600.0
COMMENT_SECONDS = 30 * 60.0
# Provider clocks (Telegram's are whole seconds) may put a reply a little before the question.
CLOCK_SLACK_SECONDS = 2.0
# What NLU reads as something for the bot rather than a comment on the service.
REQUESTS = frozenset(
    {
        "faq", "followup", "human_handoff", "account_help", "order_status", "place_order",
        "cancel_order", "change_order", "inform", "return_request", "invoice_request",
        "payment_issue", "send_media", "bot_challenge",
    }
)  # fmt: skip
# Small talk that is a comment only with more to say ("gracias" goes to the bot, "gracias,
# Ana fue muy amable" is a comment).
SMALL_TALK = frozenset({"greet", "goodbye", "affirm", "deny", "thank"})
SMALL_TALK_WORDS = 3

_PAYLOAD = re.compile(r"^csat:(\d{1,12}):([1-5])$")
_TYPED = re.compile(
    r"^\s*([1-5])\s*(?:(?:/|de|of|out of)\s*5)?\s*(?:estrellas?|stars?|⭐)?\s*[.!]?\s*$",
    re.IGNORECASE,
)
_STARS = re.compile(r"^\s*([⭐★🌟]\ufe0f?\s*){1,5}$")

# NLU's reading of a text: its intent's name, or None when there is no model to ask.
Classify = Callable[[str], Awaitable[str | None]]
# Hands a low score's comment to a person (a new case): whether it did (handoff/plugin.py).
FollowUp = Callable[[InboundMessage, Output], Awaitable[bool]]
# A score this low asks what went wrong, and the answer goes to a person.
LOW_SCORE = 2


def payload(case_id: int, score: int) -> str:
    """What a survey button carries: the case and the score (short enough for Telegram)."""
    return f"csat:{case_id}:{score}"


def tapped(message: InboundMessage) -> tuple[int, int] | None:
    """(case, score) of a tap on a survey's button (or its number typed on a numbered list)."""
    if message.kind is not Kind.BUTTON or not message.payload:
        return None
    found = _PAYLOAD.match(message.payload)
    return (int(found.group(1)), int(found.group(2))) if found else None


def typed_score(text: str) -> int | None:
    """The score a typed reply clearly is: "4", "4/5", "4 estrellas", "⭐⭐⭐⭐"; else None."""
    found = _TYPED.match(text)
    if found:
        return int(found.group(1))
    if _STARS.match(text):
        return sum(text.count(star) for star in "⭐★🌟")
    return None


def question(case_id: int, language: str) -> OutboundPart:
    """The survey: the question with five choices, worst first (their number is the score)."""
    buttons = tuple(
        Button(title=title, payload=payload(case_id, score))
        for score, title in enumerate(csat_choices(language), start=1)
    )
    return OutboundPart(text=csat_question(language), buttons=buttons)


def is_comment(text: str, intent: str | None) -> bool:
    """Whether a message after the score comments on the service rather than asks the bot."""
    if not text.strip() or intent is None or intent in REQUESTS:
        return False
    return not (intent in SMALL_TALK and len(text.split()) <= SMALL_TALK_WORDS)


def stage(survey: Satisfaction, now: float) -> str | None:
    """What the survey waits for: "score", "comment", or nothing (None)."""
    if survey.asked_at is None:
        return None
    if survey.score is None:
        fresh = now - survey.asked_at < ANSWER_SECONDS
        return "score" if fresh and "score" not in survey.ignored else None
    if survey.comment is None and survey.answered_at is not None:
        fresh = now - survey.answered_at < COMMENT_SECONDS
        return "comment" if fresh and "comment" not in survey.ignored else None
    return None


class Survey:
    """Asks after a hand-back and reads the answers, on one Rasa server's channels hub."""

    def __init__(
        self,
        store: CaseStore,
        hub: ChannelHub,
        classify: Classify | None = None,
        clock: Callable[[], float] = time.time,
        follow_up: FollowUp | None = None,
    ) -> None:
        """`classify(text)`: NLU's intent for a possible comment (none: no comments kept).

        `follow_up`: hands the comment on a low score to a person. The question after such a
        score promises "we'll look into it": without a person on it, that was a promise
        nobody kept unless a supervisor happened to read the reports.
        """
        self.store = store
        self.hub = hub
        self.classify = classify
        self.clock = clock
        self.follow_up = follow_up

    async def ask(self, case: Case) -> bool:
        """Asks the case's customer, once, if the channel allows it now; whether it was sent.

        Called by the hand-back once it is applied (the bot owns the conversation again).
        """
        conversation = case.conversation_id
        language = case.corrections.get("language") or case.language
        sender = self.hub.sender_for(case.channel)
        if sender is None:  # the REST channel: it only answers a request, it cannot write
            await self._skip(case, f"the {case.channel} channel cannot write first")
            return False
        last_inbound = await asyncio.to_thread(self.hub.customers.last_inbound_at, conversation)
        decision = sender.window_rules(conversation).decide(
            last_inbound, self.clock(), from_agent=False
        )
        if not decision.send or decision.template:
            await self._skip(case, decision.reason or "window closed")
            return False
        part = question(case.id, language)
        buttons = not sender.numbered_buttons(part)
        asked = await asyncio.to_thread(
            self.store.csat_asked, case.id, channel=case.channel, buttons=buttons
        )
        if not asked:
            return False  # asked already: a retried hand-back, or another replica
        await self.hub.deliver(
            sender, conversation, [part], source="system", reply_to=None, next_seq=lambda: None
        )
        logger.info(
            "handoff.csat.asked case=%d sender=%s buttons=%s",
            case.id,
            sender_ref(conversation),
            buttons,
        )
        return True

    async def _skip(self, case: Case, why: str) -> None:
        await asyncio.to_thread(self.store.csat_skipped, case.id, why)
        logger.info(
            "handoff.csat.skipped case=%d sender=%s why=%s",
            case.id,
            sender_ref(case.conversation_id),
            why,
        )

    async def read(self, message: InboundMessage, output: Output) -> bool:
        """Keeps the message if it answers a survey (True: the bot must not see it).

        The channels core calls this before Rasa, on the conversation's lane.
        """
        tap = tapped(message)
        if tap is not None:
            await self._tap(message, output, *tap)
            return True  # a survey's button is never for the bot, answered or stale
        survey = await asyncio.to_thread(self.store.survey_of, message.conversation_id)
        if survey is None:
            return False
        waiting = stage(survey, self.clock())
        if waiting is None or survey.asked_at is None:
            return False
        if message.sent_at + CLOCK_SLACK_SECONDS < survey.asked_at:
            return False  # written before the question reached them
        text = message.text if message.kind is Kind.TEXT else ""
        if waiting == "score":
            score = typed_score(text) if text else None
            if score is not None:
                await self._score(survey, score, output)
                return True
        elif text and is_comment(text, await self._intent(text)):
            kept = await asyncio.to_thread(self.store.csat_commented, survey.case_id, text)
            if kept and not await self._followed_up(survey, message, output):
                await output.say(message.conversation_id, csat_comment_thanks(survey.language))
            return True
        await asyncio.to_thread(self.store.csat_ignored, survey.case_id, waiting)
        return False

    async def _tap(self, message: InboundMessage, output: Output, case_id: int, score: int) -> None:
        try:
            survey: Satisfaction | None = await asyncio.to_thread(self.store.satisfaction, case_id)
        except NotFound:
            survey = None
        if survey is None or survey.conversation_id != message.conversation_id:
            logger.warning(
                "handoff.csat.foreign_tap sender=%s", sender_ref(message.conversation_id)
            )
            return
        await self._score(survey, score, output)

    async def _score(self, survey: Satisfaction, score: int, output: Output) -> None:
        if not await asyncio.to_thread(self.store.csat_answered, survey.case_id, score):
            return  # answered already (a double tap): thanked once
        logger.info("handoff.csat.answered case=%d score=%d", survey.case_id, score)
        await output.say(survey.conversation_id, csat_thanks(score, survey.language))

    async def _followed_up(
        self, survey: Satisfaction, message: InboundMessage, output: Output
    ) -> bool:
        """A low score's comment goes to a person; whether it went (the customer was told)."""
        if self.follow_up is None or survey.score is None or survey.score > LOW_SCORE:
            return False
        try:
            return await self.follow_up(message, output)
        except Exception as error:  # the comment is on the case; thank them as usual
            logger.warning("handoff.csat.follow_up_failed error=%s", type(error).__name__)
            return False

    async def _intent(self, text: str) -> str | None:
        if self.classify is None:
            return None
        try:
            return await self.classify(text)
        except Exception as error:  # no model to ask: the message goes to the bot
            logger.warning("handoff.csat.classify_failed error=%s", type(error).__name__)
            return None
