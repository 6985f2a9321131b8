"""Fuzzing the desk's API over real HTTP: every answer below 500, and nothing logged as an error.

A generation and mutation fuzzer with a fixed seed (the same inputs on every run, so a
failure reproduces), on SQLite and PostgreSQL. The routes come from the desk's route table,
as in test_desk_authorization.py: every route that takes a body, path parameters or a query
string has an entry in `ROUTES` (what a valid request sends), every other route is in
`NO_INPUT`, and a route added without either fails `test_every_route_with_input_is_fuzzed`.

The inputs go round the routes, `FUZZ_INPUTS` in all, as a logged-in admin (cookie session
with its CSRF token, so every route is reachable), on a pool of cases the admin holds,
topped up as the fuzz resolves and transfers them:

- bodies: the valid body with one to four values replaced by others of every JSON type
  (null, booleans, huge and negative integers, floats, NaN and Infinity, empty, long,
  unicode and control-character strings, NUL, nested lists and objects) or keys removed
  or added; or not JSON at all (cut, non-UTF-8, UTF-16, deeply nested, a 5,000-digit
  number, not an object), with the wrong content type or charset, empty, or over 1 MB;
- path parameters: numbers out of every integer range, negative, with signs, underscores
  or other scripts' digits, `..` and `../`, NUL, unicode, very long;
- query strings: odd values for the parameters the route reads, repeated or unknown keys,
  broken percent-encoding.

Every answer must come (within the client's 10 s) and be below 500 (a 503 "cannot reach
its database" for a bad input is a failure too), no record at ERROR or above may be logged
but aiohttp's own for a request line over 8 KiB (answered 400 before the desk's code runs),
and the admin's session must still work at the end (no input may lock the fuzzing admin out).

It found, and test_desk_api.py keeps fixed: case ids past 2^63 (SQLite's OverflowError);
a JSON body in an unknown charset, with a 5,000-digit number or nested too deep; NUL
characters in a note, a team, an outcome, a search or a language (PostgreSQL refuses them);
a new agent whose capacity, display name or team had the wrong type or size (TypeError,
AttributeError, or PostgreSQL's DataError taken for the database being down); a static file
name too long for the file system (OSError); an admin deactivating "ADMIN", i.e. themselves;
and an unread body of a few hundred KiB stalling the next request on its connection.

The password hash's work factor is lowered for the run (its real cost is tested in
tests/unit/handoff/test_auth.py): each input that creates an agent or sets a password would
otherwise spend 0.3 s in scrypt.
"""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aiohttp.http_exceptions import HttpProcessingError

from handoff import auth
from handoff.models import agents
from tests.integration.handoff.conftest import DeskWorld
from tests.integration.handoff.test_desk_authorization import routes

FUZZ_INPUTS = 2400
SEED = 20261208
ADMIN = "admin"

ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2**31, 2**63, 2**70, -(2**70), 1.5, -0.0, 1e308,
    float("nan"), float("inf"), "", " ", "x", "1", "true", "\x00", "a\x00b", "\x07\x1b[31m\r\n",
    "\u202e\ufeff", "😀", "ñ" * 300, "a" * 5000, "../../etc/passwd", "%s%n", "<script>", [],
    {}, [1], ["x"], [None], {"a": 1}, {"": None}, {"order_id": {"x": [1]}}, [[[[[[[[[[]]]]]]]]]],
    list(range(300)),
]  # fmt: skip
ODD_PATH = [
    "0", "-1", "+1", "1_0", "1.5", "1e3", "0x10", " 1", "1 ", "١٢٣", "²", str(2**31), str(2**63),
    str(2**70), "9" * 5000, "abc", "..", ".", "../..", "%2e%2e%2f", "%00", "%ff", "ñandú", "😀",
    "a" * 3000, "null", "NaN", "%20",
]  # fmt: skip
ODD_QUERY = [
    "", " ", "x", "ab", "%", "%%", "%ff", "%00", "%e9", "ñandú", "😀", "a" * 5000, "1" * 5000,
    "open", "mine", "all", "es", "en", "*", "_", "\\", "'; DROP TABLE cases; --", "+52 55",
    "%2B52%20(55)%201234-5678", "ab%00cd", "%00%00",
]  # fmt: skip
BAD_BODIES: list[tuple[bytes, str | None]] = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b'{"text": "hola"', "application/json"),
    (b"\xff\xfe\x00{}", "application/json"),
    (b'{"text": "caf\xe9"}', "application/json"),
    (json.dumps({"text": "hola"}).encode("utf-16"), "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"capacity": ' + b"9" * 5000 + b"}", "application/json"),
    (b'{"text": NaN, "available": Infinity}', "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'"text"', "application/json"),
    (b"1", "application/json"),
    (b'{"text": "hola"}', "application/json; charset=bogus"),
    (b'{"text": "hola"}', "application/json; charset=utf-16"),
    (b'{"text": "hola"}', "application/json; charset=ascii"),
    (b'{"text": "hola"}', "text/plain"),
    (b'{"text": "hola"}', "application/x-www-form-urlencoded"),
    (b'{"text": "hola"}', "multipart/form-data; boundary=x"),
    (b'{"text": "hola"}', "APPLICATION/JSON"),
    (b'{"text": "hola"}', "application/json-patch+json"),
    (b'{"text": "hola"}', None),
    (b"text=hola", "application/x-www-form-urlencoded"),
    (b'{"text": "' + b"a" * (1024 * 1024 + 10) + b'"}', "application/json"),  # over 1 MB
]


@dataclass(frozen=True)
class Route:
    """What a valid request to a route sends: its body, path parameters and query keys."""

    body: dict[str, Any] | None = None
    path: tuple[str, ...] = ()
    query: tuple[str, ...] = ()


# Every route that takes input; the valid values are filled in by `valid_*` below.
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/static/{filename}"): Route(path=("filename",)),
    ("POST", "/api/auth/login"): Route(body={"username": "carla", "password": "password-123"}),
    ("PUT", "/api/me/availability"): Route(body={"available": True}),
    ("GET", "/api/cases"): Route(query=("status",)),
    ("GET", "/api/cases/{id}"): Route(path=("id",)),
    ("POST", "/api/cases/{id}/claim"): Route(path=("id",)),
    ("POST", "/api/cases/{id}/messages"): Route(
        body={"text": "Hola, ya lo reviso.", "send_template": False}, path=("id",)
    ),
    ("POST", "/api/cases/{id}/notes"): Route(body={"text": "nota interna"}, path=("id",)),
    ("POST", "/api/cases/{id}/transfer"): Route(body={"team": "pagos"}, path=("id",)),
    ("POST", "/api/cases/{id}/release"): Route(path=("id",)),
    ("POST", "/api/cases/{id}/resolve"): Route(
        body={"return_to_bot": True, "outcome": "listo", "corrections": {"order_id": "10002"}},
        path=("id",),
    ),
    ("GET", "/api/search"): Route(query=("q",)),
    ("GET", "/api/canned"): Route(query=("language",)),
    ("POST", "/api/canned"): Route(body={"title": "saludo", "text": "Hola", "language": "es"}),
    ("PUT", "/api/canned/{id}"): Route(
        body={"title": "saludo", "text": "Hola", "language": "es"}, path=("id",)
    ),
    ("DELETE", "/api/canned/{id}"): Route(path=("id",)),
    ("GET", "/api/agents"): Route(query=("all",)),
    ("POST", "/api/agents"): Route(
        body={
            "username": "nuevo",
            "password": "password-123",
            "role": "agent",
            "display_name": "Nuevo",
            "team": "pagos",
            "capacity": 3,
        }
    ),
    ("POST", "/api/agents/{username}/{action}"): Route(
        body={"password": "password-456", "team": "pagos", "capacity": 3},
        path=("username", "action"),
    ),
    ("GET", "/media/{name}"): Route(path=("name",), query=("filename",)),
    ("GET", "/api/reports/overview"): Route(query=("from", "to", "channel", "team")),
    ("GET", "/api/reports/overview.csv"): Route(query=("from", "to", "channel", "team")),
    ("GET", "/api/reports/trends"): Route(query=("channel",)),
    ("GET", "/api/nlu/candidates"): Route(query=("status",)),
    ("POST", "/api/nlu/candidates/{id}/review"): Route(
        body={"label": "order_status"}, path=("id",)
    ),
    ("POST", "/api/privacy/erase"): Route(
        body={"conversation": "telegram:fuzz1", "reason": "solicitud ARCO 7", "confirm": True}
    ),
    ("POST", "/api/privacy/export"): Route(
        body={
            "phone": "+5215512345678",
            "conversation": ["telegram:fuzz2"],
            "reason": "acceso",
            "confirm": True,
            "internal_notes": False,
        }
    ),
}
# Routes that read nothing from the request but the session (logout would end the fuzz's).
NO_INPUT = {
    ("GET", "/"),
    ("GET", "/api/openapi.json"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/me"),
    ("POST", "/api/cases/next"),
    ("GET", "/api/stats"),
    ("GET", "/api/teams"),
    ("GET", "/api/reports/at-risk"),
    ("GET", "/api/events"),
}
# Whom the admin's actions on agents may name: others, and themselves only where the desk
# must refuse (a new password would end the fuzzing session, as it should).
OTHERS = ["carla", "beto", "sara", "CARLA", " carla", "nadie"]
MYSELF = ["admin", "ADMIN", "Admin", " admin", "admin "]


@dataclass
class Fuzz:
    """The world, the admin's session and the cases it works on."""

    world: DeskWorld
    client: httpx.Client
    token: str
    csrf: str
    photo: str
    cases: list[int]
    parked: int = 0

    def top_up(self, count: int) -> None:
        """More cases the admin holds (the fuzz resolves, releases and transfers them)."""
        admin = self.world.accounts.by_username(ADMIN)
        for _ in range(count):
            self.parked += 1
            case_id = self.world.park(f"telegram:fuzz{self.parked}")
            self.world.store.claim(case_id, admin)
            self.cases.append(case_id)
        del self.cases[:-60]

    def send(
        self, method: str, path: str, content: bytes | None, content_type: str | None
    ) -> httpx.Response:
        headers = {"Cookie": f"hilo_session={self.token}", "X-CSRF-Token": self.csrf}
        if content_type is not None:
            headers["Content-Type"] = content_type
        self.client.cookies.clear()  # a login answered by the fuzz must not replace the session
        return self.client.request(method, path, content=content, headers=headers)


@pytest.fixture
def fuzz(world: DeskWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fuzz]:
    monkeypatch.setattr(auth, "_SCRYPT", {"n": 2**4, "r": 8, "p": 1})
    world.accounts.create("carla", "password-123")
    with world.store.engine.begin() as connection:
        connection.execute(
            agents.update().where(agents.c.username == ADMIN).values(capacity=100_000)
        )
    client = world.server.client()
    login = client.post("/api/auth/login", json={"username": ADMIN, "password": "password-123"})
    assert login.status_code == 200, login.text
    photo = world.media.put(b"\xff\xd8\xff\xe0 a photo", "jpg").name
    made = Fuzz(world, client, login.json()["token"], login.json()["csrf_token"], photo, [])
    made.top_up(20)
    yield made
    client.close()


def odd(chance: random.Random) -> Any:
    return copy.deepcopy(chance.choice(ODD_VALUES))


def valid_path(name: str, fuzz: Fuzz, chance: random.Random, action: str) -> str:
    if name == "id":
        return str(chance.choice(fuzz.cases))
    if name == "username":
        return chance.choice(MYSELF if action in ("deactivate", "revoke") else OTHERS)
    if name == "action":
        return action
    if name == "name":
        return fuzz.photo
    return chance.choice(["desk.js", "desk.css", "index.html"])  # static files


def path_for(template: str, route: Route, fuzz: Fuzz, chance: random.Random) -> str:
    action = chance.choice(
        ["deactivate", "activate", "password", "revoke", "update", "delete", "", "ñ"]
    )
    path = template
    for name in route.path:
        if chance.random() < 0.65:
            value = quote(valid_path(name, fuzz, chance, action), safe="")
        else:
            value = chance.choice(ODD_PATH)
            if name == "username" and action == "password":
                value = value if value.strip().lower() != ADMIN else "nadie"
            if chance.random() < 0.5 and not value.startswith("%"):
                value = quote(value, safe="")
        path = path.replace("{" + name + "}", value)
    return path


def query_for(route: Route, chance: random.Random) -> str:
    pairs = []
    for key in route.query:
        if chance.random() < 0.8:
            pairs.append(f"{key}={chance.choice(ODD_QUERY)}")
    for _ in range(chance.choice([0, 0, 1, 3])):
        key = chance.choice([*route.query, "x", "", "%ff", "a" * 300])
        pairs.append(f"{key}={quote(chance.choice(ODD_QUERY))}")
    return "&".join(pairs)


def body_for(
    template: str, route: Route, chance: random.Random, number: int
) -> tuple[bytes | None, str | None, str]:
    """(body, content type, what was done) for one input."""
    how = chance.random()
    if route.body is None:
        if how < 0.8:
            return None, None, "no body"
        return *chance.choice(BAD_BODIES), "a body where none is read"
    if how < 0.2:
        content, content_type = chance.choice(BAD_BODIES)
        return content, content_type, "not a JSON object"
    document = copy.deepcopy(route.body)
    if template == "/api/agents":
        document["username"] = f"nuevo{number}"  # a new agent each time, unless mutated
    changes = []
    for _ in range(chance.randint(1, 4)):
        key = chance.choice([*route.body, "extra", "__proto__"])
        if chance.random() < 0.2:
            document.pop(key, None)
            changes.append(f"-{key}")
        elif isinstance(document.get(key), dict) and chance.random() < 0.5:
            document[key][chance.choice(["order_id", "email", "", "x" * 100])] = odd(chance)
            changes.append(f"{key}.*")
        else:
            document[key] = odd(chance)
            changes.append(key)
    return json.dumps(document).encode(), "application/json", ",".join(changes)


def refused_by_aiohttp(record: logging.LogRecord) -> bool:
    """aiohttp 3.9 answers a request it cannot parse (a request line over 8 KiB) 400 itself,
    before any of the desk's code runs, and logs that at ERROR with the parser's exception."""
    error = record.exc_info[1] if record.exc_info else None
    return record.name == "aiohttp.server" and isinstance(error, HttpProcessingError)


def test_every_route_with_input_is_fuzzed(world: DeskWorld) -> None:
    table = set(routes(world))
    assert table == set(ROUTES) | NO_INPUT, (
        f"not fuzzed: {table - set(ROUTES) - NO_INPUT}; gone: {(set(ROUTES) | NO_INPUT) - table}"
    )


def test_generated_requests_get_an_answer_below_500_and_log_no_error(
    fuzz: Fuzz, caplog: pytest.LogCaptureFixture
) -> None:
    chance = random.Random(SEED)
    order = sorted(ROUTES)
    failures: list[str] = []
    sent = {route: 0 for route in order}
    for number in range(FUZZ_INPUTS):
        method, template = order[number % len(order)]
        route = ROUTES[(method, template)]
        if number % 100 == 99:
            fuzz.top_up(10)
        path = path_for(template, route, fuzz, chance)
        query = query_for(route, chance) if route.query or chance.random() < 0.1 else ""
        content, content_type, done = body_for(template, route, chance, number)
        target = f"{path}?{query}" if query else path
        sent[(method, template)] += 1
        try:
            answer = fuzz.send(method, target, content, content_type)
        except httpx.HTTPError as error:
            failures.append(f"{type(error).__name__} {method} {target[:200]} [{done}]")
            continue
        if answer.status_code >= 500:
            failures.append(f"{answer.status_code} {method} {target[:200]} [{done}]")
    assert sum(sent.values()) == FUZZ_INPUTS >= 1000
    assert min(sent.values()) >= FUZZ_INPUTS // len(order)
    assert not failures, failures[:10]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not refused_by_aiohttp(r)]
    assert not errors, [f"{r.name}: {r.getMessage()[:200]}" for r in errors[:5]]
    me = fuzz.send("GET", "/api/me", None, None)
    assert me.status_code == 200, "an input locked the fuzzing admin out"
    assert me.json()["agent"]["username"] == ADMIN
