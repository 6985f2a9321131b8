"""`make bench-reports`: the overview report at 1,000,000 messages and 100,000 cases.

Fills a PostgreSQL schema with the record the reports read (handoff/facts.py,
docs/analytics.md), written in bulk by SQL for speed: 250,000 contacts over 90 days on four
channels, each with two customer and two bot messages (1,000,000 facts), 40 % of them handed
to a person (100,000 cases on three teams and 20 agents, with replies, resolutions, SLA met
or missed and CSAT on 30 %), plus repeat contacts. Then, through the real desk over HTTP as
a supervisor:

- the overview report (`GET /api/reports/overview`) for the last 28 days, the last 90 days,
  and 28 days filtered by channel and by team: `--runs` each, after one warm-up; target p95
  ≤ 1 s;
- the reports page in Chromium, a cold load to `data-state="ready"` (bench/desk_page.py's
  timer), for the default 28 days; target ≤ 2 s.

Writes docs/reports-benchmark.md and bench/results/reports-<time>.json.

    python -m bench.reports [--contacts 250000] [--runs 20] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

import handoff.desk.app as desk_app
from bench.channels import machine
from bench.desk_page import load_times, summary
from bench.results_file import save
from connectors.storage import make_engine as channels_engine
from handoff.auth import Accounts
from handoff.conversations import ConversationReader
from handoff.database import make_engine, migrate
from handoff.hours import load_policy
from handoff.rasa_client import RasaClient
from handoff.service import Handoff
from handoff.store import CaseStore
from tests.browser.conftest import CHROMIUM_ARGS
from tests.support.databases import postgres_schema
from tests.support.desk_server import DeskServer

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "reports-benchmark.md"
DAY = 86400.0

# One statement per table; :base is 90 days ago, :n the number of contacts.
FILL = [
    """
    INSERT INTO handoff_agents (id, username, display_name, password_hash, role, team,
                                capacity, available, active, created_at)
    SELECT 1000 + a, 'agente' || a, 'Agente ' || a, '!', 'agent',
           (ARRAY['ventas', 'reclamos', 'pagos'])[1 + a % 3], 5, true, true, :base
    FROM generate_series(1, 20) AS a
    """,
    """
    INSERT INTO handoff_contacts (id, conversation_ref, channel, language, started_at,
                                  last_in_at, messages_in, fallbacks, next_started_at)
    SELECT g, md5((g % (:n * 9 / 10))::text),
           (ARRAY['twilio', 'telegram', 'messenger', 'whatsapp'])[1 + g % 4],
           CASE WHEN g % 6 = 0 THEN 'en' ELSE 'es' END,
           :base + (g::float / :n) * 90 * 86400,
           :base + (g::float / :n) * 90 * 86400 + 300, 2, (g % 7 = 0)::int,
           CASE WHEN g % 10 = 9 THEN :base + (g::float / :n) * 90 * 86400 + 40 * 3600 END
    FROM generate_series(1, :n) AS g
    """,
    """
    INSERT INTO handoff_cases (id, conversation_id, channel, status, reason, priority,
        language, team, assignee_id, created_at, assigned_at, first_reply_at, resolved_at,
        sla_due_at, urgent_at, csat_asked_at, csat_score, csat_at, updated_at)
    SELECT c.id, 'bench:' || c.id, c.channel, 'resolved',
           (ARRAY['customer_asked', 'complaint', 'repeated_fallback', 'payment_problem'])
               [1 + c.id % 4],
           'normal', c.language, (ARRAY['ventas', 'reclamos', 'pagos'])[1 + c.id % 3],
           1000 + 1 + c.id % 20, c.started_at + 360, c.started_at + 400,
           c.started_at + 360 + (c.id % 97) * 60, c.started_at + 360 + (c.id % 97) * 60 + 1800,
           c.started_at + 360 + 3600, c.started_at + 360 + 3600,
           CASE WHEN c.id % 10 < 3 THEN c.started_at + 9000 END,
           CASE WHEN c.id % 10 < 3 THEN 1 + c.id % 5 END,
           CASE WHEN c.id % 10 < 3 THEN c.started_at + 9100 END,
           c.started_at + 9100
    FROM handoff_contacts c WHERE c.id % 5 < 2
    """,
    "UPDATE handoff_contacts SET case_id = id WHERE id % 5 < 2",
    """
    INSERT INTO handoff_facts (at, kind, conversation_ref, contact_id, channel, language,
                               intent, confidence, fallback, detail)
    SELECT c.started_at + k * 60, CASE WHEN k % 2 = 0 THEN 'message_in' ELSE 'message_out' END,
           c.conversation_ref, c.id, c.channel, c.language,
           CASE WHEN k % 2 = 0
                THEN (ARRAY['order_status', 'faq', 'complaint', 'greet', 'nlu_fallback'])
                     [1 + (c.id + k) % 5] END,
           CASE WHEN k % 2 = 0 THEN 0.5 + ((c.id * 7 + k) % 50) / 100.0 END,
           k = 0 AND c.fallbacks = 1, '{}'
    FROM handoff_contacts c CROSS JOIN generate_series(0, 3) AS k
    """,
]


def fill(url: str, contacts: int) -> dict[str, Any]:
    """Migrates and fills the schema; the row counts and the seconds it took."""
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    base = time.time() - 90 * DAY
    with engine.begin() as connection:
        for statement in FILL:
            connection.execute(sa.text(statement), {"base": base, "n": contacts})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))
        counts = {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            for table in ("handoff_facts", "handoff_contacts", "handoff_cases")
        }
    Accounts(engine).create("sara", "password-123", role="supervisor", display_name="Sara")
    engine.dispose()
    return {"rows": counts, "fill_seconds": round(time.perf_counter() - started, 1)}


def time_overview(client: httpx.Client, params: dict[str, str], runs: int) -> dict[str, Any]:
    """Milliseconds per overview request (one warm-up first, not counted)."""
    client.get("/api/reports/overview", params=params).raise_for_status()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        reply = client.get("/api/reports/overview", params=params)
        times.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
    body = reply.json()
    return {
        "params": params,
        "conversations": body["conversations"],
        "cases": body["first_response_seconds"]["count"],
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "max_ms": round(max(times), 1),
    }


def page_ready(server_url: str, cookie: dict[str, str], runs: int) -> dict[str, Any]:
    """Cold loads of the reports page (28 days by default): to `data-state="ready"` (the
    figures, charts and tables drawn, the filters usable), and to `data-extras="ready"` (the
    trends and the customers at risk drawn under them)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
        )
        load_times(browser, server_url, cookie, "/#reports", "extras")  # warm-up
        ready, extras = [], []
        for _ in range(runs):
            ready.append(load_times(browser, server_url, cookie, "/#reports", "reports")[0])
            extras.append(load_times(browser, server_url, cookie, "/#reports", "extras")[0])
        browser.close()
    return {"ready": summary(ready), "extras": summary(extras)}


def write_report(result: dict[str, Any]) -> None:
    rows = "\n".join(
        f"| {name} | {r['conversations']:,} | {r['cases']:,} | {r['p50_ms']} ms | "
        f"{r['p95_ms']} ms | {r['max_ms']} ms |"
        for name, r in result["overview"].items()
    )
    page_rows = "\n".join(
        f"| {what} | {times['runs']} | {times['median_ms']} ms | {times['p95_ms']} ms |"
        for what, times in (
            ("ready (interactive)", result["page"]["ready"]),
            ("trends and customers at risk drawn", result["page"]["extras"]),
        )
    )
    REPORT.write_text(
        f"""# Reports benchmark

Written by `make bench-reports` (bench/reports.py); do not edit by hand.

- Run: {result["run"]} (UTC)
- Machine: {result["machine"]}
- Record (PostgreSQL, filled in {result["fill_seconds"]} s): {result["rows"]["handoff_facts"]:,}
  messages, {result["rows"]["handoff_contacts"]:,} contacts,
  {result["rows"]["handoff_cases"]:,} cases over 90 days

## Overview report through the desk's API

`GET /api/reports/overview` as a supervisor, {result["runs"]} requests each after a
warm-up, one after another. Target: p95 ≤ 1 s.

| Request | Conversations | Cases | p50 | p95 | max |
|---|---|---|---|---|---|
{rows}

## Reports page

A cold load of `/#reports` in Chromium (a new browser context, logged in), the default 28
days, until the page marks itself ready (`data-state="ready"`: the figures, every chart and
the tables drawn, the filters usable), and until the trends and the customers at risk, asked
once the figures are drawn, are shown under them (`data-extras="ready"`). Target:
interactive ≤ 2 s.

| Until | Runs | median | p95 |
|---|---|---|---|
{page_rows}
"""
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=250_000, help="4 messages each")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HILO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    args = parser.parse_args(argv)
    today = datetime.now(timezone.utc).date()
    last_28 = {"from": today.fromordinal(today.toordinal() - 27).isoformat()}
    last_90 = {"from": today.fromordinal(today.toordinal() - 89).isoformat()}
    with postgres_schema("hilo_bench_reports", args.postgres) as url:
        result: dict[str, Any] = {
            "run": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ"),
            "machine": machine(),
            "runs": args.runs,
            **fill(url, args.contacts),
        }
        engine = make_engine(url)
        hours, sla = load_policy()
        app = desk_app.create_app(
            Handoff(CaseStore(engine), hours, sla),
            conversations=ConversationReader(channels_engine("sqlite://")),
            rasa=RasaClient("http://127.0.0.1:9", "unused"),
            run_feed=False,
        )
        server = DeskServer(app)
        try:
            client = httpx.Client(base_url=server.url, timeout=60)
            login = client.post(
                "/api/auth/login", json={"username": "sara", "password": "password-123"}
            )
            login.raise_for_status()
            result["overview"] = {
                "28 days": time_overview(client, last_28, args.runs),
                "90 days": time_overview(client, last_90, args.runs),
                "28 days, one channel": time_overview(
                    client, {**last_28, "channel": "whatsapp"}, args.runs
                ),
                "28 days, one team": time_overview(
                    client, {**last_28, "team": "ventas"}, args.runs
                ),
            }
            cookie = {"name": desk_app.COOKIE, "value": login.cookies[desk_app.COOKIE]}
            result["page"] = page_ready(server.url, cookie, min(args.runs, 10))
        finally:
            server.close()
            engine.dispose()
    save("reports", result)
    write_report(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
