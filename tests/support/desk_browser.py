"""What every browser test of the desk does first: log in, and collect what the page logs.

One copy, so the login form's test ids and the one 401 the page expects live in one place.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.servers import DESK_PASSWORD, HiloProcesses

# ms: a page, a request, the live feed and a bot turn all fit well inside it. Playwright waits
# return as soon as the element is there, so a generous limit costs nothing on a quick machine
# and keeps a loaded one from failing a correct page.
TIMEOUT = 60_000


class ConsoleErrors:
    """The errors a page logs or throws, as text."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"{message.location.get('url')}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def forgive_session_check(self) -> None:
        """The page asks for a session before anyone logs in (GET /api/me): Chromium logs that
        401 as an error, though the page expects it (it shows the login form)."""
        check = re.compile(r"/api/me: Failed to load resource: .*\b401\b")
        self.errors = [error for error in self.errors if not check.search(error)]


def log_in(
    browser: Any,
    processes: HiloProcesses,
    username: str,
    console: ConsoleErrors,
    *,
    live: bool = False,
) -> Any:
    """A new browser context logged in to the desk as `username` (password DESK_PASSWORD).

    `live` also waits for the live feed to connect, for tests that then watch the queue move.
    """
    page = browser.new_context(accept_downloads=True).new_page()
    console.watch(page)
    page.goto(processes.desk_url)
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DESK_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("take-next").wait_for(timeout=TIMEOUT)
    if live:
        page.get_by_test_id("live-indicator").wait_for(timeout=TIMEOUT)
    console.forgive_session_check()
    return page
