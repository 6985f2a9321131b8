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

# Lowest first: a role may do what the ones before it may (handoff/auth.py `allowed`). A
# designer reviews the bot's failures as training data (handoff/nlu_candidates.py).
ROLES = ("agent", "designer", "supervisor", "admin")
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
    sa.CheckConstraint("role IN ('agent', 'designer', 'supervisor', 'admin')", name="role"),
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
    # The customer's satisfaction after the case (handoff/csat.py): asked once, answered once.
    sa.Column("csat_asked_at", sa.Float),
    sa.Column("csat_score", sa.Integer),  # 1..5
    sa.Column("csat_comment", sa.Text),
    sa.Column("csat_at", sa.Float),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.CheckConstraint(
        "status IN ('bot', 'queued', 'assigned', 'resolved', 'closed')", name="status"
    ),
    sa.Index("ix_handoff_cases_queue", "status", "urgent_at"),
    sa.Index("ix_handoff_cases_assignee", "assignee_id", "status"),
    sa.Index("ix_handoff_cases_profile", "profile_id"),
    sa.Index("ix_handoff_cases_updated", "updated_at"),
    sa.Index("ix_handoff_cases_created", "created_at"),
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

# The record of what the bot saw and did, one row per event (handoff/facts.py is the only
# writer): every customer message with its channel, language, intent, confidence and whether
# it fell back; every bot message; order outcomes. No text, no ids that name anyone: the
# conversation is a keyed pseudonym (hilo/pseudonyms.py), so the record outlives an erasure
# and is still counted. Case events are in `handoff_case_events`; reports read both
# (docs/analytics.md).
facts = sa.Table(
    "handoff_facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),  # message_in | message_out | order
    sa.Column("conversation_ref", sa.String(32), nullable=False),
    sa.Column("contact_id", sa.Integer),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("intent", sa.String(80)),  # the intent, FAQ key, or order outcome
    sa.Column("confidence", sa.Float),
    sa.Column("fallback", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_handoff_facts_kind_at", "kind", "at"),
    sa.Index("ix_handoff_facts_conversation", "conversation_ref", "at"),
)

# Contacts: a conversation's episodes, a rollup of `handoff_facts` and the cases kept in the
# transaction that writes them (handoff/facts.py). A contact starts with a customer message
# after a quiet period while the bot owns the conversation; it is contained when no person
# was needed and the customer did not come back within 72 h (docs/analytics.md).
contacts = sa.Table(
    "handoff_contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_ref", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_in_at", sa.Float, nullable=False),
    sa.Column("messages_in", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fallbacks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("case_id", sa.Integer),  # the first case it opened, if a person was needed
    # When the conversation's next contact started (a repeat contact if within 72 h).
    sa.Column("next_started_at", sa.Float),
    sa.Index("ix_handoff_contacts_started", "started_at"),
    sa.Index("ix_handoff_contacts_conversation", "conversation_ref", "started_at"),
)

# The CRM feed's outbox (crm/outbox.py is the only writer; docs/webhooks.md): one row per
# event to deliver to HILO_WEBHOOK_URL, made once from one source record (`key` is unique: a
# case event's id, a profile's set of identities, a conversation's quiet period), so a
# restart or two desks never make it twice. The body is built once and signed as stored, so
# every retry sends the same bytes under the same `delivery_id` (X-Hilo-Delivery). A worker
# takes a row with a lease (`lease_owner`, `leased_until`): two workers never send it at
# once. `conversation_id`, `profile_id` and `case_id` say whose data the payload holds: an
# erasure blanks it (handoff/personal_data.py).
webhook_deliveries = sa.Table(
    "handoff_webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("delivery_id", sa.String(36), nullable=False, unique=True),
    sa.Column("key", sa.String(120), nullable=False, unique=True),
    sa.Column("event", sa.String(40), nullable=False),
    # pending | delivered | failed (past the maximum age) | erased (the person's, never sent)
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("occurred_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("leased_until", sa.Float),
    sa.Column("last_attempt_at", sa.Float),
    sa.Column("last_status", sa.Integer),  # the CRM's HTTP status; None: no answer
    sa.Column("last_error", sa.String(200)),  # "HTTP 503", "ConnectError": never the body
    sa.Column("finished_at", sa.Float),
    sa.Column("case_id", sa.Integer),
    sa.Column("conversation_id", sa.String(255)),
    sa.Column("profile_id", sa.Integer),
    sa.Column("payload", sa.Text, nullable=False),  # the exact body sent, JSON
    sa.CheckConstraint("state IN ('pending', 'delivered', 'failed', 'erased')", name="state"),
    sa.Index("ix_handoff_webhook_deliveries_due", "state", "next_attempt_at"),
    sa.Index("ix_handoff_webhook_deliveries_conversation", "conversation_id"),
    sa.Index("ix_handoff_webhook_deliveries_case", "case_id"),
    sa.Index("ix_handoff_webhook_deliveries_profile", "profile_id"),
)

# Where the CRM feed has read its sources up to (crm/feed.py): the last id of
# `handoff_case_events` and of the channels' inbox, and the ids below it not seen yet (a
# transaction that took its id earlier and committed later is still picked up).
webhook_cursors = sa.Table(
    "handoff_webhook_cursors",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("gaps", sa.Text, nullable=False, server_default="{}"),  # {id: first missed at}
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Conversations the CRM feed follows for `conversation.summary` (crm/feed.py): when the
# customer last wrote, and up to which message the last summary went. A summary is due once
# the conversation is quiet for HILO_SUMMARY_QUIET_MINUTES.
webhook_conversations = sa.Table(
    "handoff_webhook_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("profile_id", sa.Integer),  # the channels' customer profile when last seen
    # The first message not summarized yet: its inbox id and when it was received.
    sa.Column("first_in_id", sa.BigInteger, nullable=False),
    sa.Column("first_in_at", sa.Float, nullable=False),
    sa.Column("last_in_at", sa.Float, nullable=False),  # when the latest was received
    sa.Column("summarized_at", sa.Float),  # last_in_at of the last summary made
    # The latest message's own time while its profile is not checked yet (the channels
    # link the profile when the bot takes the message): `contact.updated` is due.
    sa.Column("contact_due_at", sa.Float),
    sa.Index("ix_handoff_webhook_conversations_last_in", "last_in_at"),
)

# The designer's loop (handoff/nlu_candidates.py): customer messages the bot did not
# understand well, kept with their text so a designer can turn them into training data.
# Written by handoff/facts.py when a message falls back, scores low, is rephrased, or ends in a
# repeated-fallback or bot-error handoff; `normalized` groups near-duplicates. Erased with the
# person, and removed by retention with the conversation.
nlu_candidates = sa.Table(
    "handoff_nlu_candidates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("conversation_ref", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("normalized", sa.String(255), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("predicted", sa.String(80)),  # what the model said (nlu_fallback, an intent)
    sa.Column("confidence", sa.Float),
    sa.Column("why", sa.String(24), nullable=False),  # fallback|low_confidence|rephrased|handoff
    sa.Column("suggested", sa.String(80)),  # the intent or faq/<key> it most likely meant
    sa.Column("status", sa.String(16), nullable=False, server_default="new"),
    sa.Column("label", sa.String(80)),  # the intent or faq/<key> a designer accepted
    sa.Column("reviewed_by", sa.Integer, sa.ForeignKey("handoff_agents.id")),
    sa.Column("reviewed_at", sa.Float),
    sa.CheckConstraint("status IN ('new', 'accepted', 'rejected')", name="status"),
    sa.Index("ix_handoff_nlu_candidates_review", "status", "normalized"),
    sa.Index("ix_handoff_nlu_candidates_conversation", "conversation_ref"),
)
