"""The case: one customer's thread while a person owns it, and the one place its status moves.

A case is opened when the bot hands a conversation to a person (`queued`), taken by an agent
(`assigned`), and ends either `resolved` (settled; the conversation goes back to the bot) or
`closed` (it stays with people; the customer's next message opens it again). Nothing assigns
`status` directly: `transition()` checks every move and refuses the rest, so a case can never
be, say, resolved without an agent or handed back twice.

Who owns the conversation is not read from here: it is its own record
(handoff/ownership_store.py), written in the same transactions. `bot` is the one status that
mirrors it (see `Status`).

    bot ──► queued ──► assigned ──► resolved ──► bot
               ▲  ◄──────┤  (released, transferred to a team)
               │         └──► closed ──► queued (the customer writes again)
               └── closed ◄── queued (closed unassigned: spam, duplicates)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """Where a case is in its life.

    `bot` is a resolved case whose hand-back was applied. Ownership does not need it (the
    record says who owns the thread, and whether a hand-back is pending); it is kept because
    the desk API and page show and filter it (`?status=bot`, "Con el bot" on earlier cases)
    and integrations read it. It is written only with the record (`CaseStore.back_to_bot`,
    one transaction), so the two never disagree; nothing reads it to decide who answers.
    A resolved case whose hand-back a new handoff cancelled stays `resolved`.
    """

    BOT = "bot"  # resolved, and the bot has the conversation again
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"  # settled by an agent, who gave the conversation back to the bot
    CLOSED = "closed"  # ended by an agent without going back to the bot

    @property
    def open(self) -> bool:
        """Waiting for or being worked on by a person (counts in queues, load and SLAs)."""
        return self in (Status.QUEUED, Status.ASSIGNED)


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.BOT: frozenset({Status.QUEUED}),
    Status.QUEUED: frozenset({Status.ASSIGNED, Status.CLOSED}),
    Status.ASSIGNED: frozenset({Status.QUEUED, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.BOT}),
    Status.CLOSED: frozenset({Status.QUEUED}),
}


# What an agent may correct when handing a conversation back: the data the customer gave
# the bot. Everything else (proofs, confirmations, the handoff's own state) is the bot's to
# set; a correction of `verified_contact` would let a desk account vouch for a stranger.
CORRECTABLE_SLOTS = frozenset(
    {
        "order_id", "product", "product_size", "product_colour", "quantity", "customer_name",
        "contact", "delivery_street", "delivery_city", "delivery_postal_code",
        "delivery_option", "pickup_store", "payment_method", "return_reason",
        "payment_problem", "change_kind", "change_item", "change_new_variant", "language",
    }
)  # fmt: skip


class Reason(str, Enum):
    """Why the customer needs a person (the bot's `handoff_reason` slot)."""

    CUSTOMER_ASKED = "customer_asked"
    COMPLAINT = "complaint"
    REPEATED_FALLBACK = "repeated_fallback"
    PAYMENT_PROBLEM = "payment_problem"
    DAMAGED_ITEM = "damaged_item"
    FAILED_VERIFICATION = "failed_verification"
    ACCOUNT_HELP = "account_help"
    BOT_ERROR = "bot_error"

    @classmethod
    def parse(cls, value: str | None) -> Reason:
        """A reason from the slot's value; unknown values count as the customer asking."""
        try:
            return cls(value or cls.CUSTOMER_ASKED.value)
        except ValueError:
            return cls.CUSTOMER_ASKED


class Priority(str, Enum):
    """How soon a person must answer (the SLA targets in handoff/support.yml)."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Money and broken promises first: an unhappy customer waiting is worse than a question.
PRIORITY_BY_REASON = {
    Reason.COMPLAINT: Priority.HIGH,
    Reason.PAYMENT_PROBLEM: Priority.HIGH,
    Reason.DAMAGED_ITEM: Priority.HIGH,
    Reason.BOT_ERROR: Priority.HIGH,
    Reason.FAILED_VERIFICATION: Priority.NORMAL,
    Reason.REPEATED_FALLBACK: Priority.NORMAL,
    Reason.CUSTOMER_ASKED: Priority.NORMAL,
    Reason.ACCOUNT_HELP: Priority.NORMAL,
}

# The words the desk shows for each reason, in both languages.
REASON_LABELS = {
    Reason.CUSTOMER_ASKED: ("Pidió una persona", "Asked for a person"),
    Reason.COMPLAINT: ("Queja", "Complaint"),
    Reason.REPEATED_FALLBACK: ("El bot no entendió", "The bot did not understand"),
    Reason.PAYMENT_PROBLEM: ("Problema de pago", "Payment problem"),
    Reason.DAMAGED_ITEM: ("Producto dañado", "Damaged item"),
    Reason.FAILED_VERIFICATION: ("No pudo verificarse", "Could not verify"),
    Reason.ACCOUNT_HELP: ("Ayuda con la cuenta", "Account help"),
    Reason.BOT_ERROR: ("Error del bot", "Bot error"),
}


class InvalidTransition(Exception):
    """A status change the case's life does not allow."""

    def __init__(self, case_id: int, current: Status, wanted: Status) -> None:
        super().__init__(f"case {case_id} cannot go from {current.value} to {wanted.value}")
        self.current = current
        self.wanted = wanted


def transition(case_id: int, current: Status, wanted: Status) -> Status:
    """The new status, if `current` → `wanted` is a move a case may make; else raises."""
    if wanted not in ALLOWED[current]:
        raise InvalidTransition(case_id, current, wanted)
    return wanted


@dataclass(frozen=True)
class MediaItem:
    """A file the customer sent (a photo of the damage, a receipt)."""

    url: str
    content_type: str
    filename: str | None = None


@dataclass(frozen=True)
class Case:
    """A case as the desk and the API see it. Times are Unix seconds (UTC)."""

    id: int
    conversation_id: str
    channel: str
    status: Status
    reason: Reason
    priority: Priority
    language: str
    created_at: float
    sla_due_at: float
    updated_at: float
    profile_id: int | None = None
    customer_name: str | None = None
    assignee_id: int | None = None
    assignee_name: str | None = None
    team: str | None = None
    assigned_at: float | None = None
    first_reply_at: float | None = None
    resolved_at: float | None = None
    window_closes_at: float | None = None
    last_customer_at: float | None = None
    collected: dict[str, Any] = field(default_factory=dict)
    media: tuple[MediaItem, ...] = ()
    summary: str = ""
    outcome: str | None = None
    corrections: dict[str, Any] = field(default_factory=dict)

    @property
    def urgent_at(self) -> float:
        """What the queue sorts by: the SLA due time or the window closing, whichever first."""
        if self.window_closes_at is None:
            return self.sla_due_at
        return min(self.sla_due_at, self.window_closes_at)

    def breached(self, now: float) -> bool:
        """Past its SLA without a first reply from a person."""
        return self.first_reply_at is None and self.status.open and now > self.sla_due_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the API's case object)."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "status": self.status.value,
            "reason": self.reason.value,
            "reason_label": dict(zip(("es", "en"), REASON_LABELS[self.reason], strict=True)),
            "priority": self.priority.value,
            "language": self.language,
            "profile_id": self.profile_id,
            "customer_name": self.customer_name,
            "assignee_id": self.assignee_id,
            "assignee_name": self.assignee_name,
            "team": self.team,
            "created_at": self.created_at,
            "assigned_at": self.assigned_at,
            "first_reply_at": self.first_reply_at,
            "resolved_at": self.resolved_at,
            "sla_due_at": self.sla_due_at,
            "window_closes_at": self.window_closes_at,
            "urgent_at": self.urgent_at,
            "last_customer_at": self.last_customer_at,
            "updated_at": self.updated_at,
            "collected": self.collected,
            "media": [
                {"url": m.url, "content_type": m.content_type, "filename": m.filename}
                for m in self.media
            ],
            "summary": self.summary,
            "outcome": self.outcome,
            "corrections": self.corrections,
            "correctable": sorted(CORRECTABLE_SLOTS),
        }
