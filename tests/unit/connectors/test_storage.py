"""Inbox, outbound store and customer profiles, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection, Engine

from connectors.customers import Customers
from connectors.inbox import Inbox
from connectors.messages import (
    Button,
    DeliveryStatus,
    InboundMessage,
    Kind,
    Location,
    MediaRef,
    OutboundPart,
    StatusUpdate,
)
from connectors.outbox import Outbox
from connectors.storage import Database, _Job, make_engine
from tests.support.databases import BACKENDS, database


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database(request.param, tmp_path, "channels") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def message(
    provider_id: str, conversation: str = "whatsapp:+5215512345678", **kw
) -> InboundMessage:
    values = {"kind": Kind.TEXT, "sent_at": time.time(), "text": "hola"} | kw
    return InboundMessage(
        channel=conversation.split(":")[0],
        conversation_id=conversation,
        provider_id=provider_id,
        **values,
    )


def test_a_message_survives_the_json_round_trip() -> None:
    original = message(
        "w1",
        kind=Kind.MEDIA,
        media=(MediaRef("id-1", "image/jpeg", "a.jpg", 10),),
        location=Location(19.4, -99.1, "Casa", "Calle 1"),
        reply_to="w0",
        edited=True,
        extra={"k": [1]},
    )
    assert InboundMessage.from_json(original.to_json()) == original


def test_a_delivery_is_stored_once(engine: Engine) -> None:
    inbox = Inbox(engine)
    assert inbox.accept(message("w1")) is not None
    assert inbox.accept(message("w1")) is None
    # The same id on another channel is another delivery.
    assert inbox.accept(message("w1", conversation="telegram:1")) is not None
    assert inbox.counts() == {"pending": 2}


def test_messages_are_claimed_oldest_first_by_the_customers_clock(engine: Engine) -> None:
    inbox = Inbox(engine)
    now = time.time()
    inbox.accept(message("late", sent_at=now + 5))
    inbox.accept(message("early", sent_at=now))  # a retried delivery arriving second
    first = inbox.claim_next("whatsapp:+5215512345678")
    assert first is not None
    assert first.message.provider_id == "early"
    assert first.attempts == 1
    inbox.finish(first.id)
    second = inbox.claim_next("whatsapp:+5215512345678")
    assert second is not None
    assert second.message.provider_id == "late"
    assert inbox.claim_next("whatsapp:+5215512345678") is None


def test_concurrent_claimers_never_take_the_same_message(engine: Engine) -> None:
    inbox = Inbox(engine)
    for index in range(30):
        inbox.accept(message(f"m{index}", sent_at=float(index)))
    claimed: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        while (item := inbox.claim_next("whatsapp:+5215512345678")) is not None:
            with lock:
                claimed.append(item.message.provider_id)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(f"m{i}" for i in range(30))


def test_recover_lists_unfinished_conversations_and_the_lease_holder_claims_again(
    engine: Engine,
) -> None:
    """An interrupted turn stays `processing` (another replica may be in it); the next holder
    of the conversation's lease takes it again, before the messages after it."""
    inbox = Inbox(engine)
    inbox.accept(message("a", conversation="telegram:1"))
    inbox.accept(message("a2", conversation="telegram:1"))
    inbox.accept(message("b", conversation="telegram:2"))
    inbox.accept(message("c", conversation="telegram:3"))
    interrupted = inbox.claim_next("telegram:1")
    done = inbox.claim_next("telegram:3")
    assert interrupted is not None
    assert done is not None
    inbox.finish(done.id)
    assert inbox.recover() == ["telegram:1", "telegram:2"]
    assert inbox.counts() == {"pending": 2, "processing": 1, "done": 1}  # nothing reset
    assert inbox.has_unfinished("telegram:1")
    assert not inbox.has_unfinished("telegram:3")
    later = inbox.claim_next("telegram:1")  # without the lease: only what is pending
    assert later is not None
    assert later.message.provider_id == "a2"
    inbox.release(later.id, "test")
    again = inbox.claim_next("telegram:1", leased=True)
    assert again is not None
    assert again.message.provider_id == "a"
    assert again.attempts == 2


def test_failures_keep_a_reason_and_release_returns_to_pending(engine: Engine) -> None:
    inbox = Inbox(engine)
    inbox.accept(message("a"))
    item = inbox.claim_next("whatsapp:+5215512345678")
    assert item is not None
    inbox.release(item.id, "retry: bot not ready")
    assert inbox.counts() == {"pending": 1}
    item = inbox.claim_next("whatsapp:+5215512345678")
    assert item is not None
    inbox.fail(item.id, "bot: RuntimeError")
    assert inbox.counts() == {"failed": 1}


def test_a_reply_is_sent_once_even_when_its_message_is_processed_again(engine: Engine) -> None:
    outbox = Outbox(engine)
    part = OutboundPart(text="Tu pedido va en camino")
    kwargs = {"channel": "whatsapp", "conversation_id": "whatsapp:+1", "source": "bot"}
    first = outbox.begin(part=part, reply_to=7, seq=1, **kwargs)
    assert first is not None
    outbox.sent(first.id, "wamid.1")
    assert outbox.begin(part=part, reply_to=7, seq=1, **kwargs) is None
    # Interrupted mid-send (still "sending"): handed back to be sent again.
    second = outbox.begin(part=part, reply_to=7, seq=2, **kwargs)
    assert second is not None
    again = outbox.begin(part=part, reply_to=7, seq=2, **kwargs)
    assert again is not None
    assert again.id == second.id
    # Messages not answering an inbound one (agents, the desk) are never deduped.
    assert outbox.begin(part=part, **kwargs) is not None
    assert outbox.begin(part=part, **kwargs) is not None


def test_statuses_only_move_forward_and_failure_is_terminal(engine: Engine) -> None:
    outbox = Outbox(engine)
    record = outbox.begin(
        channel="whatsapp", conversation_id="whatsapp:+1", part=OutboundPart(text="x"), source="bot"
    )
    assert record is not None
    outbox.sent(record.id, "wamid.9")

    def status(value: DeliveryStatus, code: str | None = None) -> bool:
        return outbox.apply_status(StatusUpdate("whatsapp", "wamid.9", value, code, "why"))

    assert status(DeliveryStatus.READ)
    assert not status(DeliveryStatus.DELIVERED)  # arrived late
    assert outbox.get(record.id).status is DeliveryStatus.READ
    assert status(DeliveryStatus.FAILED, "131047")
    assert not status(DeliveryStatus.READ)
    failed = outbox.get(record.id)
    assert (failed.status, failed.error_code) == (DeliveryStatus.FAILED, "131047")
    assert [r.id for r in outbox.failures()] == [record.id]
    assert not outbox.apply_status(StatusUpdate("whatsapp", "unknown", DeliveryStatus.READ))


def test_profiles_link_the_same_phone_across_channels(engine: Engine) -> None:
    customers = Customers(engine)
    now = time.time()
    cloud = message("a", phone="+5215512345678", display_name="Ana", sent_at=now - 10)
    twilio = message("b", conversation="twilio:whatsapp:+5215512345678", phone="+5215512345678")
    telegram = message("c", conversation="telegram:77", display_name="Ana T")
    first = customers.record_inbound(cloud)
    assert customers.record_inbound(twilio) == first
    other = customers.record_inbound(telegram)
    assert other != first
    # Later the Telegram customer shares their own contact: the profiles join.
    shared = message("d", conversation="telegram:77", kind=Kind.CONTACT, phone="+5215512345678")
    assert customers.record_inbound(shared) == first
    profile = customers.profile("telegram:77")
    assert profile is not None
    assert profile.phone == "+5215512345678"
    assert {i.conversation_id for i in profile.identities} == {
        "whatsapp:+5215512345678",
        "twilio:whatsapp:+5215512345678",
        "telegram:77",
    }


def test_the_window_follows_the_customers_latest_message(engine: Engine) -> None:
    customers = Customers(engine)
    now = time.time()
    assert customers.last_inbound_at("whatsapp:+5215512345678") is None
    customers.record_inbound(message("a", sent_at=now))
    customers.record_inbound(message("b", sent_at=now - 3600))  # a late retry of an old one
    assert customers.last_inbound_at("whatsapp:+5215512345678") == pytest.approx(now)


def test_offered_buttons_are_remembered_with_how_they_were_shown(engine: Engine) -> None:
    customers = Customers(engine)
    customers.record_inbound(message("a"))
    buttons = (Button("Sí", "/affirm"), Button("No", "/deny"))
    customers.offer_buttons("whatsapp:+5215512345678", buttons, numbered=True)
    assert customers.offered_buttons("whatsapp:+5215512345678") == (buttons, True)
    customers.offer_buttons("whatsapp:+5215512345678", (), numbered=False)
    assert customers.offered_buttons("whatsapp:+5215512345678") == ((), False)


async def test_a_write_whose_waiter_gave_up_does_not_stop_the_sqlite_writer(
    tmp_path: Path,
) -> None:
    """A webhook cancelled while its message waited to be stored (the client hung up) ended
    the writer thread, and every later write on that database waited forever."""
    database = Database(make_engine(f"sqlite:///{tmp_path / 'channels.db'}"))
    busy, release = threading.Event(), threading.Event()

    def slow(connection: Connection) -> None:
        busy.set()
        release.wait(10)

    first = asyncio.ensure_future(database.write_async(slow))
    await asyncio.to_thread(busy.wait, 10)
    given_up = asyncio.ensure_future(database.write_async(lambda connection: "never"))
    await asyncio.sleep(0)  # queued behind the slow write
    given_up.cancel()
    await asyncio.sleep(0)  # the cancellation reaches the queued job
    release.set()
    await first
    assert await asyncio.wait_for(database.write_async(lambda connection: "next"), 10) == "next"
    database.engine.dispose()


def database_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in {"hilo-db-writer", "hilo-db-checkpoint"}]


def test_closing_writes_what_was_submitted_then_ends_both_threads(tmp_path: Path) -> None:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'channels.db'}"))
    mine = [database._serial._thread, database._checkpoints._thread]  # type: ignore[union-attr]
    pending = database._serial.submit(  # type: ignore[union-attr]
        lambda connection: connection.exec_driver_sql("SELECT 7").scalar(), durable=False
    )
    database.close()
    assert pending.result(10) == 7
    for thread in mine:
        thread.join(10)
        assert not thread.is_alive(), thread.name
    with pytest.raises(RuntimeError, match="closed"):
        database.write(lambda connection: None)
    database.engine.dispose()


def test_a_database_nobody_holds_leaves_no_thread_behind(tmp_path: Path) -> None:
    """Each Database made and dropped (a tool's, a test's) used to leave two threads waking
    forever: one test run ended with 6,000 of them."""
    before = set(database_threads())
    for n in range(5):
        inbox = Inbox(make_engine(f"sqlite:///{tmp_path / f'channels-{n}.db'}"))
        inbox.accept(message(f"w{n}"))
        del inbox
    gc.collect()
    left = [t for t in database_threads() if t not in before]
    for thread in left:
        thread.join(10)
    assert [t for t in left if t.is_alive()] == []


def test_a_write_that_raced_the_close_fails_instead_of_waiting(tmp_path: Path) -> None:
    """submit() checked "not closed", then close() queued its stop first: that write must fail
    (its caller then knows), not wait forever behind a writer that has ended."""
    database = Database(make_engine(f"sqlite:///{tmp_path / 'channels.db'}"))
    serial = database._serial
    assert serial is not None
    busy, release = threading.Event(), threading.Event()

    def slow(connection: Connection) -> None:
        busy.set()
        release.wait(10)

    first = serial.submit(slow, durable=False)
    assert busy.wait(10)  # the writer is inside `slow`: the next two wait in the queue
    serial.stop()
    late: Future[int] = Future()
    serial._jobs.put(_Job(lambda connection: 1, late, False))  # past the check, after the stop
    release.set()
    first.result(10)
    with pytest.raises(RuntimeError, match="closed"):
        late.result(10)
    database.engine.dispose()
