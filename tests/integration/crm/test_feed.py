"""The CRM feed against a fake CRM on 127.0.0.1 that is down for part of the run.

Real cases (handoff.store.CaseStore: open, claim, resolve, CSAT), real customers linked
across channels (connectors: inbox and profiles), the real worker POSTing over HTTP, on
SQLite and on PostgreSQL. The CRM refuses connections, then answers 503, for over an hour of
the worker's clock (injected: nothing waits an hour); the worker is replaced midway by a new
one on the same database, as a restart would. When the CRM is back every event arrives,
exactly once per delivery id, each signed, each valid against its schema; `hilo webhooks
status` shows what waits and what failed, and `hilo webhooks replay` sends the failed again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.customers import Customers
from connectors.inbox import Inbox
from connectors.messages import InboundMessage, Kind
from connectors.storage import make_engine as channels_engine
from crm import events
from crm.delivery import Worker
from crm.settings import WebhookSettings
from crm.signing import verify
from handoff.auth import Accounts
from handoff.case import Reason
from handoff.cli import main
from handoff.database import make_engine, migrate
from handoff.models import webhook_deliveries
from handoff.store import CaseStore, NewCase
from tests.support.databases import BACKENDS, database

SECRET = "crm-test-secret"
PHONE = "+5215512345678"


@dataclass
class Received:
    delivery_id: str
    event: str
    body: dict


class FakeCrm:
    """An HTTP server on 127.0.0.1 that checks signatures and records deliveries.

    `down()` closes its socket (connections refused), `failing()` answers 503, `up()`
    accepts again, on the same port.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.bad_signatures = 0
        self.attempts = 0
        self.mode = "up"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hilo"

    def _start(self) -> None:
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with crm._lock:
                    crm.attempts += 1
                    if crm.mode == "failing":
                        status = 503
                    elif not verify(body, SECRET, self.headers.get("X-Hilo-Signature")):
                        crm.bad_signatures += 1
                        status = 401
                    else:
                        crm.received.append(
                            Received(
                                self.headers["X-Hilo-Delivery"],
                                self.headers["X-Hilo-Event"],
                                json.loads(body),
                            )
                        )
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def failing(self) -> None:
        if self._server is None:
            self._start()
        self.mode = "failing"

    def up(self) -> None:
        if self._server is None:
            self._start()
        self.mode = "up"

    def close(self) -> None:
        self.down()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    handoff_url: str
    channels_url: str
    crm: FakeCrm
    clock: Clock
    settings: WebhookSettings

    def worker(self, **settings: float) -> tuple[Worker, Engine, Engine]:
        handoff, channels = make_engine(self.handoff_url), channels_engine(self.channels_url)
        chosen = WebhookSettings(**{**self.settings.__dict__, **settings})
        return (
            Worker(handoff, channels, chosen, clock=self.clock, rand=lambda: 0.5),
            handoff,
            channels,
        )


@pytest.fixture(params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    crm = FakeCrm()
    with (
        database(request.param, tmp_path, "crmfeed") as handoff_url,
        database(request.param, tmp_path, "crmchannels") as channels_url,
    ):
        migrate(handoff_url)
        monkeypatch.setenv("HANDOFF_DATABASE_URL", handoff_url)
        monkeypatch.setenv("CHANNELS_DATABASE_URL", channels_url)
        monkeypatch.setenv("HILO_WEBHOOK_URL", crm.url)
        monkeypatch.setenv("HILO_WEBHOOK_SECRET", SECRET)
        settings = WebhookSettings(
            url=crm.url, secret=SECRET, desk_url="https://desk.example", timeout_seconds=5
        )
        try:
            yield World(handoff_url, channels_url, crm, Clock(), settings)
        finally:
            crm.close()


def customer_writes(channels: Engine, conversation: str, text: str, phone: str | None) -> None:
    message = InboundMessage(
        conversation.split(":")[0], conversation, f"p-{time.time_ns()}", Kind.TEXT,
        time.time(), text=text, phone=phone, display_name="Ana",
    )  # fmt: skip
    Inbox(channels).accept(message)
    Customers(channels).record_inbound(message)


def park(store: CaseStore, conversation: str, reason: Reason = Reason.CUSTOMER_ASKED) -> int:
    case, _ = store.open_case(
        NewCase(
            conversation_id=conversation, channel=conversation.split(":")[0], reason=reason,
            language="es", sla_due_at=time.time() + 3600, customer_name="Ana",
            collected={"order_id": "10001", "email": "ana@example.com"}, summary="caja rota",
        )
    )  # fmt: skip
    return case.id


def answer_csat(store: CaseStore, case_id: int, score: int, comment: str | None = None) -> None:
    """The CSAT flow's writes (handoff/csat.py through the store): asked, answered, commented."""
    assert store.csat_asked(case_id, channel="whatsapp", buttons=True)
    assert store.csat_answered(case_id, score)
    if comment:
        assert store.csat_commented(case_id, comment)


def passes(worker: Worker, clock: Clock, n: int, step: float) -> None:
    for _ in range(n):
        worker.run_once()
        clock.advance(step)


def states(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(connection.execute(sa.select(webhook_deliveries.c.state)).scalars())


def status_output(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["webhooks", "status"])
    return code, capsys.readouterr().out


def test_every_event_arrives_once_through_an_outage_and_a_restart(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    crm, clock = world.crm, world.clock
    worker, handoff, channels = world.worker()
    store, accounts = CaseStore(handoff), Accounts(handoff)
    ana = accounts.create("ana", "password-123", display_name="Ana Agente")
    worker.run_once()  # the feed starts here

    # The CRM is up: a customer on two channels, a case opened and claimed.
    customer_writes(channels, f"whatsapp:{PHONE}", "hola, mi pedido llegó roto", PHONE)
    worker.run_once()
    customer_writes(channels, "telegram:1111", "soy Ana, mi cel", PHONE)
    first = park(store, f"whatsapp:{PHONE}", Reason.DAMAGED_ITEM)
    store.claim(first, ana)
    passes(worker, clock, 2, 1)
    assert len(crm.received) == 4  # contact (whatsapp), contact (linked), opened, assigned

    # Down, connections refused: the case is resolved, CSAT answered, another case opened.
    crm.down()
    store.resolve(first, ana, return_to_bot=True, outcome="reembolso")
    answer_csat(store, first, 5)
    worker.run_once()
    assert store.csat_commented(first, "muy amables")  # the comment comes after the score
    second = park(store, "telegram:2222")
    store.auto_assign(second)
    customer_writes(channels, "telegram:2222", "¿hay alguien?", None)
    passes(worker, clock, 6, 300)  # 30 minutes: summaries fall due too
    assert len(crm.received) == 4

    # A restart: a new worker, new connections, on the same database; the CRM answers 503.
    worker.close()
    handoff.dispose()
    channels.dispose()
    crm.failing()
    worker, handoff, channels = world.worker()
    store = CaseStore(handoff)
    passes(worker, clock, 8, 300)  # over an hour down in all
    assert len(crm.received) == 4
    code, out = status_output(capsys)
    assert code == 0
    assert "pending" in out
    assert "case.resolved 1" in out
    assert PHONE not in out
    assert "5512345678" not in out
    assert "ana@example.com" not in out

    # Back: everything waiting arrives once; nothing new is made twice.
    crm.up()
    passes(worker, clock, 4, 600)
    assert states(handoff) == Counter({"delivered": len(crm.received)})
    kinds = Counter(item.event for item in crm.received)
    assert kinds == Counter(
        {
            "contact.updated": 3,  # whatsapp alone, then linked with telegram; telegram:2222
            "case.opened": 2,
            "case.assigned": 2,
            "case.resolved": 1,
            "csat.received": 2,  # the score, then the score with its comment
            "conversation.summary": 3,  # whatsapp, telegram:1111, telegram:2222
        }
    )
    ids = [item.delivery_id for item in crm.received]
    assert len(ids) == len(set(ids))  # exactly once per delivery id
    assert crm.bad_signatures == 0
    for item in crm.received:
        assert item.body["id"] == item.delivery_id
        assert item.body["type"] == item.event
        jsonschema.Draft202012Validator(events.schema(item.event)).validate(item.body)
    resolved = next(item for item in crm.received if item.event == "case.resolved")
    assert resolved.body["data"]["case"]["collected"]["order_id"] == "10001"
    csat = [item.body["data"] for item in crm.received if item.event == "csat.received"]
    assert sorted((c["score"], c["comment"] or "") for c in csat) == [(5, ""), (5, "muy amables")]
    summary = next(
        item for item in crm.received
        if item.event == "conversation.summary"
        and item.body["data"]["conversation_id"] == f"whatsapp:{PHONE}"
    )  # fmt: skip
    assert summary.body["data"]["transcript_url"] == f"https://desk.example/#case={first}"
    linked = [item for item in crm.received if item.event == "contact.updated"][1]
    assert {i["channel"] for i in linked.body["data"]["identities"]} == {"telegram", "whatsapp"}
    logged = caplog.text
    assert "crm.delivery.retry" in logged  # the outage was logged…
    for secret in ("5512345678", "ana@example.com", "mi pedido", "muy amables", "Ana"):
        assert secret not in logged  # …without naming anyone or quoting them
    worker.close()
    handoff.dispose()
    channels.dispose()


def test_a_delivery_past_its_maximum_age_fails_and_is_replayed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    crm, clock = world.crm, world.clock
    worker, handoff, channels = world.worker(max_age_seconds=2 * 3600)
    store = CaseStore(handoff)
    worker.run_once()
    crm.down()
    case_id = park(store, "telegram:3333")
    passes(worker, clock, 16, 600)  # 2 h 40 min of refused connections
    assert states(handoff) == Counter({"failed": 1})
    code, out = status_output(capsys)
    assert code == 1
    assert "failed" in out
    assert "case.opened" in out
    assert "last error: ConnectError" in out
    crm.up()
    passes(worker, clock, 3, 600)
    assert crm.received == []  # failed stays failed until replayed
    assert main(["webhooks", "replay", "--failed"]) == 0
    assert "1 deliveries will be sent again" in capsys.readouterr().out
    passes(worker, clock, 2, 1)
    (item,) = crm.received
    assert item.event == "case.opened"
    assert item.body["data"]["case"]["id"] == case_id
    assert main(["webhooks", "replay", "--id", "1"]) == 0  # a delivered one, on request
    passes(worker, clock, 2, 1)
    assert [r.delivery_id for r in crm.received] == [item.delivery_id] * 2  # same id
    worker.close()
    handoff.dispose()
    channels.dispose()


def test_two_workers_never_send_the_same_delivery_at_once(world: World) -> None:
    crm, clock = world.crm, world.clock
    one, handoff, channels = world.worker()
    two, handoff2, channels2 = world.worker()
    store = CaseStore(handoff)
    one.run_once()
    two.run_once()
    for n in range(30):
        park(store, f"telegram:{9000 + n}")
    barrier = threading.Barrier(2)

    def run(worker: Worker) -> None:
        barrier.wait()
        for _ in range(6):
            worker.run_once()

    threads = [threading.Thread(target=run, args=(w,)) for w in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clock.advance(1)
    passes(one, clock, 2, 1)
    ids = [item.delivery_id for item in crm.received]
    assert len(ids) == 30
    assert len(set(ids)) == 30
    assert states(handoff) == Counter({"delivered": 30})
    for worker in (one, two):
        worker.close()
    for engine in (handoff, channels, handoff2, channels2):
        engine.dispose()


def test_export_writes_conversations_cases_and_csat(world: World, tmp_path: Path) -> None:
    worker, handoff, channels = world.worker()
    store = CaseStore(handoff)
    customer_writes(channels, "telegram:4444", "hola", None)
    case_id = park(store, "telegram:4444")
    answer_csat(store, case_id, 4)
    out = tmp_path / "export.jsonl"
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    assert main(["export", "--since", today, "--format", "jsonl", "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert Counter(line["type"] for line in lines) == Counter({"message": 1, "case": 1, "csat": 1})
    assert out.stat().st_mode & 0o077 == 0  # customers' data: the owner's only
    worker.close()
    handoff.dispose()
    channels.dispose()
