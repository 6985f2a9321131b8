"""One person (Ana) and another customer (John) in every store Hilo writes, on SQLite files or
in one PostgreSQL schema (one database for everything, as a deployment with DATABASE_URL).

Ana writes on WhatsApp through Twilio and on Telegram, where she shared her phone, so the
channels link both conversations to one profile. She sends a photo, looks up her orders
(the demo store's 10001, 10004, 10005 are hers), gets an invoice PDF, a one-time code by
mail, and a case with an internal note and an agent's reply. John has a WhatsApp
conversation, an order and a case of his own; nothing of his may change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from actions.commerce.codes import proof_source
from actions.commerce.database import make_engine as commerce_engine
from actions.commerce.database import migrate as commerce_migrate
from actions.commerce.seed import seed
from actions.commerce.sql import SqlCommerceBackend
from connectors.customers import Customers
from connectors.inbox import Inbox
from connectors.media_store import LocalMediaStore, signed_url
from connectors.messages import InboundMessage, Kind, MediaRef, OutboundPart
from connectors.outbox import Outbox
from connectors.storage import make_engine as channels_engine
from handoff.auth import Accounts
from handoff.case import MediaItem, Reason
from handoff.database import make_engine as handoff_engine
from handoff.database import migrate as handoff_migrate
from handoff.store import CaseStore, NewCase
from privacy import trackers
from privacy.stores import Stores
from tests.support.databases import BACKENDS, database

ANA_WHATSAPP = "twilio:whatsapp:+5215512345678"
ANA_TELEGRAM = "telegram:7001"
ANA_PHONE = "+5215512345678"  # as WhatsApp sends it; orders keep +525512345678
ANA_EMAIL = "ana@example.com"
ANA_NAME = "Ana Martínez"
ANA_STREET = "Calle Durango 210"
ANA_SAID = "mi pedido llegó roto, qué coraje"
JOHN_WHATSAPP = "twilio:whatsapp:+14155550123"
JOHN_PHONE = "+14155550123"
JOHN_NAME = "John Smith"
JOHN_SAID = "where is my order please"


@dataclass
class World:
    """Every store's URL, Ana's and John's ids, and the files."""

    stores: Stores
    urls: dict[str, str]
    ana_cases: list[int] = field(default_factory=list)
    john_case: int = 0
    ana_files: list[str] = field(default_factory=list)
    john_file: str = ""

    def engine(self, store: str) -> Engine:
        """A plain engine on one store (dispose it)."""
        return sa.create_engine(self.urls[store], future=True)

    def rows(self) -> dict[str, list[str]]:
        """Every row of every table of every store, as text: table -> rows."""
        found: dict[str, list[str]] = {}
        for url in sorted(set(self.urls.values())):  # PostgreSQL: one schema for all
            engine = sa.create_engine(url, future=True)
            try:
                with engine.connect() as connection:
                    for table in sa.inspect(connection).get_table_names():
                        reflected = sa.Table(table, sa.MetaData())
                        sa.inspect(connection).reflect_table(reflected, None)
                        rows = connection.execute(sa.select(reflected)).all()
                        found.setdefault(table, []).extend(
                            json.dumps([str(value) for value in row], ensure_ascii=False)
                            for row in rows
                        )
            finally:
                engine.dispose()
        return found

    def holding(self, *needles: str) -> dict[str, int]:
        """Tables (and the media and mail folders) where any of `needles` appears: counts."""
        hits: dict[str, int] = {}
        for table, rows in self.rows().items():
            count = sum(1 for row in rows if any(needle in row for needle in needles))
            if count:
                hits[table] = count
        for folder in (self.stores.media, self.stores.mail):
            assert folder is not None
            for path in folder.glob("*") if folder.is_dir() else ():
                data = path.read_bytes()
                if any(needle.encode() in data for needle in needles):
                    hits[f"file:{path.name}"] = 1
        return hits


def _message(conversation: str, text: str, *, at: float, **kw) -> InboundMessage:
    return InboundMessage(
        conversation.split(":", 1)[0],
        conversation,
        f"{conversation}-{at}",
        kw.pop("kind", Kind.TEXT),
        at,
        text=text,
        **kw,
    )


def _user_event(sender: str, text: str, at: float, **metadata) -> dict:
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": sender.split(":", 1)[0],
        "parse_data": {"intent": {"name": "order_status"}, "entities": []},
        "metadata": metadata,
    }


def _slot(name: str, value: object, at: float) -> dict:
    return {"event": "slot", "timestamp": at, "name": name, "value": value}


def fill(world: World, tmp_path: Path) -> None:
    """Ana and John in every store (see the module docstring)."""
    now = time.time()
    media = LocalMediaStore(world.stores.media)
    photo = media.put(b"\xff\xd8\xff\xe0 Ana's broken lamp", "jpg")
    invoice = media.put(f"%PDF-1.4 {ANA_NAME} {ANA_STREET}".encode(), "pdf")
    johns = media.put(b"\xff\xd8\xff\xe0 John's shoes", "jpg")
    world.ana_files = [photo.name, invoice.name]
    world.john_file = johns.name

    channels = channels_engine(world.urls["channels"])
    inbox, outbox, customers = Inbox(channels), Outbox(channels), Customers(channels)
    for message in (
        _message(ANA_WHATSAPP, ANA_SAID, at=now - 300, phone=ANA_PHONE, display_name=ANA_NAME),
        _message(
            ANA_WHATSAPP,
            "",
            at=now - 290,
            kind=Kind.MEDIA,
            phone=ANA_PHONE,
            display_name=ANA_NAME,
            media=(
                MediaRef(
                    "MEabc",
                    "image/jpeg",
                    stored_name=photo.name,
                    stored_url=photo.url,
                ),
            ),
        ),
        _message(ANA_TELEGRAM, "hola, soy Ana otra vez", at=now - 200, display_name="Ana"),
        _message(ANA_TELEGRAM, "", at=now - 190, kind=Kind.CONTACT, phone=ANA_PHONE),
        _message(JOHN_WHATSAPP, JOHN_SAID, at=now - 100, phone=JOHN_PHONE, display_name=JOHN_NAME),
        _message(
            JOHN_WHATSAPP,
            "",
            at=now - 90,
            kind=Kind.MEDIA,
            phone=JOHN_PHONE,
            media=(MediaRef("MEdef", "image/jpeg", stored_name=johns.name),),
        ),
    ):
        item = inbox.accept(message)
        assert item is not None
        customers.record_inbound(message)
    for conversation, part, source, author in (
        (ANA_WHATSAPP, OutboundPart(text=f"Gracias {ANA_NAME}, va tu factura"), "bot", None),
        (
            ANA_WHATSAPP,
            OutboundPart(document_url=signed_url(invoice.name), filename="factura-10001.pdf"),
            "bot",
            None,
        ),
        (JOHN_WHATSAPP, OutboundPart(text=f"Hi {JOHN_NAME}, it ships today"), "bot", None),
    ):
        record = outbox.begin(
            channel="twilio", conversation_id=conversation, part=part, source=source, author=author
        )
        assert record is not None
        outbox.sent(record.id, f"SM{record.id}")

    handoff_migrate(world.urls["handoff"])
    engine = handoff_engine(world.urls["handoff"])
    store = CaseStore(engine)
    sara = Accounts(engine).create("sara", "password-123", role="agent", display_name="Sara")
    profile = customers.profile(ANA_WHATSAPP)
    assert profile is not None
    assert {i.conversation_id for i in profile.identities} == {ANA_WHATSAPP, ANA_TELEGRAM}
    case, _ = store.open_case(
        NewCase(
            conversation_id=ANA_WHATSAPP,
            channel="twilio",
            reason=Reason.DAMAGED_ITEM,
            language="es",
            sla_due_at=now + 3600,
            profile_id=profile.id,
            customer_name=ANA_NAME,
            collected={"order_id": "10001", "contact": ANA_EMAIL, "delivery_street": ANA_STREET},
            media=(MediaItem(url=photo.url, content_type="image/jpeg"),),
            summary=f"Últimos mensajes: «{ANA_SAID}»",
        )
    )
    store.claim(case.id, sara)
    store.add_note(case.id, sara, f"{ANA_NAME} ya había reclamado antes")
    reply = outbox.begin(
        channel="twilio",
        conversation_id=ANA_WHATSAPP,
        part=OutboundPart(text="Hola Ana, ya revisé tu pedido"),
        source="agent",
        author="Sara",
    )
    assert reply is not None
    store.replied(case.id, sara)
    channels.dispose()
    store.audit(case.id, "agent:1", "template_refused", {"to": ANA_PHONE})
    world.ana_cases = [case.id]
    johns_case, _ = store.open_case(
        NewCase(
            conversation_id=JOHN_WHATSAPP,
            channel="twilio",
            reason=Reason.CUSTOMER_ASKED,
            language="en",
            sla_due_at=now + 3600,
            customer_name=JOHN_NAME,
            collected={"order_id": "10002"},
        )
    )
    store.add_note(johns_case.id, sara, f"{JOHN_NAME} is a regular")
    world.john_case = johns_case.id
    engine.dispose()

    commerce_migrate(world.urls["commerce"])
    engine = commerce_engine(world.urls["commerce"])
    seed(engine)
    backend = SqlCommerceBackend(engine)
    backend.record_lookup_attempt(ANA_WHATSAPP)
    backend.record_lookup_attempt(ANA_TELEGRAM)
    backend.record_lookup_attempt(JOHN_WHATSAPP)
    backend.record_verification_failure("10001", proof_source("telegram", ANA_TELEGRAM))
    backend.record_verification_failure("10002", proof_source("twilio", JOHN_WHATSAPP))
    assert backend.issue_code("10001", proof_source("telegram", ANA_TELEGRAM))
    assert backend.issue_code("10002", proof_source("twilio", JOHN_WHATSAPP))
    engine.dispose()

    engine = sa.create_engine(world.urls["trackers"], future=True)
    trackers.metadata.create_all(engine)
    events = [
        (ANA_WHATSAPP, _user_event(ANA_WHATSAPP, ANA_SAID, now - 300, display_name=ANA_NAME)),
        (ANA_WHATSAPP, _slot("customer_name", ANA_NAME, now - 299)),
        (ANA_WHATSAPP, _slot("contact", ANA_EMAIL, now - 298)),
        (ANA_TELEGRAM, _user_event(ANA_TELEGRAM, "hola, soy Ana otra vez", now - 200)),
        (JOHN_WHATSAPP, _user_event(JOHN_WHATSAPP, JOHN_SAID, now - 100, phone=JOHN_PHONE)),
        (JOHN_WHATSAPP, _slot("customer_name", JOHN_NAME, now - 99)),
    ]
    with engine.begin() as connection:
        for sender, event in events:
            connection.execute(
                trackers.events.insert().values(
                    sender_id=sender,
                    type_name=event["event"],
                    timestamp=event["timestamp"],
                    intent_name="order_status" if event["event"] == "user" else None,
                    data=json.dumps(event, ensure_ascii=False),
                )
            )
    engine.dispose()

    assert world.stores.mail is not None
    world.stores.mail.mkdir(parents=True, exist_ok=True)
    for number, to in enumerate((ANA_EMAIL, "john@example.com")):
        mail = EmailMessage()
        mail["To"], mail["Subject"] = to, "Tu código"
        mail.set_content("Tu código es 123456")
        (world.stores.mail / f"{number}.eml").write_bytes(bytes(mail))


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        urls = {
            store: f"sqlite:///{tmp_path / f'{store}.db'}"
            for store in ("channels", "handoff", "commerce", "trackers")
        }
        made = World(_stores(urls, tmp_path), urls)
        fill(made, tmp_path)
        yield made
        return
    with database("postgresql", tmp_path, "privacy") as url:
        urls = dict.fromkeys(("channels", "handoff", "commerce", "trackers"), url)
        made = World(_stores(urls, tmp_path), urls)
        fill(made, tmp_path)
        yield made


def _stores(urls: dict[str, str], tmp_path: Path) -> Stores:
    return Stores(
        channels=urls["channels"],
        handoff=urls["handoff"],
        commerce=urls["commerce"],
        trackers=urls["trackers"],
        media=tmp_path / "media",
        mail=tmp_path / "mail",
    )
