"""The desk's live feed: what changed, pushed to every open page within a second.

One task per desk process looks at the channels database (messages in and out, delivery
statuses) and the handoff database (cases) whenever PostgreSQL notifies a new or changed
message (connectors/notifications.py `ChangeListener`, whichever replica stored it), and at least
every `POLL_SECONDS` (`POLL_SECONDS_SQLITE` on SQLite, where polling is all there is), and:

- tells the pages (server-sent events) which cases and conversations changed;
- notes each customer message on its case (a closed case opens again) and, at most once
  every `ACK_SECONDS` per case, tells the customer "we got it" with the promise, plus when
  the team is back if it is out of hours;
- gives queued cases to agents with room.

Handing a resolved conversation back to the bot is not the desk's job: the Rasa server does
it (handoff/ownership.py), so it happens with no desk running.

Reading by indexed ids and times keeps the feed the same on SQLite and PostgreSQL and
survives a restart (it starts from "now"); a notification only says "look now", so one that
is lost (the database restarting) costs at most a poll. The benchmark (bench/desk.py)
measures customer message → visible in the desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from handoff.case import Case, Status
from handoff.conversations import ConversationReader
from handoff.rasa_client import RasaClient, RasaError
from handoff.service import Handoff
from handoff.texts import received_notice

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # with PostgreSQL's notifications: the fallback (and for case changes)
POLL_SECONDS_SQLITE = 0.25
ACK_SECONDS = 3 * 3600.0  # "at most one 'we got it' per few hours"
ASSIGN_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class Update:
    """What a page hears: a case changed, or a conversation got a message."""

    kind: str  # "case" | "message" | "closing"
    data: dict[str, object]
    # The case itself, so each page's stream can add what its user may do with it
    # (`allowed_actions`, handoff/desk/app.py `case_json`) before sending.
    subject: Case | None = field(default=None, compare=False)

    def encode(self) -> bytes:
        """A server-sent event."""
        return f"event: {self.kind}\ndata: {json.dumps(self.data)}\n\n".encode()


class Broadcaster:
    """Fans updates out to every connected page (each has its own queue)."""

    def __init__(self) -> None:
        """No listeners yet."""
        self._queues: set[asyncio.Queue[Update]] = set()

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[Update]]:
        """A queue of updates for one page, while it stays connected."""
        queue: asyncio.Queue[Update] = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def publish(self, update: Update) -> None:
        """To every page; a page too slow to keep up loses old updates, not new ones."""
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(update)

    def close(self) -> None:
        """Ends every page's stream: the process is stopping.

        A stream otherwise lives as long as its tab, and aiohttp waits for open requests
        before it exits (a minute by default). The pages' EventSource reconnects, to
        another desk process behind the proxy or to this one once it is back.
        """
        self.publish(CLOSING)


CLOSING = Update("closing", {})


class Feed:
    """The polling loop (see the module docstring)."""

    def __init__(
        self,
        handoff: Handoff,
        conversations: ConversationReader,
        rasa: RasaClient,
        broadcaster: Broadcaster,
    ) -> None:
        """Starts from what exists now: older messages are not news."""
        self.handoff = handoff
        self.store = handoff.store
        self.conversations = conversations
        self.rasa = rasa
        self.broadcaster = broadcaster
        self._after_in, self._after_out = conversations.latest_cursor()
        self._cases_after = time.time()
        self._next_assign = 0.0

    async def run(self) -> None:
        """Looks on every notification and poll until cancelled; errors are logged, not fatal."""
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def wake() -> None:  # from the listener's thread
            loop.call_soon_threadsafe(woken.set)

        listener = self.conversations.listen(wake)
        every = POLL_SECONDS if listener is not None else POLL_SECONDS_SQLITE
        try:
            while True:
                woken.clear()
                try:
                    await self.tick()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    logger.exception("handoff.feed.error error=%s", type(error).__name__)
                    await asyncio.sleep(1.0)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(woken.wait(), every)
        finally:
            if listener is not None:
                listener.stop()

    async def tick(self) -> None:
        """One round: messages, cases, assignments."""
        received, changed = await asyncio.to_thread(
            self.conversations.changes, self._after_in, self._after_out
        )
        for item in received:
            self._after_in = max(self._after_in, item.row_id)
            await self._customer_wrote(item.conversation_id, item.at)
        for item in changed:
            self._after_out = max(self._after_out, item.at)
            await self._message_changed(item.conversation_id)
        cases = await asyncio.to_thread(self.store.changed_since, self._cases_after)
        for case in cases:
            self._cases_after = max(self._cases_after, case.updated_at)
            self.broadcaster.publish(Update("case", {"case": case.to_dict()}, subject=case))
        now = time.time()
        if now >= self._next_assign:
            self._next_assign = now + ASSIGN_EVERY_SECONDS
            await asyncio.to_thread(self.store.assign_waiting)

    async def _message_changed(self, conversation_id: str) -> None:
        case = await asyncio.to_thread(self.store.with_people, conversation_id)
        self.broadcaster.publish(
            Update(
                "message",
                {"conversation_id": conversation_id, "case_id": case.id if case else None},
            )
        )

    async def _customer_wrote(self, conversation_id: str, at: float) -> None:
        """Notes the message on the case of people who still own the conversation.

        Once an agent has given it back to the bot (the hand-back pending), the bot answers
        it: no "we got it", and the case is not theirs to reopen.
        """
        case = await asyncio.to_thread(
            lambda: self.store.with_people(conversation_id, handing_back=False)
        )
        self.broadcaster.publish(
            Update(
                "message",
                {"conversation_id": conversation_id, "case_id": case.id if case else None},
            )
        )
        if case is None:
            return
        window = await asyncio.to_thread(
            self.conversations.window, case.channel, conversation_id, time.time()
        )
        case = await asyncio.to_thread(self.store.customer_wrote, case.id, at, window["closes_at"])
        await self._acknowledge(case)

    async def _acknowledge(self, case: Case) -> None:
        """At most one "we got it" per `ACK_SECONDS`, with when to expect a person.

        Once an agent is talking with the customer, their replies are the acknowledgement.
        """
        if case.status is Status.ASSIGNED and case.first_reply_at is not None:
            return
        if not await asyncio.to_thread(
            self.store.take_acknowledgement, case.id, time.time(), ACK_SECONDS
        ):
            return
        when, closed = await asyncio.to_thread(self.handoff.promise, case)
        text = received_notice(when, case.language)
        try:
            await self.rasa.hilo_says(
                case.conversation_id, case.channel, f"{text} {closed}" if closed else text
            )
        except RasaError as error:
            logger.warning("handoff.feed.ack_failed case=%d error=%s", case.id, error)
