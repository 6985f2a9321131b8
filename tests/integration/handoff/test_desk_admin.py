"""What admins edit in the desk: agents' team and capacity, canned replies, the teams overview.

Over real HTTP, on SQLite and PostgreSQL (the `world` fixture). Who may call each route is
test_desk_authorization.py's; here, what the routes do and refuse.
"""

from __future__ import annotations

from handoff.models import ROLES
from tests.integration.handoff.conftest import DeskWorld


def test_admins_change_an_agents_team_capacity_and_name(world: DeskWorld) -> None:
    admin = world.login("admin")
    changed = admin.post(
        "/api/agents/BETO/update",
        json={"team": " pagos ", "capacity": 7, "display_name": "Beto R."},
    )
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()["agent"][k] for k in ("username", "team", "capacity")} == {
        "username": "beto",
        "team": "pagos",
        "capacity": 7,
    }
    assert world.accounts.by_username("beto").display_name == "Beto R."
    assert admin.post("/api/agents/beto/update", json={"team": ""}).json()["agent"]["team"] is None
    for bad in (
        {},
        {"capacity": -1},
        {"capacity": "3"},
        {"capacity": True},
        {"team": 5},
        {"team": "x" * 65},
        {"display_name": " "},
    ):
        answer = admin.post("/api/agents/beto/update", json=bad)
        assert answer.status_code == 400, (bad, answer.text)
    assert admin.post("/api/agents/nadie/update", json={"team": "pagos"}).status_code == 404
    assert world.accounts.by_username("beto").capacity == 7  # nothing refused was written
    assert (
        world.login("sara").post("/api/agents/beto/update", json={"team": "x"}).status_code == 403
    )


def test_admins_see_every_agent_and_the_roles_there_are(world: DeskWorld) -> None:
    admin, ana = world.login("admin"), world.login("ana")
    assert admin.post("/api/agents/beto/deactivate").status_code == 200
    active = ana.get("/api/agents").json()
    assert "beto" not in [a["username"] for a in active["agents"]]
    assert active["roles"] == list(ROLES)
    everyone = admin.get("/api/agents?all=true").json()["agents"]
    beto = next(a for a in everyone if a["username"] == "beto")
    assert beto["active"] is False
    assert ana.get("/api/agents?all=true").status_code == 403


def test_the_teams_overview_has_members_open_cases_and_the_hours(world: DeskWorld) -> None:
    admin = world.login("admin")
    admin.post("/api/agents/beto/update", json={"team": "pagos"})
    queued = world.park("telegram:1")
    admin.post(f"/api/cases/{queued}/transfer", json={"team": "pagos"})
    mine = world.park("telegram:2")
    world.store.claim(mine, world.accounts.by_username("beto"))
    answer = admin.get("/api/teams")
    assert answer.status_code == 200, answer.text
    teams = {team["name"]: team for team in answer.json()["teams"]}
    assert [m["username"] for m in teams["pagos"]["members"]] == ["beto"]
    assert (teams["pagos"]["queued"], teams["pagos"]["assigned"]) == (1, 0)
    no_team = teams[None]
    assert {"ana", "sara", "admin"} <= {m["username"] for m in no_team["members"]}
    assert no_team["assigned"] == 1  # the case follows beto, not his team
    assert list(answer.json()["teams"])[-1]["name"] is None  # named teams first
    hours = answer.json()["hours"]
    assert hours["timezone"] == "America/Mexico_City"  # handoff/support.yml
    assert isinstance(hours["open_now"], bool)
    assert world.login("sara").get("/api/teams").status_code == 200
    assert world.login("ana").get("/api/teams").status_code == 403


def test_admins_edit_and_delete_canned_replies(world: DeskWorld) -> None:
    admin, ana = world.login("admin"), world.login("ana")
    made = admin.post(
        "/api/canned", json={"title": "Espera", "text": "Un momento", "language": "es"}
    )
    canned_id = made.json()["id"]
    edited = admin.put(
        f"/api/canned/{canned_id}",
        json={"title": "Wait", "text": "One moment, {nombre}", "language": "en"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["canned"] == {
        "id": canned_id,
        "title": "Wait",
        "text": "One moment, {nombre}",
        "language": "en",
    }
    listed = {c["id"]: c for c in ana.get("/api/canned?language=en").json()["canned"]}
    assert listed[canned_id]["text"] == "One moment, {nombre}"
    for bad in (
        {"title": "x", "text": "y", "language": "fr"},
        {"title": "", "text": "y", "language": "es"},
        {"title": "x", "text": 5, "language": "es"},
    ):
        assert admin.put(f"/api/canned/{canned_id}", json=bad).status_code == 400, bad
    assert ana.put(f"/api/canned/{canned_id}", json={"title": "x", "text": "y"}).status_code == 403
    assert ana.delete(f"/api/canned/{canned_id}").status_code == 403
    assert admin.delete(f"/api/canned/{canned_id}").status_code == 200
    assert canned_id not in [c["id"] for c in ana.get("/api/canned").json()["canned"]]
    assert admin.delete(f"/api/canned/{canned_id}").status_code == 404
    assert (
        admin.put(
            f"/api/canned/{canned_id}", json={"title": "x", "text": "y", "language": "es"}
        ).status_code
        == 404
    )
    assert admin.delete("/api/canned/abc").status_code == 404
