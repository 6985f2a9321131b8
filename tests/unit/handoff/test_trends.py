"""Trends: labels week over week, rises flagged by a rule with its numbers, topics named."""

from __future__ import annotations

from handoff.case import Reason
from handoff.facts import Facts
from handoff.store import CaseStore
from handoff.trends import Trends
from tests.unit.handoff.conftest import new

DAY = 86400.0
NOW = 1_800_000_000.0


def said(at: float, intent: str, city: str | None = None, product: str | None = None) -> dict:
    entities = [
        {"entity": kind, "value": value}
        for kind, value in (("city", city), ("product", product))
        if value
    ]
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities}
    return {"event": "user", "timestamp": at, "input_channel": "twilio", "parse_data": parse}


def test_a_rise_against_the_last_four_weeks_is_flagged_and_explained(store: CaseStore) -> None:
    facts = Facts(store.engine, gap=DAY)
    n = 0

    def write(at: float, intent: str, city: str | None = None) -> None:
        nonlocal n
        n += 1
        facts.record_events(f"twilio:{n}", [said(at, intent, city)])

    for week in range(1, 5):  # five complaints a week before, from anywhere
        for k in range(5):
            write(NOW - week * 7 * DAY - DAY - k, "complaint", "Puebla")
    for k in range(14):  # fourteen in the last seven days, ten of them in Monterrey
        write(NOW - DAY - k, "complaint", "Monterrey" if k < 10 else "Puebla")
    for week in range(5):  # steady
        for k in range(6):
            write(NOW - week * 7 * DAY - 2 * DAY - k, "order_status")
    for k in range(4):  # new, but too few to say
        write(NOW - DAY - k, "faq/delivery_costs")

    report = Trends(store.engine, clock=lambda: NOW).weekly()
    by_label = {trend["label"]: trend for trend in report["labels"]}
    complaint = by_label["complaint"]
    assert complaint["weeks"] == [14, 5, 5, 5, 5]
    assert (complaint["baseline"], complaint["ratio"], complaint["rising"]) == (5.0, 2.8, True)
    assert complaint["mostly"] == {"city": "Monterrey", "count": 10}
    assert complaint["explained"] == (
        "complaint ×2.8 vs the last 4 weeks (14 vs 5.0 a week), mostly Monterrey (10 of 14)"
    )
    assert by_label["order_status"]["rising"] is False
    assert by_label["faq/delivery_costs"]["rising"] is False  # 4 < 5 messages
    assert [trend["label"] for trend in report["rising"]] == ["complaint"]
    cities = report["named"]["complaints"]["cities"]
    assert cities[0] == {"name": "Puebla", "count": 24}


def test_products_named_in_failed_conversations(store: CaseStore) -> None:
    facts = Facts(store.engine, gap=DAY)
    facts.record_events("twilio:1", [said(NOW - DAY, "nlu_fallback", product="tenis rojos")])
    facts.record_events("twilio:2", [said(NOW - DAY, "faq", product="gorra")])
    facts.record_events("twilio:3", [said(NOW - DAY, "order_status", product="sudadera")])
    CaseStore(store.engine, clock=lambda: NOW - DAY + 5).open_case(
        new("twilio:3", reason=Reason.REPEATED_FALLBACK)
    )
    named = Trends(store.engine, clock=lambda: NOW).weekly()["named"]["failed"]["products"]
    assert {row["name"] for row in named} == {"tenis rojos", "sudadera"}
