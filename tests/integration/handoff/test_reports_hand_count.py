"""Reports match a hand count: 200 scripted conversations with known outcomes, asked through
the desk's API as a supervisor, on SQLite and PostgreSQL.

The script writes what production writes: each turn's Rasa events go to the record through
`Facts.record_events` (what the tracker store's listener calls), and cases are opened,
claimed, replied to, resolved and rated through the case store, on a clock the script sets.
The expected figures are counted from the script's own list of outcomes, with numpy for the
percentiles: an implementation apart from handoff/reports.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from handoff.case import Reason
from handoff.facts import Facts
from handoff.store import Agent, CaseStore, NewCase
from tests.integration.handoff.conftest import DeskWorld

ZONE = ZoneInfo("America/Mexico_City")
FIRST_DAY = datetime(2026, 10, 5, tzinfo=ZONE)  # a Monday, long past: nothing is provisional
DAYS = 14
HOUR = 3600.0
MINUTE = 60.0
CHANNELS = ("twilio", "telegram", "messenger", "whatsapp")
KINDS = (
    "contained", "contained", "contained", "contained",
    "came_back",  # back 30 h later: the first contact is not contained, the second is
    "back_later",  # back 100 h later: two contained contacts
    "replied_in_sla", "replied_late", "never_replied", "resolved_without_csat",
)  # fmt: skip


@dataclass
class Scripted:
    """One scripted conversation and what the reports must say about it."""

    channel: str
    starts: list[float]  # its contacts' start times
    kind: str
    reason: str | None = None
    team: str | None = None
    first_response: float | None = None
    resolution: float | None = None
    sla: str | None = None  # met | missed
    csat: int | None = None
    agent: str | None = None


def user(at: float, channel: str, intent: str = "faq") -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.8}, "language": "es"}
    return {"event": "user", "timestamp": at, "input_channel": channel, "parse_data": parse}


def bot(at: float) -> dict:
    return {"event": "bot", "timestamp": at, "text": "ok", "metadata": {}}


class Script:
    """Plays the conversations into the record and the case store."""

    def __init__(self, world: DeskWorld) -> None:
        self.now = 0.0
        self.store = CaseStore(world.store.engine, clock=lambda: self.now)
        self.facts = Facts(world.store.engine)
        self.agents = {
            name: world.accounts.create(
                name, "password-123", team=team, capacity=500, display_name=name.title()
            )
            for name, team in (("carla", "ventas"), ("diego", "reclamos"))
        }

    def turn(self, conversation: str, at: float, channel: str, intent: str = "faq") -> None:
        self.now = at
        self.facts.record_events(conversation, [user(at, channel, intent), bot(at + 1)])

    def play(self, number: int) -> Scripted:
        channel = CHANNELS[number % len(CHANNELS)]
        kind = KINDS[number % len(KINDS)]
        conversation = f"{channel}:{1000 + number}"
        day = FIRST_DAY + timedelta(days=number % DAYS, hours=8 + (number * 7) % 12)
        start = day.timestamp() + number  # distinct times
        script = Scripted(channel, [start], kind)
        self.turn(conversation, start, channel)
        self.turn(conversation, start + 5 * MINUTE, channel)  # same contact
        if kind == "came_back":
            script.starts.append(start + 5 * MINUTE + 30 * HOUR)
        elif kind == "back_later":
            script.starts.append(start + 5 * MINUTE + 100 * HOUR)
        for later in script.starts[1:]:
            self.turn(conversation, later, channel)
        if kind in ("contained", "came_back", "back_later"):
            return script
        self.hand_over(number, conversation, start + 6 * MINUTE, script)
        return script

    def hand_over(self, number: int, conversation: str, at: float, script: Scripted) -> None:
        reason, team, agent = {
            "replied_in_sla": (Reason.CUSTOMER_ASKED, "ventas", "carla"),
            "replied_late": (Reason.COMPLAINT, "reclamos", "diego"),
            "never_replied": (Reason.REPEATED_FALLBACK, None, None),
            "resolved_without_csat": (Reason.CUSTOMER_ASKED, "ventas", "carla"),
        }[script.kind]
        self.turn(conversation, at, script.channel, intent="nlu_fallback")
        self.now = at
        due = at + HOUR
        case, _ = self.store.open_case(
            NewCase(
                conversation_id=conversation,
                channel=script.channel,
                reason=reason,
                language="es",
                sla_due_at=due,
                team=team,
            )
        )
        script.reason, script.team = reason.value, team
        if agent is None:  # nobody answered; it is long overdue
            script.sla = "missed"
            return
        person: Agent = self.agents[agent]
        wait = (10 + number) * MINUTE if script.kind != "replied_late" else 2 * HOUR + number
        self.now = at + 60
        self.store.claim(case.id, person)
        self.now = at + wait
        self.store.replied(case.id, person)
        self.now = at + wait + 30 * MINUTE
        self.store.resolve(case.id, person, return_to_bot=True)
        script.first_response, script.resolution = wait, wait + 30 * MINUTE
        script.sla = "met" if wait <= HOUR else "missed"
        script.agent = person.display_name
        if script.kind != "resolved_without_csat":
            self.store.csat_asked(case.id, channel=script.channel, buttons=False)
            script.csat = 5 if script.kind == "replied_in_sla" else 1 + number % 3
            self.store.csat_answered(case.id, script.csat)


def hand_count(scripts: list[Scripted]) -> dict:
    """The figures, counted from the script."""
    conversations = sum(len(s.starts) for s in scripts)
    handed = [s for s in scripts if s.reason]
    # Contained: the bot-only contacts, except a first contact the customer came back to.
    contained = sum(len(s.starts) for s in scripts if not s.reason) - sum(
        1 for s in scripts if s.kind == "came_back"
    )
    waits = [s.first_response for s in handed if s.first_response is not None]
    resolutions = [s.resolution for s in handed if s.resolution is not None]
    scores = [s.csat for s in handed if s.csat is not None]
    met = sum(1 for s in handed if s.sla == "met")
    return {
        "conversations": conversations,
        "contained": contained,
        "handoffs": len(handed),
        "handoffs_by_reason": dict(sorted(Counter(s.reason for s in handed).items())),
        "first_response": [len(waits), *np.percentile(waits, [50, 90]).round(3)],
        "resolution": [len(resolutions), *np.percentile(resolutions, [50, 90]).round(3)],
        "sla": {"met": met, "missed": len(handed) - met, "pending": 0},
        "csat": [len(scores), round(float(np.mean(scores)), 3)],
    }


def figures(report: dict) -> dict:
    return {
        "conversations": report["conversations"],
        "contained": report["contained"],
        "handoffs": report["handoffs"],
        "handoffs_by_reason": report["handoffs_by_reason"],
        "first_response": [
            report["first_response_seconds"][key] for key in ("count", "p50", "p90")
        ],
        "resolution": [report["resolution_seconds"][key] for key in ("count", "p50", "p90")],
        "sla": report["sla"],
        "csat": [report["csat"]["count"], report["csat"]["mean"]],
    }


def test_two_hundred_scripted_conversations_give_exactly_the_hand_counted_figures(
    world: DeskWorld,
) -> None:
    script = Script(world)
    scripts = [script.play(number) for number in range(200)]
    assert script.facts.lost == 0
    supervisor = world.login("sara")
    period = {"from": "2026-10-05", "to": "2026-10-31"}
    report = supervisor.get("/api/reports/overview", params=period).json()

    expected = hand_count(scripts)
    assert figures(report) == expected
    assert report["provisional"] == 0
    assert report["containment_rate"] == round(expected["contained"] / 240, 4)
    assert report["sla_met_rate"] == round(expected["sla"]["met"] / expected["handoffs"], 4)
    for channel in CHANNELS:
        assert figures(report["by_channel"][channel]) == hand_count(
            [s for s in scripts if s.channel == channel]
        ), channel
    for team in ("ventas", "reclamos"):
        assert figures(report["by_team"][team]) == hand_count(
            [s for s in scripts if s.team == team]
        ), team
    assert report["by_team"]["none"]["handoffs"] == sum(
        1 for s in scripts if s.kind == "never_replied"
    )
    by_agent = {row["name"]: (row["count"], row["mean"]) for row in report["csat_by_agent"]}
    for name in ("Carla", "Diego"):
        scores = [s.csat for s in scripts if s.agent == name and s.csat is not None]
        assert by_agent[name] == (len(scores), round(sum(scores) / len(scores), 3))

    # Per day and per local hour and weekday, every contact exactly once.
    starts = [datetime.fromtimestamp(at, ZONE) for s in scripts for at in s.starts]
    days = {row["date"]: row["conversations"] for row in report["series"]["days"]}
    assert days == {
        (FIRST_DAY + timedelta(days=n)).date().isoformat(): sum(
            1 for moment in starts if moment.date() == (FIRST_DAY + timedelta(days=n)).date()
        )
        for n in range(27)
    }
    assert report["series"]["hours"] == [sum(1 for m in starts if m.hour == h) for h in range(24)]
    assert report["series"]["weekdays"] == [
        sum(1 for m in starts if m.weekday() == d) for d in range(7)
    ]

    # A filter gives the same figures as the slice of the full report, and the CSV its days.
    telegram = supervisor.get("/api/reports/overview", params={**period, "channel": "telegram"})
    assert figures(telegram.json()) == figures(report["by_channel"]["telegram"])
    csv = supervisor.get("/api/reports/overview.csv", params=period)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert len(lines) == 1 + 27
    assert lines[0].startswith("date,conversations,contained")


def test_reports_refuse_agents_and_bad_periods(world: DeskWorld) -> None:
    assert world.login("ana").get("/api/reports/overview").status_code == 403
    supervisor = world.login("sara")
    bad = supervisor.get("/api/reports/overview", params={"from": "2026-12-05", "to": "2026-12-01"})
    assert bad.status_code == 400
    assert "after" in bad.json()["error"]
    empty = supervisor.get(
        "/api/reports/overview", params={"from": "2020-01-01", "to": "2020-01-02"}
    )
    assert empty.status_code == 200
    assert empty.json()["conversations"] == 0
    assert empty.json()["containment_rate"] is None
