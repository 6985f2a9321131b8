"""The satisfaction survey after a case: asked once, window permitting; answers kept strictly.

On SQLite and PostgreSQL (the store's conditional updates), with a real channels hub on its
own SQLite file and a recording sender in place of a provider.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.shared.core.events import UserUttered

from connectors.adapter import ChannelSender
from connectors.core import ChannelHub
from connectors.media_store import LocalMediaStore
from connectors.messages import InboundMessage, Kind, OutboundPart
from connectors.registry import MessengerRules, TelegramRules, TwilioRules
from connectors.storage import make_engine
from handoff.auth import Accounts
from handoff.case import Case
from handoff.csat import (
    COMMENT_SECONDS,
    FollowUp,
    Survey,
    is_comment,
    payload,
    question,
    stage,
    tapped,
    typed_score,
)
from handoff.ownership import HandBack, rasa_events, to_people_events
from handoff.store import CaseStore, Satisfaction
from tests.unit.handoff.conftest import agent, new


class Recording(ChannelSender):
    """A sender that keeps what it was asked to send."""

    numbered = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutboundPart]] = []

    def numbered_buttons(self, part: OutboundPart) -> bool:
        return self.numbered and bool(part.buttons)

    async def send(self, conversation_id: str, part: OutboundPart) -> str | None:
        self.sent.append((conversation_id, part))
        return f"id-{len(self.sent)}"


class TelegramSender(TelegramRules, Recording):
    pass


class TwilioSender(TwilioRules, Recording):
    numbered = True


class MessengerSender(MessengerRules, Recording):
    pass


class Mounted:
    def __init__(self, name: str, sender: ChannelSender) -> None:
        self._name = name
        self.sender = sender

    def name(self) -> str:
        return self._name

    def output(self, reply_to: int | None = None) -> Any:
        raise NotImplementedError


class Said:
    """An output channel that keeps what Hilo said."""

    responses = 0

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def say(self, conversation_id: str, text: str) -> None:
        self.texts.append(text)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ChannelHub]:
    engine = make_engine(f"sqlite:///{tmp_path / 'channels.db'}")
    hub = ChannelHub(engine, media_store=LocalMediaStore(tmp_path / "media"))
    for channel, sender in (
        ("telegram", TelegramSender()),
        ("twilio", TwilioSender()),
        ("messenger", MessengerSender()),
    ):
        hub.register(Mounted(channel, sender), on_new_message=None)  # type: ignore[arg-type]
    yield hub
    engine.dispose()


def sender(hub: ChannelHub, channel: str) -> Recording:
    found = hub.sender_for(channel)
    assert isinstance(found, Recording)
    return found


def given_back(
    store: CaseStore, accounts: Accounts, conversation: str, channel: str, **kw: Any
) -> Case:
    """A case an agent resolved and the bot took back (the hand-back applied)."""
    case, _ = store.open_case(new(conversation, channel=channel, **kw))
    person = agent(accounts, f"agent-{uuid.uuid4().hex[:6]}", role="supervisor")
    store.claim(case.id, person)
    store.resolve(case.id, person, return_to_bot=True)
    assert store.back_to_bot(case.id)
    return store.get(case.id)


def message(conversation: str, text: str = "", **kw: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": conversation.split(":", 1)[0],
        "conversation_id": conversation,
        "provider_id": uuid.uuid4().hex,
        "kind": Kind.TEXT,
        "sent_at": time.time(),
        "text": text,
    } | kw
    return InboundMessage(**values)


def survey_on(
    store: CaseStore,
    hub: ChannelHub,
    intent: str | None = "out_of_scope",
    follow_up: FollowUp | None = None,
) -> Survey:
    async def classify(_text: str) -> str | None:
        return intent

    return Survey(store, hub, classify=classify, follow_up=follow_up)


class FollowUps:
    """Where the survey hands a low score's comment (the handoff plugin's `follow_up` in the
    Rasa server, tested with the trained bot in tests/integration/handoff/test_csat.py)."""

    def __init__(self, works: bool = True) -> None:
        self.works = works
        self.handed: list[str] = []

    async def __call__(self, message: InboundMessage, output: Any) -> bool:
        if not self.works:
            raise RuntimeError("no bot to hand it to")
        self.handed.append(message.text or "")
        await output.say(message.conversation_id, "una persona te responde hoy")
        return True


def test_scores_are_read_strictly() -> None:
    for text, score in [
        ("4", 4), (" 5 ", 5), ("4/5", 4), ("3 de 5", 3), ("2 estrellas", 2), ("1 star", 1),
        ("⭐⭐⭐⭐", 4), ("⭐️⭐️⭐️", 3), ("5.", 5), ("★★", 2),
    ]:  # fmt: skip
        assert typed_score(text) == score, text
    for text in ["0", "6", "10001", "45", "muy bien", "donde esta mi pedido", "4 playeras", ""]:
        assert typed_score(text) is None, text


def test_a_tap_names_its_case_and_score_and_nothing_else_is_one() -> None:
    tap = message("telegram:1", kind=Kind.BUTTON, payload=payload(12, 4))
    assert tapped(tap) == (12, 4)
    assert tapped(message("telegram:1", kind=Kind.BUTTON, payload="/affirm")) is None
    assert tapped(message("telegram:1", "csat:12:4")) is None  # typed, not tapped


def test_the_question_has_five_choices_whose_number_is_the_score() -> None:
    part = question(7, "es")
    assert "1 (muy mal) al 5 (excelente)" in part.text
    assert [b.payload for b in part.buttons] == [f"csat:7:{n}" for n in range(1, 6)]
    assert part.buttons[3].title == "⭐⭐⭐⭐ Bien"
    english = question(7, "en")
    assert english.text.startswith("How did our team do?")
    assert english.buttons[4].title == "⭐⭐⭐⭐⭐ Excellent"


def test_a_comment_is_what_is_not_for_the_bot() -> None:
    assert is_comment("Ana fue muy amable, gracias", "thank")
    assert is_comment("tardaron mucho en contestarme", "complaint")
    assert is_comment("meh", "nlu_fallback")
    assert not is_comment("gracias", "thank")  # a few words of small talk: the bot's
    assert not is_comment("donde esta mi pedido", "order_status")
    assert not is_comment("cuanto cuesta el envio", "faq")
    assert not is_comment("algo", None)  # no model to tell: the bot's


def test_the_survey_waits_for_a_score_then_a_comment_then_nothing() -> None:
    now = 1_000_000.0
    asked = Satisfaction(1, "c", "telegram", "es", now, None, None, None)
    assert stage(asked, now + 60) == "score"
    assert stage(Satisfaction(1, "c", "telegram", "es", now, None, None, None,
                              frozenset({"score"})), now + 60) is None  # fmt: skip
    scored = Satisfaction(1, "c", "telegram", "es", now, 4, None, now + 60)
    assert stage(scored, now + 120) == "comment"
    assert stage(scored, now + 60 + COMMENT_SECONDS + 1) is None
    assert stage(Satisfaction(1, "c", "telegram", "es", now, 4, "ok", now), now) is None
    assert stage(Satisfaction(1, "c", "telegram", "es", None, None, None, None), now) is None


def test_asked_once_per_case_in_the_store(store: CaseStore, accounts: Accounts) -> None:
    case = given_back(store, accounts, "telegram:1", "telegram")
    assert store.csat_asked(case.id, channel="telegram", buttons=True)
    assert not store.csat_asked(case.id, channel="telegram", buttons=True)
    assert store.csat_answered(case.id, 4)
    assert not store.csat_answered(case.id, 2)  # answered once
    assert store.csat_commented(case.id, "  muy amables  ")
    assert not store.csat_commented(case.id, "otra cosa")
    survey = store.satisfaction(case.id)
    assert (survey.score, survey.comment) == (4, "muy amables")
    actions = [(e.action, e.actor, e.detail) for e in store.audit_log(case.id)][-3:]
    assert actions == [
        ("csat_asked", "system", {"channel": "telegram", "buttons": True}),
        ("csat_answered", "customer", {"score": 4}),
        ("csat_commented", "customer", {}),
    ]
    with pytest.raises(ValueError, match="1 to 5"):
        store.csat_answered(case.id, 6)


def test_no_score_without_a_question(store: CaseStore, accounts: Accounts) -> None:
    case = given_back(store, accounts, "telegram:2", "telegram")
    assert not store.csat_answered(case.id, 5)
    assert not store.csat_commented(case.id, "hola")
    assert store.survey_of("telegram:2") is None


def test_telegram_gets_buttons_and_the_tap_is_recorded(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:10", "telegram")
    survey = survey_on(store, hub)
    assert asyncio.run(survey.ask(case))
    ((_, part),) = sender(hub, "telegram").sent
    assert len(part.buttons) == 5
    (record,) = hub.outbox.conversation("telegram:10")
    assert record.source == "system"
    said = Said()
    tap = message("telegram:10", kind=Kind.BUTTON, payload=part.buttons[4].payload)
    assert asyncio.run(survey.read(tap, said))
    assert store.satisfaction(case.id).score == 5
    assert said.texts[0].startswith("¡Gracias! 🙌")
    assert asyncio.run(survey.read(tap, said))  # a second tap: kept, not counted, not thanked
    assert len(said.texts) == 1
    asked = [e.detail for e in store.audit_log(case.id) if e.action == "csat_asked"]
    assert asked == [{"channel": "telegram", "buttons": True}]


def test_twilio_gets_numbers_a_typed_4_then_a_comment(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    conversation = "twilio:whatsapp:+5215511112222"
    case = given_back(store, accounts, conversation, "twilio")
    hub.customers.record_inbound(message(conversation, "hola"))
    survey = survey_on(store, hub, intent="complaint")
    assert asyncio.run(survey.ask(case))
    asked = [e.detail for e in store.audit_log(case.id) if e.action == "csat_asked"]
    assert asked == [{"channel": "twilio", "buttons": False}]
    said = Said()
    # The core maps a typed "4" on a numbered list to the 4th button; typed digits count too.
    assert asyncio.run(survey.read(message(conversation, "4"), said))
    assert asyncio.run(survey.read(message(conversation, "tardaron un poco en contestar"), said))
    result = store.satisfaction(case.id)
    assert (result.score, result.comment) == (4, "tardaron un poco en contestar")
    assert said.texts[1] == "¡Gracias por contarnos! Tu comentario ya está con nuestro equipo 👍"
    # The survey is over: the next message is the bot's.
    assert not asyncio.run(survey.read(message(conversation, "3"), said))


def test_a_low_score_asks_what_went_wrong(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:11", "telegram", language="en")
    survey = survey_on(store, hub)
    asyncio.run(survey.ask(case))
    ((_, part),) = sender(hub, "telegram").sent
    assert part.text.startswith("How did our team do?")
    said = Said()
    assert asyncio.run(survey.read(message("telegram:11", "⭐"), said))
    assert said.texts == [
        "Thank you, and sorry we didn't do better 😓. What went wrong? Tell us here and we'll "
        "look into it."
    ]


@pytest.mark.parametrize(
    ("score", "works", "handed", "last_said"),
    [
        ("1", True, ["nadie me resolvio lo del reembolso"], "una persona te responde hoy"),
        ("2", False, [], "¡Gracias por contarnos!"),  # it failed: the comment is still kept
        ("3", True, [], "¡Gracias por contarnos!"),  # not low: thanked, nobody told
    ],
)
def test_a_low_scores_comment_goes_to_a_person(
    store: CaseStore,
    accounts: Accounts,
    hub: ChannelHub,
    score: str,
    works: bool,
    handed: list[str],
    last_said: str,
) -> None:
    """The low score's question promises "we'll look into it": its answer reaches a person."""
    conversation = f"telegram:2{score}"
    case = given_back(store, accounts, conversation, "telegram")
    follow_ups = FollowUps(works)
    survey = survey_on(store, hub, intent="complaint", follow_up=follow_ups)
    asyncio.run(survey.ask(case))
    said = Said()
    assert asyncio.run(survey.read(message(conversation, score), said))
    comment = "nadie me resolvio lo del reembolso"
    assert asyncio.run(survey.read(message(conversation, comment), said))
    assert follow_ups.handed == handed
    assert said.texts[-1].startswith(last_said)
    assert store.satisfaction(case.id).comment == comment


def test_a_customer_who_carries_on_reaches_the_bot_and_the_survey_is_passed_by(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:12", "telegram")
    survey = survey_on(store, hub)
    asyncio.run(survey.ask(case))
    said = Said()
    assert not asyncio.run(survey.read(message("telegram:12", "donde esta mi pedido"), said))
    assert not asyncio.run(survey.read(message("telegram:12", "2"), said))  # a quantity, later
    assert store.satisfaction(case.id).score is None
    assert store.satisfaction(case.id).ignored == frozenset({"score"})
    assert said.texts == []
    # A tap on the old keyboard is still an answer to that case.
    tap = message("telegram:12", kind=Kind.BUTTON, payload=payload(case.id, 3))
    assert asyncio.run(survey.read(tap, said))
    assert store.satisfaction(case.id).score == 3


def test_a_request_after_the_score_is_the_bots_not_a_comment(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:13", "telegram")
    survey = survey_on(store, hub, intent="order_status")
    asyncio.run(survey.ask(case))
    said = Said()
    assert asyncio.run(survey.read(message("telegram:13", "5"), said))
    assert not asyncio.run(survey.read(message("telegram:13", "donde esta mi pedido"), said))
    assert store.satisfaction(case.id).comment is None
    assert store.satisfaction(case.id).ignored == frozenset({"comment"})


def test_a_message_written_before_the_question_is_not_an_answer(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:14", "telegram")
    survey = survey_on(store, hub)
    asyncio.run(survey.ask(case))
    early = message("telegram:14", "5", sent_at=time.time() - 60)
    assert not asyncio.run(survey.read(early, Said()))
    assert store.satisfaction(case.id).ignored == frozenset()  # still waiting


def test_a_tap_from_another_conversation_is_dropped(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:15", "telegram")
    survey = survey_on(store, hub)
    asyncio.run(survey.ask(case))
    forged = message("telegram:16", kind=Kind.BUTTON, payload=payload(case.id, 1))
    assert asyncio.run(survey.read(forged, Said()))
    assert store.satisfaction(case.id).score is None


@pytest.mark.parametrize(
    ("conversation", "channel", "hours", "why"),
    [
        ("twilio:whatsapp:+5215533334444", "twilio", 30, "window closed: customer last wrote 30 h"),
        ("messenger:55", "messenger", 30, "window closed (the bot may not write, 24 h)"),
        ("rest:abc", "rest", 1, "the rest channel cannot write first"),
    ],
)
def test_a_closed_window_skips_the_survey_with_the_reason(
    store: CaseStore,
    accounts: Accounts,
    hub: ChannelHub,
    monkeypatch: pytest.MonkeyPatch,
    conversation: str,
    channel: str,
    hours: float,
    why: str,
) -> None:
    case = given_back(store, accounts, conversation, channel)
    last = time.time() - hours * 3600
    monkeypatch.setattr(hub.customers, "last_inbound_at", lambda _c: last)
    assert not asyncio.run(survey_on(store, hub).ask(case))
    skipped = [e.detail["why"] for e in store.audit_log(case.id) if e.action == "csat_skipped"]
    assert len(skipped) == 1
    assert skipped[0].startswith(why)
    assert store.satisfaction(case.id).asked_at is None
    assert store.satisfaction(case.id).skipped == skipped[0]
    assert hub.outbox.conversation(conversation) == []


def test_twilio_sms_has_no_window(
    store: CaseStore, accounts: Accounts, hub: ChannelHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = given_back(store, accounts, "twilio:+5215533335555", "twilio")
    monkeypatch.setattr(hub.customers, "last_inbound_at", lambda _c: time.time() - 90 * 3600)
    assert asyncio.run(survey_on(store, hub).ask(case))


def test_two_askers_at_once_send_one_question(
    store: CaseStore, accounts: Accounts, hub: ChannelHub
) -> None:
    case = given_back(store, accounts, "telegram:20", "telegram")
    survey = survey_on(store, hub)

    async def both() -> list[bool]:
        return list(await asyncio.gather(survey.ask(case), survey.ask(case)))

    assert sorted(asyncio.run(both())) == [False, True]
    assert len(sender(hub, "telegram").sent) == 1


def test_the_hand_back_asks_once_however_often_it_is_applied(
    store: CaseStore, accounts: Accounts, hub: ChannelHub, domain: Any
) -> None:
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import InMemoryTrackerStore

    rasa = SimpleNamespace(
        tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore()
    )
    case, _ = store.open_case(new("telegram:30", channel="telegram"))

    async def pause() -> None:
        tracker = await rasa.tracker_store.get_or_create_tracker(case.conversation_id)
        tracker.update(UserUttered("quiero hablar con una persona"))
        for event in rasa_events(to_people_events(case.id, "customer_asked")):
            tracker.update(event)
        await rasa.tracker_store.save(tracker)

    asyncio.run(pause())
    person = agent(accounts, "sofia", role="supervisor")
    store.claim(case.id, person)
    store.resolve(case.id, person, return_to_bot=True)
    returned: list[int] = []
    survey = survey_on(store, hub)

    async def ask(given: Case) -> None:
        returned.append(given.id)
        await survey.ask(given)

    hand_backs = HandBack(store, lambda: rasa, lambda _c: None, returned=ask)

    async def twice() -> None:
        await hand_backs.hand_back("telegram:30")
        await hand_backs.hand_back("telegram:30")

    asyncio.run(twice())
    assert returned == [case.id]
    assert len(sender(hub, "telegram").sent) == 1
    # A survey that raises never undoes the hand-back.
    case2, _ = store.open_case(new("telegram:31", channel="telegram"))
    store.claim(case2.id, person)
    store.resolve(case2.id, person, return_to_bot=True)

    async def broken(_case: Case) -> None:
        raise RuntimeError("boom")

    asyncio.run(HandBack(store, lambda: rasa, lambda _c: None, returned=broken).hand_back(
        "telegram:31"
    ))  # fmt: skip
    assert store.get(case2.id).status.value == "bot"
