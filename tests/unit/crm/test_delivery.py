"""The worker against a fake POST and a clock that jumps: retries, give-up, recovery."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy.engine import Engine

from crm import delivery
from crm.delivery import PostFailed, Worker, webhook_job
from crm.outbox import NewDelivery, Outbox
from crm.settings import WebhookSettings
from crm.signing import verify
from tests.unit.crm.conftest import Clock

SETTINGS = WebhookSettings(url="http://crm.invalid/hook", secret="topsecret", batch=10)


class FakeCrm:
    """Answers with `status` (None: no connection) and records what it got."""

    def __init__(self) -> None:
        self.status: int | None = 200
        self.calls: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        self.calls.append((headers, body))
        if self.status is None:
            raise PostFailed("ConnectError")
        return self.status


def make(engine: Engine, n: int, clock: Clock) -> None:
    outbox = Outbox(engine, clock)
    with engine.begin() as connection:
        outbox.add(
            connection,
            [NewDelivery(f"k{i}", "case.opened", clock.now, {"i": i}) for i in range(n)],
        )


def test_each_post_is_signed_and_names_its_event_and_delivery(engine: Engine) -> None:
    clock, crm = Clock(), FakeCrm()
    make(engine, 2, clock)
    worker = Worker(engine, None, SETTINGS, post=crm, clock=clock)
    assert worker.send_due().sent == 2
    for headers, body in crm.calls:
        assert verify(body, "topsecret", headers["X-Hilo-Signature"])
        assert headers["X-Hilo-Event"] == "case.opened"
        assert headers["X-Hilo-Delivery"] == json.loads(body)["id"]
    assert worker.send_due().sent == 0  # delivered once


def test_a_crm_that_is_down_gets_one_attempt_per_interval(engine: Engine) -> None:
    clock, crm = Clock(), FakeCrm()
    make(engine, 5, clock)
    worker = Worker(engine, None, SETTINGS, post=crm, clock=clock, rand=lambda: 0.0)
    crm.status = None
    done = worker.send_due()
    assert (done.sent, done.retried, len(crm.calls)) == (0, 1, 1)  # the rest waited
    assert worker.send_due().retried == 0  # nothing due for 5 s (10 s step, half jitter)
    clock.advance(5)
    worker.send_due()
    assert len(crm.calls) == 2
    crm.status = 503
    clock.advance(3600)
    worker.send_due()
    assert crm.calls[-1][0]["X-Hilo-Delivery"] == crm.calls[0][0]["X-Hilo-Delivery"]
    crm.status = 200  # back: the first success makes everything waiting due at once
    clock.advance(600)
    assert worker.send_due().sent == 5
    assert len({headers["X-Hilo-Delivery"] for headers, _ in crm.calls}) == 5


def test_a_delivery_still_failing_after_its_maximum_age_is_failed(engine: Engine) -> None:
    clock, crm = Clock(), FakeCrm()
    make(engine, 1, clock)
    worker = Worker(engine, None, SETTINGS, post=crm, clock=clock)
    crm.status = 500
    attempts = 0
    while Outbox(engine, clock).counts()["failed"] == {}:
        clock.advance(601)
        worker.send_due()
        attempts += 1
        assert attempts < 200
    assert 24 * 3600 / 601 <= attempts <= 24 * 3600 / 300 + 1  # capped interval all along
    (failure,) = Outbox(engine, clock).failures()
    assert failure.last_error == "HTTP 500"
    assert failure.last_status == 500
    assert Outbox(engine, clock).replay(failed=True) == 1
    crm.status = 204
    assert worker.send_due().sent == 1


def test_a_rejected_delivery_does_not_hold_up_the_others(engine: Engine) -> None:
    clock, crm = Clock(), FakeCrm()
    make(engine, 3, clock)
    answers = iter([400, 200, 200])
    worker = Worker(engine, None, SETTINGS, post=lambda *a: crm(*a) and next(answers), clock=clock)
    done = worker.send_due()
    assert (done.sent, done.retried) == (2, 1)


def test_the_worker_needs_a_url(engine: Engine) -> None:
    with pytest.raises(ValueError, match="HILO_WEBHOOK_URL"):
        Worker(engine, None, WebhookSettings(url=None))


async def test_the_desk_job_is_off_without_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HILO_WEBHOOK_URL", raising=False)
    job = webhook_job(object())
    await job.__anext__()
    with pytest.raises(StopAsyncIteration):
        await job.__anext__()


async def test_the_desk_job_sends_until_the_desk_stops(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = FakeCrm()
    settings = WebhookSettings(url="http://crm.invalid/hook", secret="s", poll_seconds=0.01)
    worker = Worker(engine, None, settings, post=crm)
    make(engine, 1, Clock(time.time()))
    monkeypatch.setattr(delivery, "worker_from_environment", lambda: worker)
    job = webhook_job(object())
    await job.__anext__()  # the desk is up
    for _ in range(500):
        if crm.calls:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(StopAsyncIteration):
        await job.__anext__()  # the desk stops: the worker with it
    assert len(crm.calls) == 1
