"""The desk API as OpenAPI 3.0 (`GET /api/openapi.json`); docs/desk-api.md says it in prose."""

from __future__ import annotations

from typing import Any

from handoff.models import ROLES

ERROR = {"$ref": "#/components/responses/Error"}


REPORT_PARAMS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "channel", "in": "query", "schema": {"type": "string"}},
    {"name": "team", "in": "query", "schema": {"type": "string"}},
]


def _op(
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    answer: str = "Ok",
    params: list[dict[str, Any]] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"$ref": f"#/components/responses/{answer}"},
            "400": ERROR,
            "401": ERROR,
            "403": ERROR,
            "404": ERROR,
            "409": ERROR,
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if params:
        operation["parameters"] = params
    if public:
        operation["security"] = []
    return operation


def _obj(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


STRING: dict[str, Any] = {"type": "string"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
CASE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
ONE_OR_MORE: dict[str, Any] = {
    "oneOf": [STRING, {"type": "array", "items": STRING, "maxItems": 20}]
}
# Who (at least one of phone, email, conversation), why, and an explicit yes.
PRIVACY_REQUEST = _obj(
    ["reason", "confirm"],
    phone=ONE_OR_MORE,
    email=ONE_OR_MORE,
    conversation=ONE_OR_MORE,
    reason=STRING,
    confirm={"type": "boolean", "enum": [True]},
)

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Hilo desk API",
        "version": "1.0",
        "description": "Cases handed over by the bot, and the agents who answer them.",
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "hilo_session"},
        },
        "schemas": {
            "Error": _obj(["error"], error=STRING),
            "Agent": _obj(
                ["id", "username", "role"],
                id={"type": "integer"},
                username=STRING,
                display_name=STRING,
                role={"type": "string", "enum": list(ROLES)},
                team={"type": "string", "nullable": True},
                capacity={"type": "integer"},
                available=BOOLEAN,
            ),
            "Case": _obj(
                ["id", "conversation_id", "channel", "status", "reason", "priority"],
                id={"type": "integer"},
                conversation_id=STRING,
                channel=STRING,
                status={
                    "type": "string",
                    "enum": ["bot", "queued", "assigned", "resolved", "closed"],
                },
                reason=STRING,
                priority={"type": "string", "enum": ["urgent", "high", "normal", "low"]},
                language=STRING,
                assignee_id={"type": "integer", "nullable": True},
                sla_due_at={"type": "number"},
                window_closes_at={"type": "number", "nullable": True},
                urgent_at={"type": "number"},
                collected={"type": "object"},
                correctable={"type": "array", "items": STRING},
                summary=STRING,
                allowed_actions={
                    "type": "array",
                    "description": "What the session's user may do with the case now "
                    "(handoff/desk/permissions.py); the endpoints accept exactly these",
                    "items": {
                        "type": "string",
                        "enum": [
                            "claim",
                            "reply",
                            "note",
                            "transfer",
                            "release",
                            "resolve",
                            "close",
                        ],
                    },
                },
                window_kind={"type": "string", "enum": ["whatsapp", "messenger", "none"]},
                window_name={"type": "string", "nullable": True},
            ),
        },
        "responses": {
            "Ok": {"description": "Done", "content": {"application/json": {"schema": {}}}},
            "Erased": {
                "description": "What was erased: counts per store, never the data",
                "content": {
                    "application/json": {
                        "schema": _obj(
                            ["erased"],
                            erased=_obj(
                                ["subject_ref", "found", "counts", "total", "audit_id"],
                                subject_ref=STRING,
                                found={"type": "object"},
                                counts={"type": "object"},
                                total={"type": "integer"},
                                audit_id={"type": "integer"},
                            ),
                        )
                    }
                },
            },
            "Archive": {
                "description": "subject.json, messages.json, cases.json, orders.json, "
                "trackers.json, media/ and README.txt (docs/privacy.md)",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            },
            "Error": {
                "description": "What went wrong",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    },
    "security": [{"bearer": []}, {"cookie": []}],
    "paths": {
        "/api/auth/login": {
            "post": _op(
                "Log in: a token (and the session cookie)",
                body=_obj(["username", "password"], username=STRING, password=STRING),
                public=True,
            )
        },
        "/api/auth/logout": {"post": _op("Log out")},
        "/api/me": {"get": _op("The logged-in agent and a CSRF token")},
        "/api/me/availability": {
            "put": _op("Take new cases or not", body=_obj(["available"], available=BOOLEAN))
        },
        "/api/cases": {
            "get": _op(
                "Cases by urgency",
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": [
                                "open",
                                "queued",
                                "assigned",
                                "mine",
                                "resolved",
                                "closed",
                                "bot",
                                "all",
                            ],
                        },
                    }
                ],
            )
        },
        "/api/cases/next": {"post": _op("Claim the most urgent queued case")},
        "/api/cases/{id}": {
            "get": _op(
                "A case with customer, history, notes, window, audit, csat", params=[CASE_ID]
            )
        },
        "/api/cases/{id}/claim": {"post": _op("Claim a queued case", params=[CASE_ID])},
        "/api/cases/{id}/messages": {
            "post": _op(
                "Reply to the customer through their channel",
                params=[CASE_ID],
                body=_obj(["text"], text=STRING, send_template=BOOLEAN),
            )
        },
        "/api/cases/{id}/notes": {
            "post": _op("An internal note", params=[CASE_ID], body=_obj(["text"], text=STRING))
        },
        "/api/cases/{id}/transfer": {
            "post": _op(
                "To another agent or team",
                params=[CASE_ID],
                body=_obj([], agent={"type": "integer"}, team=STRING),
            )
        },
        "/api/cases/{id}/release": {"post": _op("Back to the queue", params=[CASE_ID])},
        "/api/cases/{id}/resolve": {
            "post": _op(
                "Resolve: back to the bot, or close",
                params=[CASE_ID],
                body=_obj(
                    ["return_to_bot"],
                    return_to_bot=BOOLEAN,
                    outcome=STRING,
                    corrections={"type": "object"},
                ),
            )
        },
        "/api/search": {
            "get": _op(
                "Find cases by customer, phone, order number or text",
                params=[{"name": "q", "in": "query", "required": True, "schema": STRING}],
            )
        },
        "/api/canned": {
            "get": _op("Canned replies"),
            "post": _op(
                "Add a canned reply (admin)",
                body=_obj(
                    ["title", "text", "language"], title=STRING, text=STRING, language=STRING
                ),
            ),
        },
        "/api/canned/{id}": {
            "put": _op(
                "Rewrite a canned reply (admin)",
                params=[CASE_ID],
                body=_obj(
                    ["title", "text", "language"],
                    title=STRING,
                    text=STRING,
                    language={"type": "string", "enum": ["es", "en"]},
                ),
            ),
            "delete": _op("Delete a canned reply (admin)", params=[CASE_ID]),
        },
        "/api/agents": {
            "get": _op(
                "Active agents, and the roles there are; with all=true (admin) every agent",
                params=[
                    {"name": "all", "in": "query", "schema": {"type": "string", "enum": ["true"]}}
                ],
            ),
            "post": _op(
                "Create an agent (admin)",
                body=_obj(
                    ["username", "password", "role"],
                    username=STRING,
                    password=STRING,
                    role=STRING,
                    display_name=STRING,
                    team=STRING,
                    capacity={"type": "integer"},
                ),
            ),
        },
        "/api/agents/{username}/{action}": {
            "post": _op(
                "Deactivate, activate, set a password, end every session of a user, or "
                "change their team, capacity or name (admin)",
                params=[
                    {"name": "username", "in": "path", "required": True, "schema": STRING},
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": ["deactivate", "activate", "password", "revoke", "update"],
                        },
                    },
                ],
                body=_obj(
                    [],
                    password=STRING,
                    team={"type": "string", "nullable": True},
                    capacity={"type": "integer", "minimum": 0},
                    display_name=STRING,
                ),
            )
        },
        "/api/teams": {
            "get": _op(
                "Every team in use with its members and open cases, and the business hours "
                "(supervisor; read-only: teams are the team names on agents and cases)"
            )
        },
        "/api/stats": {"get": _op("Queue depth, waits, SLA breaches, agent load (supervisor)")},
        "/api/reports/overview": {
            "get": _op(
                "Conversations, containment, handoffs, waits, SLA and CSAT over a period, "
                "per channel, team and day (supervisor; docs/analytics.md)",
                params=REPORT_PARAMS,
            )
        },
        "/api/reports/trends": {
            "get": _op(
                "Intents and FAQ topics week over week; unusual rises explained; the cities "
                "and products most named in complaints and failed conversations (supervisor)",
                params=[{"name": "channel", "in": "query", "schema": STRING}],
            )
        },
        "/api/reports/at-risk": {
            "get": _op("Customers at risk of leaving, each point with its reason (supervisor)")
        },
        "/api/nlu/candidates": {
            "get": _op(
                "Messages the bot did not understand, grouped, with the labels to accept them "
                "with (designer)",
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["new", "accepted", "rejected"]},
                    }
                ],
            )
        },
        "/api/nlu/candidates/{id}/review": {
            "post": _op(
                "Accept a group of candidates with an intent or FAQ key, or reject it (designer)",
                params=[CASE_ID],
                body=_obj([], label=STRING, reject=BOOLEAN),
            )
        },
        "/api/reports/overview.csv": {
            "get": _op("The overview's days as CSV (supervisor)", params=REPORT_PARAMS)
        },
        "/api/privacy/erase": {
            "post": _op(
                "Erase everything Hilo holds about a person, in every store (admin; audited)",
                body=PRIVACY_REQUEST,
                answer="Erased",
            )
        },
        "/api/privacy/export": {
            "post": _op(
                "A zip archive of everything Hilo holds about a person (admin; audited)",
                body={
                    **PRIVACY_REQUEST,
                    "properties": {**PRIVACY_REQUEST["properties"], "internal_notes": BOOLEAN},
                },
                answer="Archive",
            )
        },
        "/api/events": {"get": _op("Server-sent events: cases and messages as they change")},
    },
}
