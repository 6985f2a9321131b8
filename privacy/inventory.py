"""The one inventory of personal data: every table, column and file of every store Hilo writes.

Each column has a category (what it can hold about a person) and what an erasure does with
it (privacy/erase.py, through the module that owns the store). tests/unit/privacy/
test_inventory.py builds every schema for real (the three packages' migrations and Rasa's
tracker table) and fails when a table or column exists that is not listed here, or one listed
here no longer exists: a new column of personal data cannot ship unclassified. docs/privacy.md
shows this list (`python -m privacy.inventory` prints it; a test keeps the two equal).

Categories:

- `identifier`: names a person or links records to one (a conversation id, which is often a
  phone number; a display name; a profile id; a keyed pseudonym);
- `contact`: reaches them (phone, email, postal address);
- `content`: what they wrote, sent or were told, and what was written about them;
- `operational`: times, statuses, counters and ids that say nothing about anyone alone;
- `none`: not about a person (the catalogue, settings, schema versions).

On erase: `delete` (the person's rows go), `blank` (emptied, the row stays),
`pseudonymize` (replaced by an irreversible keyed pseudonym), `keep`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import Enum


class Category(str, Enum):
    """What a column can hold about a person."""

    IDENTIFIER = "identifier"
    CONTACT = "contact"
    CONTENT = "content"
    OPERATIONAL = "operational"
    NONE = "none"


class Erase(str, Enum):
    """What an erasure does with a column of the person's rows."""

    DELETE = "delete"
    BLANK = "blank"
    PSEUDONYMIZE = "pseudonymize"
    KEEP = "keep"


class About(str, Enum):
    """Whose data a table holds."""

    CUSTOMER = "customer"
    STAFF = "staff"  # agents and admins: not erased by a customer's request
    NOBODY = "nobody"


@dataclass(frozen=True)
class Column:
    """One column, classified."""

    name: str
    category: Category
    erase: Erase
    note: str = ""


@dataclass(frozen=True)
class Table:
    """One table of one store: whose data, who erases it, what each column holds."""

    store: str
    name: str
    about: About
    owner: str  # the module that finds, exports and erases it
    holds: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Files:
    """Personal data outside the databases: files and logs."""

    store: str
    location: str
    owner: str
    holds: str
    category: Category
    erase: str


ID, CONTACT, CONTENT = Category.IDENTIFIER, Category.CONTACT, Category.CONTENT
OP, NONE = Category.OPERATIONAL, Category.NONE
DELETE, BLANK, PSEUDO, KEEP = Erase.DELETE, Erase.BLANK, Erase.PSEUDONYMIZE, Erase.KEEP

Spec = tuple[Category, Erase] | tuple[Category, Erase, str]


def _columns(specs: dict[str, Spec]) -> tuple[Column, ...]:
    return tuple(Column(name, *spec) for name, spec in specs.items())


def _deleted(store: str, name: str, owner: str, holds: str, /, **kinds: Category) -> Table:
    """A customer table whose rows of the person are deleted whole."""
    columns: dict[str, Spec] = {column: (kind, DELETE) for column, kind in kinds.items()}
    return Table(store, name, About.CUSTOMER, owner, holds, _columns(columns))


def _changed(store: str, name: str, owner: str, holds: str, /, **specs: Spec) -> Table:
    """A customer table whose rows stay, with the personal columns blanked or pseudonymized."""
    return Table(store, name, About.CUSTOMER, owner, holds, _columns(specs))


def _kept(
    store: str, name: str, about: About, owner: str, holds: str, /, **kinds: Category
) -> Table:
    """A table that is not the customer's: an erasure does not touch it."""
    columns: dict[str, Spec] = {column: (kind, KEEP) for column, kind in kinds.items()}
    return Table(store, name, about, owner, holds, _columns(columns))


CHANNELS = "connectors/personal_data.py"
HANDOFF = "handoff/personal_data.py"
COMMERCE = "actions/commerce/personal_data.py"
TRACKERS = "privacy/trackers.py"
SCHEMA = "(Alembic)"

TABLES: tuple[Table, ...] = (
    # --- channels: connectors/storage.py (CHANNELS_DATABASE_URL) --------------------------
    _deleted(
        "channels", "channel_inbound", CHANNELS, "every message a customer sent",
        id=OP, channel=OP, provider_id=ID, conversation_id=ID, sent_at=OP, received_at=OP,
        body=CONTENT, status=OP, attempts=OP, processed_at=OP, error=OP,
    ),
    _deleted(
        "channels", "channel_outbound", CHANNELS, "every message sent to a customer",
        id=OP, channel=OP, conversation_id=ID, reply_to=OP, seq=OP, source=OP, author=OP,
        kind=OP, body=CONTENT, provider_id=ID, status=OP, error_code=OP, error_message=CONTENT,
        created_at=OP, updated_at=OP,
    ),
    _deleted(
        "channels", "customer_profiles", CHANNELS, "a person across channels, linked by phone",
        id=ID, phone=CONTACT, display_name=ID, created_at=OP,
    ),
    _deleted(
        "channels", "channel_conversations", CHANNELS,
        "one channel identity: its profile, messaging window and last buttons",
        conversation_id=ID, channel=OP, profile_id=ID, display_name=ID, phone=CONTACT,
        first_seen_at=OP, last_inbound_at=OP, offered_buttons=CONTENT,
    ),
    _kept(
        "channels", "channels_alembic_version", About.NOBODY, SCHEMA, "schema revision",
        version_num=NONE,
    ),
    # --- handoff: handoff/models.py (HANDOFF_DATABASE_URL) ---------------------------------
    _changed(
        "handoff", "handoff_cases", HANDOFF,
        "a conversation handed to people: kept anonymised for statistics",
        id=(OP, KEEP), conversation_id=(ID, PSEUDO, "one keyed pseudonym per case"),
        channel=(OP, KEEP), profile_id=(ID, BLANK), customer_name=(ID, BLANK),
        status=(OP, KEEP, "a case still open is closed"), reason=(OP, KEEP),
        priority=(OP, KEEP), language=(OP, KEEP), team=(OP, KEEP), assignee_id=(OP, KEEP),
        created_at=(OP, KEEP), assigned_at=(OP, KEEP), first_reply_at=(OP, KEEP),
        resolved_at=(OP, KEEP), sla_due_at=(OP, KEEP), window_closes_at=(OP, KEEP),
        urgent_at=(OP, KEEP), last_customer_at=(OP, KEEP), last_ack_at=(OP, KEEP),
        collected=(CONTENT, BLANK), media=(CONTENT, BLANK), summary=(CONTENT, BLANK),
        outcome=(CONTENT, BLANK), corrections=(CONTENT, BLANK), updated_at=(OP, KEEP),
        csat_asked_at=(OP, KEEP), csat_score=(OP, KEEP), csat_comment=(CONTENT, BLANK),
        csat_at=(OP, KEEP),
    ),
    _deleted(
        "handoff", "handoff_ownership", HANDOFF, "who answers a conversation: bot or people",
        conversation_id=ID, owner=OP, case_id=OP, pending=OP, changed_at=OP, applied_at=OP,
    ),
    _changed(
        "handoff", "handoff_case_events", HANDOFF, "every action on a case (its audit log)",
        id=(OP, KEEP), case_id=(OP, KEEP), at=(OP, KEEP), actor=(OP, KEEP),
        action=(OP, KEEP), detail=(CONTENT, BLANK),
    ),
    _deleted(
        "handoff", "handoff_notes", HANDOFF, "agents' internal notes on a case",
        id=OP, case_id=OP, agent_id=OP, text=CONTENT, at=OP,
    ),
    _changed(
        "handoff", "handoff_webhook_deliveries", HANDOFF,
        "events for the CRM (crm/outbox.py): the body sent, kept until pruned",
        id=(OP, KEEP), delivery_id=(OP, KEEP), key=(OP, KEEP, "ids and keyed pseudonyms"),
        event=(OP, KEEP), state=(OP, KEEP, "one not delivered yet becomes erased: never sent"),
        occurred_at=(OP, KEEP), created_at=(OP, KEEP), attempts=(OP, KEEP),
        next_attempt_at=(OP, KEEP), lease_owner=(OP, KEEP), leased_until=(OP, KEEP),
        last_attempt_at=(OP, KEEP), last_status=(OP, KEEP), last_error=(OP, KEEP),
        finished_at=(OP, KEEP), case_id=(OP, KEEP), conversation_id=(ID, BLANK),
        profile_id=(ID, BLANK), payload=(CONTENT, BLANK),
    ),
    _deleted(
        "handoff", "handoff_webhook_conversations", HANDOFF,
        "conversations the CRM feed follows for their summary after a quiet period",
        conversation_id=ID, channel=OP, profile_id=ID, first_in_id=OP, first_in_at=OP,
        last_in_at=OP, summarized_at=OP, contact_due_at=OP,
    ),
    _kept(
        "handoff", "handoff_webhook_cursors", About.NOBODY, "crm/feed.py",
        "how far the CRM feed has read the case audit log and the channels' inbox",
        name=NONE, position=NONE, gaps=NONE, updated_at=NONE,
    ),
    _changed(
        "handoff", "handoff_facts", HANDOFF,
        "what the bot saw and did, for reports: no text, the conversation as a keyed pseudonym",
        id=(OP, KEEP), at=(OP, KEEP), kind=(OP, KEEP),
        conversation_ref=(ID, PSEUDO, "a random token per conversation: still counted, unlinked"),
        contact_id=(OP, KEEP), channel=(OP, KEEP), language=(OP, KEEP), intent=(OP, KEEP),
        confidence=(OP, KEEP), fallback=(OP, KEEP), detail=(OP, KEEP),
    ),
    _changed(
        "handoff", "handoff_contacts", HANDOFF,
        "a conversation's episodes, for reports: counts and times under a keyed pseudonym",
        id=(OP, KEEP),
        conversation_ref=(ID, PSEUDO, "a random token per conversation: still counted, unlinked"),
        channel=(OP, KEEP), language=(OP, KEEP), started_at=(OP, KEEP), last_in_at=(OP, KEEP),
        messages_in=(OP, KEEP), fallbacks=(OP, KEEP), case_id=(OP, KEEP),
        next_started_at=(OP, KEEP),
    ),
    _deleted(
        "handoff", "handoff_nlu_candidates", HANDOFF,
        "messages the bot did not understand, kept for designers to turn into training data",
        id=OP, at=OP, conversation_ref=ID, text=CONTENT, normalized=CONTENT, language=OP,
        predicted=OP, confidence=OP, why=OP, suggested=OP, status=OP, label=OP,
        reviewed_by=OP, reviewed_at=OP,
    ),
    _kept(
        "handoff", "handoff_privacy_audit", About.CUSTOMER, "privacy/audit.py",
        "privacy requests answered: who, when, why, how many; a pseudonym, never the data",
        id=OP, at=OP, action=OP, actor=OP, reason=OP, subject_ref=ID, counts=OP,
    ),
    _kept(
        "handoff", "handoff_agents", About.STAFF, "handoff/auth.py", "desk users",
        id=OP, username=ID, display_name=ID, password_hash=OP, role=OP, team=OP,
        capacity=OP, available=OP, active=OP, created_at=OP,
    ),
    _kept(
        "handoff", "handoff_sessions", About.STAFF, "handoff/auth.py", "desk logins",
        token_hash=OP, agent_id=OP, csrf_token=OP, created_at=OP, expires_at=OP,
    ),
    _kept(
        "handoff", "handoff_login_throttle", About.STAFF, "handoff/throttle.py",
        "wrong passwords per username and per (pseudonymous) address",
        key=ID, attempts=OP, next_allowed_at=OP, updated_at=OP,
    ),
    _kept(
        "handoff", "handoff_canned_responses", About.NOBODY, "handoff/store.py",
        "agents' saved replies", id=OP, title=NONE, text=NONE, language=NONE, created_at=OP,
    ),
    _kept(
        "handoff", "handoff_alembic_version", About.NOBODY, SCHEMA, "schema revision",
        version_num=NONE,
    ),
    # --- commerce: actions/commerce/models.py (DATABASE_URL) -------------------------------
    _changed(
        "commerce", "orders", COMMERCE,
        "a sale: kept for the books (amounts, items, status), without the person",
        id=(OP, KEEP), number=(OP, KEEP), status=(OP, KEEP), customer_name=(ID, BLANK),
        phone=(CONTACT, BLANK), email=(CONTACT, BLANK, "emptied: an order keeps a contact"),
        street=(CONTACT, BLANK), city=(CONTACT, BLANK), postal_code=(CONTACT, BLANK),
        country=(OP, KEEP), delivery_option=(OP, KEEP), payment_method=(OP, KEEP),
        carrier=(OP, KEEP), tracking_number=(ID, BLANK), expected_delivery=(OP, KEEP),
        created_at=(OP, KEEP), shipped_at=(OP, KEEP), delivered_at=(OP, KEEP),
        cancelled_at=(OP, KEEP), subtotal_cents=(OP, KEEP), shipping_cents=(OP, KEEP),
        total_cents=(OP, KEEP),
    ),
    _changed(
        "commerce", "returns", COMMERCE, "a return request: kept, without the customer's words",
        id=(OP, KEEP), number=(OP, KEEP), order_id=(OP, KEEP), reason=(CONTENT, BLANK),
        status=(OP, KEEP), created_at=(OP, KEEP),
    ),
    _kept(
        "commerce", "order_items", About.CUSTOMER, COMMERCE,
        "what an order bought (kept with the order: no personal data)",
        id=OP, order_id=OP, variant_id=OP, sku=OP, product_name=OP, size=OP, colour=OP,
        quantity=OP, unit_price_cents=OP,
    ),
    _deleted(
        "commerce", "lookup_attempts", COMMERCE, "order lookups per sender (a digest of the id)",
        id=OP, sender=ID, at=OP,
    ),
    _deleted(
        "commerce", "verification_failures", COMMERCE, "wrong proofs of owning an order",
        id=OP, order_number=OP, source=ID, at=OP,
    ),
    _deleted(
        "commerce", "one_time_codes", COMMERCE, "codes mailed to prove owning an order",
        id=OP, order_number=OP, source=ID, digest=OP, expires_at=OP, attempts=OP, used=OP,
    ),
    _kept(
        "commerce", "products", About.NOBODY, "actions/commerce/seed.py", "the catalogue",
        id=NONE, slug=NONE, name=NONE, name_en=NONE, category=NONE, aliases=NONE,
    ),
    _kept(
        "commerce", "variants", About.NOBODY, "actions/commerce/seed.py", "sizes, colours, stock",
        id=NONE, product_id=NONE, sku=NONE, size=NONE, colour=NONE, colour_en=NONE,
        price_cents=NONE, stock=NONE,
    ),
    _kept(
        "commerce", "counters", About.NOBODY, "actions/commerce/sql.py", "order and return numbers",
        name=NONE, value=NONE,
    ),
    _kept(
        "commerce", "commerce_alembic_version", About.NOBODY, SCHEMA, "schema revision",
        version_num=NONE,
    ),
    # --- trackers: Rasa's SQL tracker store (TRACKER_DATABASE_URL) -------------------------
    _deleted(
        "trackers", "events", TRACKERS,
        "every event of every conversation: the customer's words, slots, metadata, replies",
        id=OP, sender_id=ID, type_name=OP, timestamp=OP, intent_name=OP, action_name=OP,
        data=CONTENT,
    ),
)  # fmt: skip

FILES: tuple[Files, ...] = (
    Files(
        "media", "HILO_MEDIA_DIR (var/media/)", "connectors/media_store.py",
        "photos and documents customers sent, invoices the bot sent", CONTENT,
        "the person's files are deleted (found through their messages and cases)",
    ),
    Files(
        "mail", "var/mail/*.eml (development only)", "actions/mailer.py",
        "one-time codes the bot would have mailed", CONTACT,
        "messages to the person's emails are deleted; a mail server keeps its own copies",
    ),
    Files(
        "logs", "var/log/*.log, process output", "hilo/log_privacy.py",
        "what the processes did", OP,
        "nothing to erase: every record is scrubbed as it is made (no message text, phone "
        "or email; conversations named by keyed pseudonyms, hilo/pseudonyms.py)",
    ),
    Files(
        "event broker", "RABBITMQ_URL (when set)", "Rasa",
        "every tracker event, published for other consumers", CONTENT,
        "outside Hilo: consumers of the queue must erase what they kept",
    ),
)  # fmt: skip

STORES = ("channels", "handoff", "commerce", "trackers")


def tables(store: str | None = None) -> dict[str, Table]:
    """The inventory's tables by name (of one store, or all)."""
    return {table.name: table for table in TABLES if store is None or table.store == store}


def _described(column: Column) -> str:
    said = [] if column.category in (OP, NONE) else [column.category.value]
    said += [column.note] if column.note else []
    return f"`{column.name}`" + (f" ({'; '.join(said)})" if said else "")


def markdown() -> str:
    """The inventory as docs/privacy.md shows it (between its inventory markers).

    One row per table: whose data it is, the module that erases it, and its columns by what
    an erasure does to them, each personal one with its category.
    """
    lines: list[str] = []
    for store in STORES:
        lines += [f"#### {store}", "", "| Table | Whose | Owner | Columns, by what erase does |"]
        lines.append("|---|---|---|---|")
        for table in (t for t in TABLES if t.store == store):
            groups = []
            for action in Erase:
                named = [_described(c) for c in table.columns if c.erase is action]
                if named:
                    groups.append(f"**{action.value}**: {', '.join(named)}")
            lines.append(
                f"| `{table.name}`: {table.holds} | {table.about.value} | `{table.owner}` | "
                f"{'; '.join(groups)} |"
            )
        lines.append("")
    lines += ["#### Files and logs", "", "| Store | Where | Owner | Holds | Kind | On erase |"]
    lines.append("|---|---|---|---|---|---|")
    for item in FILES:
        lines.append(
            f"| {item.store} | {item.location} | `{item.owner}` | {item.holds} | "
            f"{item.category.value} | {item.erase} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    """`python -m privacy.inventory`: prints the inventory as Markdown."""
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
