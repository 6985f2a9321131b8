"""A desk on fresh databases (SQLite, or PostgreSQL in CI), with a fake Rasa HTTP API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest

from connectors.customers import Customers
from connectors.inbox import Inbox
from connectors.media_store import LocalMediaStore
from connectors.messages import InboundMessage, Kind, MediaRef, OutboundPart
from connectors.outbox import Outbox
from connectors.storage import make_engine as channels_engine
from handoff.auth import Accounts
from handoff.case import Reason
from handoff.conversations import ConversationReader
from handoff.database import make_engine, migrate
from handoff.desk.app import create_app
from handoff.hours import load_policy
from handoff.rasa_client import RasaClient
from handoff.service import Handoff
from handoff.store import CaseStore, NewCase
from privacy.stores import Stores
from tests.support.databases import BACKENDS, database
from tests.support.desk_server import DeskServer
from tests.support.fake_provider import FakeProvider, Recorded

SECRET = "desk-test-jwt-secret"


@dataclass
class DeskWorld:
    """The desk server and everything around it."""

    server: DeskServer
    store: CaseStore
    accounts: Accounts
    channels: ConversationReader
    rasa: FakeProvider
    media: LocalMediaStore

    def login(self, username: str, password: str = "password-123") -> httpx.Client:  # noqa: S107
        """A client logged in with the bearer token."""
        client = self.server.client()
        reply = client.post("/api/auth/login", json={"username": username, "password": password})
        assert reply.status_code == 200, reply.text
        client.headers["Authorization"] = f"Bearer {reply.json()['token']}"
        return client

    def rasa_events(self) -> list[tuple[str, dict, list]]:
        """(conversation path, query, events) the desk posted to Rasa."""
        return [
            (r.path, {k: v[0] for k, v in r.query.items()}, r.json())
            for r in self.rasa.calls("POST", r"/conversations/.+/tracker/events")
        ]

    def park(self, conversation: str = "whatsapp:+5215512345678", **kw) -> int:
        """A case as action_handoff opens it, with the customer's messages in the inbox."""
        channel = conversation.split(":")[0]
        now = time.time()
        message = InboundMessage(
            channel,
            conversation,
            f"in-{conversation}-{now}",
            Kind.TEXT,
            kw.pop("last_at", now),
            text=kw.pop("text", "necesito ayuda con mi pedido 10001"),
            phone="+5215512345678" if "5512345678" in conversation else None,
            display_name="Ana",
        )
        Inbox(self.channels.engine).accept(message)
        Customers(self.channels.engine).record_inbound(message)
        values = {
            "channel": channel,
            "reason": Reason.CUSTOMER_ASKED,
            "language": "es",
            "sla_due_at": now + 3600,
            "customer_name": "Ana",
            "collected": {"order_id": "10001"},
        } | kw
        case, _ = self.store.open_case(NewCase(conversation_id=conversation, **values))
        return case.id


def fake_rasa() -> FakeProvider:
    rasa = FakeProvider()

    def events(request: Recorded) -> tuple:
        token = request.headers.get("authorization", "")[7:]
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])  # a wrong secret fails here
        assert claims["user"]["role"] == "admin"
        return 200, {"events": []}

    rasa.route("POST", r"/conversations/.+/tracker/events", events)
    return rasa


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeskWorld]:
    with database(request.param, tmp_path, "desk") as url:
        migrate(url)
        engine = make_engine(url)
        hours, sla = load_policy()
        handoff = Handoff(CaseStore(engine), hours, sla)
        channels = ConversationReader(channels_engine(f"sqlite:///{tmp_path / 'channels.db'}"))
        rasa = fake_rasa()
        media = LocalMediaStore(tmp_path / "media")
        privacy = Stores(
            channels=f"sqlite:///{tmp_path / 'channels.db'}",
            handoff=url,
            commerce=f"sqlite:///{tmp_path / 'commerce.db'}",  # none: skipped
            trackers=f"sqlite:///{tmp_path / 'tracker.db'}",  # none: skipped
            media=media.directory,
            mail=tmp_path / "mail",
        )
        app = create_app(
            handoff,
            conversations=channels,
            rasa=RasaClient(rasa.url, SECRET),
            media_store=media,
            privacy_stores=privacy,
            run_feed=request.node.get_closest_marker("feed") is not None,
        )
        server = DeskServer(app)
        accounts = Accounts(engine)
        for name, role in (("ana", "agent"), ("beto", "agent"), ("sara", "supervisor")):
            accounts.create(name, "password-123", role=role, display_name=name.title())
        accounts.create("admin", "password-123", role="admin")
        try:
            yield DeskWorld(server, handoff.store, accounts, channels, rasa, media)
        finally:
            server.close()
            rasa.close()
            engine.dispose()


__all__ = ["DeskWorld", "MediaRef", "OutboundPart", "Outbox"]
