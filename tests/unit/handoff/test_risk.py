"""Customers at risk: each point has a reason; nobody is listed under the threshold."""

from __future__ import annotations

from handoff.auth import Accounts
from handoff.case import Reason
from handoff.facts import Facts, conversation_ref
from handoff.risk import RiskScores
from handoff.store import CaseStore
from tests.unit.handoff.conftest import agent, new

DAY = 86400.0
NOW = 1_800_000_000.0


def said(at: float, intent: str) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}}
    return {"event": "user", "timestamp": at, "input_channel": "twilio", "parse_data": parse}


def cancelled(at: float) -> dict:
    return {"event": "bot", "timestamp": at, "metadata": {"utter_action": "utter_cancel_done"}}


def test_every_point_has_a_reason_and_the_list_keeps_the_threshold(
    store: CaseStore, accounts: Accounts
) -> None:
    facts = Facts(store.engine, gap=DAY)
    clock = {"now": NOW - 10 * DAY}
    cases = CaseStore(store.engine, clock=lambda: clock["now"])
    angry = "twilio:+5215511110000"
    # Back three days after the first contact, complaining; a complaint case, answered late
    # and rated 1; then an order cancelled.
    facts.record_events(angry, [said(NOW - 10 * DAY, "order_status")])
    facts.record_events(angry, [said(NOW - 7 * DAY, "complaint")])
    clock["now"] = NOW - 7 * DAY + 10
    case, _ = cases.open_case(
        new(angry, reason=Reason.COMPLAINT, sla_due_at=clock["now"] + 600, customer_name="Ana")
    )
    carla = agent(accounts, "carla")
    cases.claim(case.id, carla)
    clock["now"] += 3600
    cases.replied(case.id, carla)
    cases.resolve(case.id, carla, return_to_bot=True)
    cases.csat_asked(case.id, channel="twilio", buttons=False)
    cases.csat_answered(case.id, 1)
    facts.record_events(angry, [said(NOW - 6 * DAY, "cancel_order"), cancelled(NOW - 6 * DAY + 1)])
    # A calm customer: one question, answered.
    facts.record_events("twilio:+5215522220000", [said(NOW - 2 * DAY, "order_status")])
    # Someone who cancelled once: 2 points, under the threshold.
    facts.record_events("twilio:+5215533330000", [cancelled(NOW - DAY)])

    scores = RiskScores(store.engine, clock=lambda: NOW)
    (listed,) = scores.at_risk()
    assert listed["conversation_ref"] == conversation_ref(angry)
    assert (listed["case_id"], listed["name"], listed["channel"]) == (case.id, "Ana", "whatsapp")
    reasons = {r["signal"]: (r["count"], r["points"]) for r in listed["reasons"]}
    # The complaint was heard and opened a complaint case: counted once.
    assert reasons == {
        "complaint": (1, 3),
        "low_csat": (1, 3),
        "repeat": (1, 2),
        "cancelled": (1, 2),
        "long_wait": (1, 2),
    }
    assert listed["score"] == 12
    assert all(r["es"] and r["en"] for r in listed["reasons"])

    card = scores.for_conversation(angry)
    assert (card["score"], card["listed"]) == (12, True)
    calm = scores.for_conversation("twilio:+5215522220000")
    assert (calm["score"], calm["listed"], calm["reasons"]) == (0, False, [])
    once = scores.for_conversation("twilio:+5215533330000")
    assert (once["score"], once["listed"]) == (2, False)


def test_signals_older_than_thirty_days_no_longer_count(store: CaseStore) -> None:
    facts = Facts(store.engine, gap=DAY)
    facts.record_events("twilio:1", [said(NOW - 40 * DAY, "complaint")])
    facts.record_events("twilio:1", [said(NOW - 35 * DAY, "complaint")])
    assert RiskScores(store.engine, clock=lambda: NOW).for_conversation("twilio:1")["score"] == 0
