"""Closed-loop load on a Rasa REST channel: N senders, each waiting for its answer.

Each sender is its own conversation and sends its messages one after another, as people do;
N senders run concurrently. Reports throughput (answered messages per second of wall time),
latency p50/p99 and errors.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp
import numpy as np


async def _sender(
    session: aiohttp.ClientSession,
    url: str,
    messages: list[str],
    latencies: list[float],
    errors: list[str],
) -> None:
    sender = f"load-{uuid.uuid4().hex[:10]}"
    for text in messages:
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as response:
                await response.read()
                if response.status != 200:
                    errors.append(f"HTTP {response.status}")
                    continue
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            errors.append(type(error).__name__)
            continue
        latencies.append((time.perf_counter() - started) * 1000)


async def run_load(url: str, senders: int, per_sender: int, texts: list[str]) -> dict[str, Any]:
    """Runs `senders` concurrent conversations of `per_sender` messages each."""
    latencies: list[float] = []
    errors: list[str] = []
    timeout = aiohttp.ClientTimeout(total=300)
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _sender(
                    session,
                    url,
                    [texts[(i * per_sender + j) % len(texts)] for j in range(per_sender)],
                    latencies,
                    errors,
                )
                for i in range(senders)
            )
        )
        wall = time.perf_counter() - started
    return {
        "senders": senders,
        "messages": len(latencies),
        "errors": len(errors),
        "throughput_msg_s": len(latencies) / wall,
        "p50_ms": float(np.percentile(latencies, 50)) if latencies else None,
        "p99_ms": float(np.percentile(latencies, 99)) if latencies else None,
    }
