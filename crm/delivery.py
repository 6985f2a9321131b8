"""The worker: makes deliveries from the sources (crm/feed.py) and POSTs what is due.

Each POST carries the stored body and three headers::

    X-Hilo-Event: case.opened
    X-Hilo-Delivery: 0b6c…  (the same on every retry and replay of this delivery)
    X-Hilo-Signature: sha256=<hex HMAC-SHA256 of the body under HILO_WEBHOOK_SECRET>

A 2xx answer delivers it. Anything else (a timeout, a refused connection, a 5xx, a 4xx) is
tried again after the backoff (crm/backoff.py), until the delivery is `max_age` old (24 h
by default): then it is `failed`, shown by `hilo webhooks status` and sent again by
`hilo webhooks replay`. When the CRM itself is not answering (no connection, a timeout,
429, 5xx) the rest of the batch is given back unsent for the same time, so a CRM that is
down costs one attempt per interval, not one per waiting event; the first success after
that makes everything waiting due at once.

Delivery is at least once: a worker that dies after the CRM took a delivery and before it
recorded that sends it again when its lease ends, with the same delivery id, which is how
the CRM tells a repeat.

`hilo desk` runs a worker when HILO_WEBHOOK_URL is set (`webhook_job`); `hilo webhooks
run` runs one in the foreground. Several may run on one PostgreSQL database: leases keep
each delivery with one worker at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine

from crm.backoff import Backoff
from crm.feed import Feed
from crm.outbox import Delivery, Outbox
from crm.settings import WebhookSettings
from crm.signing import sign

logger = logging.getLogger(__name__)
# httpx logs every request's URL at INFO; a CRM's webhook URL often carries its token.
logging.getLogger("httpx").setLevel(logging.WARNING)

USER_AGENT = "Hilo-Webhooks/1"
PRUNE_EVERY_SECONDS = 3600.0
# The CRM as a whole is not answering: stop this batch instead of trying every delivery.
_CRM_DOWN_STATUSES = frozenset({408, 425, 429})


class PostFailed(Exception):
    """The POST got no HTTP answer (refused, timed out, cut); the message names the cause."""


# url, body, headers, timeout → the HTTP status; raises PostFailed without an answer.
Post = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True)
class Pass:
    """What one pass of the worker did."""

    added: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


class HttpPoster:
    """POSTs with one httpx client (keep-alive to the CRM)."""

    def __init__(self) -> None:
        self._client = httpx.Client(follow_redirects=False)

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """POSTs `body`; the status, or `PostFailed` (by the error's type, never its text)."""
        try:
            answer = self._client.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as error:
            raise PostFailed(type(error).__name__) from None
        return answer.status_code

    def close(self) -> None:
        """Closes the connections."""
        self._client.close()


class Worker:
    """Feed and deliveries, one pass at a time (`run_once`), or in a loop."""

    def __init__(
        self,
        engine: Engine,
        channels: Engine | None,
        settings: WebhookSettings,
        *,
        post: Post | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        owner: str | None = None,
    ) -> None:
        """A worker on the handoff database `engine` and the channels database `channels`.

        Args:
            engine: The handoff database (the outbox lives there).
            channels: The channels database (None: no contacts and no summaries).
            settings: Where to send and how hard to try.
            post: How to POST (default: httpx); tests pass a fake CRM's.
            clock: Unix seconds now; tests move it to skip an hour of outage.
            rand: A number in [0, 1) for the jitter.
            owner: This worker's name on its leases (default: host, process, random).
        """
        if not settings.url:
            raise ValueError("the worker needs HILO_WEBHOOK_URL")
        self.settings = settings
        self.url = settings.url
        self.clock = clock
        self.rand = rand
        self.feed = Feed(engine, channels, settings, clock)
        self.outbox = Outbox(engine, clock)
        self.backoff = Backoff(settings.retry_base_seconds, settings.retry_cap_seconds)
        self.owner = owner or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # The lease covers a whole batch of POSTs timing out one after another.
        self.lease_seconds = settings.lease_seconds + settings.timeout_seconds * settings.batch
        self._own_poster = post is None
        self._post: Post = post or HttpPoster()
        self._crm_down = False
        self._pruned_at = 0.0

    def close(self) -> None:
        """Closes the HTTP client it made."""
        if self._own_poster and isinstance(self._post, HttpPoster):
            self._post.close()

    # --- one pass -------------------------------------------------------------------------

    def run_once(self) -> Pass:
        """Reads the sources, then sends what is due; prunes old deliveries hourly."""
        added = self.feed.run_once()
        result = self.send_due()
        now = self.clock()
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            pruned = self.outbox.prune(self.settings.keep_seconds)
            forgotten = self.feed.prune()
            if pruned or forgotten:
                logger.info("crm.pruned deliveries=%d conversations=%d", pruned, forgotten)
        return Pass(added, result.sent, result.retried, result.failed)

    def send_due(self) -> Pass:
        """Sends the deliveries due now, in order, until the CRM stops answering."""
        batch = self.outbox.claim(self.owner, self.settings.batch, self.lease_seconds)
        sent = retried = failed = 0
        for index, delivery in enumerate(batch):
            status, error = self._send(delivery)
            if status is not None and 200 <= status < 300:
                if self.outbox.delivered(delivery, self.owner, status):
                    sent += 1
                if self._crm_down or delivery.attempts > 0:
                    self._crm_down = False
                    hurried = self.outbox.hurry()
                    if hurried:
                        logger.info("crm.delivery.back waiting=%d", hurried)
                continue
            now = self.clock()
            if now - delivery.created_at >= self.settings.max_age_seconds:
                self.outbox.failed(delivery, self.owner, status, error)
                failed += 1
                logger.warning(
                    "crm.delivery.failed id=%d event=%s attempts=%d error=%s",
                    delivery.id,
                    delivery.event,
                    delivery.attempts + 1,
                    error,
                )
                next_at = now + self.backoff.delay(1, self.rand)
            else:
                next_at = now + self.backoff.delay(delivery.attempts + 1, self.rand)
                self.outbox.retry(delivery, self.owner, status, error, next_at)
                retried += 1
                logger.info(
                    "crm.delivery.retry id=%d event=%s attempts=%d error=%s in_seconds=%.0f",
                    delivery.id,
                    delivery.event,
                    delivery.attempts + 1,
                    error,
                    next_at - now,
                )
            if status is None or status >= 500 or status in _CRM_DOWN_STATUSES:
                self._crm_down = True
                self.outbox.postpone(batch[index + 1 :], self.owner, next_at)
                break
        return Pass(0, sent, retried, failed)

    def _send(self, delivery: Delivery) -> tuple[int | None, str]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Hilo-Event": delivery.event,
            "X-Hilo-Delivery": delivery.delivery_id,
            "X-Hilo-Signature": sign(delivery.body, self.settings.secret),
        }
        try:
            status = self._post(self.url, delivery.body, headers, self.settings.timeout_seconds)
        except PostFailed as error:
            return None, str(error) or "PostFailed"
        return status, f"HTTP {status}"

    # --- loops ------------------------------------------------------------------------------

    def _safe_pass(self) -> Pass:
        try:
            return self.run_once()
        except Exception as error:  # a database blip must not end the worker
            logger.warning("crm.worker.error type=%s", type(error).__name__)
            return Pass()

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Passes every `poll_seconds` (at once while there is work) until `stop` is set."""
        stop = stop or threading.Event()
        while not stop.is_set():
            done = self._safe_pass()
            if not (done.added or done.sent):
                stop.wait(self.settings.poll_seconds)

    async def run_async(self) -> None:
        """`run_forever` on the event loop, each pass in a thread (the desk's job)."""
        while True:
            done = await asyncio.to_thread(self._safe_pass)
            if not (done.added or done.sent):
                await asyncio.sleep(self.settings.poll_seconds)


def worker_from_environment() -> Worker | None:
    """The deployment's worker, or None when HILO_WEBHOOK_URL is not set."""
    settings = WebhookSettings.from_environment()
    if not settings.enabled:
        logger.info("crm.worker.off HILO_WEBHOOK_URL is not set")
        return None
    from connectors.storage import make_engine as channels_engine
    from handoff.database import make_engine

    return Worker(make_engine(), channels_engine(), settings)


async def webhook_job(app: object) -> AsyncIterator[None]:
    """The desk's CRM worker (an aiohttp cleanup context: `app.cleanup_ctx.append`).

    On only when HILO_WEBHOOK_URL is set; a bad setting stops the desk at start with its
    error rather than failing unseen later.
    """
    worker = worker_from_environment()
    if worker is None:
        yield
        return
    task = asyncio.create_task(worker.run_async())
    logger.info("crm.worker.started batch=%d", worker.settings.batch)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        worker.close()
