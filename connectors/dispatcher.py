"""Background processing of the inbox: in order per conversation, off the webhook's loop.

The bot's turns (NLU, dialogue, action-server calls, sending) run on their own event loop in
their own thread (`BotLoop`), so the server loop that answers webhooks never waits behind
NLU: a webhook is verified, stored and acknowledged while the bot is busy. Each conversation
with pending messages has one *lane*, a task that claims and processes that conversation's
messages one at a time, oldest first; lanes of different conversations run concurrently, up
to `concurrency` turns at once.

A lane that finds no more work ends; `wake()` starts a new one. The `dirty` flag closes the
gap between "no pending message found" and "lane removed": a wake in between makes the lane
look again.

Replicas (several Rasa servers on one PostgreSQL database): each turn runs under the
conversation's lease (connectors/leases.py), so one process at a time works on a
conversation whichever replica took its webhook. A lane that cannot get the lease ends: the
holder takes the next message after its own. Two things close the gaps that leaves:
- a lane that found nothing looks once more *after* giving the lease back, so a message
  stored by another replica while this one held the lease is never left waiting (unless the
  replica is listening for new messages, below: then that message wakes it anyway);
- every `sweep_seconds`, each replica wakes a lane for every conversation with unfinished
  messages. That is how a replica killed with -9 is taken over: PostgreSQL drops its leases
  when its connections close, and the next sweep elsewhere claims its interrupted messages.
A message stored by another process (a webhook intake, connectors/intake.py, or another
replica) starts its turn at once: every replica LISTENs for new messages
(connectors/notifications.py) and wakes lanes for the conversations with messages pending
since shortly before; the idlest replica gets the lease first, since a lane asks for it only
once one of its replica's turn slots is free.
Before each claim, under the lease, `settle` runs (the handoff's hand-back to the bot), so a
hand-back and the conversation's turns never overlap on any replica.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from connectors.inbox import Inbox, InboxItem
from connectors.leases import Leases, LocalLeases
from connectors.notifications import ChangeListener
from connectors.storage import NEW_MESSAGES_CHANNEL
from hilo.outages import is_outage

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What the hub does with one claimed message; raising `Retry` puts it back to pending,
# raising `Failed` marks it failed.
Processor = Callable[[InboxItem], Awaitable[None]]
# What must happen before a conversation's next turn (the hand-back to the bot).
Settle = Callable[[str], Awaitable[None]]
SWEEP_SECONDS = 2.0
# How far back a replica looks for pending messages when told that one was stored: covers
# messages committed out of id order and clocks a little apart between machines; anything
# older is the sweep's.
NEW_MESSAGE_LOOKBACK_SECONDS = 5.0
BOT_NICENESS = 10  # how much lower the bot thread's priority is than the webhooks'


class Retry(Exception):
    """Processing could not happen now (the bot is not ready): try again later."""


class Failed(Exception):
    """Processing ended in a failure already handled (the customer was told): mark it failed."""


def _lower_priority() -> None:
    """This thread (and the threads it starts) yields the CPU to the webhooks' thread.

    A turn is seconds of CPU per few messages; an acknowledgement is a millisecond that a
    provider waits for. When the cores are saturated (bench/cluster.py: every core busy at
    twice the cluster's throughput), the scheduler then runs the server loop, the database
    and the balancer first. Throughput is unchanged: the turns still get every idle cycle.
    Linux sets a nice value per thread; elsewhere this does nothing.
    """
    # Not Linux, or not allowed: the same priority as before.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BOT_NICENESS)


class BotLoop:
    """A daemon thread running an asyncio event loop: where the bot's turns run."""

    def __init__(self, name: str = "hilo-bot") -> None:
        """Creates the loop; `start()` runs it."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        _lower_priority()
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        """Starts the thread (idempotent)."""
        if not self._thread.is_alive():
            self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedules `coroutine` on the bot loop from any thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Runs `callback(*args)` on the bot loop, from any thread."""
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the loop and waits for the thread."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)


@dataclass
class _Lane:
    task: asyncio.Task[None] | None = None
    dirty: bool = False
    # Woken only because PostgreSQL said a message was stored elsewhere: every replica hears
    # it, so by the time this lane has a turn slot another replica has often taken it.
    heard: bool = False


class Dispatcher:
    """Runs `process` for every pending inbox message, in order per conversation."""

    def __init__(
        self,
        inbox: Inbox,
        process: Processor,
        *,
        concurrency: int = 4,
        retry_delay: float = 2.0,
        bot_loop: BotLoop | None = None,
        leases: Leases | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        """`process` runs on `bot_loop` (a new one by default), each turn under a lease."""
        self.inbox = inbox
        self.process = process
        self.bot = bot_loop or BotLoop()
        self.concurrency = concurrency
        self.retry_delay = retry_delay
        self.leases: Leases = leases or LocalLeases()
        self.sweep_seconds = sweep_seconds
        self.settle: Settle | None = None
        self._lanes: dict[str, _Lane] = {}
        self._slots: asyncio.Semaphore | None = None
        self._stopping = False
        self._sweeper: asyncio.Task[None] | None = None
        self._follower: asyncio.Task[None] | None = None
        self._heard: asyncio.Event | None = None
        self._listener: ChangeListener | None = None

    def start(self) -> None:
        """Starts the bot loop and picks up whatever was pending before a restart."""
        self.bot.start()
        self.bot.submit(self._recover()).result(timeout=60)
        if self.leases.shared:
            self.bot.call_soon(self._start_sweeper)
            if ChangeListener.available(self.inbox.engine):
                self._listener = ChangeListener(
                    self.inbox.engine, self._new_message_stored, NEW_MESSAGES_CHANNEL
                )
                self._listener.start()

    async def _recover(self) -> None:
        conversations = await asyncio.to_thread(self.inbox.recover)
        if conversations:
            logger.info("connectors.inbox.recovered conversations=%d", len(conversations))
        for conversation_id in conversations:
            self._wake(conversation_id)

    def _start_sweeper(self) -> None:
        if self._sweeper is None and not self._stopping:
            loop = asyncio.get_running_loop()
            self._heard = asyncio.Event()
            self._sweeper = loop.create_task(self._sweep_forever())
            self._follower = loop.create_task(self._follow_new_messages())

    def _new_message_stored(self) -> None:
        """PostgreSQL said a message was stored somewhere (the listener's thread)."""
        self.bot.call_soon(self._hear)

    def _hear(self) -> None:
        if self._heard is not None:
            self._heard.set()

    async def _follow_new_messages(self) -> None:
        """Wakes lanes for messages other processes stored, when told (one query at a time).

        Notifications that arrive while a query runs fold into one more query after it.
        """
        heard = self._heard
        if heard is None:  # started by _start_sweeper, which makes the event first
            return
        while not self._stopping:
            await heard.wait()
            heard.clear()
            since = time.time() - NEW_MESSAGE_LOOKBACK_SECONDS
            try:
                conversations = await asyncio.to_thread(self.inbox.pending_since, since)
            except Exception as error:  # the database is down: the sweep looks again later
                logger.warning("connectors.dispatch.follow_failed error=%s", type(error).__name__)
                continue
            for conversation_id in conversations:
                self._wake(conversation_id, heard=True)

    def _listening(self) -> bool:
        """Whether this replica hears every message stored elsewhere right now."""
        return self._listener is not None and self._listener.listening

    async def _sweep_forever(self) -> None:
        """Takes over work no live process is doing (a replica died, see the module docstring)."""
        while not self._stopping:
            await asyncio.sleep(self.sweep_seconds)
            try:
                conversations = await asyncio.to_thread(self.inbox.recover)
            except Exception as error:  # the database is down: the next sweep looks again
                logger.warning("connectors.dispatch.sweep_failed error=%s", type(error).__name__)
                continue
            for conversation_id in conversations:
                if conversation_id not in self._lanes:
                    self._wake(conversation_id)

    def wake(self, conversation_id: str) -> None:
        """A conversation has a new pending message (call from any thread)."""
        self.bot.call_soon(self._wake, conversation_id)

    def _wake(self, conversation_id: str, heard: bool = False) -> None:
        if self._stopping:
            return
        lane = self._lanes.get(conversation_id)
        if lane is not None:
            lane.dirty = True
            return
        lane = _Lane(heard=heard)
        self._lanes[conversation_id] = lane
        lane.task = asyncio.get_running_loop().create_task(self._run_lane(conversation_id, lane))

    async def _run_lane(self, conversation_id: str, lane: _Lane) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        retry = False
        try:
            while not self._stopping:
                async with self._slots:  # claim only when a turn can start at once
                    if lane.heard and not lane.dirty:
                        # One query instead of the lease, the hand-back check and the claim,
                        # when another replica was quicker.
                        lane.heard = False
                        if not await asyncio.to_thread(self.inbox.has_pending, conversation_id):
                            break
                    lane.dirty = False
                    async with self.leases.hold(conversation_id) as held:
                        item = await self._turn(conversation_id) if held else None
                        retry = item is not None and await self._process_one(item)
                if not held:
                    break  # another replica has the conversation and takes what follows
                if item is None:
                    # Listening, a message stored elsewhere meanwhile wakes this lane (dirty)
                    # or a new one; otherwise look once more after letting the lease go.
                    if lane.dirty or (
                        self.leases.shared
                        and not self._listening()
                        and await asyncio.to_thread(self.inbox.has_unfinished, conversation_id)
                    ):
                        continue
                    break
                if retry:
                    break
        except Exception as error:  # the database is unreachable: the messages wait there
            logger.error("connectors.dispatch.lane_error error=%s", type(error).__name__)
            retry = True
        finally:
            del self._lanes[conversation_id]
        if retry and not self._stopping:
            # Try again later, still in order: the message is pending at the head of the lane.
            asyncio.get_running_loop().call_later(self.retry_delay, self._wake, conversation_id)

    async def _turn(self, conversation_id: str) -> InboxItem | None:
        """Under the lease: what must come first, then the conversation's next message."""
        if self.settle is not None:
            await self.settle(conversation_id)
        return await asyncio.to_thread(self.inbox.claim_next, conversation_id, leased=True)

    async def _process_one(self, item: InboxItem) -> bool:
        """Processes one message; True when it must be retried later."""
        try:
            await self.process(item)
        except Retry as reason:
            await asyncio.to_thread(self.inbox.release, item.id, f"retry: {reason}")
            return True
        except Failed as reason:
            await asyncio.to_thread(self.inbox.fail, item.id, str(reason))
            return False
        except Exception as error:
            if is_outage(error):  # a database or Redis is down: the message waits for it
                await asyncio.to_thread(self.inbox.release, item.id, type(error).__name__)
                return True
            # The hub handles the bot's failures; reaching here is a bug in Hilo itself.
            logger.exception(
                "connectors.dispatch.failed inbox_id=%d error=%s", item.id, type(error).__name__
            )
            await asyncio.to_thread(self.inbox.fail, item.id, type(error).__name__)
            return False
        await asyncio.to_thread(self.inbox.finish, item.id)
        return False

    def idle(self) -> bool:
        """No lane is running (tests and the benchmark wait for this)."""
        return not self._lanes

    async def _drain(self, timeout: float) -> None:
        self._stopping = True
        if self._listener is not None:
            self._listener.stop()
        for task in (self._sweeper, self._follower):
            if task is not None:
                task.cancel()
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def stop(self, timeout: float = 20.0) -> None:
        """Lets running turns finish (up to `timeout`); what is left stays pending."""
        try:
            self.bot.submit(self._drain(timeout)).result(timeout=timeout + 5)
        except (concurrent.futures.TimeoutError, RuntimeError):
            logger.warning("connectors.dispatch.drain_timeout")
        self.bot.stop()
