"""The channels' part of a privacy request: who is linked to whom, which files, erasure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors import personal_data
from connectors.customers import Customers
from connectors.inbox import Inbox
from connectors.media_store import signed_url
from connectors.messages import InboundMessage, Kind, MediaRef, OutboundPart
from connectors.outbox import Outbox
from connectors.storage import make_engine, profiles
from tests.support.databases import BACKENDS, database

NAME = "a" * 32 + ".jpg"
INVOICE = "b" * 32 + ".pdf"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "personal") as url:
        made = make_engine(url)
        yield made
        made.dispose()


def wrote(engine: Engine, conversation: str, *, phone: str | None = None, **kw) -> None:
    message = InboundMessage(
        conversation.split(":", 1)[0], conversation, f"{conversation}-{time.time_ns()}",
        kw.pop("kind", Kind.TEXT), time.time(), phone=phone, **kw,
    )  # fmt: skip
    assert Inbox(engine).accept(message) is not None
    Customers(engine).record_inbound(message)


def test_a_phone_links_every_channel_of_its_profile(engine: Engine) -> None:
    wrote(engine, "whatsapp:+5215512345678", phone="+5215512345678", text="hola")
    wrote(engine, "telegram:1", text="hola")
    wrote(engine, "telegram:1", phone="+5215512345678", kind=Kind.CONTACT)
    wrote(engine, "telegram:2", text="otra persona")
    found = personal_data.linked(engine, phones=["+5215512345678"])
    assert found.conversation_ids == ("telegram:1", "whatsapp:+5215512345678")
    assert len(found.profile_ids) == 1
    assert personal_data.linked(engine, conversation_ids=["telegram:1"]) == found
    # Telegram's profile before the contact was shared is gone: it was nobody's any more.
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(profiles)).scalar() == 2
    (ana,) = personal_data.profiles_of(engine, found.conversation_ids)
    assert ana["phone"] == "+5215512345678"
    assert [c["channel"] for c in ana["channels"]] == ["whatsapp", "telegram"]


def test_files_both_ways_and_the_erasure(engine: Engine) -> None:
    wrote(
        engine,
        "twilio:whatsapp:+5215512345678",
        phone="+5215512345678",
        kind=Kind.MEDIA,
        media=(MediaRef("ME1", "image/jpeg", stored_name=NAME),),
    )
    record = Outbox(engine).begin(
        channel="twilio",
        conversation_id="twilio:whatsapp:+5215512345678",
        part=OutboundPart(document_url=signed_url(INVOICE)),
        source="bot",
    )
    assert record is not None
    wrote(engine, "telegram:2", text="otra persona")
    ids = personal_data.linked(engine, phones=["+5215512345678"]).conversation_ids
    assert personal_data.media_names(engine, ids) == {NAME, INVOICE}
    messages = personal_data.messages(engine, ids)
    assert [(m["direction"], m["files"]) for m in messages] == [("in", [NAME]), ("out", [INVOICE])]
    assert personal_data.erase(engine, ids) == {
        "inbound": 1, "outbound": 1, "conversations": 1, "profiles": 1,
    }  # fmt: skip
    assert personal_data.erase(engine, ids) == dict.fromkeys(
        ("inbound", "outbound", "conversations", "profiles"), 0
    )
    assert personal_data.linked(engine, conversation_ids=["telegram:2"]).profile_ids != ()


def test_stored_names_are_read_only_from_media_links() -> None:
    assert personal_data.stored_name(signed_url(NAME)) == NAME
    assert personal_data.stored_name(f"/media/{NAME}") == NAME
    assert personal_data.stored_name("https://example.com/x.jpg") is None
    assert personal_data.stored_name(f"/media/../../{NAME[:-4]}.exe") is None
    assert personal_data.stored_name(None) is None
