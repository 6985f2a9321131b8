"""The handoff schema: agents, sessions, cases, ownership, the audit log, notes, canned replies.

Also the record of privacy requests answered (privacy/audit.py writes it). Created and
changed only by the Alembic migrations in `handoff/migrations/` (see
`handoff/database.py`); these table objects are what the queries use. Times are Unix seconds
(UTC) as floats, like Rasa's events, so the desk compares them with message times directly.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ROLES = ("agent", "supervisor", "admin")
STATUSES = ("bot", "queued", "assigned", "resolved", "closed")
UNFINISHED = "status IN ('queued', 'assigned', 'closed')"

agents = sa.Table(
    "handoff_agents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("team", sa.String(64)),
    sa.Column("capacity", sa.Integer, nullable=False, server_default="5"),
    sa.Column("available", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),
    sa.CheckConstraint("capacity >= 0", name="capacity"),
)

# Login sessions: the browser's cookie or an API bearer token, stored hashed.
sessions = sa.Table(
    "handoff_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("handoff_agents.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# Wrong-password brakes (handoff/throttle.py): one row per username and per client address.
login_throttle = sa.Table(
    "handoff_login_throttle",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),  # "user:<name>" or "ip:<pseudonym>"
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_allowed_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_handoff_login_throttle_updated", "updated_at"),
)

cases = sa.Table(
    "handoff_cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("profile_id", sa.Integer),  # connectors' customer profile (linked by phone)
    sa.Column("customer_name", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("team", sa.String(64)),
    sa.Column("assignee_id", sa.Integer, sa.ForeignKey("handoff_agents.id")),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("assigned_at", sa.Float),
    sa.Column("first_reply_at", sa.Float),
    sa.Column("resolved_at", sa.Float),
    sa.Column("sla_due_at", sa.Float, nullable=False),
    sa.Column("window_closes_at", sa.Float),
    # min(sla_due_at, window_closes_at): the queue's order, kept in a column to be indexed.
    sa.Column("urgent_at", sa.Float, nullable=False),
    sa.Column("last_customer_at", sa.Float),
    sa.Column("last_ack_at", sa.Float),  # the last "we got your message" while waiting
    sa.Column("collected", sa.Text, nullable=False, server_default="{}"),  # slots, JSON
    sa.Column("media", sa.Text, nullable=False, server_default="[]"),  # JSON list
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("outcome", sa.Text),
    # What the agent corrected in `collected`: set in the bot's slots when it takes over.
    sa.Column("corrections", sa.Text, nullable=False, server_default="{}"),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.CheckConstraint(
        "status IN ('bot', 'queued', 'assigned', 'resolved', 'closed')", name="status"
    ),
    sa.Index("ix_handoff_cases_queue", "status", "urgent_at"),
    sa.Index("ix_handoff_cases_assignee", "assignee_id", "status"),
    sa.Index("ix_handoff_cases_profile", "profile_id"),
    sa.Index("ix_handoff_cases_updated", "updated_at"),
    # One unfinished case per conversation, even when two handoffs race. A resolved case is
    # finished: a handoff while its hand-back is still pending opens a new one.
    sa.Index(
        "uq_handoff_cases_unfinished",
        "conversation_id",
        unique=True,
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    ),
)

# Who owns each conversation, the bot or people (handoff/ownership_store.py), apart from
# where its case is in its life: one row per conversation, written in the transaction of
# the case's move. `pending` is the outbox of a change not yet applied to Rasa's tracker.
ownership = sa.Table(
    "handoff_ownership",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("owner", sa.String(8), nullable=False),  # "bot" | "people"
    # The case that made the last change (the one people work on while they own it).
    sa.Column("case_id", sa.Integer, sa.ForeignKey("handoff_cases.id"), nullable=False),
    sa.Column("pending", sa.String(8)),  # None | "to_bot": resolved, tracker not yet resumed
    sa.Column("changed_at", sa.Float, nullable=False),
    sa.Column("applied_at", sa.Float),  # when the tracker was brought in line; None if pending
    sa.CheckConstraint("owner IN ('bot', 'people')", name="owner"),
    sa.CheckConstraint(
        "pending IS NULL OR (pending = 'to_bot' AND owner = 'people')", name="pending"
    ),
    sa.Index("ix_handoff_ownership_pending", "pending"),
)

# Every action on a case, by whom and when (the audit log the desk and supervisors read).
case_events = sa.Table(
    "handoff_case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("handoff_cases.id"), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),  # "agent:3", "bot", "system", "customer"
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_handoff_case_events_case", "case_id", "id"),
)

notes = sa.Table(
    "handoff_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("handoff_cases.id"), nullable=False),
    sa.Column("agent_id", sa.Integer, sa.ForeignKey("handoff_agents.id"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_handoff_notes_case", "case_id", "id"),
)

canned = sa.Table(
    "handoff_canned_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # with {nombre}, {pedido} … variables
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# Every erasure or export of a person's data (privacy/audit.py is the only writer): who, when,
# why, a keyed pseudonym of the person and how many records of each kind; never the data.
# Here, in the handoff schema, because the desk and `hilo` (who answer the requests) own it.
privacy_audit = sa.Table(
    "handoff_privacy_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # "erase" | "export" | "retain"
    sa.Column("actor", sa.String(120), nullable=False),  # "desk:ana", "cli:root"
    sa.Column("reason", sa.Text, nullable=False),  # phones and emails redacted
    sa.Column("subject_ref", sa.String(64), nullable=False),  # hilo/pseudonyms.py
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),  # {store: {kind: n}}
    sa.Index("ix_handoff_privacy_audit_at", "at"),
)
