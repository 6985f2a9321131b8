"""The desk's authorization matrix: every route × who asks, generated from the route table.

Who asks: nobody, an expired session, the agent the case is assigned to, another agent, a
supervisor, an admin. Each route has one rule below; a route added to the desk without a
rule fails `test_every_route_has_a_rule`. A request that is allowed may still be refused for
its content (400, 404, 409): what is checked is that it was not refused as unauthorized
(401) or forbidden (403), and that a denied one was, before anything was done.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from handoff.models import agents, sessions
from tests.integration.handoff.conftest import DeskWorld

# Who may use each route: public, agent (any logged-in user), supervisor, admin, or assignee
# (the agent the case is assigned to, and supervisors).
RULES: dict[tuple[str, str], str] = {
    ("GET", "/"): "public",
    ("GET", "/static/{filename}"): "public",
    ("GET", "/api/openapi.json"): "public",
    ("POST", "/api/auth/login"): "public",
    ("POST", "/api/auth/logout"): "agent",
    ("GET", "/api/me"): "agent",
    ("PUT", "/api/me/availability"): "agent",
    ("GET", "/api/cases"): "agent",
    ("POST", "/api/cases/next"): "agent",
    ("GET", "/api/cases/{id}"): "agent",
    ("POST", "/api/cases/{id}/claim"): "agent",
    ("POST", "/api/cases/{id}/messages"): "assignee",
    ("POST", "/api/cases/{id}/notes"): "agent",
    ("POST", "/api/cases/{id}/transfer"): "assignee",
    ("POST", "/api/cases/{id}/release"): "assignee",
    ("POST", "/api/cases/{id}/resolve"): "assignee",
    ("GET", "/api/search"): "agent",
    ("GET", "/api/canned"): "agent",
    ("POST", "/api/canned"): "admin",
    ("PUT", "/api/canned/{id}"): "admin",
    ("DELETE", "/api/canned/{id}"): "admin",
    ("GET", "/api/agents"): "agent",
    ("POST", "/api/agents"): "admin",
    ("POST", "/api/agents/{username}/{action}"): "admin",
    ("GET", "/api/teams"): "supervisor",
    ("GET", "/api/stats"): "supervisor",
    ("GET", "/api/reports/overview"): "supervisor",
    ("GET", "/api/reports/overview.csv"): "supervisor",
    ("GET", "/api/reports/trends"): "supervisor",
    ("GET", "/api/reports/at-risk"): "supervisor",
    ("GET", "/api/nlu/candidates"): "designer",
    ("POST", "/api/nlu/candidates/{id}/review"): "designer",
    ("POST", "/api/privacy/erase"): "admin",
    ("POST", "/api/privacy/export"): "admin",
    ("GET", "/api/events"): "agent",
    ("GET", "/media/{name}"): "agent",
}
WHO = ("nobody", "expired", "assignee", "other_agent", "supervisor", "admin")
ALLOWED = {
    "public": set(WHO),
    "agent": {"assignee", "other_agent", "supervisor", "admin"},
    "assignee": {"assignee", "supervisor", "admin"},
    "designer": {"supervisor", "admin"},  # designers rank between agents and supervisors
    "supervisor": {"supervisor", "admin"},
    "admin": {"admin"},
}
BODIES: dict[str, Any] = {
    "/api/auth/login": {"username": "carla", "password": "password-123"},
    "/api/me/availability": {"available": True},
    "/api/cases/{id}/messages": {"text": "Hola, ya lo reviso."},
    "/api/cases/{id}/notes": {"text": "nota interna"},
    "/api/cases/{id}/transfer": {"team": "pagos"},
    "/api/cases/{id}/resolve": {"return_to_bot": True},
    "/api/canned": {"title": "saludo", "text": "Hola"},
    "/api/canned/{id}": {"title": "saludo", "text": "Hola", "language": "es"},
    "/api/agents": {"username": "nuevo", "password": "password-123", "role": "agent"},
    "/api/nlu/candidates/{id}/review": {"reject": True},
    "/api/privacy/erase": {"conversation": "telegram:999", "reason": "ARCO 1", "confirm": True},
    "/api/privacy/export": {"conversation": "telegram:999", "reason": "ARCO 1", "confirm": True},
}


def routes(world: DeskWorld) -> list[tuple[str, str]]:
    """(method, path template) of every route the desk serves, HEAD folded into GET."""
    found = set()
    for route in world.server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if "prefix" in info:
            path = info["prefix"].rstrip("/") + "/{filename}"
        found.add(("GET" if route.method == "HEAD" else route.method, path))
    return sorted(found)


def test_every_route_has_a_rule(world: DeskWorld) -> None:
    missing = [route for route in routes(world) if route not in RULES]
    assert not missing, f"routes without an authorization rule: {missing}"
    gone = [route for route in RULES if route not in routes(world)]
    assert not gone, f"rules for routes that no longer exist: {gone}"


@pytest.fixture
def clients(world: DeskWorld) -> Iterator[dict[str, httpx.Client]]:
    world.accounts.create("carla", "password-123")  # the target of admin actions
    with world.store.engine.begin() as connection:  # ana takes a case for every request
        connection.execute(agents.update().where(agents.c.username == "ana").values(capacity=500))
    made = {
        "nobody": world.server.client(),
        "expired": world.login("ana"),
        "assignee": world.login("ana"),
        "other_agent": world.login("beto"),
        "supervisor": world.login("sara"),
        "admin": world.login("admin"),
    }
    expired_token = made["expired"].headers["Authorization"][7:]
    digest = hashlib.sha256(expired_token.encode()).hexdigest()  # the table keeps digests
    with world.store.engine.begin() as connection:
        connection.execute(
            sessions.update().where(sessions.c.token_hash == digest).values(expires_at=0.0)
        )
    yield made
    for client in made.values():
        client.close()


def test_every_route_for_everyone(world: DeskWorld, clients: dict[str, httpx.Client]) -> None:
    ana = world.accounts.by_username("ana")
    photo = world.media.put(b"\xff\xd8\xff\xe0 a photo", "jpg").name
    checked = 0
    for (method, template), who in itertools.product(sorted(RULES), WHO):
        rule = RULES[(method, template)]
        if template == "/api/auth/logout" and who not in ("nobody", "expired"):
            # Logging out ends the session: a fresh one, so the others stay usable.
            name = {"assignee": "ana", "other_agent": "beto", "supervisor": "sara"}
            client = world.login(name.get(who, "admin"))
        else:
            client = clients[who]
        case_id = world.park(f"telegram:{checked}")
        world.store.claim(case_id, ana)
        path = (
            template.replace("{id}", str(case_id))
            .replace("{username}", "carla")
            .replace("{action}", "revoke")
            .replace("{name}", photo)
            .replace("{filename}", "desk.js")
        )
        body = BODIES.get(template)
        if template == "/api/agents":
            body = {**BODIES[template], "username": f"nuevo{checked}"}
        if template == "/api/events":
            with client.stream(method, path, timeout=10) as answer:
                status = answer.status_code
        else:
            status = client.request(method, path, json=body).status_code
        client.cookies.clear()  # a login answered above must not log this identity in
        allowed = who in ALLOWED[rule]
        if allowed:
            assert status not in (401, 403), (method, template, who, status)
        else:
            expected = 401 if who in ("nobody", "expired") else 403
            assert status == expected, (method, template, who, status)
        checked += 1
    assert checked == len(RULES) * len(WHO)


def test_a_denied_request_changes_nothing(
    world: DeskWorld, clients: dict[str, httpx.Client]
) -> None:
    ana = world.accounts.by_username("ana")
    case_id = world.park("telegram:denied")
    world.store.claim(case_id, ana)
    before, audit_before = world.store.get(case_id), world.store.audit_log(case_id)
    beto = clients["other_agent"]
    for action, body in (
        ("resolve", {"return_to_bot": True, "corrections": {"order_id": "10002"}}),
        ("release", None),
        ("transfer", {"team": "pagos"}),
        ("messages", {"text": "hola"}),
    ):
        assert beto.post(f"/api/cases/{case_id}/{action}", json=body).status_code == 403
    after = world.store.get(case_id)
    assert (after.status, after.assignee_id, after.team) == (
        before.status,
        before.assignee_id,
        before.team,
    )
    assert after.collected == before.collected
    assert world.store.audit_log(case_id) == audit_before
    assert world.rasa.calls("POST", r"/conversations/.+") == []  # nothing reached the customer
