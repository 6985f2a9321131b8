"""The overview report's definitions (docs/analytics.md) on a small record built by hand."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from handoff.auth import Accounts
from handoff.case import Reason
from handoff.facts import Facts
from handoff.reports import ReportError, Reports, percentile, period
from handoff.store import CaseStore
from tests.unit.handoff.conftest import agent, new

ZONE = ZoneInfo("America/Mexico_City")
HOUR = 3600.0
# 2026-11-02 09:00 in Mexico City (UTC-6): a Monday.
MONDAY_9 = 1_793_631_600.0


def user(at: float, channel: str = "twilio") -> dict:
    return {
        "event": "user",
        "timestamp": at,
        "input_channel": channel,
        "parse_data": {"intent": {"name": "faq", "confidence": 0.9}, "language": "es"},
    }


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([10.0], 0.9) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.1


def test_a_period_is_whole_local_days() -> None:
    when = period("2026-11-02", "2026-11-03", ZONE, date(2026, 12, 1))
    assert when.start == MONDAY_9 - 9 * HOUR
    assert when.end - when.start == 48 * HOUR
    default = period(None, None, ZONE, date(2026, 12, 1))
    assert (default.first, default.last) == (date(2026, 11, 4), date(2026, 12, 1))


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-11-05", "2026-11-01", "after"),
        ("2025-01-01", "2026-11-01", "at most"),
        ("ayer", None, "YYYY-MM-DD"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(first: str, last: str | None, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        period(first, last, ZONE, date(2026, 12, 1))


def test_contained_handed_off_repeat_and_provisional_add_up(
    store: CaseStore, accounts: Accounts
) -> None:
    clock = {"now": MONDAY_9}
    cases = CaseStore(store.engine, clock=lambda: clock["now"])
    recorder = Facts(store.engine, gap=24 * HOUR)
    # Contained: one contact, never back.
    recorder.record_events("telegram:1", [user(MONDAY_9, "telegram")])
    # Repeat: back 30 h later (within 72 h), so the first contact is not contained.
    recorder.record_events("twilio:2", [user(MONDAY_9)])
    recorder.record_events("twilio:2", [user(MONDAY_9 + 30 * HOUR)])
    # Handed off: a complaint, replied in 10 minutes (due in an hour), resolved in an hour.
    carla = agent(accounts, "carla", team="ventas")
    recorder.record_events("twilio:3", [user(MONDAY_9)])
    case, _ = cases.open_case(
        new(
            "twilio:3",
            channel="twilio",
            reason=Reason.COMPLAINT,
            sla_due_at=MONDAY_9 + HOUR,
            team="ventas",
        )
    )
    clock["now"] = MONDAY_9 + 600
    cases.claim(case.id, carla)
    cases.replied(case.id, carla)
    clock["now"] = MONDAY_9 + HOUR
    cases.resolve(case.id, carla, return_to_bot=True)
    reports = Reports(store.engine, ZONE, clock=lambda: MONDAY_9 + 100 * HOUR)
    report = reports.overview(reports.period("2026-11-02", "2026-11-03"))
    assert report["conversations"] == 4
    # telegram:1 and twilio:2's second contact (provisional: its 72 h are not over).
    assert (report["contained"], report["provisional"], report["handoffs"]) == (2, 1, 1)
    assert report["containment_rate"] == 0.5
    assert report["handoff_rate"] == 0.25
    assert report["handoffs_by_reason"] == {"complaint": 1}
    assert report["first_response_seconds"] == {"count": 1, "p50": 600.0, "p90": 600.0}
    assert report["resolution_seconds"]["p50"] == HOUR
    assert report["sla"] == {"met": 1, "missed": 0, "pending": 0}
    assert report["by_channel"]["telegram"]["conversations"] == 1
    assert report["by_team"]["ventas"]["handoffs"] == 1
    assert report["series"]["weekdays"][0] == 3
    assert report["series"]["hours"][9] == 3
    days = {row["date"]: row for row in report["series"]["days"]}
    assert days["2026-11-02"]["conversations"] == 3
    assert days["2026-11-03"]["conversations"] == 1
    only_telegram = reports.overview(reports.period("2026-11-02", "2026-11-03"), "telegram")
    assert (only_telegram["conversations"], only_telegram["contained"]) == (1, 1)
    assert reports.days_csv(report).splitlines()[1].startswith("2026-11-02,3,1,")


def test_sla_counts_a_late_reply_and_an_unanswered_overdue_case_as_missed(
    store: CaseStore, accounts: Accounts
) -> None:
    clock = {"now": MONDAY_9}
    cases = CaseStore(store.engine, clock=lambda: clock["now"])
    ana = agent(accounts, "ana")
    late, _ = cases.open_case(new("twilio:1", sla_due_at=MONDAY_9 + 60))
    cases.open_case(new("twilio:2", sla_due_at=MONDAY_9 + 60))  # never answered
    cases.open_case(new("twilio:3", sla_due_at=MONDAY_9 + 10 * HOUR))  # not due yet
    clock["now"] = MONDAY_9 + 120
    cases.claim(late.id, ana)
    cases.replied(late.id, ana)
    reports = Reports(store.engine, ZONE, clock=lambda: MONDAY_9 + HOUR)
    report = reports.overview(reports.period("2026-11-02", "2026-11-02"))
    assert report["sla"] == {"met": 0, "missed": 2, "pending": 1}
    assert report["sla_met_rate"] == 0.0
