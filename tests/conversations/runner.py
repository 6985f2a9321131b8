"""Runs conversation scripts against a running Hilo through the sandbox channel, and judges them.

The stack is the real one (`HiloProcesses`: the Rasa server with the repository's
credentials.yml and the trained model, the action server, the demo store on SQLite). Before
each conversation the store is reseeded, so every script starts from docs/demo-store.md.
Each customer message is posted to the sandbox webhook as the page posts it; the runner waits
until the channels core has processed it, then reads what the customer would see from the
outbound store. After the last message it reads the outcome from the store's and the
handoff's databases, and the questions the bot asked from the tracker store.

Judged for every conversation (FORMAT.md): each turn's `expect`, that every message got a
reply unless a person owns the conversation, that every reply is in the conversation's
language, that nothing in `never_shown` was shown, that nothing the customer already gave was
asked again (a form's `utter_ask_<slot>`/`action_ask_<slot>` after the turn that gave it),
and the outcome in the databases.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests.conversations.language import language_of
from tests.conversations.script import GIVES, Conversation, Turn, fold
from tests.support.servers import HiloProcesses
from tests.support.smtp import MailServer

TURN_TIMEOUT = 60.0
# Written in a turn, it stands for the one-time code the bot just mailed (tests/support/smtp.py).
CODE_MARK = "{code}"
# The questions before which an irreversible change may happen (the customer's yes to them),
# and the "nothing done yet; reply yes or no" after a "wait", which asks the same.
CONFIRMATION_QUESTIONS = frozenset(
    {"utter_ask_cancel_confirmed", "utter_ask_change_confirmed", "utter_ask_return_confirmed"}
    | {"utter_ask_change_item_confirmed", "utter_ask_order_confirmed"}
    | {"utter_hold_cancel", "utter_hold_change", "utter_hold_return", "utter_hold_order"}
)
OPEN_CASE = ("queued", "assigned")
# An irreversible step the script said must not happen: the worst kind of failure.
IRREVERSIBLE = "irreversible"
ASKED_TWICE = "asked twice"


def photo() -> bytes:
    """A small real JPEG, as a phone sends one."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


@dataclass
class Reply:
    """One message the customer saw."""

    text: str
    buttons: list[dict[str, Any]]
    source: str

    def searchable(self) -> str:
        titles = " ".join(str(b.get("title", "")) for b in self.buttons)
        return fold(f"{self.text} {titles}")


@dataclass
class Result:
    """How one conversation went."""

    conversation: Conversation
    sender: str = ""  # the sandbox conversation it was played as
    failures: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    transcript: list[tuple[str, list[Reply]]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def fail(self, kind: str, detail: str) -> None:
        self.failures.append((kind, detail))


class Stack:
    """A running Hilo on temporary databases, talked to through the sandbox."""

    def __init__(self, processes: HiloProcesses, mail: MailServer) -> None:
        self.processes = processes
        self.mail = mail
        self.commerce = sa.create_engine(f"sqlite:///{processes.workdir / 'commerce.db'}")
        self.channels = sa.create_engine(f"sqlite:///{processes.channels_db}")
        self.tracker = sa.create_engine(f"sqlite:///{processes.tracker_db}")
        self.client = httpx.Client(base_url=processes.url, timeout=30)
        self._photo = photo()

    @classmethod
    def start(cls, model: Path, workdir: Path) -> Stack:
        """Both servers on the repository's credentials.yml (development profile)."""
        root = Path(__file__).resolve().parents[2]
        mail = MailServer()  # the one-time codes' emails
        processes = HiloProcesses(
            model=model,
            workdir=workdir,
            credentials=(root / "credentials.yml").read_text(),
            env={
                "HILO_ENV": "development",
                "HILO_MEDIA_DIR": str(workdir / "media"),
                "HILO_SMTP_URL": mail.url,
            },
        )
        processes.start_actions()
        try:
            processes.start_rasa()
        except BaseException:
            processes.stop()
            mail.close()
            raise
        return cls(processes, mail)

    def stop(self) -> None:
        self.mail.close()
        self.client.close()
        for engine in (self.commerce, self.channels, self.tracker):
            engine.dispose()
        self.processes.stop()

    # ------------------------------------------------------------------ the store

    def reseed(self) -> None:
        """The demo store as docs/demo-store.md describes it (lookup counts reset too)."""
        from actions.commerce.seed import seed

        seed(self.commerce)

    def seeded_marks(self) -> dict[str, int]:
        with self.commerce.connect() as connection:
            return {
                "order": connection.execute(sa.text("SELECT max(id) FROM orders")).scalar_one(),
                "return": connection.execute(
                    sa.text("SELECT coalesce(max(id), 0) FROM returns")
                ).scalar_one(),
            }

    # ------------------------------------------------------------------ talking

    def say(self, conversation: str, number: int, turn: Turn, last: list[Reply]) -> list[Reply]:
        """Sends one turn and returns the replies to it."""
        message_id = f"m{number}"
        if turn.button is not None:
            button = next(
                (
                    b
                    for reply in reversed(last)
                    for b in reply.buttons
                    if turn.button.search(fold(str(b.get("title", ""))))
                ),
                None,
            )
            if button is None:
                raise LookupError(f"no button matching {turn.button.pattern!r} to tap")
            body: dict[str, Any] = {
                "json": {
                    "conversation": conversation,
                    "message_id": message_id,
                    "text": str(button.get("title", "")),
                    "payload": str(button.get("payload", "")),
                }
            }
        elif turn.photo is not None:
            body = {
                "data": {
                    "conversation": conversation,
                    "message_id": message_id,
                    "text": turn.photo,
                },
                "files": {"file": ("foto.jpg", self._photo, "image/jpeg")},
            }
        else:
            text = str(turn.user)
            if CODE_MARK in text:  # the customer reads the code the bot mailed
                try:
                    code = self.mail.latest_code()
                except AssertionError as error:  # the bot never sent one: this turn fails
                    raise LookupError(str(error)) from error
                text = text.replace(CODE_MARK, code)
            body = {"json": {"conversation": conversation, "message_id": message_id, "text": text}}
        before = self._last_outbound(conversation)
        answer = self.client.post("/webhooks/sandbox/webhook", **body)
        if answer.status_code != 200:
            raise RuntimeError(f"sandbox answered {answer.status_code}: {answer.text[:200]}")
        self._wait_processed(f"{conversation}:{message_id}")
        return self._outbound_after(conversation, before)

    def _wait_processed(self, provider_id: str) -> None:
        deadline = time.monotonic() + TURN_TIMEOUT
        query = sa.text("SELECT status FROM channel_inbound WHERE provider_id = :p")
        while time.monotonic() < deadline:
            with self.channels.connect() as connection:
                status = connection.execute(query, {"p": provider_id}).scalar()
            if status in ("done", "failed"):
                return
            time.sleep(0.03)
        raise TimeoutError(f"message {provider_id} not processed in {TURN_TIMEOUT} s")

    def _last_outbound(self, conversation: str) -> int:
        query = sa.text(
            "SELECT coalesce(max(id), 0) FROM channel_outbound WHERE conversation_id = :c"
        )
        with self.channels.connect() as connection:
            return int(connection.execute(query, {"c": f"sandbox:{conversation}"}).scalar_one())

    def _outbound_after(self, conversation: str, after: int) -> list[Reply]:
        query = sa.text(
            "SELECT body, source, status FROM channel_outbound"
            " WHERE conversation_id = :c AND id > :a ORDER BY id"
        )
        with self.channels.connect() as connection:
            rows = connection.execute(query, {"c": f"sandbox:{conversation}", "a": after}).all()
        replies = []
        for body, source, status in rows:
            if status == "held":  # kept back while a person owns the conversation: not seen
                continue
            part = json.loads(body)
            replies.append(
                Reply(str(part.get("text") or ""), list(part.get("buttons") or []), source)
            )
        return replies

    # ------------------------------------------------------------------ what happened

    def asked(self, conversation: str) -> list[list[str]]:
        """The slots a form asked for after each customer message, per turn.

        A form sets `requested_slot` to the slot it asks for right before asking (its
        `utter_ask_` response or `action_ask_` action runs inside the form, unlogged).
        """
        query = sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id")
        with self.tracker.connect() as connection:
            rows = connection.execute(query, {"s": f"sandbox:{conversation}"}).all()
        turns: list[list[str]] = []
        for type_name, data in rows:
            if type_name == "user":
                turns.append([])
            elif type_name == "slot" and turns:
                event = json.loads(data)
                if event.get("name") == "requested_slot" and event.get("value"):
                    turns[-1].append(str(event["value"]))
        return turns

    def event_log(self, conversation: str) -> list[str]:
        """The conversation's tracker events, one line each, for debugging a failure."""
        query = sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id")
        with self.tracker.connect() as connection:
            rows = connection.execute(query, {"s": f"sandbox:{conversation}"}).all()
        lines = []
        for type_name, data in rows:
            event = json.loads(data)
            if type_name == "user":
                intent = (event.get("parse_data") or {}).get("intent") or {}
                lines.append(f"user      {intent.get('name')} {intent.get('confidence', 0):.2f}")
            elif type_name == "action":
                lines.append(f"  action  {event.get('name')}")
            elif type_name == "slot":
                lines.append(f"  slot    {event.get('name')} = {event.get('value')!r}")
            elif type_name == "active_loop":
                lines.append(f"  loop    {event.get('name')}")
            elif type_name == "bot":
                meta = event.get("metadata") or {}
                lines.append(f"  bot     {meta.get('utter_action') or ''}")
        return lines

    def questions_before(self, conversation: str) -> list[set[str]]:
        """Per customer message, the responses the bot gave right before it."""
        query = sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id")
        with self.tracker.connect() as connection:
            rows = connection.execute(query, {"s": f"sandbox:{conversation}"}).all()
        before: list[set[str]] = []
        said: set[str] = set()
        for type_name, data in rows:
            if type_name == "user":
                before.append(said)
                said = set()
            elif type_name == "bot":
                action = (json.loads(data).get("metadata") or {}).get("utter_action")
                if action:
                    said.add(str(action))
        return before

    def irreversible_state(self) -> dict[str, Any]:
        """What an irreversible step changes: orders' status, address and items; returns."""
        with self.commerce.connect() as connection:
            orders = {
                number: (status, street, city, postal_code)
                for number, status, street, city, postal_code in connection.execute(
                    sa.text("SELECT number, status, street, city, postal_code FROM orders")
                )
            }
            items = sorted(connection.execute(sa.text("SELECT order_id, sku FROM order_items")))
            returns = connection.execute(sa.text("SELECT count(*) FROM returns")).scalar_one()
        return {"orders": orders, "items": items, "returns": returns}

    def cases(self, conversation: str) -> list[tuple[str, str]]:
        query = sa.text(
            "SELECT reason, status FROM handoff_cases WHERE conversation_id = :c ORDER BY id"
        )
        with self.commerce.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(query, {"c": f"sandbox:{conversation}"}).all()
            ]

    def order(self, number: str) -> dict[str, Any] | None:
        query = sa.text("SELECT * FROM orders WHERE number = :n")
        with self.commerce.connect() as connection:
            row = connection.execute(query, {"n": str(number)}).mappings().first()
        return dict(row) if row else None

    def new_orders(self, after_id: int) -> list[dict[str, Any]]:
        with self.commerce.connect() as connection:
            orders = [
                dict(row)
                for row in connection.execute(
                    sa.text("SELECT * FROM orders WHERE id > :a ORDER BY id"), {"a": after_id}
                ).mappings()
            ]
            for order in orders:
                order["items"] = [
                    dict(item)
                    for item in connection.execute(
                        sa.text("SELECT * FROM order_items WHERE order_id = :o"), {"o": order["id"]}
                    ).mappings()
                ]
        return orders

    def new_returns(self, after_id: int) -> list[dict[str, Any]]:
        query = sa.text(
            "SELECT r.*, o.number AS order_number FROM returns r JOIN orders o ON o.id = r.order_id"
            " WHERE r.id > :a ORDER BY r.id"
        )
        with self.commerce.connect() as connection:
            return [dict(row) for row in connection.execute(query, {"a": after_id}).mappings()]


def run(stack: Stack, conversation: Conversation) -> Result:
    """Plays one conversation from a freshly seeded store and judges it."""
    stack.reseed()
    stack.mail.clear()  # a {code} turn reads only this conversation's code
    marks = stack.seeded_marks()
    uid = f"{conversation.id[:40]}-{uuid.uuid4().hex[:8]}".replace(".", "-")
    result = Result(conversation, sender=uid)
    language = conversation.lang
    last: list[Reply] = []
    changed_at: list[int] = []  # turns after which an irreversible change was in the store
    state = stack.irreversible_state()
    for number, turn in enumerate(conversation.turns, start=1):
        try:
            replies = stack.say(uid, number, turn, last)
        except (LookupError, TimeoutError, RuntimeError) as error:
            result.fail("turn", f"turn {number} ({turn.shown()}): {error}")
            return result
        now = stack.irreversible_state()
        if now != state:
            changed_at.append(number)
            state = now
        result.transcript.append((turn.shown(), replies))
        language = turn.expect.lang or language
        _judge_turn(result, number, turn, replies, language)
        if not replies and not any(status in OPEN_CASE for _, status in stack.cases(uid)):
            result.fail("silence", f"turn {number} ({turn.shown()}): no reply")
        last = replies or last
    _judge_questions(result, stack.asked(uid))
    before = stack.questions_before(uid)
    for number in changed_at:
        asked = before[number - 1] if number - 1 < len(before) else set()
        if not asked & CONFIRMATION_QUESTIONS:
            result.fail(
                IRREVERSIBLE,
                f"turn {number} ({conversation.turns[number - 1].shown()}) changed the store,"
                " but the bot had not just asked to confirm",
            )
    _judge_outcome(result, stack, uid, marks)
    shown = fold(" ".join(r.text for _, replies in result.transcript for r in replies))
    for secret in conversation.never_shown:
        if fold(secret) in shown:
            result.fail("leak", f"showed {secret!r}")
    return result


def _judge_turn(
    result: Result, number: int, turn: Turn, replies: list[Reply], language: str
) -> None:
    text = " ".join(reply.searchable() for reply in replies)
    where = f"turn {number} ({turn.shown()})"
    expect = turn.expect
    if expect.any and not any(p.search(text) for p in expect.any):
        result.fail("expect", f"{where}: none of {[p.pattern for p in expect.any]}")
    for p in expect.all:
        if not p.search(text):
            result.fail("expect", f"{where}: missing {p.pattern!r}")
    for p in expect.none:
        if p.search(text):
            result.fail("expect", f"{where}: must not say {p.pattern!r}")
    for reply in replies:
        judged = language_of(reply.text)
        if judged is not None and judged != language:
            result.fail("language", f"{where}: reply in {judged}: {reply.text[:80]!r}")


def _judge_questions(result: Result, asked: list[list[str]]) -> None:
    given: dict[str, int] = {}
    reported: set[str] = set()  # once per datum: the first time it was asked again
    for number, (turn, questions) in enumerate(
        zip(result.conversation.turns, asked, strict=False), 1
    ):
        for datum in turn.gives:
            for slot in GIVES[datum]:
                given.setdefault(slot, number)
        for slot in questions:
            if slot in given and slot not in reported:
                reported.add(slot)
                result.fail(
                    ASKED_TWICE, f"turn {number}: asked for {slot}, given in turn {given[slot]}"
                )


def _judge_outcome(result: Result, stack: Stack, uid: str, marks: dict[str, int]) -> None:
    outcome = result.conversation.outcome
    for reason, _ in stack.cases(uid):
        if reason == "bot_error":
            result.fail("error", "the bot failed on a turn (case bot_error)")
    if "order" in outcome:
        want = outcome["order"]
        order = stack.order(str(want["id"]))
        status = order["status"] if order else None
        if status != want["status"]:
            kind = IRREVERSIBLE if status == "cancelled" else "outcome"
            result.fail(kind, f"order {want['id']} is {status}, expected {want['status']}")
    if "order_address" in outcome:
        want = outcome["order_address"]
        order = stack.order(str(want["id"])) or {}
        address = fold(f"{order.get('street')} {order.get('city')} {order.get('postal_code')}")
        if fold(str(want["contains"])) not in address:
            result.fail("outcome", f"order {want['id']} address is {address!r}")
    if "new_order" in outcome:
        _judge_new_order(result, outcome["new_order"], stack.new_orders(marks["order"]))
    if "return" in outcome:
        returns = stack.new_returns(marks["return"])
        want = outcome["return"]
        if want in (None, "none"):
            if returns:
                result.fail(IRREVERSIBLE, f"a return was created: {returns[0]['number']}")
        elif not any(
            str(r["order_number"]) == str(want["order"])
            and re.search(fold(str(want.get("reason", ""))), fold(str(r["reason"])))
            for r in returns
        ):
            result.fail("outcome", f"no return for {want['order']} matching; got {returns}")
    if "case" in outcome:
        reasons = [reason for reason, _ in stack.cases(uid)]
        want = outcome["case"]
        if want in (None, "none"):
            if reasons:
                result.fail("outcome", f"a case was opened: {reasons}")
        elif want["reason"] not in reasons:
            result.fail("outcome", f"expected a case {want['reason']}, got {reasons}")


def _judge_new_order(result: Result, want: Any, orders: list[dict[str, Any]]) -> None:
    if want in (None, "none"):
        if orders:
            result.fail(IRREVERSIBLE, f"an order was placed: {orders[0]['number']}")
        return
    if len(orders) != 1:
        result.fail("outcome", f"expected one new order, got {len(orders)}")
        return
    order = orders[0]
    item = order["items"][0] if order["items"] else {}
    checks = {
        "product": fold(str(item.get("product_name"))),
        "size": fold(str(item.get("size"))),
        "colour": fold(str(item.get("colour"))),
        "quantity": str(item.get("quantity")),
        "delivery": str(order["delivery_option"]),
        "payment": str(order["payment_method"]),
    }
    for key, value in want.items():
        if key not in checks:
            result.fail("outcome", f"new_order has no {key!r} to check")
            continue
        expected = fold(str(value))
        got = checks[key]
        matches = (
            got == expected
            if key in ("size", "quantity", "delivery", "payment")
            else re.search(expected, got)
        )
        if not matches:
            result.fail("outcome", f"new order {key} is {got!r}, expected {expected!r}")


@dataclass
class Report:
    """Pass rates per language and flow, and every failure, as `make conversations` prints."""

    results: list[Result]

    def rate(self, results: list[Result]) -> str:
        passed = sum(r.passed for r in results)
        return f"{passed}/{len(results)} ({100 * passed / max(1, len(results)):.1f} %)"

    @property
    def pass_rate(self) -> float:
        return sum(r.passed for r in self.results) / max(1, len(self.results))

    def count(self, kind: str) -> int:
        return sum(1 for r in self.results for k, _ in r.failures if k == kind)

    def text(self, transcripts: bool = False) -> str:
        lines = [f"conversations: {self.rate(self.results)} passed"]
        for title, key in (("language", "lang"), ("flow", "flow")):
            groups: dict[str, list[Result]] = defaultdict(list)
            for r in self.results:
                groups[getattr(r.conversation, key)].append(r)
            lines.append(f"by {title}:")
            lines += [f"  {name:10s} {self.rate(group)}" for name, group in sorted(groups.items())]
        lines.append(f"asked twice: {self.count(ASKED_TWICE)}")
        lines.append(f"irreversible steps without a clear yes: {self.count(IRREVERSIBLE)}")
        failed = [r for r in self.results if not r.passed]
        if failed:
            lines.append("failed:")
        for r in failed:
            lines.append(f"  {r.conversation.id} ({r.conversation.source})")
            lines += [f"    - {kind}: {detail}" for kind, detail in r.failures]
            if transcripts:
                for said, replies in r.transcript:
                    lines.append(f"      > {said}")
                    lines += [f"      < {reply.text[:300]!r}" for reply in replies]
        return "\n".join(lines)
