"""`make bench-channels`: webhook acknowledgement under load, and exactly-once through a kill -9.

Part 1, acknowledgement while the bot is saturated. The bot's throughput S is measured first
(REST, 10 closed-loop senders). Then each channel gets the same open-loop load of 2 × S
webhooks per second (one new conversation each) on a fresh Rasa server, and the time until
the webhook answers is recorded:

- Hilo's Twilio connector (`connectors.twilio.TwilioInput`): verify, store, acknowledge; the
  turn runs later on the bot thread. Also reported: time until the reply reached the fake
  Twilio API, and how long the backlog took to drain.
- Rasa's built-in Twilio channel (`bench/stock_twilio.py`: unchanged but for the fake API URL)
  and Rasa's REST channel: both answer the webhook after the whole turn.

Part 2, exactly-once. 1,000 deliveries to Hilo's Twilio webhook: 700 customer messages (two
per conversation, the second a second or more after the first) and 300 redeliveries of
messages already sent, some at the same moment. Halfway through, the Rasa server is killed
with SIGKILL and started again on the same databases; deliveries refused meanwhile are
redelivered until acknowledged, as providers do. Every conversation's replies at the fake
Twilio API are then compared with the replies the same messages get in a clean run
(calibration over REST): a missing reply is "lost", an extra one "duplicated", and the order
must match.

Writes docs/channels-benchmark.md and bench/results/channels-<time>.json.

    python -m bench.channels [--duration 15] [--deliveries 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import numpy as np
from twilio.request_validator import RequestValidator

from bench.rest_load import run_load
from bench.run import answers, free_port, wait_until
from components.training import train

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "channels-benchmark.md"
RESULTS = ROOT / "bench" / "results"
RASA = str(Path(sys.executable).with_name("rasa"))
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 (the fake account's)
WHATSAPP_FROM = "whatsapp:+14155238886"
PUBLIC_URL = "https://hilo.bench.example"
TWILIO_GIVES_UP_MS = 15_000
FAKE_TWILIO = (sys.executable, "-m", "bench.fake_twilio")
# One-turn questions whose answers do not depend on earlier turns.
TEXTS = [
    "hola",
    "cuanto cuesta el envio a monterrey?",
    "aceptan tarjeta de credito?",
    "cuanto tarda en llegar mi pedido",
    "como hago una devolucion?",
    "tienen tienda fisica?",
    "gracias!",
    "que horario tienen?",
]

HILO_CREDENTIALS = "rest:\nconnectors.twilio.TwilioInput:\nhandoff.plugin.HandoffPlugin:\n"
STOCK_TWILIO_CREDENTIALS = (
    "bench.stock_twilio.StockTwilioInput:\n"
    f"  account_sid: {ACCOUNT_SID}\n  auth_token: {AUTH_TOKEN}\n"
    f"  twilio_number: '{WHATSAPP_FROM}'\n"
)
REST_CREDENTIALS = "rest:\n"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class Stack:
    """The action server and the fake Twilio API (shared), and one Rasa server at a time."""

    workdir: Path
    model: Path
    actions_port: int = field(default_factory=free_port)
    twilio_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)
    rasa: subprocess.Popen | None = None

    @property
    def replies_log(self) -> Path:
        return self.workdir / "replies.jsonl"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def env(self, run: str) -> dict[str, str]:
        return {
            **os.environ,
            "HILO_ACTIONS_PORT": str(self.actions_port),
            "DATABASE_URL": f"sqlite:///{self.workdir / 'commerce.db'}",
            "CHANNELS_DATABASE_URL": f"sqlite:///{self.workdir / f'{run}-channels.db'}",
            "HILO_MEDIA_DIR": str(self.workdir / "media"),
            "HILO_PUBLIC_URL": PUBLIC_URL,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{self.twilio_port}",
            "BENCH_TWILIO_API_BASE_URL": f"http://127.0.0.1:{self.twilio_port}",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }

    def commerce_url(self) -> str:
        """Where the store and the handoff live (a subclass may use PostgreSQL)."""
        return f"sqlite:///{self.workdir / 'commerce.db'}"

    def actions_command(self) -> list[str]:
        """How the action server starts (Rasa's own command, as a stock setup runs it)."""
        return [RASA, "run", "actions", "--port", str(self.actions_port)]

    def start_shared(self) -> None:
        from actions.commerce.seed import main as seed_main
        from handoff.database import migrate as migrate_handoff

        seed_main(["--url", self.commerce_url()])
        migrate_handoff(self.commerce_url())
        log = (self.workdir / "shared.log").open("a")
        actions = subprocess.Popen(
            self.actions_command(),
            cwd=ROOT,
            env=self.env("actions"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        fake = subprocess.Popen(
            [*FAKE_TWILIO, "--port", str(self.twilio_port), "--log", str(self.replies_log)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes += [actions, fake]
        wait_until(lambda: answers(f"http://127.0.0.1:{self.actions_port}/health"), 120, actions)

    def start_rasa(self, run: str, credentials: str) -> float:
        """Starts a Rasa server for `run` (its own tracker and channel databases)."""
        (self.workdir / f"{run}-credentials.yml").write_text(credentials)
        (self.workdir / f"{run}-endpoints.yml").write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.actions_port}/webhook\n"
            "tracker_store:\n  type: components.tracker_store.WindowedSQLTrackerStore\n"
            f"  dialect: sqlite\n  db: {self.workdir / f'{run}-tracker.db'}\n  window: 200\n"
            "nlg:\n  type: components.nlg.HiloNLG\n"
        )
        log = (self.workdir / f"{run}-rasa.log").open("a")
        started = time.perf_counter()
        self.rasa = subprocess.Popen(
            [
                *(RASA, "run", "--model", str(self.model), "--port", str(self.rasa_port)),
                *("--credentials", str(self.workdir / f"{run}-credentials.yml")),
                *("--endpoints", str(self.workdir / f"{run}-endpoints.yml")),
            ],
            cwd=ROOT,
            env=self.env(run),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: answers(f"{self.rasa_url}/"), 180, self.rasa)
        return time.perf_counter() - started

    def stop_rasa(self, kill: bool = False) -> None:
        if self.rasa is None:
            return
        self.rasa.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.rasa.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.rasa.kill()
            self.rasa.wait()
        self.rasa = None

    def stop(self) -> None:
        self.stop_rasa()
        for process in self.processes:
            process.terminate()
            process.wait(timeout=30)

    def replies(self) -> list[dict[str, Any]]:
        if not self.replies_log.exists():
            return []
        return [json.loads(line) for line in self.replies_log.read_text().splitlines() if line]

    def inbox_counts(self, run: str) -> dict[str, int]:
        database = self.workdir / f"{run}-channels.db"
        if not database.exists():
            return {}
        with sqlite3.connect(database) as connection:
            rows = connection.execute(
                "SELECT status, count(*) FROM channel_inbound GROUP BY status"
            ).fetchall()
        return {status: count for status, count in rows}


def twilio_delivery(phone: str, sid: str, text: str, path: str) -> tuple[bytes, dict[str, str]]:
    """A Twilio WhatsApp webhook body and headers, signed for the public URL."""
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Cliente",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": text,
        "To": WHATSAPP_FROM,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{phone}",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}{path}", params)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return urlencode(params).encode(), headers


async def post_until_acknowledged(
    session: aiohttp.ClientSession,
    url: str | Sequence[str],
    body: bytes,
    headers: dict[str, str],
    seen: dict[str, int] | None = None,
) -> tuple[float, int, int]:
    """Delivers like a provider: again until a 2xx. (first-try latency ms, status, tries).

    Several URLs (replicas behind a round-robin balancer): each try goes to the next one.
    `seen` counts the answers of every try by status (or error name).
    """
    urls = [url] if isinstance(url, str) else list(url)
    tries = 0
    first_latency = float("nan")
    while True:
        tries += 1
        started = time.perf_counter()
        try:
            async with session.post(
                urls[(tries - 1) % len(urls)], data=body, headers=headers
            ) as reply:
                await reply.read()
                status = reply.status
                key = str(status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            status = 0
            key = type(error).__name__
        if seen is not None:
            seen[key] = seen.get(key, 0) + 1
        latency = (time.perf_counter() - started) * 1000
        if tries == 1:
            first_latency = latency
        if 200 <= status < 300:
            return first_latency if status else latency, status, tries
        await asyncio.sleep(0.5)


async def open_loop(
    url: str | Sequence[str], requests: list[tuple[bytes, dict[str, str]]], rate: float
) -> dict:
    """Sends `requests` at `rate` per second, not waiting for answers; latency of each.

    Several URLs (replicas): the requests go to each in turn.
    """
    urls = [url] if isinstance(url, str) else list(url)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    timeout = aiohttp.ClientTimeout(total=180)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as session:

        async def one(url: str, body: bytes, headers: dict[str, str]) -> None:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as reply:
                    await reply.read()
                    key = str(reply.status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                key = type(error).__name__
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[key] = statuses.get(key, 0) + 1

        began = time.perf_counter()
        tasks = []
        for index, (body, headers) in enumerate(requests):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(urls[index % len(urls)], body, headers)))
        sent_for = time.perf_counter() - began
        await asyncio.gather(*tasks)
    return {
        "requests": len(requests),
        "offered_rate": round(len(requests) / sent_for, 1),
        "ack_p50_ms": round(percentile(latencies, 50), 1),
        "ack_p99_ms": round(percentile(latencies, 99), 1),
        "ack_max_ms": round(max(latencies), 1),
        "over_15s": sum(1 for value in latencies if value > TWILIO_GIVES_UP_MS),
        "statuses": statuses,
    }


def saturation_requests(channel: str, count: int, run: str) -> list[tuple[bytes, dict[str, str]]]:
    requests = []
    for index in range(count):
        text = TEXTS[index % len(TEXTS)]
        if channel == "rest":
            body = json.dumps({"sender": f"{run}-{index}", "message": text}).encode()
            requests.append((body, {"Content-Type": "application/json"}))
        else:
            phone = f"+5215{run_digit(run)}{index:07d}"
            requests.append(twilio_delivery(phone, f"SM{run}{index:030d}", text, WEBHOOK))
    return requests


WEBHOOK = "/webhooks/twilio/webhook"


def run_digit(run: str) -> str:
    return {"hilo": "1", "stock_twilio": "2", "rest": "3", "once": "4"}[run]


async def saturation(stack: Stack, duration: float, runs: list[str]) -> dict[str, Any]:
    """Part 1."""
    stack.start_rasa("calibrate", REST_CREDENTIALS)
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    await run_load(url, 10, 2, TEXTS)  # warm-up
    load = await run_load(url, 10, 10, TEXTS)
    stack.stop_rasa()
    throughput = float(load["throughput_msg_s"])
    rate = float(os.environ.get("BENCH_RATE") or 2 * throughput)
    count = int(rate * duration)
    results: dict[str, Any] = {"bot_throughput": round(throughput, 1), "offered_rate": rate}
    for run, channel, credentials in (
        ("hilo", "twilio", HILO_CREDENTIALS),
        ("stock_twilio", "twilio", STOCK_TWILIO_CREDENTIALS),
        ("rest", "rest", REST_CREDENTIALS),
    ):
        if run not in runs:
            continue
        stack.start_rasa(run, credentials)
        path = "/webhooks/rest/webhook" if channel == "rest" else WEBHOOK
        sent_at = time.time()
        results[run] = await open_loop(
            stack.rasa_url + path, saturation_requests(channel, count, run), rate
        )
        if run == "hilo":
            results[run].update(await drain(stack, run, count, sent_at))
        stack.stop_rasa()
    return results


async def drain(stack: Stack, run: str, count: int, sent_at: float) -> dict[str, Any]:
    """Waits for Hilo's backlog to be processed; reply latency from the fake's log."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        counts = stack.inbox_counts(run)
        if counts.get("done", 0) + counts.get("failed", 0) >= count:
            break
        await asyncio.sleep(0.5)
    drained = time.time() - sent_at
    prefix = f"whatsapp:+5215{run_digit(run)}"
    replied = [r for r in stack.replies() if (r["to"] or "").startswith(prefix)]
    return {
        "processed": stack.inbox_counts(run),
        "all_replied_after_s": round(drained, 1),
        "replies": len(replied),
    }


@dataclass
class Delivery:
    conversation: int
    message: int  # 0 or 1
    sid: str
    text: str
    at: float  # seconds from the start


def plan(
    deliveries: int, seed: int = 7, rate: float = 30.0
) -> tuple[list[Delivery], list[tuple[int, int]]]:
    """Conversations (pairs of texts) and the delivery schedule, duplicates included.

    `rate`: customer messages per second (two per conversation).
    """
    rng = random.Random(seed)
    originals = int(deliveries * 0.7)
    conversations = originals // 2
    pairs = [(i % len(TEXTS), (i * 3 + 1) % len(TEXTS)) for i in range(conversations)]
    schedule: list[Delivery] = []
    for index, (first, second) in enumerate(pairs):
        start = index / (rate / 2)
        schedule.append(Delivery(index, 0, f"SMonce{index:08d}a", TEXTS[first], start))
        gap = 1.0 + rng.random() * 2
        schedule.append(Delivery(index, 1, f"SMonce{index:08d}b", TEXTS[second], start + gap))
    duplicates = []
    for _ in range(deliveries - len(schedule)):
        original = rng.choice(schedule)
        duplicates.append(
            Delivery(
                original.conversation,
                original.message,
                original.sid,
                original.text,
                original.at + rng.choice([0.0, 0.05, 0.5, 2.0]),
            )
        )
    schedule += duplicates
    schedule.sort(key=lambda delivery: delivery.at)
    return schedule, pairs


def once_phone(conversation: int) -> str:
    return f"+52154{conversation:07d}"


async def calibrate(stack: Stack, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """The replies each pair of texts gets in a clean run (REST, fresh conversations)."""
    expected: dict[tuple[int, int], list[str]] = {}
    async with aiohttp.ClientSession() as session:
        for pair in sorted(set(pairs)):
            sender = f"calibrate-{pair[0]}-{pair[1]}-{time.time_ns()}"
            texts: list[str] = []
            for index in pair:
                async with session.post(
                    f"{stack.rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": TEXTS[index]},
                ) as reply:
                    texts += [m.get("text", "") for m in await reply.json()]
            expected[pair] = texts
    return expected


async def exactly_once(stack: Stack, deliveries: int) -> dict[str, Any]:
    """Part 2."""
    schedule, pairs = plan(deliveries)
    stack.start_rasa("once", HILO_CREDENTIALS)
    expected = await calibrate(stack, pairs)
    url = f"{stack.rasa_url}{WEBHOOK}"
    kill_at = len(schedule) // 2
    latencies: list[float] = []
    acknowledged: dict[tuple[int, int], float] = {}
    retried = 0
    restart_seconds = 0.0
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as session:

        async def deliver(delivery: Delivery) -> None:
            nonlocal retried
            body, headers = twilio_delivery(
                once_phone(delivery.conversation), delivery.sid, delivery.text, WEBHOOK
            )
            latency, _, tries = await post_until_acknowledged(session, url, body, headers)
            acknowledged.setdefault((delivery.conversation, delivery.message), time.perf_counter())
            retried += tries > 1
            if tries == 1:
                latencies.append(latency)

        began = time.perf_counter()
        tasks = []
        for index, delivery in enumerate(schedule):
            if index == kill_at:
                stack.stop_rasa(kill=True)
                restart = asyncio.create_task(
                    asyncio.to_thread(stack.start_rasa, "once", HILO_CREDENTIALS)
                )
            delay = began + delivery.at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(deliver(delivery)))
        restart_seconds = await restart
        await asyncio.gather(*tasks)
    unique = len({delivery.sid for delivery in schedule})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        counts = stack.inbox_counts("once")
        if counts.get("done", 0) + counts.get("failed", 0) >= unique:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # the last turns' replies are logged right after the turn
    stack.stop_rasa()
    return {
        "deliveries": len(schedule),
        "unique_messages": unique,
        "duplicate_deliveries": len(schedule) - unique,
        **compare(pairs, expected, stack.replies(), acknowledged),
        "deliveries_refused_while_down_then_redelivered": retried,
        "restart_to_ready_s": round(restart_seconds, 1),
        "ack_p50_ms": round(percentile(latencies, 50), 1),
        "ack_p99_ms": round(percentile(latencies, 99), 1),
        "inbox": stack.inbox_counts("once"),
    }


def compare(
    pairs: list[tuple[int, int]],
    expected: dict[tuple[int, int], list],
    replies: list[dict[str, Any]],
    acknowledged: dict[tuple[int, int], float],
) -> dict[str, int]:
    """Each conversation's replies at the fake Twilio API against the calibration's."""
    got: dict[str, list[str]] = {}
    for reply in replies:
        got.setdefault(reply["to"], []).append(reply["body"])
    lost = duplicated = out_of_order = reversed_by_sender = 0
    for index, pair in enumerate(pairs):
        want = expected[pair]
        have = got.get(f"whatsapp:{once_phone(index)}", [])
        lost += sum(max(0, want.count(t) - have.count(t)) for t in set(want))
        duplicated += sum(max(0, have.count(t) - want.count(t)) for t in set(have))
        if acknowledged[(index, 1)] < acknowledged[(index, 0)]:
            # Both refused while the server was down, the second redelivered first: Twilio
            # sends no timestamp, so arrival is the only order there is.
            reversed_by_sender += 1
        elif have != want and sorted(have) == sorted(want):
            out_of_order += 1
    return {
        "conversations": len(pairs),
        "expected_replies": sum(len(expected[pair]) for pair in pairs),
        "lost_replies": lost,
        "duplicated_replies": duplicated,
        "conversations_out_of_order": out_of_order,
        "conversations_redelivered_in_reverse": reversed_by_sender,
    }


def report(results: dict[str, Any]) -> str:
    sat = results["saturation"]
    once = results["exactly_once"]
    rows = [
        ("Hilo Twilio connector", sat["hilo"]),
        ("Rasa built-in Twilio channel", sat["stock_twilio"]),
        ("Rasa REST channel", sat["rest"]),
    ]
    lines = [
        "# Channel benchmark",
        "",
        "Written by `make bench-channels` (bench/channels.py); do not edit by hand. The load",
        "generator, the fake Twilio API, the action server and the Rasa server share the",
        "machine's 2 cores.",
        "",
        f"- Run: {results['run']} (UTC)",
        f"- Machine: {results['machine']}",
        "",
        "## Acknowledgement while the bot is saturated",
        "",
        f"Bot throughput S = {sat['bot_throughput']} msg/s (REST, 10 closed-loop senders). "
        f"Each channel then got {sat['hilo']['requests']} webhooks at 2 × S "
        f"(offered {sat['offered_rate']:.1f}/s), one new conversation each, on a fresh server. "
        "Target: Hilo's acknowledgement p99 ≤ 25 ms.",
        "",
        "| Channel | ack p50 | ack p99 | ack max | over 15 s (Twilio gives up) | answers |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows:
        lines.append(
            f"| {name} | {row['ack_p50_ms']} ms | {row['ack_p99_ms']} ms | {row['ack_max_ms']} ms "
            f"| {row['over_15s']} | {row['statuses']} |"
        )
    hilo = sat["hilo"]
    lines += [
        "",
        f"Hilo processed the backlog in the background: {hilo['replies']} replies reached the "
        f"fake Twilio API, the last {hilo['all_replied_after_s']} s after the first webhook "
        f"(inbox: {hilo['processed']}).",
        "",
        "## Exactly once through a kill -9",
        "",
        f"{once['deliveries']} deliveries: {once['unique_messages']} messages in "
        f"{once['conversations']} conversations plus {once['duplicate_deliveries']} "
        "redeliveries; the Rasa server was killed with SIGKILL halfway and restarted "
        f"(ready again in {once['restart_to_ready_s']} s); "
        f"{once['deliveries_refused_while_down_then_redelivered']} deliveries were refused while "
        "it was down and redelivered. Target: 0 lost, 0 duplicated.",
        "",
        "| Expected replies | Lost | Duplicated | Answered out of order | ack p50 | ack p99 |",
        "|---|---|---|---|---|---|",
        f"| {once['expected_replies']} | {once['lost_replies']} | {once['duplicated_replies']} "
        f"| {once['conversations_out_of_order']} | {once['ack_p50_ms']} ms "
        f"| {once['ack_p99_ms']} ms |",
        "",
        "Out of order counts conversations whose second message was acknowledged after the "
        "first yet answered before it. In "
        f"{once['conversations_redelivered_in_reverse']} conversations both messages were "
        "refused during the outage and the sender redelivered the second one first; Twilio's "
        "webhooks carry no timestamp, so Hilo answers those in the order they arrived "
        "(WhatsApp Cloud and Telegram carry the customer's order and are sorted by it).",
        "",
        f"The acknowledgement times of part 2 include the deliveries right after the restart. "
        f"Inbox after the run: {once['inbox']}.",
        "",
    ]
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    model = train()
    workdir = Path(tempfile.mkdtemp(prefix="hilo-bench-channels-"))
    stack = Stack(workdir=workdir, model=model)
    stack.start_shared()
    try:
        results = {
            "run": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ"),
            "machine": machine(),
            "saturation": await saturation(stack, args.duration, args.runs.split(",")),
            "exactly_once": await exactly_once(stack, args.deliveries) if args.deliveries else {},
        }
    finally:
        stack.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per channel")
    parser.add_argument("--deliveries", type=int, default=1000, help="0: skip part 2")
    parser.add_argument("--runs", default="hilo,stock_twilio,rest", help="part 1 channels")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"channels-{results['run']}.json").write_text(json.dumps(results, indent=2))
    if args.deliveries and args.runs == "hilo,stock_twilio,rest":
        REPORT.write_text(report(results))
        print(report(results))
    else:  # a partial run: results only, the report stays as the last full run wrote it
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
