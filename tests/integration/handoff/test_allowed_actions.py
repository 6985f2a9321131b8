"""`allowed_actions` and the endpoints agree: for every case state × who asks × action.

Each case the API returns lists what the session's user may do with it
(handoff/desk/permissions.py). The page enables its buttons from that list only, so an
action must be listed if and only if its endpoint accepts it. Generated like
test_desk_authorization.py: one fresh case per combination, the list read from the case
view, then the endpoint tried.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from handoff.desk.permissions import ACTIONS
from handoff.models import agents
from tests.integration.handoff.conftest import DeskWorld

WHO = {"assignee": "ana", "other_agent": "beto", "supervisor": "sara", "admin": "admin"}
STATES = ("queued", "assigned", "resolved", "closed", "bot")
REQUESTS: dict[str, tuple[str, dict | None]] = {
    "claim": ("claim", None),
    "reply": ("messages", {"text": "Hola, ya lo reviso.", "send_template": True}),
    "note": ("notes", {"text": "nota interna"}),
    "transfer": ("transfer", {"team": "pagos"}),
    "release": ("release", None),
    "resolve": ("resolve", {"return_to_bot": True}),
    "close": ("resolve", {"return_to_bot": False}),
}


@pytest.fixture
def clients(world: DeskWorld) -> Iterator[dict[str, httpx.Client]]:
    with world.store.engine.begin() as connection:  # nobody runs out of room here
        connection.execute(agents.update().values(capacity=1000))
    made = {who: world.login(name) for who, name in WHO.items()}
    yield made
    for client in made.values():
        client.close()


def case_in(world: DeskWorld, state: str, conversation: str) -> int:
    """A fresh case in `state`, assigned to ana when it has been assigned at all."""
    case_id = world.park(conversation)
    if state == "queued":
        return case_id
    ana = world.accounts.by_username("ana")
    world.store.claim(case_id, ana)
    if state in ("resolved", "bot"):
        world.store.resolve(case_id, ana, return_to_bot=True)
    if state == "bot":
        assert world.store.back_to_bot(case_id)
    if state == "closed":
        world.store.resolve(case_id, ana, return_to_bot=False)
    assert world.store.get(case_id).status.value == state
    return case_id


def test_the_actions_listed_are_exactly_those_the_endpoints_accept(
    world: DeskWorld, clients: dict[str, httpx.Client]
) -> None:
    assert set(REQUESTS) == set(ACTIONS)
    disagreements = []
    listed_anywhere: set[tuple[str, str, str]] = set()
    for number, (state, who, action) in enumerate(itertools.product(STATES, WHO, ACTIONS)):
        client = clients[who]
        case_id = case_in(world, state, f"telegram:{number}")
        view = client.get(f"/api/cases/{case_id}")
        assert view.status_code == 200, view.text
        listed = action in view.json()["case"]["allowed_actions"]
        path, body = REQUESTS[action]
        answer = client.post(f"/api/cases/{case_id}/{path}", json=body)
        accepted = 200 <= answer.status_code < 300
        if listed != accepted:
            disagreements.append((state, who, action, listed, answer.status_code, answer.text))
        if listed:
            listed_anywhere.add((state, who, action))
        if not accepted:
            assert answer.status_code in (403, 409), (state, who, action, answer.text)
    assert not disagreements, disagreements
    # The matrix is not trivially empty or full: the rules this test pins down.
    assert ("queued", "other_agent", "claim") in listed_anywhere
    assert ("assigned", "other_agent", "reply") not in listed_anywhere
    assert ("assigned", "supervisor", "reply") in listed_anywhere
    assert ("queued", "supervisor", "close") in listed_anywhere
    assert ("queued", "assignee", "close") not in listed_anywhere
    assert ("closed", "admin", "note") in listed_anywhere
    assert not {a for s, _, a in listed_anywhere if s in ("resolved", "closed", "bot")} - {"note"}


def test_every_case_the_api_returns_carries_the_users_actions(
    world: DeskWorld, clients: dict[str, httpx.Client]
) -> None:
    mine = case_in(world, "assigned", "whatsapp:+5215512345678")
    queued = case_in(world, "queued", "telegram:77")
    ana, beto = clients["assignee"], clients["other_agent"]

    def actions(answer: httpx.Response, key: str = "cases") -> dict[int, list[str]]:
        assert answer.status_code == 200, answer.text
        return {case["id"]: case["allowed_actions"] for case in answer.json()[key]}

    for client, expected_mine in ((ana, "reply"), (beto, None)):
        found = actions(client.get("/api/cases?status=all"))
        assert ("reply" in found[mine]) == (expected_mine == "reply")
        assert "claim" in found[queued]
        assert set(actions(client.get("/api/search?q=Ana"))) >= {mine, queued}
    detail = ana.get(f"/api/cases/{mine}").json()
    assert detail["case"]["window_kind"] == "whatsapp"
    assert detail["case"]["window_name"] == "WhatsApp"
    assert detail["window"]["name"] == "WhatsApp"
    assert all("allowed_actions" in case for case in detail["earlier_cases"])
    telegram = beto.get(f"/api/cases/{queued}").json()["case"]
    assert (telegram["window_kind"], telegram["window_name"]) == ("none", None)
    claimed = beto.post(f"/api/cases/{queued}/claim").json()["case"]
    assert "claim" not in claimed["allowed_actions"]
    assert "resolve" in claimed["allowed_actions"]


@pytest.mark.feed
def test_the_live_feed_sends_each_user_their_own_actions(world: DeskWorld) -> None:
    def first_case_update(client: httpx.Client, after: Callable[[], int]) -> dict:
        with httpx.stream(
            "GET", f"{world.server.url}/api/events", headers=client.headers, timeout=10
        ) as stream:
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            case_id = after()
            deadline = time.monotonic() + 5
            for line in lines:
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    if data.get("case", {}).get("id") == case_id:
                        return data["case"]
                assert time.monotonic() < deadline
        raise AssertionError("no case update")

    beto, sara = world.login("beto"), world.login("sara")
    for_beto = first_case_update(beto, lambda: world.park("telegram:feed-1"))
    for_sara = first_case_update(sara, lambda: world.park("telegram:feed-2"))
    assert "claim" in for_beto["allowed_actions"]
    assert "close" not in for_beto["allowed_actions"]
    assert "close" in for_sara["allowed_actions"]
