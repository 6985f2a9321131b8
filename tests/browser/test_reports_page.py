"""The desk's reports page in a real browser, on the real overview API.

A real desk process (`hilo desk`) runs on a SQLite file seeded through the real stores: the
record's contacts by `handoff.facts.Facts` (as the tracker store writes them for each turn)
and the cases by `handoff.store.CaseStore` (opened, claimed, answered, resolved, and a
customer's satisfaction answer), a few days back so that the page's default period (the
last 28 days) holds them. No bot is needed: the page only reads.

An agent sees no reports entry and the API refuses her. A supervisor opens the page: its
headline numbers are the API's for the same period, every chart's SVG is there with its
title, axis titles and text alternative, the channel filter redraws with that channel's
numbers, the CSV link carries the filters and downloads the days the API gives, an
impossible period says so, a quiet month draws every chart's empty state, and no page logs
an error along the way.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from handoff.auth import Accounts
from handoff.case import Reason
from handoff.database import make_engine, migrate
from handoff.facts import Fact, Facts
from handoff.store import CaseStore, NewCase
from tests.support.desk_browser import TIMEOUT, ConsoleErrors, log_in
from tests.support.servers import DESK_PASSWORD, HiloProcesses

ZONE = ZoneInfo("America/Mexico_City")  # handoff/support.yml
HOUR = 3600.0
CHARTS = (
    "chart-volume",
    "chart-containment",
    "chart-hours",
    "chart-weekdays",
    "chart-waits",
    "chart-sla",
    "chart-csat",
    "chart-reasons",
)
# Headline figure (data-testid "kpi-<name>") -> where the API answer has it.
HEADLINE = {
    "conversations": ("conversations",),
    "containment": ("containment_rate",),
    "handoffs": ("handoff_rate",),
    "first-p50": ("first_response_seconds", "p50"),
    "first-p90": ("first_response_seconds", "p90"),
    "sla": ("sla_met_rate",),
    "csat": ("csat", "mean"),
}


def local(days_ago: int, hour: int) -> float:
    """Unix seconds of `hour`:00 in the business time zone, `days_ago` days back."""
    day = datetime.now(ZONE).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE).timestamp()


def seed(url: str) -> dict[str, int]:
    """Users, contacts and cases; the expected counts the API must agree with."""
    engine = make_engine(url)
    accounts = Accounts(engine)
    for username, role, name, team in (
        ("anna", "agent", "Anna", None),
        ("carla", "agent", "Carla", "ventas"),
        ("sofia", "supervisor", "Sofía", None),
    ):
        user = accounts.create(username, DESK_PASSWORD, role=role, display_name=name, team=team)
        accounts.set_available(user.id, False)
    carla = accounts.by_username("carla")
    record = Facts(engine)
    clock = {"now": local(6, 9)}
    store = CaseStore(engine, clock=lambda: clock["now"])

    def customer_writes(conversation: str, channel: str, at: float) -> None:
        record.record(conversation, Fact(at=at, kind="message_in", channel=channel, language="es"))

    # Five conversations the bot settled: three on Telegram, two on WhatsApp.
    for n in range(3):
        customer_writes(f"telegram:{100 + n}", "telegram", local(6, 10 + n))
    for n in range(2):
        customer_writes(f"whatsapp:+52155500000{n}", "whatsapp", local(5, 11 + n))
    # Two WhatsApp customers handed to Carla (team ventas): answered in 10 and 30 minutes,
    # resolved, and each answers the satisfaction question (5 and 3).
    for n, (reason, reply_after, score) in enumerate(
        ((Reason.COMPLAINT, 600, 2), (Reason.CUSTOMER_ASKED, 1800, 3))
    ):
        conversation = f"whatsapp:+52155511111{n}"
        start = local(4, 12 + n)
        customer_writes(conversation, "whatsapp", start)
        clock["now"] = start
        case, _ = store.open_case(
            NewCase(
                conversation_id=conversation,
                channel="whatsapp",
                reason=reason,
                language="es",
                sla_due_at=start + HOUR,
                team="ventas",
            )
        )
        clock["now"] = start + 60
        store.claim(case.id, carla)
        clock["now"] = start + reply_after
        store.replied(case.id, carla)
        clock["now"] = start + 2 * HOUR
        store.resolve(case.id, carla, return_to_bot=True)
        store.csat_asked(case.id, channel="whatsapp", buttons=True)
        clock["now"] = start + 3 * HOUR
        store.csat_answered(case.id, score)
    # A Telegram customer who asked for a person two days ago; nobody answered (SLA missed).
    start = local(2, 15)
    customer_writes("telegram:200", "telegram", start)
    clock["now"] = start
    store.open_case(
        NewCase(
            conversation_id="telegram:200",
            channel="telegram",
            reason=Reason.CUSTOMER_ASKED,
            language="es",
            sla_due_at=start + HOUR,
        )
    )
    engine.dispose()
    return {"conversations": 8, "whatsapp": 4, "telegram": 4, "handoffs": 3}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[HiloProcesses, dict[str, int]]]:
    processes = HiloProcesses(
        model=tmp_path / "no-model",  # the desk alone: no bot
        workdir=tmp_path,
        credentials="",
        # The record's conversation pseudonyms are keyed: the desk shares this process's key.
        secret_key=os.environ["HILO_SECRET_KEY"],
    )
    migrate(processes.commerce_url)
    expected = seed(processes.commerce_url)
    try:
        processes.start_desk()
        yield processes, expected
    finally:
        processes.stop()


def ready(page, query: str | None = None):
    """The reports root once the figures (for `query`, when given) are drawn."""
    selector = '[data-testid="reports"][data-state="ready"]'
    if query:
        selector += f'[data-query="{query}"]'
    root = page.locator(selector)
    root.wait_for(timeout=TIMEOUT)
    return root


def dig(answer: dict, path: tuple[str, ...]):
    for key in path:
        answer = answer[key]
    return answer


def headline_matches(page, answer: dict) -> None:
    for name, path in HEADLINE.items():
        shown = page.get_by_test_id(f"kpi-{name}").get_attribute("data-value")
        assert json.loads(shown) == dig(answer, path), name
    csat = page.get_by_test_id("kpi-csat")
    assert int(csat.get_attribute("data-count")) == answer["csat"]["count"]
    conversations = page.get_by_test_id("kpi-conversations").get_by_test_id("kpi-value")
    assert conversations.inner_text() == str(answer["conversations"])


def test_a_supervisor_reads_the_reports_and_an_agent_cannot(browser, desk) -> None:
    processes, expected = desk
    console = ConsoleErrors()

    # The page's modules are served like desk.js, as JavaScript (modules require it).
    with httpx.Client(base_url=processes.desk_url) as anonymous:
        for name in ("common.js", "desk.js", "reports.js", "charts.js"):
            answer = anonymous.get(f"/static/{name}")
            assert answer.status_code == 200, name
            assert "javascript" in answer.headers["content-type"], name

    # An agent: no entry in the page, the reports' code never loads, and the API refuses her.
    agent = log_in(browser, processes, "anna", console)
    loaded: list[str] = []
    agent.on("request", lambda request: loaded.append(request.url))
    agent.reload()
    agent.get_by_test_id("take-next").wait_for(timeout=TIMEOUT)
    assert not agent.get_by_test_id("nav-reports").is_visible()
    assert any(url.endswith("/static/desk.js") for url in loaded)
    assert not any("/static/reports" in url or "/static/charts" in url for url in loaded)
    client = processes.desk_login("anna")
    try:
        assert client.get("/api/reports/overview").status_code == 403
        assert client.get("/api/reports/overview.csv").status_code == 403
    finally:
        client.close()
    agent.context.close()

    supervisor = log_in(browser, processes, "sofia", console)
    supervisor.get_by_test_id("nav-reports").click()
    root = ready(supervisor)
    period = {
        "from": supervisor.get_by_test_id("reports-from").input_value(),
        "to": supervisor.get_by_test_id("reports-to").input_value(),
    }
    api = processes.desk_login("sofia")
    try:
        everything = api.get("/api/reports/overview", params=period).json()
        whatsapp = api.get("/api/reports/overview", params={**period, "channel": "whatsapp"}).json()
    finally:
        api.close()
    assert root.get_attribute("data-query") == f"from={period['from']}&to={period['to']}"
    assert len(everything["series"]["days"]) == 28  # the default period: the last 28 days
    assert everything["conversations"] == expected["conversations"]
    assert everything["handoffs"] == expected["handoffs"]
    headline_matches(supervisor, everything)

    # Every chart: its SVG with a text alternative that starts with its visible title, two
    # axis titles, and data drawn (this period has some of everything).
    for testid in CHARTS:
        figure = supervisor.get_by_test_id(testid)
        title = figure.locator("figcaption").inner_text()
        svg = figure.locator("svg[role='img']")
        assert svg.count() == 1, testid
        assert svg.get_attribute("aria-label").startswith(title + ". "), testid
        assert svg.locator(":scope > title").text_content().startswith(title), testid
        assert svg.locator(".chart-axis-title").count() == 2, testid
        assert figure.get_attribute("data-empty") == "false", testid
        assert svg.locator(".chart-bar, .chart-line, .chart-dot").count() > 0, testid
    csat_bars = supervisor.get_by_test_id("chart-csat").locator(".chart-bar")
    assert csat_bars.count() == len(everything["csat_by_agent"]) == 1
    by_channel = supervisor.get_by_test_id("reports-by-channel").get_by_test_id("reports-row")
    shown = {
        by_channel.nth(n).get_attribute("data-key"): int(
            by_channel.nth(n).get_attribute("data-conversations")
        )
        for n in range(by_channel.count())
    }
    assert shown == {"whatsapp": expected["whatsapp"], "telegram": expected["telegram"]}
    team_rows = supervisor.get_by_test_id("reports-by-team").get_by_test_id("reports-row")
    assert "ventas" in [
        team_rows.nth(n).get_attribute("data-key") for n in range(team_rows.count())
    ]
    # The customer who complained and rated the answer 2 is at risk, each point with its
    # reason and a link to the case; nobody else reaches 4 points. Trends say nothing rises.
    supervisor.locator('[data-testid="reports"][data-extras="ready"]').wait_for(timeout=TIMEOUT)
    at_risk = supervisor.get_by_test_id("reports-risk").get_by_test_id("risk-row")
    assert at_risk.count() == 1
    assert at_risk.first.get_attribute("data-score") == "6"
    assert "se quejó ×1 (+3)" in at_risk.first.inner_text()
    assert "calificó la atención con 1 o 2 ×1 (+3)" in at_risk.first.inner_text()
    trends = supervisor.get_by_test_id("reports-trends")
    assert "Nada sube de forma inusual" in trends.inner_text()
    # Opening the customer's case shows the same score and reasons on its card.
    at_risk.first.get_by_test_id("risk-case").click()
    card_risk = supervisor.get_by_test_id("case-risk")
    card_risk.wait_for(timeout=TIMEOUT)
    assert card_risk.inner_text().startswith("6 puntos en 30 días: se quejó ×1 (+3)")
    supervisor.goto(processes.desk_url + "/#reports")
    ready(supervisor)

    # The channel filter redraws with WhatsApp's figures only.
    supervisor.get_by_test_id("reports-channel").select_option("whatsapp")
    query = f"from={period['from']}&to={period['to']}&channel=whatsapp"
    ready(supervisor, query)
    assert whatsapp["conversations"] == expected["whatsapp"] != everything["conversations"]
    headline_matches(supervisor, whatsapp)

    # The CSV carries the filters, and its rows are the days the API gives.
    link = supervisor.get_by_test_id("reports-csv")
    assert link.get_attribute("href") == f"/api/reports/overview.csv?{query}"
    with supervisor.expect_download(timeout=TIMEOUT) as download:
        link.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    days = whatsapp["series"]["days"]
    assert [row["date"] for row in rows] == [day["date"] for day in days]
    assert [int(row["conversations"]) for row in rows] == [day["conversations"] for day in days]
    assert [int(row["handoffs"]) for row in rows] == [day["handoffs"] for day in days]

    # An impossible period is said, not asked.
    supervisor.get_by_test_id("reports-from").fill(period["to"])
    supervisor.get_by_test_id("reports-to").fill(period["from"])
    supervisor.locator('[data-testid="reports"][data-state="error"]').wait_for(timeout=TIMEOUT)
    assert supervisor.get_by_test_id("reports-error").is_visible()

    # A quiet month: every chart says so instead of drawing nothing.
    quiet = (datetime.fromisoformat(period["from"]) - timedelta(days=30)).date().isoformat()
    supervisor.get_by_test_id("reports-from").fill(quiet)
    ready(supervisor, f"from={quiet}&to={period['from']}&channel=whatsapp")
    assert supervisor.get_by_test_id("reports-error").is_hidden()
    for testid in CHARTS:
        figure = supervisor.get_by_test_id(testid)
        assert figure.get_attribute("data-empty") == "true", testid
        assert figure.get_by_test_id("chart-empty").is_visible(), testid
        assert figure.locator(".chart-bar, .chart-line, .chart-dot").count() == 0, testid

    # In English, the same page.
    supervisor.get_by_test_id("reports-to").fill(period["to"])
    supervisor.get_by_test_id("reports-from").fill(period["from"])
    ready(supervisor, query)
    supervisor.locator('.topbar .lang-btn[data-lang="en"]').click()
    assert supervisor.locator("#reports-title").inner_text() == "Reports"
    assert supervisor.get_by_test_id("chart-volume").locator("figcaption").inner_text() == (
        "Volume per day"
    )

    # Back to the queue: the reports are gone from view.
    supervisor.get_by_test_id("nav-reports").click()
    supervisor.get_by_test_id("queue").wait_for(timeout=TIMEOUT)
    assert not supervisor.get_by_test_id("reports").is_visible()
    assert console.errors == []
