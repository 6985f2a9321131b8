"""Two Rasa servers (replicas) on one PostgreSQL, Redis and RabbitMQ: nothing lost, nothing twice.

The whole stack as `make run-cluster` starts it, with real processes: one action server, two
Rasa servers each with the channels core, every store on one PostgreSQL database, Rasa's lock
store on Redis and its events on RabbitMQ. The customers' webhooks land on either replica in
turn (what a round-robin load balancer does), some twice (a provider's redelivery). Then one
replica is killed with -9 right after acknowledging a burst, and the other takes over.

What must hold: every acknowledged message is processed once and answered, each conversation's
messages reach the bot in the order they were sent, and no reply is sent twice. The same holds
when a webhook intake (connectors/intake.py, a process without the bot) takes the webhooks and
the replicas only take the turns.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.support.databases import postgres_schema
from tests.support.servers import HiloProcesses
from tests.support.services import require_rabbitmq, require_redis
from tests.support.twilio_whatsapp import CREDENTIALS as TWILIO_CREDENTIALS
from tests.support.twilio_whatsapp import TwilioWhatsApp

pytestmark = pytest.mark.model

CREDENTIALS = (
    "connectors.sandbox.SandboxInput:\nhandoff.plugin.HandoffPlugin:\n" + TWILIO_CREDENTIALS
)
QUESTIONS = [
    "hola",
    "cuanto cuesta el envio?",
    "hacen envios a monterrey?",
    "que formas de pago aceptan",
    "gracias!",
]


@pytest.fixture
def twilio() -> Iterator[TwilioWhatsApp]:
    provider = TwilioWhatsApp()
    yield provider
    provider.close()


@pytest.fixture
def cluster(
    model_path: Path, tmp_path: Path, twilio: TwilioWhatsApp
) -> Iterator[tuple[HiloProcesses, HiloProcesses]]:
    redis_url = require_redis()
    rabbitmq_url = require_rabbitmq()
    queue = f"hilo_events_{uuid.uuid4().hex[:8]}"
    with postgres_schema("hilo_replicas_test") as url:
        first = HiloProcesses(
            model=model_path,
            workdir=tmp_path,
            credentials=CREDENTIALS,
            database_url=url,
            env={
                "REDIS_URL": redis_url,
                "HILO_REDIS_PREFIX": f"hilotest{uuid.uuid4().hex[:8]}",
                "RABBITMQ_URL": rabbitmq_url,
                "HILO_EVENTS_QUEUE": queue,
                **twilio.env(),
            },
        )
        second = first.replica()
        try:
            first.start_actions()
            first.start_rasa()
            second.start_rasa()
            yield first, second
        finally:
            second.stop()
            first.stop()
            asyncio.run(_delete_queue(rabbitmq_url, queue))


async def _delete_queue(url: str, queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


async def _queued_events(url: str, queue: str) -> list[dict]:
    import aio_pika

    events = []
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        while (message := await declared.get(no_ack=True, fail=False)) is not None:
            events.append(json.loads(message.body))
    return events


def say(replica: HiloProcesses, chat: str, message_id: str, text: str) -> None:
    answer = httpx.post(
        f"{replica.url}/webhooks/sandbox/webhook",
        json={"conversation": chat, "message_id": message_id, "text": text},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def settled(url: str, timeout: float = 90) -> sa.engine.Row:
    """Waits until no message is pending or in a turn; (done, other) counts."""
    engine = sa.create_engine(url, future=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as connection:
                counts = dict(
                    connection.execute(
                        sa.text("SELECT status, count(*) FROM channel_inbound GROUP BY status")
                    ).all()
                )
            if not counts.keys() - {"done", "failed"} or time.monotonic() > deadline:
                return counts
            time.sleep(0.2)
    finally:
        engine.dispose()


def check_once_and_in_order(
    url: str, chats: dict[str, list[str]], sender: str = "sandbox:{}"
) -> None:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            inbound = connection.execute(
                sa.text("SELECT id, conversation_id, status FROM channel_inbound ORDER BY id")
            ).all()
            replies = connection.execute(
                sa.text(
                    "SELECT reply_to, seq, status FROM channel_outbound"
                    " WHERE reply_to IS NOT NULL ORDER BY id"
                )
            ).all()
            said = connection.execute(
                sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    sent = sum(len(texts) for texts in chats.values())
    assert len(inbound) == sent  # every redelivery was recognised
    assert {row.status for row in inbound} == {"done"}
    answered = {row.reply_to for row in replies}
    assert answered == {row.id for row in inbound}  # every message answered
    keys = [(row.reply_to, row.seq) for row in replies]
    assert len(keys) == len(set(keys))  # no reply twice
    assert all(row.status in ("sent", "delivered", "read") for row in replies)
    for chat, texts in chats.items():
        heard = [json.loads(data)["text"] for who, data in said if who == sender.format(chat)]
        assert heard == texts, chat  # in the order sent, each once


def test_webhooks_on_either_replica_are_answered_once_and_in_order(
    cluster: tuple[HiloProcesses, HiloProcesses],
) -> None:
    replicas = cluster
    chats: dict[str, list[str]] = {uuid.uuid4().hex[:10]: [] for _ in range(4)}
    turn = 0
    for index, text in enumerate(QUESTIONS):
        for chat in chats:
            say(replicas[turn % 2], chat, f"m{index}", text)
            if turn % 3 == 0:
                say(replicas[(turn + 1) % 2], chat, f"m{index}", text)  # a redelivery
            chats[chat].append(text)
            turn += 1
    counts = settled(replicas[0].database_url or "")
    assert counts == {"done": 20}, counts
    check_once_and_in_order(replicas[0].database_url or "", chats)
    events = asyncio.run(
        _queued_events(replicas[0].env["RABBITMQ_URL"], replicas[0].env["HILO_EVENTS_QUEUE"])
    )
    users = [event for event in events if event.get("event") == "user"]
    assert len(users) == 20  # each conversation's events left the process, once each


def test_a_replica_killed_with_minus_9_is_taken_over_within_seconds(
    cluster: tuple[HiloProcesses, HiloProcesses],
) -> None:
    doomed, survivor = cluster
    chats: dict[str, list[str]] = {uuid.uuid4().hex[:10]: [] for _ in range(6)}
    for index, text in enumerate(QUESTIONS[:3]):
        for chat in chats:
            say(doomed, chat, f"m{index}", text)  # acknowledged: stored before the 200
            chats[chat].append(text)
    doomed.kill_rasa()  # mid-burst: some turns are running, most are waiting
    killed_at = time.monotonic()
    counts = settled(survivor.database_url or "", timeout=60)
    taken_over_in = time.monotonic() - killed_at
    assert counts == {"done": 18}, counts
    check_once_and_in_order(survivor.database_url or "", chats)
    assert taken_over_in < 30  # a sweep (2 s), Redis' lock (5 s), then 18 turns on one replica


def test_webhooks_taken_by_an_intake_are_answered_by_the_replicas_once_and_in_order(
    cluster: tuple[HiloProcesses, HiloProcesses], twilio: TwilioWhatsApp
) -> None:
    """Signed Twilio webhooks to an intake; the replicas hear of them from PostgreSQL."""
    first, _second = cluster
    first.start_intake()
    chats: dict[str, list[str]] = {f"+52155{index:08d}": [] for index in range(4)}
    turn = 0
    for text in QUESTIONS[:3]:
        for phone in chats:
            sid = f"SM{uuid.uuid4().hex}"
            twilio.send(first.intake_url, phone, text, message_sid=sid)
            if turn % 3 == 0:
                twilio.send(first.intake_url, phone, text, message_sid=sid)  # a redelivery
            chats[phone].append(text)
            turn += 1
    for phone in chats:  # answered by the bot, which the intake does not run
        assert len(twilio.replies_to(phone, 3, timeout=60)) >= 3
    counts = settled(first.database_url or "")
    assert counts == {"done": 12}, counts
    check_once_and_in_order(first.database_url or "", chats, sender="twilio:whatsapp:{}")
    assert first.intake is not None
    assert first.intake.poll() is None  # still serving
