"""The agent desk: a web app in its own process (`hilo desk`, port `HILO_DESK_PORT`, 8080).

It serves the page (handoff/desk/static/), the JSON API documented in docs/desk-api.md
(`/api/openapi.json`), the live feed (server-sent events) and customers' files. It reads and
writes cases in the handoff database, reads messages from the channels database, and
reaches the bot only through Rasa's HTTP API (handoff/rasa_client.py).

Security: every request but login is authenticated (session cookie or bearer token); every
endpoint checks the role it needs; cookie-authenticated writes must carry the session's
CSRF token; the page is served with a strict Content-Security-Policy and renders customer
text as text; files are served with their stored type, `nosniff`, and as attachments unless
they are images; every action on a case is in its audit log; erasing or exporting a person's
data (admins, with a reason and an explicit confirmation) is in the privacy audit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from connectors.media_store import CONTENT_TYPES, LocalMediaStore, MediaStore
from connectors.registry import UnknownChannel, rules_of
from handoff.admin import Admin
from handoff.auth import Accounts, AuthError, Session, UserExists, allowed
from handoff.case import Case, InvalidTransition, Status
from handoff.conversations import ConversationReader
from handoff.desk.feed import CLOSING, Broadcaster, Feed, Update
from handoff.desk.openapi import SPEC
from handoff.desk.permissions import allowed_actions, refusal
from handoff.models import ROLES
from handoff.nlu_candidates import Candidates, ReviewError, labels
from handoff.rasa_client import RasaClient, RasaError
from handoff.reports import ReportError, Reports
from handoff.risk import RiskScores
from handoff.service import Handoff
from handoff.slots import slot_facts
from handoff.store import (
    DEFAULT_CAPACITY,
    CapacityReached,
    Conflict,
    NotCorrectable,
    NotFound,
)
from handoff.throttle import LoginThrottle, Throttled, keys_for
from handoff.trends import Trends
from hilo.database import DATABASE_DOWN
from hilo.profile import is_production
from privacy.stores import Stores

if TYPE_CHECKING:
    from privacy.subject import Request

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
COOKIE = "hilo_session"
MAX_TEXT = 4000
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")
NUL_REFUSED = "text may not contain NUL characters"
CASE_ID = re.compile(r"[0-9]{1,18}")  # below 2^63, the databases' largest integer
STATIC_FILES = frozenset(path.name for path in STATIC.iterdir() if path.is_file())

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error the API answers as `{"error": message, **extra}` with `status`."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


@dataclass
class Desk:
    """Everything the handlers use (one per app)."""

    handoff: Handoff
    accounts: Accounts
    conversations: ConversationReader
    rasa: RasaClient
    media: MediaStore
    broadcaster: Broadcaster
    throttle: LoginThrottle
    privacy: Stores | None = None  # None: this deployment's, found at the first request

    @functools.cached_property
    def admin(self) -> Admin:
        """Admins' edits: agents' team and capacity, canned replies, the teams overview."""
        return Admin(self.store.engine)

    @functools.cached_property
    def candidates(self) -> Candidates:
        """The designer's loop's training candidates (handoff/nlu_candidates.py)."""
        return Candidates(self.store.engine)

    @functools.cached_property
    def risk(self) -> RiskScores:
        """Customers at risk of leaving, with their reasons (handoff/risk.py)."""
        return RiskScores(self.store.engine)

    @functools.cached_property
    def trends(self) -> Trends:
        """What customers write about, week over week (handoff/trends.py)."""
        return Trends(self.store.engine)

    @functools.cached_property
    def reports(self) -> Reports:
        """The overview report, in the support policy's time zone (handoff/reports.py)."""
        return Reports(self.store.engine, self.handoff.hours.zone)

    @property
    def store(self) -> Any:
        """The case store."""
        return self.handoff.store

    def privacy_stores(self) -> Stores:
        """Where erasures and exports reach (privacy/stores.py).

        The desk's own databases and media directory, and this deployment's commerce and
        tracker databases.
        """
        if self.privacy is None:
            found = Stores.from_environment()
            self.privacy = dataclasses.replace(
                found,
                channels=_url_of(self.conversations.engine),
                handoff=_url_of(self.store.engine),
                media=getattr(self.media, "directory", found.media),
            )
        return self.privacy


def _url_of(engine: Any) -> str:
    return str(engine.url.render_as_string(hide_password=False))


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)
SESSION: str = "session"


# --- middlewares --------------------------------------------------------------------------


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes JSON with a clear message (never a stack trace)."""
    try:
        return await handler(request)
    except ApiError as error:
        return web.json_response(
            {"error": error.message, **error.extra}, status=error.status, headers=error.headers
        )
    except (Conflict, InvalidTransition) as error:
        return web.json_response({"error": str(error)}, status=409)
    except CapacityReached as error:
        return web.json_response({"error": f"capacity reached: {error}"}, status=409)
    except NotFound as error:
        return web.json_response({"error": f"not found: {error}"}, status=404)
    except NotCorrectable as error:
        return web.json_response({"error": str(error)}, status=400)
    except RasaError as error:
        return web.json_response({"error": str(error)}, status=502)
    except DATABASE_DOWN as error:
        logger.warning("handoff.desk.database_unavailable error=%s", type(error).__name__)
        return web.json_response(
            {"error": "the desk cannot reach its database; try again in a moment"},
            status=503,
            headers={"Retry-After": "5"},
        )
    except web.HTTPException as error:
        if error.status >= 400 and request.path.startswith("/api/"):
            return web.json_response({"error": error.reason.lower()}, status=error.status)
        raise
    except Exception as error:
        logger.exception("handoff.desk.error error=%s", type(error).__name__)
        return web.json_response({"error": "internal error"}, status=500)


@web.middleware
async def unread_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Closes the connection after an answer that left the request's body unread.

    aiohttp 3.9 stalls the next request on a kept-alive connection when the previous body
    (of a few hundred KiB) was not read, as by a route that reads none or an error answered
    first: the client waited for an answer that never came. A new connection costs less.
    """
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if request.can_read_body:
            error.force_close()
        raise
    if request.can_read_body:
        response.force_close()
    return response


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A strict CSP and the usual hardening headers on every answer."""
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@web.middleware
async def no_nul(request: web.Request, handler: Handler) -> web.StreamResponse:
    """400 for a NUL character in the path or the query string (`body()` checks JSON).

    PostgreSQL stores and compares no text with a NUL in it: psycopg2 raised ValueError, a
    500, for a search, a note or a team name with one. Nobody types one, so it stops here.
    """
    if "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query.items()
    ):
        raise ApiError(400, NUL_REFUSED)
    return await handler(request)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sessions from the bearer token or the cookie; CSRF checked for cookie writes."""
    path = request.path
    public = path in ("/", "/api/auth/login", "/api/openapi.json") or path.startswith("/static/")
    if public:
        return await handler(request)
    accounts = request.app[DESK].accounts
    bearer = request.headers.get("Authorization", "")
    token = bearer[7:].strip() if bearer.lower().startswith("bearer ") else ""
    via_cookie = not token
    token = token or request.cookies.get(COOKIE, "")
    try:
        session = await asyncio.to_thread(accounts.session, token)
    except AuthError as error:
        raise ApiError(401, str(error)) from error
    if via_cookie and request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent or sent != session.csrf_token:
            raise ApiError(403, "missing or wrong X-CSRF-Token")
    request[SESSION] = session
    return await handler(request)


def session_of(request: web.Request, role: str = "agent") -> Session:
    """The request's session, if its agent has `role` (403 otherwise)."""
    session: Session = request[SESSION]
    if not allowed(session.agent.role, role):
        raise ApiError(403, f"this needs the {role} role")
    return session


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object sent, or 400 (415 when it is not declared as JSON).

    Only `application/json`: a cross-site form can post `text/plain` without the browser
    asking first, which made a login CSRF possible; JSON needs a CORS preflight the desk
    never grants.
    """
    if request.content_type != "application/json":
        raise ApiError(415, "send JSON (Content-Type: application/json)")
    try:
        data = await request.json()
    except LookupError as error:  # an unknown charset in the Content-Type
        raise ApiError(415, "send JSON in UTF-8") from error
    except (ValueError, RecursionError) as error:
        # Not JSON, not in its charset, a number of over 4,300 digits, or nested too deep.
        raise ApiError(400, "the body must be JSON") from error
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    if _has_nul(data):
        raise ApiError(400, NUL_REFUSED)
    return data


def _has_nul(document: Any) -> bool:
    """Whether any string in a JSON document (keys included) has a NUL character."""
    pending = [document]  # a loop, not recursion: JSON may nest as deep as the parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def text_field(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    """A non-empty string field of at most MAX_TEXT characters."""
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, f"'{key}' must be a non-empty text")
    if len(value) > MAX_TEXT:
        raise ApiError(400, f"'{key}' is longer than {MAX_TEXT} characters")
    return value.strip()


def case_id_of(request: web.Request, what: str = "case") -> int:
    """The `{id}` of the path (of a case, or `what`), or 404.

    Only ASCII digits, at most 18 of them: `int()` also took signs, spaces, underscores and
    other scripts' digits, and an id past 2^63 made SQLite raise OverflowError (a 500).
    """
    value = request.match_info["id"]
    if not CASE_ID.fullmatch(value):
        raise ApiError(404, f"no such {what}")
    return int(value)


def require(session: Session, case: Case, action: str) -> None:
    """403 or 409 unless the session's user may do `action` on `case` now.

    The rule is handoff/desk/permissions.py's, the same that fills `allowed_actions`.
    """
    refused = refusal(session.agent, case, action)
    if refused is not None:
        raise ApiError(refused.status, refused.message)


# The name the page gives a channel's window ("la ventana de WhatsApp cierra en …").
WINDOW_NAMES = {"whatsapp": "WhatsApp", "messenger": "Messenger"}


def window_facts(case: Case) -> dict[str, str | None]:
    """The window the case's conversation lives under (connectors/registry.py) and its name."""
    try:
        kind = rules_of(case.channel).window_for(case.conversation_id).value
    except UnknownChannel:
        kind = "none"
    name = WINDOW_NAMES.get(kind)
    if kind == "messenger" and case.channel == "instagram":
        name = "Instagram"
    return {"kind": kind, "name": name}


def case_json(session: Session, case: Case) -> dict[str, Any]:
    """The API's case object for the session's user: with `allowed_actions` and the window."""
    window = window_facts(case)
    return {
        **case.to_dict(),
        "allowed_actions": allowed_actions(session.agent, case),
        "window_kind": window["kind"],
        "window_name": window["name"],
    }


# --- auth ---------------------------------------------------------------------------------


def behind_local_proxy(request: web.Request) -> bool:
    """Whether the request came through a proxy on this machine (whose headers are trusted)."""
    peer = request.remote or ""
    return peer.startswith("127.") or peer == "::1"


def client_address(request: web.Request) -> str:
    """Who is asking: the peer, or what a proxy on this machine says the client was."""
    if behind_local_proxy(request):
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the hop our own proxy added
    return request.remote or ""


def cookie_is_secure(request: web.Request) -> bool:
    """Whether the session cookie gets `Secure`.

    `HILO_COOKIE_SECURE` (true/false) decides when set; else always in production, which
    runs behind TLS; else when the request came over TLS, or from a proxy on this machine
    that says it did (`X-Forwarded-Proto: https`). A remote peer's header is not trusted.
    """
    configured = os.environ.get("HILO_COOKIE_SECURE", "").strip().lower()
    if configured in ("true", "1", "yes", "false", "0", "no"):
        return configured in ("true", "1", "yes")
    if is_production() or request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and behind_local_proxy(request)


async def login(request: web.Request) -> web.StreamResponse:
    """POST /api/auth/login; attempts slow down per username and address (handoff/throttle.py).

    Counted before the password is checked, so parallel guesses cannot all be checked; 429
    with `Retry-After` while an attempt must wait.
    """
    data = await body(request)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(400, "send username and password")
    desk = request.app[DESK]
    keys = keys_for(username, client_address(request))
    try:
        await asyncio.to_thread(desk.throttle.attempt, keys)
    except Throttled as error:
        retry = str(max(1, math.ceil(error.retry_after)))
        raise ApiError(429, str(error), headers={"Retry-After": retry}) from error
    try:
        session = await asyncio.to_thread(desk.accounts.login, username, password)
    except AuthError as error:
        raise ApiError(401, str(error)) from error
    await asyncio.to_thread(desk.throttle.succeeded, keys)
    response = web.json_response(
        {"token": session.token, "csrf_token": session.csrf_token, "agent": session.agent.to_dict()}
    )
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="Strict",
        secure=cookie_is_secure(request),
        max_age=int(session.expires_at - time.time()),
        path="/",
    )
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /api/auth/logout."""
    session = session_of(request)
    await asyncio.to_thread(request.app[DESK].accounts.logout, session.token)
    response = web.json_response({})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.StreamResponse:
    """GET /api/me."""
    session = session_of(request)
    return web.json_response({"agent": session.agent.to_dict(), "csrf_token": session.csrf_token})


async def availability(request: web.Request) -> web.StreamResponse:
    """PUT /api/me/availability."""
    session = session_of(request)
    data = await body(request)
    if not isinstance(data.get("available"), bool):
        raise ApiError(400, "'available' must be true or false")
    desk = request.app[DESK]
    agent = await asyncio.to_thread(
        desk.accounts.set_available, session.agent.id, data["available"]
    )
    if agent.available:
        await asyncio.to_thread(desk.store.assign_waiting)
    return web.json_response({"agent": agent.to_dict()})


# --- cases --------------------------------------------------------------------------------

FILTERS: dict[str, tuple[Status, ...]] = {
    "open": (Status.QUEUED, Status.ASSIGNED),
    "queued": (Status.QUEUED,),
    "assigned": (Status.ASSIGNED,),
    "mine": (Status.ASSIGNED,),
    "resolved": (Status.RESOLVED,),
    "closed": (Status.CLOSED,),
    "bot": (Status.BOT,),
    "all": tuple(Status),
}


async def list_cases(request: web.Request) -> web.StreamResponse:
    """GET /api/cases?status=."""
    session = session_of(request)
    name = request.query.get("status", "open")
    if name not in FILTERS:
        raise ApiError(400, f"status must be one of {', '.join(FILTERS)}")
    mine = session.agent.id if name == "mine" else None
    found = await asyncio.to_thread(
        request.app[DESK].store.find, statuses=FILTERS[name], assignee_id=mine
    )
    return web.json_response({"cases": [case_json(session, case) for case in found]})


async def get_case(request: web.Request) -> web.StreamResponse:
    """GET /api/cases/{id}: the case with its customer, history, notes and audit."""
    session = session_of(request)
    desk = request.app[DESK]
    case = await asyncio.to_thread(desk.store.get, case_id_of(request))
    return web.json_response(await asyncio.to_thread(_case_view, desk, session, case))


def _case_view(desk: Desk, session: Session, case: Case) -> dict[str, Any]:
    conversations = desk.conversations
    window = {
        **conversations.window(case.channel, case.conversation_id, time.time()),
        "name": window_facts(case)["name"],
    }
    return {
        "case": case_json(session, case),
        "customer": conversations.profile(case.conversation_id)
        or {"name": case.customer_name, "phone": None, "profile_id": None, "identities": []},
        "history": conversations.history(case.conversation_id),
        "notes": desk.store.notes(case.id),
        "earlier_cases": [case_json(session, c) for c in desk.store.earlier(case)],
        "window": window,
        "audit": [entry.__dict__ for entry in desk.store.audit_log(case.id)],
        "csat": desk.store.satisfaction(case.id).to_dict(),
        **slot_facts(),  # the slots' labels and types, for the card (handoff/slots.py)
        "risk": desk.risk.for_conversation(case.conversation_id),
    }


async def claim(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/{id}/claim."""
    session = session_of(request)
    store = request.app[DESK].store
    case = await asyncio.to_thread(store.get, case_id_of(request))
    require(session, case, "claim")
    case = await asyncio.to_thread(store.claim, case.id, session.agent)
    return web.json_response({"case": case_json(session, case)})


async def claim_next(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/next."""
    session = session_of(request)
    case = await asyncio.to_thread(request.app[DESK].store.claim_next, session.agent)
    if case is None:
        raise ApiError(404, "nobody is waiting")
    return web.json_response({"case": case_json(session, case)})


async def send_message(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/{id}/messages: an agent's reply, through the customer's channel."""
    session = session_of(request)
    data = await body(request)
    text = text_field(data, "text")
    desk = request.app[DESK]
    case = await asyncio.to_thread(desk.store.get, case_id_of(request))
    require(session, case, "reply")
    window = await asyncio.to_thread(
        desk.conversations.window, case.channel, case.conversation_id, time.time()
    )
    if not window["open"] and data.get("send_template") is not True:
        raise_window_closed(window)
    await desk.rasa.agent_says(
        case.conversation_id,
        case.channel,
        text,
        agent_id=session.agent.id,
        agent_name=session.agent.display_name,
    )
    case = await asyncio.to_thread(desk.store.replied, case.id, session.agent)
    return web.json_response({"case": case_json(session, case)})


def raise_window_closed(window: dict[str, Any]) -> None:
    """409 saying the free text would not arrive, and what can be done."""
    if window["template"]:
        message = (
            "the channel's 24-hour window is closed: the text will not arrive; send with "
            "send_template to deliver the re-engagement template instead"
        )
    else:
        message = (
            "the channel's window is closed and no re-engagement template is configured: "
            "the customer must write first"
        )
    raise ApiError(409, message, window=window)


async def add_note(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/{id}/notes."""
    session = session_of(request)
    text = text_field(await body(request), "text")
    note = await asyncio.to_thread(
        request.app[DESK].store.add_note, case_id_of(request), session.agent, text
    )
    return web.json_response({"note": note})


async def transfer(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/{id}/transfer {agent} | {team}."""
    session = session_of(request)
    data = await body(request)
    desk = request.app[DESK]
    case = await asyncio.to_thread(desk.store.get, case_id_of(request))
    require(session, case, "transfer")
    if "agent" in data:
        if not isinstance(data["agent"], int):
            raise ApiError(400, "'agent' must be an agent id")
        target = await asyncio.to_thread(desk.accounts.get, data["agent"])
        case = await asyncio.to_thread(desk.store.transfer, case.id, session.agent, to_agent=target)
    elif isinstance(data.get("team"), str) and data["team"].strip():
        case = await asyncio.to_thread(
            desk.store.transfer, case.id, session.agent, team=data["team"].strip()[:64]
        )
    else:
        raise ApiError(400, "send 'agent' (an id) or 'team' (a name)")
    return web.json_response({"case": case_json(session, case)})


async def release(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/{id}/release."""
    session = session_of(request)
    desk = request.app[DESK]
    case = await asyncio.to_thread(desk.store.get, case_id_of(request))
    require(session, case, "release")
    case = await asyncio.to_thread(desk.store.release, case.id, session.agent)
    return web.json_response({"case": case_json(session, case)})


async def resolve(request: web.Request) -> web.StreamResponse:
    """POST /api/cases/{id}/resolve {return_to_bot, outcome?, corrections?}."""
    session = session_of(request)
    data = await body(request)
    if not isinstance(data.get("return_to_bot"), bool):
        raise ApiError(400, "'return_to_bot' must be true or false")
    corrections = data.get("corrections") or {}
    if not isinstance(corrections, dict) or not all(isinstance(k, str) for k in corrections):
        raise ApiError(400, "'corrections' must be an object of slot names to values")
    outcome = text_field(data, "outcome", required=False) or None
    desk = request.app[DESK]
    case = await asyncio.to_thread(desk.store.get, case_id_of(request))
    require(session, case, "resolve" if data["return_to_bot"] else "close")
    if case.status is Status.QUEUED:  # closing what nobody took (supervisors)
        case = await asyncio.to_thread(desk.store.close_unassigned, case.id, session.agent, outcome)
        return web.json_response({"case": case_json(session, case)})
    case = await asyncio.to_thread(
        lambda: desk.store.resolve(
            case.id,
            session.agent,
            return_to_bot=data["return_to_bot"],
            outcome=outcome,
            corrections=corrections,
        )
    )
    await asyncio.to_thread(desk.store.assign_waiting)  # the agent has room again
    return web.json_response({"case": case_json(session, case)})


async def search(request: web.Request) -> web.StreamResponse:
    """GET /api/search?q=: customer, phone, order number, collected data or message text."""
    session = session_of(request)
    query = request.query.get("q", "").strip()
    if len(query) < 2:
        raise ApiError(400, "search for at least 2 characters")
    desk = request.app[DESK]

    def find() -> list[dict[str, Any]]:
        found = {case.id: case for case in desk.store.search(query)}
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 6 and digits != query:  # a phone typed with spaces or dashes
            found.update({case.id: case for case in desk.store.search(digits)})
        conversations = desk.conversations.search(query)
        found.update({case.id: case for case in desk.store.by_conversations(conversations)})
        ordered = sorted(found.values(), key=lambda case: -case.created_at)
        return [case_json(session, case) for case in ordered[:50]]

    return web.json_response({"cases": await asyncio.to_thread(find)})


# --- canned responses, agents, stats ------------------------------------------------------


async def list_canned(request: web.Request) -> web.StreamResponse:
    """GET /api/canned?language=."""
    session_of(request)
    language = request.query.get("language") or None
    rows = await asyncio.to_thread(request.app[DESK].store.canned_responses, language)
    return web.json_response(
        {"canned": [{k: r[k] for k in ("id", "title", "text", "language")} for r in rows]}
    )


async def add_canned(request: web.Request) -> web.StreamResponse:
    """POST /api/canned (admin)."""
    session_of(request, "admin")
    data = await body(request)
    language = data.get("language")
    if language not in ("es", "en"):
        raise ApiError(400, "'language' must be es or en")
    canned_id = await asyncio.to_thread(
        request.app[DESK].store.add_canned_response,
        text_field(data, "title")[:120],
        text_field(data, "text"),
        language,
    )
    return web.json_response({"id": canned_id})


async def update_canned(request: web.Request) -> web.StreamResponse:
    """PUT /api/canned/{id} (admin): {title, text, language}."""
    session_of(request, "admin")
    canned_id = case_id_of(request, "canned reply")  # the same digits-only rule as case ids
    data = await body(request)
    title, text = text_field(data, "title"), text_field(data, "text")
    try:
        saved = await asyncio.to_thread(
            request.app[DESK].admin.update_canned,
            canned_id,
            title,
            text,
            str(data.get("language") or ""),
        )
    except ValueError as error:
        raise ApiError(400, str(error)) from error
    return web.json_response({"canned": saved})


async def delete_canned(request: web.Request) -> web.StreamResponse:
    """DELETE /api/canned/{id} (admin)."""
    session_of(request, "admin")
    canned_id = case_id_of(request, "canned reply")
    await asyncio.to_thread(request.app[DESK].admin.delete_canned, canned_id)
    return web.json_response({})


async def list_agents(request: web.Request) -> web.StreamResponse:
    """GET /api/agents[?all=true]: active agents (for transfers); `all` (admin) adds the rest.

    `roles` lists the roles there are, lowest first, for the admin page's role choice.
    """
    session = session_of(request)
    desk = request.app[DESK]
    if request.query.get("all") == "true":
        if not allowed(session.agent.role, "admin"):
            raise ApiError(403, "this needs the admin role")
        found = await asyncio.to_thread(desk.admin.every_agent)
    else:
        found = await asyncio.to_thread(desk.accounts.all)
    return web.json_response({"agents": [agent.to_dict() for agent in found], "roles": list(ROLES)})


async def teams(request: web.Request) -> web.StreamResponse:
    """GET /api/teams (supervisor): every team in use, its members and open cases; the hours.

    Read-only: a team is the name on agents and cases (handoff/admin.py), edited by moving
    agents (`POST /api/agents/{username}/update {team}`).
    """
    session_of(request, "supervisor")
    desk = request.app[DESK]
    found = await asyncio.to_thread(desk.admin.teams)
    hours = desk.handoff.hours
    now = datetime.now(hours.zone)
    return web.json_response(
        {
            "teams": [team.to_dict() for team in found],
            "hours": {"timezone": str(hours.zone), "open_now": hours.is_open(now)},
        }
    )


async def add_agent(request: web.Request) -> web.StreamResponse:
    """POST /api/agents (admin)."""
    session_of(request, "admin")
    data = await body(request)
    for key in ("display_name", "team"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ApiError(400, f"'{key}' must be a text")
    capacity = data.get("capacity") or DEFAULT_CAPACITY
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise ApiError(400, "'capacity' must be a whole number")
    try:
        agent = await asyncio.to_thread(
            lambda: request.app[DESK].accounts.create(
                str(data.get("username") or ""),
                str(data.get("password") or ""),
                role=str(data.get("role") or "agent"),
                display_name=data.get("display_name"),
                team=data.get("team"),
                capacity=capacity,
            )
        )
    except UserExists as error:
        raise ApiError(409, f"the username {error} is taken") from error
    except ValueError as error:
        raise ApiError(400, str(error)) from error
    return web.json_response({"agent": agent.to_dict()})


async def manage_agent(request: web.Request) -> web.StreamResponse:
    """POST /api/agents/{username}/{action} (admin): deactivate, activate, password, revoke, update.

    `password` takes `{"password": …}`; `update` any of `{"team", "capacity",
    "display_name"}`. Deactivating, a new password and revoking end every session of that
    user at once (their open live feeds close within seconds).
    """
    session = session_of(request, "admin")
    username, action = request.match_info["username"], request.match_info["action"]
    accounts = request.app[DESK].accounts
    # Compared as accounts look usernames up (trimmed, lower case): "ADMIN" is admin too.
    if action in ("deactivate", "revoke") and username.strip().lower() == session.agent.username:
        raise ApiError(400, "you cannot lock yourself out; ask another admin")
    try:
        if action == "deactivate":
            await asyncio.to_thread(accounts.set_active, username, False)
        elif action == "activate":
            await asyncio.to_thread(accounts.set_active, username, True)
        elif action == "password":
            password = str((await body(request)).get("password") or "")
            await asyncio.to_thread(accounts.reset_password, username, password)
        elif action == "revoke":
            await asyncio.to_thread(accounts.revoke_sessions, username)
        elif action == "update":
            changes = agent_changes(await body(request))
            await asyncio.to_thread(
                lambda: request.app[DESK].admin.update_agent(username, **changes)
            )
        else:
            raise ApiError(404, "not found")
    except ValueError as error:
        raise ApiError(400, str(error)) from error
    agent = await asyncio.to_thread(accounts.by_username, username)
    return web.json_response({"agent": agent.to_dict()})


def agent_changes(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of an agent `update` asks for, type-checked (400 otherwise)."""
    changes: dict[str, Any] = {}
    if "team" in data:
        if data["team"] is not None and not isinstance(data["team"], str):
            raise ApiError(400, "'team' must be a text or null")
        changes["team"] = data["team"]
    if "capacity" in data:
        capacity = data["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise ApiError(400, "'capacity' must be a whole number")
        changes["capacity"] = capacity
    if "display_name" in data:
        if not isinstance(data["display_name"], str):
            raise ApiError(400, "'display_name' must be a text")
        changes["display_name"] = data["display_name"]
    if not changes:
        raise ApiError(400, "send team, capacity or display_name")
    return changes


async def stats(request: web.Request) -> web.StreamResponse:
    """GET /api/stats (supervisor)."""
    session_of(request, "supervisor")
    return web.json_response(await asyncio.to_thread(request.app[DESK].store.stats))


# --- reports (supervisor): handoff/reports.py, docs/analytics.md -------------------------

MAX_FILTER = 64


def _overview(desk: Desk, query: Any) -> dict[str, Any]:
    """The overview report the query asks for; ApiError(400) for bad dates or filters."""
    filters = {}
    for name in ("channel", "team"):
        value = str(query.get(name) or "").strip()
        if len(value) > MAX_FILTER:
            raise ApiError(400, f"{name} is too long")
        filters[name] = value or None
    try:
        when = desk.reports.period(query.get("from"), query.get("to"))
    except ReportError as error:
        raise ApiError(400, str(error)) from error
    return desk.reports.overview(when, **filters)


async def report_overview(request: web.Request) -> web.StreamResponse:
    """GET /api/reports/overview?from=&to=[&channel=&team=] (supervisor)."""
    session_of(request, "supervisor")
    desk = request.app[DESK]
    return web.json_response(await asyncio.to_thread(_overview, desk, request.query))


async def report_overview_csv(request: web.Request) -> web.StreamResponse:
    """GET /api/reports/overview.csv: the same report's days, for a spreadsheet."""
    session_of(request, "supervisor")
    desk = request.app[DESK]
    report = await asyncio.to_thread(_overview, desk, request.query)
    name = f"hilo-report-{report['from']}-{report['to']}.csv"
    return web.Response(
        text=desk.reports.days_csv(report),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def report_trends(request: web.Request) -> web.StreamResponse:
    """GET /api/reports/trends[?channel=]: labels week over week, rises explained."""
    session_of(request, "supervisor")
    channel = str(request.query.get("channel") or "").strip()[:MAX_FILTER] or None
    return web.json_response(await asyncio.to_thread(request.app[DESK].trends.weekly, channel))


async def report_at_risk(request: web.Request) -> web.StreamResponse:
    """GET /api/reports/at-risk: customers at risk of leaving, each point with its reason."""
    session_of(request, "supervisor")
    listed = await asyncio.to_thread(request.app[DESK].risk.at_risk)
    return web.json_response({"customers": listed})


# --- the designer's loop (designer): handoff/nlu_candidates.py ----------------------------

CANDIDATE_STATUSES = ("new", "accepted", "rejected")


async def list_candidates(request: web.Request) -> web.StreamResponse:
    """GET /api/nlu/candidates?status=new: groups of near-duplicates, and the labels."""
    session_of(request, "designer")
    status = request.query.get("status", "new")
    if status not in CANDIDATE_STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(CANDIDATE_STATUSES)}")
    groups = await asyncio.to_thread(request.app[DESK].candidates.groups, status)
    return web.json_response({"groups": [group.to_dict() for group in groups], "labels": labels()})


async def review_candidate(request: web.Request) -> web.StreamResponse:
    """POST /api/nlu/candidates/{id}/review {"label": …} or {"reject": true}: the group."""
    session = session_of(request, "designer")
    data = await body(request)
    candidate_id = case_id_of(request, "candidate")
    label = None if data.get("reject") is True else text_field(data, "label")
    try:
        reviewed = await asyncio.to_thread(
            request.app[DESK].candidates.review, candidate_id, session.agent.id, label
        )
    except LookupError as error:
        raise ApiError(404, "no such candidate") from error
    except ReviewError as error:
        raise ApiError(409 if "already" in str(error) else 400, str(error)) from error
    return web.json_response({"reviewed": reviewed, "label": label})


# --- privacy: a person's erasure and access requests (admin) -----------------------------

PRIVACY_FIELDS = {"phone": "phones", "email": "emails", "conversation": "conversations"}
MAX_IDENTITIES = 20


def privacy_request(data: dict[str, Any]) -> Request:
    """The person a privacy request names: `phone`, `email`, `conversation` (text or list).

    400 unless at least one is given, each a text (or a list of at most MAX_IDENTITIES).
    """
    from privacy.subject import BadRequest, Request

    named: dict[str, list[str]] = {}
    for key, kind in PRIVACY_FIELDS.items():
        value = data.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if len(values) > MAX_IDENTITIES or not all(isinstance(v, str) for v in values):
            raise ApiError(400, f"'{key}' must be a text or a list of up to {MAX_IDENTITIES}")
        named[kind] = values
    try:
        return Request.of(**named)
    except BadRequest as error:
        raise ApiError(400, str(error)) from error


def confirmed_reason(data: dict[str, Any]) -> str:
    """The required reason, once the request is explicitly confirmed (`confirm: true`)."""
    if data.get("confirm") is not True:
        raise ApiError(400, "'confirm' must be true: this acts on a person's data")
    return text_field(data, "reason")


async def privacy_erase(request: web.Request) -> web.StreamResponse:
    """POST /api/privacy/erase (admin): everything about a person, erased and audited."""
    session = session_of(request, "admin")
    data = await body(request)
    reason = confirmed_reason(data)
    person = privacy_request(data)
    from privacy.erase import erase

    desk = request.app[DESK]
    done = await asyncio.to_thread(
        lambda: erase(
            person,
            desk.privacy_stores(),
            actor=f"desk:{session.agent.username}",
            reason=reason,
        )
    )
    return web.json_response({"erased": done.to_dict()})


async def privacy_export(request: web.Request) -> web.StreamResponse:
    """POST /api/privacy/export (admin): a zip of everything about a person, audited."""
    session = session_of(request, "admin")
    data = await body(request)
    reason = confirmed_reason(data)
    person = privacy_request(data)
    internal_notes = data.get("internal_notes", False)
    if not isinstance(internal_notes, bool):
        raise ApiError(400, "'internal_notes' must be true or false")
    from privacy.export import export_bytes

    desk = request.app[DESK]
    archive, done = await asyncio.to_thread(
        lambda: export_bytes(
            person,
            desk.privacy_stores(),
            actor=f"desk:{session.agent.username}",
            reason=reason,
            internal_notes=internal_notes,
        )
    )
    return web.Response(
        body=archive,
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="hilo-{done.subject_ref[:12]}.zip"',
            "Cache-Control": "no-store",
            "X-Hilo-Audit": str(done.audit_id),
        },
    )


# --- live feed, files, page ---------------------------------------------------------------


FEED_CHECK_SECONDS = 5.0


async def events(request: web.Request) -> web.StreamResponse:
    """GET /api/events: server-sent events while the page is open and the session lives.

    The session is checked again before every write and at least every few seconds: a
    logout (in any desk process), an expired session or a deactivated agent ends the
    stream with a `logout` event, so case data stops flowing. A tab that was closed ends it
    quietly (it used to log a 500).
    """
    session = session_of(request)
    desk = request.app[DESK]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    try:
        await response.write(b": connected\n\n")
        async with desk.broadcaster.listen() as queue:
            while True:
                try:
                    update = await asyncio.wait_for(queue.get(), timeout=FEED_CHECK_SECONDS)
                except asyncio.TimeoutError:
                    update = None
                if update is CLOSING:
                    break  # the desk is stopping; the page reconnects
                if not await asyncio.to_thread(desk.accounts.alive, session.token):
                    await response.write(b"event: logout\ndata: {}\n\n")
                    break
                await response.write(
                    _for_session(session, update).encode() if update else b": keepalive\n\n"
                )
    except ConnectionError:
        pass  # the tab was closed
    return response


def _for_session(session: Session, update: Update) -> Update:
    """A feed update as this session's user sees it: a case with their `allowed_actions`."""
    if update.kind == "case" and update.subject is not None:
        return Update("case", {"case": case_json(session, update.subject)})
    return update


async def media(request: web.Request) -> web.StreamResponse:
    """GET /media/{name}: a customer's file (or the bot's), for logged-in agents only."""
    session_of(request)
    name = request.match_info["name"]
    path = request.app[DESK].media.path(name)
    if path is None:
        raise ApiError(404, "no such file")
    extension = name.rsplit(".", 1)[1].lower()
    content_type = CONTENT_TYPES[extension]
    inline = content_type.startswith(("image/", "audio/", "video/"))
    filename = SAFE_FILENAME.sub("_", request.query.get("filename") or name)[:100] or name
    disposition = "inline" if inline else f'attachment; filename="{filename}"'
    return web.FileResponse(
        path,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": disposition,
            "Cache-Control": "private, max-age=3600",
        },
    )


async def static_file(request: web.Request) -> web.StreamResponse:
    """GET /static/{filename}: the page's own files, looked up by name, never by path.

    aiohttp's static route resolved whatever name came on disk: one longer than the file
    system allows raised OSError (a 500).
    """
    name = request.match_info["filename"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


async def page(_request: web.Request) -> web.StreamResponse:
    """GET /: the desk page."""
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def openapi(_request: web.Request) -> web.StreamResponse:
    """GET /api/openapi.json."""
    return web.json_response(SPEC)


# --- the app ------------------------------------------------------------------------------


class AccessLog(AbstractAccessLogger):
    """One line per request without the query string (searches carry names and phones)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Method, path, status and milliseconds."""
        self.logger.info(
            "%s %s %d %.1fms", request.method, request.path, response.status, time * 1000
        )


DEFAULT_CANNED = [
    ("Saludo", "Hola {nombre}, soy parte del equipo de Lumen. Ya estoy revisando tu caso.", "es"),
    (
        "Pedido en revisión",
        "{nombre}, estoy revisando tu pedido {pedido}; te escribo en cuanto tenga novedades.",
        "es",
    ),
    ("Cierre", "Listo, {nombre}. ¿Te puedo ayudar con algo más?", "es"),
    ("Greeting", "Hi {nombre}, I'm from the Lumen team. I'm looking at your case now.", "en"),
    (
        "Order under review",
        "{nombre}, I'm checking your order {pedido}; I'll write as soon as I know more.",
        "en",
    ),
    ("Closing", "Done, {nombre}. Is there anything else I can help with?", "en"),
]


async def _seed_canned(app: web.Application) -> None:  # aiohttp's on_startup signal
    """A few canned replies on a new desk, so agents see how they work."""
    store = app[DESK].store
    if not await asyncio.to_thread(store.canned_responses):
        for title, text, language in DEFAULT_CANNED:
            await asyncio.to_thread(store.add_canned_response, title, text, language)


async def _end_streams(app: web.Application) -> None:  # aiohttp's on_shutdown signal
    app[DESK].broadcaster.close()


def create_app(
    handoff: Handoff | None = None,
    *,
    conversations: ConversationReader | None = None,
    rasa: RasaClient | None = None,
    media_store: MediaStore | None = None,
    privacy_stores: Stores | None = None,
    run_feed: bool = True,
) -> web.Application:
    """The desk app, on the process's databases unless given (tests give their own).

    `privacy_stores`: where erasures and exports reach (default: the desk's own databases and
    media directory, and this deployment's commerce and tracker databases).
    """
    handoff = handoff or Handoff.default()
    desk = Desk(
        handoff=handoff,
        accounts=Accounts(handoff.store.engine),
        throttle=LoginThrottle(handoff.store.engine),
        conversations=conversations or ConversationReader(),
        rasa=rasa or RasaClient(),
        media=media_store or LocalMediaStore(),
        broadcaster=Broadcaster(),
        privacy=privacy_stores,
    )
    app = web.Application(
        middlewares=[unread_bodies, security_headers, errors, no_nul, authenticate]
    )
    app.on_startup.append(_seed_canned)  # type: ignore[arg-type]  # aiohttp's stub is wrong
    app.on_shutdown.append(_end_streams)  # type: ignore[arg-type]
    app[DESK] = desk
    app.router.add_get("/", page)
    app.router.add_get("/static/{filename}", static_file)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_put("/api/me/availability", availability)
    app.router.add_get("/api/cases", list_cases)
    app.router.add_post("/api/cases/next", claim_next)
    app.router.add_get("/api/cases/{id}", get_case)
    app.router.add_post("/api/cases/{id}/claim", claim)
    app.router.add_post("/api/cases/{id}/messages", send_message)
    app.router.add_post("/api/cases/{id}/notes", add_note)
    app.router.add_post("/api/cases/{id}/transfer", transfer)
    app.router.add_post("/api/cases/{id}/release", release)
    app.router.add_post("/api/cases/{id}/resolve", resolve)
    app.router.add_get("/api/search", search)
    app.router.add_get("/api/canned", list_canned)
    app.router.add_post("/api/canned", add_canned)
    app.router.add_put("/api/canned/{id}", update_canned)
    app.router.add_delete("/api/canned/{id}", delete_canned)
    app.router.add_get("/api/agents", list_agents)
    app.router.add_post("/api/agents", add_agent)
    app.router.add_post("/api/agents/{username}/{action}", manage_agent)
    app.router.add_get("/api/teams", teams)
    app.router.add_get("/api/stats", stats)
    app.router.add_get("/api/reports/overview", report_overview)
    app.router.add_get("/api/reports/overview.csv", report_overview_csv)
    app.router.add_get("/api/reports/trends", report_trends)
    app.router.add_get("/api/reports/at-risk", report_at_risk)
    app.router.add_get("/api/nlu/candidates", list_candidates)
    app.router.add_post("/api/nlu/candidates/{id}/review", review_candidate)
    app.router.add_post("/api/privacy/erase", privacy_erase)
    app.router.add_post("/api/privacy/export", privacy_export)
    app.router.add_get("/api/events", events)
    app.router.add_get("/media/{name}", media)

    if run_feed:

        async def feed(app: web.Application) -> Any:
            task = asyncio.create_task(
                Feed(handoff, desk.conversations, desk.rasa, desk.broadcaster).run()
            )
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await desk.rasa.close()

        app.cleanup_ctx.append(feed)
    return app
