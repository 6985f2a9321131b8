"""The desk's JSON API over real HTTP, on SQLite and PostgreSQL, with a fake Rasa HTTP API."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from connectors.media_store import LocalMediaStore
from connectors.messages import OutboundPart
from connectors.outbox import Outbox
from connectors.storage import make_engine as channels_engine
from handoff.auth import Accounts
from handoff.case import Status
from handoff.conversations import ConversationReader
from handoff.database import make_engine, migrate
from handoff.desk.app import FEED_CHECK_SECONDS, create_app
from handoff.hours import load_policy
from handoff.rasa_client import RasaClient
from handoff.service import Handoff
from handoff.store import CaseStore
from handoff.throttle import FREE_ATTEMPTS
from tests.integration.handoff.conftest import DeskWorld
from tests.support.databases import database_that_goes_down
from tests.support.desk_server import DeskServer


def test_login_gives_a_token_and_wrong_credentials_do_not(world: DeskWorld) -> None:
    client = world.server.client()
    wrong = client.post("/api/auth/login", json={"username": "ana", "password": "nope-nope"})
    unknown = client.post("/api/auth/login", json={"username": "zoe", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "wrong username or password"}
    ok = client.post("/api/auth/login", json={"username": "Ana", "password": "password-123"})
    assert ok.status_code == 200
    assert set(ok.json()) == {"token", "csrf_token", "agent"}
    assert ok.json()["agent"]["role"] == "agent"
    assert "password" not in json.dumps(ok.json()["agent"])
    assert "HttpOnly" in ok.headers["set-cookie"]
    assert "SameSite=Strict" in ok.headers["set-cookie"]


def test_parallel_wrong_passwords_are_slowed_down_not_all_checked(world: DeskWorld) -> None:
    """The review raced 30 wrong passwords: every one was checked, in each process's memory."""
    from concurrent.futures import ThreadPoolExecutor

    def guess(index: int) -> httpx.Response:
        return world.server.client().post(
            "/api/auth/login", json={"username": "beto", "password": f"wrong-{index:04d}"}
        )

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(guess, range(30)))
    checked = [a for a in answers if a.status_code == 401]
    slowed = [a for a in answers if a.status_code == 429]
    assert len(checked) == FREE_ATTEMPTS + 1
    assert len(checked) + len(slowed) == 30
    assert all(int(a.headers["Retry-After"]) >= 1 for a in slowed)
    # Counted in the database every desk process shares, not in this one's memory.
    assert (
        world.store.engine.connect()
        .execute(sa.text("SELECT attempts FROM handoff_login_throttle WHERE key = 'user:beto'"))
        .scalar_one()
        == FREE_ATTEMPTS + 1
    )


def test_login_takes_json_only(world: DeskWorld) -> None:
    """A cross-site form posts text/plain without a preflight: no login CSRF."""
    client = world.server.client()
    credentials = json.dumps({"username": "ana", "password": "password-123"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        forged = client.post(
            "/api/auth/login", content=credentials, headers={"Content-Type": content_type}
        )
        assert forged.status_code == 415
        assert "set-cookie" not in forged.headers


@pytest.mark.parametrize(
    ("headers", "setting", "secure"),
    [
        ({}, None, False),  # plain HTTP on this machine, development
        ({"X-Forwarded-Proto": "https"}, None, True),  # a TLS proxy on this machine
        ({}, "true", True),
        ({"X-Forwarded-Proto": "https"}, "false", False),
    ],
)
def test_the_session_cookie_is_secure_behind_tls(
    world: DeskWorld,
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
    setting: str | None,
    secure: bool,
) -> None:
    if setting is None:
        monkeypatch.delenv("HILO_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("HILO_COOKIE_SECURE", setting)
    login = world.server.client().post(
        "/api/auth/login", json={"username": "ana", "password": "password-123"}, headers=headers
    )
    assert ("Secure" in login.headers["set-cookie"]) is secure


def test_everything_but_login_needs_a_session(world: DeskWorld) -> None:
    client = world.server.client()
    for method, path in (("GET", "/api/cases"), ("GET", "/api/me"), ("POST", "/api/cases/next")):
        reply = client.request(method, path)
        assert reply.status_code == 401
        assert "error" in reply.json()
    assert client.get("/api/openapi.json").status_code == 200
    assert "Content-Security-Policy" in client.get("/api/openapi.json").headers


def test_cookie_sessions_must_send_the_csrf_token_to_change_anything(world: DeskWorld) -> None:
    case_id = world.park()
    browser = world.server.client()
    login = browser.post("/api/auth/login", json={"username": "ana", "password": "password-123"})
    assert browser.get("/api/cases").status_code == 200  # reading is fine with the cookie
    forged = browser.post(f"/api/cases/{case_id}/claim")
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["error"]
    assert world.store.get(case_id).status is Status.QUEUED
    good = browser.post(
        f"/api/cases/{case_id}/claim", headers={"X-CSRF-Token": login.json()["csrf_token"]}
    )
    assert good.status_code == 200


def test_roles_are_checked_on_every_endpoint(world: DeskWorld) -> None:
    agent, supervisor, admin = world.login("ana"), world.login("sara"), world.login("admin")
    assert agent.get("/api/stats").status_code == 403
    assert supervisor.get("/api/stats").status_code == 200
    new_user = {"username": "nuevo", "password": "password-123", "role": "agent"}
    assert agent.post("/api/agents", json=new_user).status_code == 403
    assert supervisor.post("/api/agents", json=new_user).status_code == 403
    assert admin.post("/api/agents", json=new_user).status_code == 200
    assert admin.post("/api/agents", json=new_user).status_code == 409
    canned = {"title": "Hola", "text": "Hola {nombre}", "language": "es"}
    assert agent.post("/api/canned", json=canned).status_code == 403
    assert admin.post("/api/canned", json=canned).status_code == 200


def test_the_queue_by_urgency_and_claiming(world: DeskWorld) -> None:
    now = time.time()
    later = world.park("telegram:1", sla_due_at=now + 7200)
    first = world.park("telegram:2", sla_due_at=now + 600)
    ana, beto = world.login("ana"), world.login("beto")
    listed = [c["id"] for c in ana.get("/api/cases").json()["cases"]]
    assert listed == [first, later]
    taken = ana.post("/api/cases/next").json()["case"]
    assert (taken["id"], taken["status"], taken["assignee_name"]) == (first, "assigned", "Ana")
    assert beto.post(f"/api/cases/{first}/claim").status_code == 409
    assert beto.post(f"/api/cases/{later}/claim").status_code == 200
    assert ana.post("/api/cases/next").status_code == 404
    mine = ana.get("/api/cases", params={"status": "mine"}).json()["cases"]
    assert [c["id"] for c in mine] == [first]
    assert ana.get("/api/cases", params={"status": "nonsense"}).status_code == 400


def test_a_reply_goes_to_rasa_through_the_customers_channel(world: DeskWorld) -> None:
    case_id = world.park("telegram:1111")
    ana, beto = world.login("ana"), world.login("beto")
    assert ana.post(f"/api/cases/{case_id}/messages", json={"text": "hola"}).status_code == 403
    ana.post(f"/api/cases/{case_id}/claim")
    assert beto.post(f"/api/cases/{case_id}/messages", json={"text": "x"}).status_code == 403
    assert ana.post(f"/api/cases/{case_id}/messages", json={"text": "  "}).status_code == 400
    reply = ana.post(f"/api/cases/{case_id}/messages", json={"text": "Hola Ana, ya lo reviso"})
    assert reply.status_code == 200
    assert reply.json()["case"]["first_reply_at"] is not None
    ((path, query, events),) = world.rasa_events()
    assert path == "/conversations/telegram:1111/tracker/events"
    assert query["output_channel"] == "telegram"
    assert query["execute_side_effects"] == "true"
    assert events == [
        {
            "event": "bot",
            "text": "Hola Ana, ya lo reviso",
            "metadata": {"source": "agent", "agent_id": 1, "agent_name": "Ana"},
        }
    ]


def test_a_closed_whatsapp_window_is_said_and_the_template_is_opt_in(world: DeskWorld) -> None:
    case_id = world.park("whatsapp:+5215512345678", last_at=time.time() - 25 * 3600)
    ana = world.login("ana")
    ana.post(f"/api/cases/{case_id}/claim")
    detail = ana.get(f"/api/cases/{case_id}").json()
    assert detail["window"]["kind"] == "whatsapp"
    assert detail["window"]["open"] is False
    refused = ana.post(f"/api/cases/{case_id}/messages", json={"text": "Hola"})
    assert refused.status_code == 409
    assert "window is closed" in refused.json()["error"]
    assert refused.json()["window"]["open"] is False
    assert world.rasa_events() == []
    sent = ana.post(f"/api/cases/{case_id}/messages", json={"text": "Hola", "send_template": True})
    assert sent.status_code == 200
    assert len(world.rasa_events()) == 1


def test_the_case_view_has_customer_history_notes_window_and_audit(world: DeskWorld) -> None:
    conversation = "whatsapp:+5215512345678"
    case_id = world.park(conversation, text="<script>alert('x')</script> mi pedido no llega")
    Outbox(world.channels.engine).begin(
        channel="whatsapp",
        conversation_id=conversation,
        part=OutboundPart(text="Te comunico con una persona"),
        source="handoff",
    )
    ana = world.login("ana")
    ana.post(f"/api/cases/{case_id}/notes", json={"text": "Revisar con almacén"})
    detail = ana.get(f"/api/cases/{case_id}").json()
    assert detail["case"]["collected"] == {"order_id": "10001"}
    assert detail["customer"]["phone"] == "+5215512345678"
    assert detail["customer"]["identities"][0]["conversation_id"] == conversation
    history = detail["history"]
    assert [m["source"] for m in history] == ["customer", "handoff"]
    assert history[0]["text"] == "<script>alert('x')</script> mi pedido no llega"  # as text
    assert history[1]["status"] == "sending"
    assert [n["text"] for n in detail["notes"]] == ["Revisar con almacén"]
    assert [a["action"] for a in detail["audit"]] == ["opened", "noted"]
    assert detail["window"]["open"] is True


def test_transfer_release_and_resolve(world: DeskWorld) -> None:
    case_id = world.park()
    ana, beto = world.login("ana"), world.login("beto")
    ana.post(f"/api/cases/{case_id}/claim")
    beto_id = next(
        a["id"] for a in ana.get("/api/agents").json()["agents"] if a["username"] == "beto"
    )
    moved = ana.post(f"/api/cases/{case_id}/transfer", json={"agent": beto_id}).json()["case"]
    assert moved["assignee_id"] == beto_id
    released = beto.post(f"/api/cases/{case_id}/release").json()["case"]
    assert released["status"] == "queued"
    beto.post(f"/api/cases/{case_id}/claim")
    bad = beto.post(f"/api/cases/{case_id}/resolve", json={"return_to_bot": "yes"})
    assert bad.status_code == 400
    forged = beto.post(
        f"/api/cases/{case_id}/resolve",
        json={"return_to_bot": True, "corrections": {"verified_contact": "p1.x"}},
    )
    assert forged.status_code == 400
    assert "verified_contact" in forged.json()["error"]
    done = beto.post(
        f"/api/cases/{case_id}/resolve",
        json={
            "return_to_bot": True,
            "outcome": "Se reenvió el pedido",
            "corrections": {"delivery_city": "Monterrey"},
        },
    ).json()["case"]
    assert done["status"] == "resolved"
    assert done["corrections"] == {"delivery_city": "Monterrey"}
    assert beto.post(f"/api/cases/{case_id}/claim").status_code == 409


def test_search_by_name_phone_order_and_message_text(world: DeskWorld) -> None:
    case_id = world.park(text="la chamarra vino rota")
    other = world.park("telegram:99", customer_name="Luis", collected={"order_id": "10002"})
    ana = world.login("ana")

    def found(query: str) -> list[int]:
        return [c["id"] for c in ana.get("/api/search", params={"q": query}).json()["cases"]]

    assert found("ana") == [case_id]
    assert found("55 1234 5678") == [case_id]
    assert found("10002") == [other]
    assert found("chamarra") == [case_id]
    assert ana.get("/api/search", params={"q": "a"}).status_code == 400


def test_customer_files_are_served_to_agents_only_and_safely(world: DeskWorld) -> None:
    image = world.media.put(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png")
    document = world.media.put(b"%PDF-1.4 x", "pdf")
    ana = world.login("ana")
    assert world.server.client().get(f"/media/{image.name}").status_code == 401
    shown = ana.get(f"/media/{image.name}")
    assert (shown.status_code, shown.headers["content-type"]) == (200, "image/png")
    assert shown.headers["content-disposition"] == "inline"
    assert shown.headers["x-content-type-options"] == "nosniff"
    download = ana.get(f"/media/{document.name}", params={"filename": '../"evil".pdf'})
    assert download.headers["content-disposition"].startswith("attachment;")
    assert '"' not in download.headers["content-disposition"].split("filename=")[1].strip('"')
    for bad in ("../../etc/passwd", "x.pdf", "%2e%2e%2fsecret.pdf"):
        assert ana.get(f"/media/{bad}").status_code == 404


def test_the_openapi_document_lists_the_api(world: DeskWorld) -> None:
    spec = world.server.client().get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/auth/login",
        "/api/cases",
        "/api/cases/{id}",
        "/api/cases/{id}/claim",
        "/api/cases/{id}/messages",
        "/api/cases/{id}/notes",
        "/api/cases/{id}/transfer",
        "/api/cases/{id}/resolve",
    ):
        assert path in spec["paths"]


@pytest.mark.feed
def test_live_updates_and_resolving_leaves_the_hand_back_to_the_bot_server(
    world: DeskWorld,
) -> None:
    ana = world.login("ana")
    with httpx.stream(
        "GET", f"{world.server.url}/api/events", headers=ana.headers, timeout=10
    ) as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        case_id = world.park("telegram:5")
        seen = []
        deadline = time.monotonic() + 5
        for line in lines:
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if any(d.get("case", {}).get("id") == case_id for d in seen):
                    break
            assert time.monotonic() < deadline
    ana.post(f"/api/cases/{case_id}/claim")
    resolved = ana.post(
        f"/api/cases/{case_id}/resolve",
        json={"return_to_bot": True, "corrections": {"order_id": "10004"}, "outcome": "ok"},
    )
    assert resolved.json()["case"]["status"] == "resolved"
    time.sleep(1.0)  # four rounds of the feed
    # The Rasa server hands it back (handoff/ownership.py, tests/integration/handoff/
    # test_ownership.py); the desk never touches the tracker for it.
    assert world.store.get(case_id).status is Status.RESOLVED
    assert not [
        e for _, _, events in world.rasa_events() for e in events if e == {"event": "resume"}
    ]


def _customer_writes(world: DeskWorld, conversation: str, text: str) -> None:
    from connectors.inbox import Inbox
    from connectors.messages import InboundMessage, Kind

    Inbox(world.channels.engine).accept(
        InboundMessage(
            conversation.split(":")[0],
            conversation,
            f"m-{time.time_ns()}",
            Kind.TEXT,
            time.time(),
            text=text,
        )
    )


def _hilo_said(world: DeskWorld) -> list[str]:
    return [
        event["text"]
        for _, _, events in world.rasa_events()
        for event in events
        if event.get("metadata", {}).get("source") == "handoff"
    ]


@pytest.mark.feed
def test_a_waiting_customer_hears_we_got_it_at_most_once_every_few_hours(
    world: DeskWorld,
) -> None:

    from handoff.models import cases

    case_id = world.park("telegram:77")
    _customer_writes(world, "telegram:77", "hola?")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and world.store.get(case_id).last_customer_at is None:
        time.sleep(0.05)
    time.sleep(0.5)
    assert _hilo_said(world) == []  # the handoff's own promise was minutes ago
    with world.store.engine.begin() as connection:  # four hours later
        connection.execute(
            cases.update().where(cases.c.id == case_id).values(created_at=time.time() - 4 * 3600)
        )
    _customer_writes(world, "telegram:77", "sigo esperando")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _hilo_said(world):
        time.sleep(0.05)
    (notice,) = _hilo_said(world)
    assert notice.startswith("Recibido 👍. Ya está con nuestro equipo; te responden ")
    _customer_writes(world, "telegram:77", "???")
    time.sleep(1.0)
    assert len(_hilo_said(world)) == 1
    (_, query, _) = world.rasa_events()[-1]
    assert query["output_channel"] == "telegram"


@pytest.mark.feed
def test_a_closed_case_opens_again_when_the_customer_writes(world: DeskWorld) -> None:
    case_id = world.park("telegram:78")
    ana = world.login("ana")
    ana.post(f"/api/cases/{case_id}/claim")
    ana.post(f"/api/cases/{case_id}/resolve", json={"return_to_bot": False})
    assert world.store.get(case_id).status is Status.CLOSED
    _customer_writes(world, "telegram:78", "una cosa más")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and world.store.get(case_id).status is Status.CLOSED:
        time.sleep(0.05)
    assert world.store.get(case_id).status in (Status.QUEUED, Status.ASSIGNED)


def test_guessing_passwords_is_stopped_and_unknown_paths_answer_json(world: DeskWorld) -> None:
    # The guesser comes through the desk's proxy on this machine, from another address.
    client = world.server.client(headers={"X-Forwarded-For": "198.51.100.7"})
    for _ in range(FREE_ATTEMPTS + 1):
        reply = client.post("/api/auth/login", json={"username": "beto", "password": "guess-123"})
        assert reply.status_code == 401
    # Even the right password waits its turn (else it would confirm a guess).
    blocked = client.post("/api/auth/login", json={"username": "beto", "password": "password-123"})
    assert blocked.status_code == 429
    assert "too many" in blocked.json()["error"]
    assert int(blocked.headers["Retry-After"]) >= 1
    assert world.login("ana").get("/api/nothing-here").json() == {"error": "not found"}


def test_the_live_feed_ends_when_the_session_does(world: DeskWorld) -> None:
    """An open feed kept streaming case data after logout."""
    ana = world.login("ana")
    seen: list[str] = []
    with ana.stream("GET", "/api/events", timeout=30) as feed:
        assert feed.status_code == 200
        lines = feed.iter_lines()
        assert next(lines) == ": connected"
        assert ana.post("/api/auth/logout").status_code == 200
        for line in lines:  # ends when the server closes the stream
            seen.append(line)
    assert "event: logout" in seen
    assert not any(line.startswith('data: {"case"') for line in seen[seen.index("event: logout") :])
    assert ana.get("/api/events").status_code == 401


def test_stopping_the_desk_ends_the_open_feeds(world: DeskWorld) -> None:
    """A stopping desk waited for every open tab's feed: aiohttp lets open requests finish
    first (for a minute), and a feed never finishes on its own."""
    ana = world.login("ana")
    with ThreadPoolExecutor(1) as pool, ana.stream("GET", "/api/events", timeout=30) as feed:
        lines = feed.iter_lines()
        assert next(lines) == ": connected"
        stopped = pool.submit(world.server.close)
        rest = list(lines)  # ends when the server closes the stream
        stopped.result(30)  # DeskServer.close gives the cleanup 30 s, under aiohttp's 60
    assert not any(line.startswith("event: logout") for line in rest)  # the session lives on


def test_a_closed_tab_is_no_server_error(
    world: DeskWorld, caplog: pytest.LogCaptureFixture
) -> None:
    ana = world.login("ana")
    with ana.stream("GET", "/api/events", timeout=30) as feed:
        assert next(feed.iter_lines()) == ": connected"
    time.sleep(FEED_CHECK_SECONDS + 1)  # the server writes again, to a closed socket
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_admins_deactivate_users_reset_passwords_and_end_sessions(world: DeskWorld) -> None:
    admin, beto, sara = world.login("admin"), world.login("beto"), world.login("sara")
    assert sara.post("/api/agents/beto/deactivate").status_code == 403  # supervisors cannot
    assert admin.post("/api/agents/admin/deactivate").status_code == 400  # nor lock themselves
    assert admin.post("/api/agents/zoe/revoke").status_code == 404
    assert admin.post("/api/agents/beto/promote").status_code == 404

    assert admin.post("/api/agents/beto/revoke").status_code == 200
    assert beto.get("/api/me").status_code == 401
    beto = world.login("beto")
    reset = admin.post("/api/agents/beto/password", json={"password": "nueva-clave-123"})
    assert reset.status_code == 200
    assert beto.get("/api/me").status_code == 401
    assert admin.post("/api/agents/beto/password", json={"password": "corta"}).status_code == 400
    beto = world.login("beto", "nueva-clave-123")
    off = admin.post("/api/agents/beto/deactivate")
    assert off.status_code == 200
    assert off.json()["agent"]["active"] is False
    assert beto.get("/api/me").status_code == 401
    again = world.server.client().post(
        "/api/auth/login", json={"username": "beto", "password": "nueva-clave-123"}
    )
    assert again.status_code == 401
    assert admin.post("/api/agents/beto/activate").json()["agent"]["active"] is True
    assert world.login("beto", "nueva-clave-123").get("/api/me").status_code == 200


def test_with_its_database_down_the_desk_says_so_and_recovers_by_itself(tmp_path: Path) -> None:
    with database_that_goes_down("hilo_desk") as (url, outage):
        migrate(url)
        engine = make_engine(url)
        hours, sla = load_policy()
        app = create_app(
            Handoff(CaseStore(engine), hours, sla),
            conversations=ConversationReader(
                channels_engine(f"sqlite:///{tmp_path / 'channels.db'}")
            ),
            rasa=RasaClient("http://127.0.0.1:9", "secret"),
            media_store=LocalMediaStore(tmp_path / "media"),
            run_feed=False,
        )
        server = DeskServer(app)
        try:
            Accounts(engine).create("ana", "password-123", role="agent", display_name="Ana")
            client = server.client()
            token = client.post(
                "/api/auth/login", json={"username": "ana", "password": "password-123"}
            ).json()["token"]
            client.headers["Authorization"] = f"Bearer {token}"
            outage.down()
            down = client.get("/api/cases")
            assert down.status_code == 503
            assert "cannot reach its database" in down.json()["error"]
            outage.up()
            assert client.get("/api/cases").status_code == 200
        finally:
            server.close()
            engine.dispose()


# What the fuzzer (test_desk_api_fuzz.py) found: each was a 500, a 503 or a hang.


def test_case_ids_are_plain_digits_and_anything_else_is_no_such_case(world: DeskWorld) -> None:
    """An id past 2^63 made SQLite raise OverflowError; `int()` took the rest."""
    admin = world.login("admin")
    for case_id in ("9223372036854775808", "9" * 30, "-1", "+1", "1_0", "%201", "١٢٣", "abc"):
        for method, path in (("GET", ""), ("POST", "/claim"), ("POST", "/release")):
            reply = admin.request(method, f"/api/cases/{case_id}{path}")
            assert reply.status_code == 404, (case_id, path, reply.text)


def test_bodies_that_cannot_be_read_as_json_are_refused(world: DeskWorld) -> None:
    case_id = world.park()
    sara = world.login("sara")
    for content, content_type, status in (
        (b'{"text": "hola"}', "application/json; charset=bogus", 415),  # was LookupError
        (b'{"text": ' + b"9" * 5000 + b"}", "application/json", 400),  # int digits limit
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),  # RecursionError
    ):
        reply = sara.post(
            f"/api/cases/{case_id}/notes", content=content, headers={"Content-Type": content_type}
        )
        assert reply.status_code == status, content_type
        assert "error" in reply.json()


def test_nul_characters_are_refused_before_they_reach_the_database(world: DeskWorld) -> None:
    """PostgreSQL stores no NUL: psycopg2 raised ValueError for a note, a team or a search."""
    case_id = world.park()
    admin = world.login("admin")
    for method, path, body in (
        ("POST", f"/api/cases/{case_id}/notes", {"text": "nota\x00"}),
        ("POST", f"/api/cases/{case_id}/transfer", {"team": "pa\x00gos"}),
        ("POST", f"/api/cases/{case_id}/resolve", {"return_to_bot": True, "outcome": "\x00"}),
        ("POST", "/api/canned", {"title": "t", "text": "x", "language": "es", "\x00": 1}),
        ("GET", "/api/search?q=ana%00ana", None),
        ("GET", "/api/canned?language=%00", None),
        ("POST", "/api/agents/be%00to/activate", None),
    ):
        reply = admin.request(method, path, json=body)
        assert reply.status_code == 400, (path, reply.text)
        assert reply.json() == {"error": "text may not contain NUL characters"}
    assert world.store.notes(case_id) == []


def test_a_new_agent_with_fields_of_the_wrong_type_or_size_is_a_400(world: DeskWorld) -> None:
    admin = world.login("admin")
    for fields in (
        {"capacity": [1]},
        {"capacity": "3"},
        {"capacity": 2**40},
        {"capacity": -1},  # was 409 "the username is taken"
        {"display_name": ["Ana"]},
        {"display_name": "A" * 121},
        {"team": {"name": "pagos"}},
        {"team": "p" * 65},
        {"username": "u" * 65},
    ):
        body = {"username": "nuevo", "password": "password-123", "role": "agent"} | fields
        reply = admin.post("/api/agents", json=body)
        assert reply.status_code == 400, (fields, reply.text)
    assert "nuevo" not in {agent.username for agent in world.accounts.all()}


def test_admins_cannot_lock_themselves_out_by_writing_their_name_differently(
    world: DeskWorld,
) -> None:
    """The check compared the path as typed; the accounts trim and lower-case it."""
    admin = world.login("admin")
    for myself in ("ADMIN", "Admin", "%20admin", "admin%20"):
        for action in ("deactivate", "revoke"):
            assert admin.post(f"/api/agents/{myself}/{action}").status_code == 400
    assert admin.get("/api/me").status_code == 200


def test_static_files_are_served_by_name_only(world: DeskWorld) -> None:
    """aiohttp's static route resolved a name too long for the file system: OSError, a 500."""
    client = world.server.client()
    assert client.get("/static/desk.js").status_code == 200
    assert "text/css" in client.get("/static/desk.css").headers["content-type"]
    for name in ("a" * 3000, "..%2fapp.py", "%2e%2e/app.py", "nothing.js", "index.html%00"):
        assert client.get(f"/static/{name}").status_code in (400, 404), name


def test_an_unread_body_does_not_stall_the_next_request_on_the_connection(
    world: DeskWorld,
) -> None:
    """aiohttp 3.9 left the next request on a kept-alive connection unanswered."""
    admin = world.login("admin")
    assert admin.request("GET", "/api/me", content=b"x" * 200_000).status_code == 200
    assert admin.get("/api/me", timeout=5).status_code == 200
    assert admin.post("/api/cases/next", content=b"x" * 300_000).status_code in (200, 404)
    assert admin.get("/api/me", timeout=5).status_code == 200
