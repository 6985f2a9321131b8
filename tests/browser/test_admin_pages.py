"""The desk's admin pages (agents, teams, canned replies) in a real browser, on the real API.

A real desk process (`hilo desk`) on a SQLite file with an admin and an agent. The agent sees
no admin entry, never loads admin.js, and the API refuses her. The admin opens the pages,
creates an agent with a role from the server's list, moves him to a team (the teams overview
shows him there), deactivates him (he can no longer log in), edits and deletes a canned
reply, and no page logs an error along the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from handoff.database import migrate
from handoff.models import ROLES
from tests.support.desk_browser import TIMEOUT, ConsoleErrors, log_in
from tests.support.servers import HiloProcesses


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[HiloProcesses]:
    processes = HiloProcesses(model=tmp_path / "no-model", workdir=tmp_path, credentials="")
    migrate(processes.commerce_url)
    processes.desk_user("anna", "agent", "Anna")
    processes.desk_user("olga", "admin", "Olga")
    try:
        processes.start_desk()
        yield processes
    finally:
        processes.stop()


def said(page, text: str) -> None:
    """Waits for the admin page's status line to say `text` (after the page reloaded)."""
    page.locator('[data-testid="admin"][data-state="ready"]').wait_for(timeout=TIMEOUT)
    status = page.get_by_test_id("admin-status")
    status.filter(has_text=text).wait_for(timeout=TIMEOUT)


def test_an_admin_manages_agents_teams_and_canned_replies(browser, desk) -> None:
    console = ConsoleErrors()

    # An agent: no entry, the admin module never loads, and the API refuses her.
    agent = log_in(browser, desk, "anna", console)
    loaded: list[str] = []
    agent.on("request", lambda request: loaded.append(request.url))
    agent.goto(desk.desk_url + "/#admin")
    agent.get_by_test_id("take-next").wait_for(timeout=TIMEOUT)
    assert not agent.get_by_test_id("nav-admin").is_visible()
    assert agent.get_by_test_id("admin").is_hidden()
    assert not any("/static/admin" in url for url in loaded)
    client = desk.desk_login("anna")
    try:
        assert client.get("/api/agents?all=true").status_code == 403
        assert client.get("/api/teams").status_code == 403
        assert client.post("/api/agents/olga/update", json={"team": "x"}).status_code == 403
        assert client.delete("/api/canned/1").status_code == 403
        assert client.put("/api/canned/1", json={"title": "x", "text": "y"}).status_code == 403
    finally:
        client.close()
    agent.context.close()

    admin = log_in(browser, desk, "olga", console)
    admin.on("dialog", lambda dialog: dialog.accept())  # "¿Desactivar …?", "¿Borrar …?"
    admin.get_by_test_id("nav-admin").click()
    admin.locator('[data-testid="admin"][data-state="ready"]').wait_for(timeout=TIMEOUT)
    assert admin.url.endswith("#admin")

    # The role choice is the server's list, not the page's.
    options = admin.get_by_test_id("new-agent-role").locator("option")
    assert [options.nth(n).get_attribute("value") for n in range(options.count())] == list(ROLES)

    # A new agent, who can log in.
    admin.get_by_test_id("new-agent-username").fill("marco")
    admin.get_by_test_id("new-agent-name").fill("Marco Ruiz")
    admin.get_by_test_id("new-agent-password").fill("clave-de-marco")
    admin.get_by_test_id("new-agent-role").select_option("agent")
    admin.get_by_test_id("new-agent-capacity").fill("3")
    admin.get_by_test_id("new-agent-submit").click()
    said(admin, "Marco Ruiz ya puede entrar.")
    marco = admin.locator('[data-testid="admin-agent"][data-username="marco"]')
    assert marco.get_by_test_id("agent-capacity").input_value() == "3"
    desk.desk_login("marco", "clave-de-marco").close()

    # His team: saved, and the teams overview lists him in it.
    marco.get_by_test_id("agent-team").fill("pagos")
    marco.get_by_test_id("agent-save").click()
    said(admin, "Guardado: Marco Ruiz.")
    marco = admin.locator('[data-testid="admin-agent"][data-username="marco"]')
    assert marco.get_by_test_id("agent-team").input_value() == "pagos"
    team = admin.locator('[data-testid="admin-team"][data-team="pagos"]')
    assert team.get_by_test_id("team-members").inner_text() == "Marco Ruiz"
    assert "America/Mexico_City" in admin.get_by_test_id("teams-hours").inner_text()

    # Deactivated: he cannot log in any more.
    marco.get_by_test_id("agent-deactivate").click()
    said(admin, "Marco Ruiz está desactivado")
    marco = admin.locator('[data-testid="admin-agent"][data-username="marco"]')
    assert marco.get_attribute("data-active") == "false"
    refused = httpx.post(
        f"{desk.desk_url}/api/auth/login",
        json={"username": "marco", "password": "clave-de-marco"},
    )
    assert refused.status_code == 401
    # The admin's own row offers no way to lock herself out.
    olga = admin.locator('[data-testid="admin-agent"][data-username="olga"]')
    assert olga.get_by_test_id("agent-deactivate").count() == 0

    # A canned reply (one of the desk's first ones), edited, then deleted.
    first = admin.get_by_test_id("admin-canned").first
    canned_id = first.get_attribute("data-id")
    first.get_by_test_id("canned-edit").click()
    editor = admin.locator(f'[data-testid="admin-canned"][data-id="{canned_id}"]')
    editor.get_by_test_id("canned-title").fill("Saludo breve")
    editor.get_by_test_id("canned-text").fill("Hola {nombre}, ya lo reviso.")
    editor.get_by_test_id("canned-language").select_option("es")
    editor.get_by_test_id("canned-save").click()
    said(admin, "Respuesta guardada.")
    row = admin.locator(f'[data-testid="admin-canned"][data-id="{canned_id}"]')
    assert row.get_by_test_id("canned-title-text").inner_text() == "Saludo breve"
    assert row.get_by_test_id("canned-text-text").inner_text() == "Hola {nombre}, ya lo reviso."
    api = desk.desk_login("olga")
    try:
        stored = {str(c["id"]): c for c in api.get("/api/canned").json()["canned"]}
        assert stored[canned_id]["text"] == "Hola {nombre}, ya lo reviso."
        row.get_by_test_id("canned-delete").click()
        said(admin, "Respuesta borrada.")
        assert admin.locator(f'[data-testid="admin-canned"][data-id="{canned_id}"]').count() == 0
        assert canned_id not in {str(c["id"]) for c in api.get("/api/canned").json()["canned"]}
    finally:
        api.close()

    # English, where the desk offers it.
    admin.locator('#app .lang-btn[data-lang="en"]').click()
    assert admin.get_by_test_id("section-agents").locator("h3").inner_text() == "Agents"
    admin.get_by_test_id("nav-admin").click()  # back to the queue
    admin.get_by_test_id("take-next").wait_for(timeout=TIMEOUT)
    assert admin.get_by_test_id("admin").is_hidden()
    assert not console.errors, console.errors
