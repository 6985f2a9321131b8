"""A production start (`HILO_ENV=production`) exposes no unauthenticated way to a conversation.

Reproduces the review's findings on real servers: in production the REST channel and the
sandbox are not mounted, Rasa's conversation API answers only a signed token, the action
server listens on 127.0.0.1 and answers only the Rasa server's token, the JWT secret is on no
command line, and a credentials.yml that mounts Rasa's open REST channel is refused.

`test_every_route_of_a_production_server_has_a_rule` walks the Rasa server's whole route
table, built from the repository's credentials.yml exactly as `rasa run` builds it: a new
route without a rule here fails it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import ROOT
from tests.support.channel_app import ServedApp
from tests.support.fake_provider import FakeProvider, Recorded
from tests.support.servers import HiloProcesses

ACCOUNT = "AC" + "d" * 32
TOKEN = "twilio-token-for-tests"
PUBLIC = "https://hilo.production.example"
STRANGER = "whatsapp:+5215512345678"  # Ana's phone, typed by someone else

# Routes that answer without authentication because they tell nothing about any conversation.
PUBLIC_ROUTES = {
    ("GET", ""): "Rasa's hello",
    ("GET", "version"): "Rasa's version numbers",
    ("GET", "webhooks/whatsapp"): "channel health: configured or not",
    ("GET", "webhooks/twilio"): "channel health",
    ("GET", "webhooks/messenger"): "channel health",
    ("GET", "webhooks/telegram"): "channel health",
    ("GET", "webhooks/handoff"): "whether the handoff database answers",
    ("GET", "webhooks/media"): "media server health",
}
# Any other route must refuse a caller with no credentials: no token, no signature.
REFUSED = {401, 403, 404, 405, 503}


def production_app(tmp_path: Path) -> ServedApp:
    """The Rasa server's Sanic app, as `rasa run` builds it from credentials.yml."""
    from rasa.core.run import configure_app, create_http_input_channels
    from sanic import Sanic

    Sanic.test_mode = True
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    app = configure_app(
        channels, None, None, True, 3600, "route-test-secret", None, "HS256", port=0
    )
    return ServedApp(app)


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import connectors.core
    from handoff.database import migrate

    monkeypatch.setenv("HILO_ENV", "production")
    monkeypatch.setenv("CHANNELS_DATABASE_URL", f"sqlite:///{tmp_path / 'channels.db'}")
    monkeypatch.setenv("HANDOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    monkeypatch.setenv("HILO_MEDIA_DIR", str(tmp_path / "media"))
    migrate(f"sqlite:///{tmp_path / 'handoff.db'}")
    monkeypatch.setattr(connectors.core, "_default_hub", None)  # a hub on these databases


def concrete(path: str) -> str:
    """A route's path with its parameters filled with a customer's conversation id."""
    return "/" + re.sub(r"<[^>]+>", "whatsapp:+5215512345678", path)


def test_every_route_of_a_production_server_has_a_rule(
    production_env: None, tmp_path: Path
) -> None:
    served = production_app(tmp_path)
    try:
        routes = [
            (method, route.path)
            for route in served.app.router.routes
            for method in route.methods
            if method != "OPTIONS"
        ]
        paths = {path for _, path in routes}
        assert not any(path.startswith(("webhooks/rest", "webhooks/sandbox")) for path in paths)
        assert "conversations/<conversation_id:path>/messages" in paths  # the API is on
        for method, path in routes:
            # Correctness, not speed: a loaded CI machine once took over 10 s on one of them.
            answer = served.request(method, concrete(path), json={"text": "hola"}, timeout=60)
            if (method, path) in PUBLIC_ROUTES:
                assert answer.status_code == 200, (method, path)
                assert "5512345678" not in answer.text
            else:
                assert answer.status_code in REFUSED, (method, path, answer.status_code)
    finally:
        served.close()


@pytest.fixture
def twilio_api() -> Iterator[FakeProvider]:
    fake = FakeProvider()

    def create(request: Recorded) -> tuple:
        form = request.form()
        return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": form["To"][0]}

    fake.route("POST", rf"/2010-04-01/Accounts/{ACCOUNT}/Messages\.json", create)
    yield fake
    fake.close()


@pytest.fixture
def production(
    model_path: Path, tmp_path: Path, twilio_api: FakeProvider
) -> Iterator[HiloProcesses]:
    """Both servers in production, on the repository's credentials.yml."""
    processes = HiloProcesses(
        model=model_path,
        workdir=tmp_path,
        credentials=(ROOT / "credentials.yml").read_text(),
        # A secret that starts with "-" once made `rasa run` refuse its own arguments.
        jwt_secret="-starts-like-an-option-" + uuid.uuid4().hex,
        env={
            "HILO_ENV": "production",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_API_BASE_URL": twilio_api.url,
            "HILO_PUBLIC_URL": PUBLIC,
        },
    )
    processes.start_actions()
    processes.start_rasa()
    yield processes
    processes.stop()


@pytest.mark.model
def test_a_production_start_leaves_no_way_in_without_credentials(
    production: HiloProcesses,
) -> None:
    message = {"sender": STRANGER, "message": "cancela mi pedido 10001"}
    assert httpx.post(f"{production.url}/webhooks/rest/webhook", json=message).status_code == 404
    assert httpx.get(f"{production.url}/webhooks/sandbox/").status_code == 404
    api = f"{production.url}/conversations/{STRANGER}"
    assert httpx.get(f"{api}/tracker").status_code == 401
    assert httpx.post(f"{api}/messages", json={"text": "hola", "sender": "user"}).status_code == 401
    assert httpx.post(f"{api}/tracker/events", json={"event": "pause"}).status_code == 401
    assert httpx.post(f"{api}/trigger_intent", json={"name": "human_handoff"}).status_code == 401


@pytest.mark.model
def test_the_jwt_secret_is_on_no_command_line(production: HiloProcesses) -> None:
    assert production.rasa is not None
    command_line = Path(f"/proc/{production.rasa.pid}/cmdline").read_bytes()
    assert production.jwt_secret.encode() not in command_line
    token = _admin_token(production.jwt_secret)
    status = httpx.get(f"{production.url}/status", headers={"Authorization": f"Bearer {token}"})
    assert status.status_code == 200  # and Rasa took the secret that starts with "-"


@pytest.mark.model
def test_the_action_server_answers_only_the_rasa_server_on_loopback(
    production: HiloProcesses, twilio_api: FakeProvider
) -> None:
    forged = {
        "next_action": "action_order_status",
        "sender_id": STRANGER,
        "tracker": {"sender_id": STRANGER, "slots": {"order_id": "10001"}, "events": []},
        "domain": {},
    }
    url = f"http://127.0.0.1:{production.actions_port}/webhook"
    assert httpx.post(url, json=forged).status_code == 401
    wrong = {"X-Hilo-Actions-Token": "guess"}
    assert httpx.post(url, json=forged, headers=wrong).status_code == 401
    assert _listening_addresses(production.actions_port) == {"127.0.0.1"}
    # The Rasa server has the token: a signed customer message is answered end to end.
    _send_twilio(production, "+5215512345678", "donde esta mi pedido 10001?")
    assert "EST123456789MX" in _reply(twilio_api, "+5215512345678")


def test_production_refuses_rasas_open_rest_channel(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\nconnectors.sandbox.SandboxInput:\n")
    started = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "connectors.server", "--credentials", str(credentials)],
        cwd=ROOT,
        env={**_env(), "HILO_ENV": "production", "HILO_RASA_JWT_SECRET": "x"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "mounts rest" in started.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _admin_token(secret: str) -> str:
    import jwt

    payload = {"user": {"username": "test", "role": "admin"}, "exp": time.time() + 60}
    return str(jwt.encode(payload, secret, algorithm="HS256"))


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("ipv6:" + address)
    return found


def _send_twilio(hilo: HiloProcesses, phone: str, text: str) -> None:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT,
        "From": f"whatsapp:{phone}",
        "To": "whatsapp:+14155238886",
        "Body": text,
        "NumMedia": "0",
        "WaId": phone.lstrip("+"),
        "MessageType": "text",
    }
    path = "/webhooks/twilio/webhook"
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    answer = httpx.post(
        hilo.url + path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    assert answer.status_code == 200


def _reply(api: FakeProvider, phone: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bodies = [
            r.form()["Body"][0]
            for r in api.calls("POST", r".*/Messages\.json")
            if r.form()["To"][0] == f"whatsapp:{phone}"
        ]
        if bodies:
            return "\n".join(bodies)
        time.sleep(0.1)
    raise AssertionError(f"no reply to {phone}")
