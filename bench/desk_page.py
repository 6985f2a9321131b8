"""The desk page's weight and time to first render, for one or two versions of its files.

    python -m bench.desk_page [--before DIR] [--runs 15] [--cases 50]

Serves the desk (in this process, on SQLite, `--cases` queued cases) with the page's files
from handoff/desk/static/ and, with `--before`, from DIR as well (a copy of an earlier
handoff/desk/static/, e.g. from `git show`), alternating between the two. Each run is a cold
load in a fresh Chromium context, already logged in (session cookie): the time from
navigation start to the first case in the queue (`[data-testid=queue-item]`), and, where
the page has reports, from navigation start to `data-state="ready"` on `/#reports`.
DOMContentLoaded is timed too: the scripts fetched and run, before any API answer counts.
Prints JSON: bytes and lines of each file, and the median and p95 of each time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

import handoff.desk.app as desk_app
from connectors.storage import make_engine as channels_engine
from handoff.auth import Accounts
from handoff.case import Reason
from handoff.conversations import ConversationReader
from handoff.database import make_engine, migrate
from handoff.hours import load_policy
from handoff.rasa_client import RasaClient
from handoff.service import Handoff
from handoff.store import CaseStore, NewCase
from tests.browser.conftest import CHROMIUM_ARGS
from tests.support.desk_server import DeskServer

STATIC = Path(desk_app.__file__).with_name("static")
# Records, in the page, when something first matches a selector (performance.now(): ms
# since navigation start), without polling from outside.
WATCH = """
window.__firstSeen = {};
const watch = () => {
  for (const [name, selector] of [['queue', '[data-testid="queue-item"]'],
                                  ['reports', '[data-testid="reports"][data-state="ready"]'],
                                  ['extras', '[data-testid="reports"][data-extras="ready"]']]) {
    if (!(name in window.__firstSeen) && document.querySelector(selector)) {
      window.__firstSeen[name] = performance.now();
    }
  }
};
new MutationObserver(watch).observe(document, {subtree: true, childList: true, attributes: true});
"""


def page_weight(directory: Path) -> dict[str, dict[str, int]]:
    """Bytes and lines of each of the page's files."""
    return {
        path.name: {"bytes": path.stat().st_size, "lines": len(path.read_text().splitlines())}
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


def use_static(directory: Path) -> None:
    """Serve the page's files from `directory` (the app looks them up at each request)."""
    desk_app.STATIC = directory
    desk_app.STATIC_FILES = frozenset(p.name for p in directory.iterdir() if p.is_file())


def load_times(
    browser: Any, url: str, cookie: dict[str, str], path: str, what: str
) -> tuple[float, float]:
    """Milliseconds from navigation start to `what` first showing, on a cold load, and to
    DOMContentLoaded (the page's scripts fetched and run, before any API answer counts)."""
    context = browser.new_context()
    context.add_cookies([{**cookie, "url": url}])
    page = context.new_page()
    page.add_init_script(WATCH)
    page.goto(url + path)
    # Polled from here (the page's CSP refuses Playwright's wait_for_function); the time is
    # the page's own, so the polling interval does not count.
    deadline = time.monotonic() + 30
    while (seen := page.evaluate("(name) => window.__firstSeen[name] ?? null", what)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} never showed")
        time.sleep(0.02)
    scripts = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
    )
    context.close()
    return float(seen), float(scripts)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "runs": len(ordered),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="an earlier copy of handoff/desk/static")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cases", type=int, default=50)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="hilo-bench-page-"))
    url = f"sqlite:///{workdir / 'desk.db'}"
    migrate(url)
    engine = make_engine(url)
    hours, sla = load_policy()
    store = CaseStore(engine)
    for n in range(args.cases):
        store.open_case(
            NewCase(
                conversation_id=f"telegram:{n}",
                channel="telegram",
                reason=Reason.CUSTOMER_ASKED,
                language="es",
                sla_due_at=time.time() + 3600 + n * 60,
                customer_name=f"Cliente {n}",
            )
        )
    Accounts(engine).create("sara", "password-123", role="supervisor", display_name="Sara")
    app = desk_app.create_app(
        Handoff(store, hours, sla),
        conversations=ConversationReader(channels_engine(f"sqlite:///{workdir / 'channels.db'}")),
        rasa=RasaClient("http://127.0.0.1:9", "unused"),
        run_feed=False,
    )
    server = DeskServer(app)
    login = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "sara", "password": "password-123"}
    )
    cookie = {"name": desk_app.COOKIE, "value": login.cookies[desk_app.COOKIE]}
    versions = {"after": STATIC}
    if args.before:
        versions = {"before": args.before, **versions}
    result: dict[str, Any] = {
        name: {"files": page_weight(directory)} for name, directory in versions.items()
    }
    times: dict[str, dict[str, list[float]]] = {
        name: {"queue": [], "scripts": [], "reports": []} for name in versions
    }
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            for run in range(args.runs + 1):  # the first round warms up the server and disk
                for name, directory in versions.items():
                    use_static(directory)
                    queue, scripts = load_times(browser, server.url, cookie, "/", "queue")
                    reports = None
                    if (directory / "reports.js").exists():
                        reports, _ = load_times(browser, server.url, cookie, "/#reports", "reports")
                    if run:
                        times[name]["queue"].append(queue)
                        times[name]["scripts"].append(scripts)
                        if reports is not None:
                            times[name]["reports"].append(reports)
            browser.close()
    finally:
        server.close()
        engine.dispose()
    for name in versions:
        result[name]["first_queue_render"] = summary(times[name]["queue"])
        result[name]["dom_content_loaded"] = summary(times[name]["scripts"])
        if times[name]["reports"]:
            result[name]["reports_ready"] = summary(times[name]["reports"])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
